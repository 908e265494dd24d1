"""Fixtures for the PyTorch autologging tests: autologging is switched off after every test, and
neither an autotrack wrapper nor a global torch hook may be left behind."""

from __future__ import annotations

import pytest

torch = pytest.importorskip("torch")

from pytorch_helpers import global_hooks  # noqa: E402


@pytest.fixture(autouse=True)
def pytorch_autolog_off_afterwards():
    before = global_hooks()
    yield
    import autotrack
    from autotrack.core import patching

    autotrack.flush()
    autotrack.autolog(disable=True)
    assert patching.live_handles() == []
    assert patching.leftover_wrappers() == []
    assert global_hooks() == before


@pytest.fixture
def client():
    from autotrack.tracking.client import TrackingClient

    return TrackingClient()
