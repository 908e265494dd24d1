"""Fixtures for the PyTorch autologging tests: autologging is switched off after every test, and
neither an autotrack wrapper nor a global torch hook may be left behind."""

from __future__ import annotations

import pytest

torch = pytest.importorskip("torch")


def global_hooks() -> dict[str, int]:
    """How many global optimizer and module hooks torch has now."""
    from torch.nn.modules import module
    from torch.optim import optimizer

    return {
        "optimizer_pre": len(optimizer._global_optimizer_pre_hooks),
        "optimizer_post": len(optimizer._global_optimizer_post_hooks),
        "module_forward_pre": len(module._global_forward_pre_hooks),
    }


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
