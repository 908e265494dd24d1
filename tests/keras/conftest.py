"""Fixtures for the Keras tests: tiny data and models, autologging off and every patch gone after
each test. TensorFlow costs seconds to import, so the data is made once per session."""

from __future__ import annotations

import os

import pytest

if os.environ.get("CI") == "true":
    import keras  # noqa: F401 - in CI a missing Keras is a failure, not a skip
else:
    keras = pytest.importorskip("keras", reason="Keras 3 is not installed (pip install tensorflow-cpu)")

import numpy as np  # noqa: E402

from keras_helpers import FEATURES  # noqa: E402


@pytest.fixture(scope="session")
def data():
    """(X, y, X_val, y_val): 256 training and 64 validation rows of a two-class problem."""
    rng = np.random.default_rng(0)
    X = rng.normal(size=(320, FEATURES)).astype("float32")
    y = (X[:, 0] + 0.5 * X[:, 1] > 0).astype("int32")
    return X[:256], y[:256], X[256:], y[256:]


@pytest.fixture(autouse=True)
def keras_autolog_off_afterwards():
    """After each test: wait for checkpoint uploads, disable autologging, check every patch is gone."""
    yield
    import autotrack
    from autotrack.core import patching
    from autotrack.integrations.keras import uploads

    assert uploads.wait(timeout=60)
    autotrack.autolog(disable=True)
    assert patching.live_handles() == []
    assert patching.leftover_wrappers() == []


@pytest.fixture
def client():
    from autotrack.tracking.client import TrackingClient

    return TrackingClient()
