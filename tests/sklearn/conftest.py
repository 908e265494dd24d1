"""Fixtures for the scikit-learn autologging tests: autologging is switched off after every test,
background artifact writes are drained, and no autotrack wrapper may be left on any class."""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def sklearn_autolog_off_afterwards():
    """After each test: drain the artifact thread, disable autologging, check every patch is gone."""
    yield
    import autotrack
    import autotrack.sklearn
    from autotrack.core import patching
    from autotrack.integrations.sklearn import incremental

    autotrack.sklearn.wait_for_artifacts(timeout=30)
    autotrack.autolog(disable=True)
    autotrack.sklearn.wait_for_artifacts(timeout=30)
    assert incremental.open_runs() == []
    assert patching.live_handles() == []
    assert patching.leftover_wrappers() == []


@pytest.fixture
def client():
    """A client of the test's own store."""
    from autotrack.tracking.client import TrackingClient

    return TrackingClient()

