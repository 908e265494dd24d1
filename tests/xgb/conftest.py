"""Fixtures for the XGBoost autologging tests: tiny data, autologging switched off after every test,
and no autotrack wrapper left on any xgboost (or scikit-learn) attribute."""

from __future__ import annotations

import numpy as np
import pytest


@pytest.fixture(autouse=True)
def xgboost_autolog_off_afterwards():
    """After each test: write what is pending, disable autologging, check every patch is gone."""
    yield
    import autotrack
    from autotrack.core import patching

    autotrack.flush()
    autotrack.autolog(disable=True)
    assert patching.live_handles() == []
    assert patching.leftover_wrappers() == []


@pytest.fixture(scope="session")
def binary_data():
    """120 x 5 features, a binary label that depends on two of them (train 90 / validation 30)."""
    rng = np.random.default_rng(0)
    X = rng.normal(size=(120, 5)).astype(np.float32)
    y = ((X[:, 0] + 0.5 * X[:, 1] + rng.normal(scale=0.5, size=120)) > 0).astype(np.int64)
    return X[:90], y[:90], X[90:], y[90:]


@pytest.fixture
def client():
    """A client of the test's own store."""
    from autotrack.tracking.client import TrackingClient

    return TrackingClient()
