"""PyTorch autologging: the integration's data, and what it patches when torch (or Lightning) is imported.

Nothing here imports torch or Lightning at module level: ``apply`` runs once the user has imported
a trigger module and receives it.

- ``torch``: plain-loop recording (:mod:`.loop`): global optimizer step hook, a global module
  forward pre-hook until the first step, and engine patches of ``torch.autograd.backward`` (loss
  capture), ``DataLoader.__iter__`` (epochs) and ``torch.save`` (checkpoints, :mod:`.checkpoints`).
- ``lightning.pytorch`` / ``pytorch_lightning``: ``Trainer.fit`` and ``Trainer.test`` (:mod:`.lightning`).
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType, ModuleType
from typing import Any

from autotrack.core.integration import Integration

NAME = "pytorch"

SETTINGS: Mapping[str, Any] = MappingProxyType({
    "log_every_n_steps": 1,
    "log_checkpoints": True,
    "log_every_n_epoch": 1,
    "log_every_n_step": None,
})


def validate_settings(owner: str, options: Mapping[str, Any]) -> dict[str, Any]:
    """Check the PyTorch settings; errors name the option, the value and what is accepted."""
    clean: dict[str, Any] = {}
    for key, value in options.items():
        if key in ("log_every_n_steps", "log_every_n_epoch"):
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"{owner}(): option {key}={value!r} must be an int >= 1")
        elif key == "log_every_n_step":
            if value is not None and (isinstance(value, bool) or not isinstance(value, int) or value < 1):
                raise ValueError(
                    f"{owner}(): option {key}={value!r} must be None (the Trainer's own log_every_n_steps) "
                    "or an int >= 1")
        elif key == "log_checkpoints":
            if not isinstance(value, bool):
                raise TypeError(f"{owner}(): option {key}={value!r} must be True or False")
        clean[key] = value
    return clean


class PyTorchIntegration(Integration):
    """Plain PyTorch loops, ``torch.save`` checkpoints, and Lightning's ``Trainer.fit`` / ``test``."""

    name = NAME
    distribution = "torch"
    supports = ">=2.2"
    triggers = ("torch", "lightning.pytorch", "pytorch_lightning")
    settings = SETTINGS

    def __init__(self) -> None:
        self.tracker: Any = None

    def apply(self, patcher: Any, module: ModuleType) -> None:
        validate_settings("autotrack.pytorch.autolog", {k: self.config[k] for k in SETTINGS})
        if module.__name__ == "torch":
            self._apply_torch(patcher, module)
        else:
            from autotrack.integrations.pytorch import lightning

            lightning.apply(patcher, module, self)

    def remove(self) -> None:
        tracker, self.tracker = self.tracker, None
        if tracker is not None:
            tracker.remove()

    # ------------------------------------------------------------------ torch
    def _apply_torch(self, patcher: Any, torch: ModuleType) -> None:
        from autotrack.integrations.pytorch.loop import LoopTracker

        if self.tracker is not None:
            return
        tracker = LoopTracker(torch, self.config)
        tracker.install()
        self.tracker = tracker
        # backward runs once per step: a light observer, not a hook (a hook's session costs ~10 us)
        patcher.observe(torch.autograd, "backward", _backward_observer(tracker))
        import torch.utils.data

        patcher.patch(torch.utils.data.DataLoader, "__iter__", _iter_hook(tracker), creates_run=False)
        if self.config.log_checkpoints:
            save_hook = _save_hook(self.config)
            patcher.patch(torch, "save", save_hook, creates_run=False)
            if torch.serialization.save is not torch.save:
                patcher.patch(torch.serialization, "save", save_hook, creates_run=False)


def _backward_observer(tracker: Any):
    from autotrack.core.session import active

    def after(instance: Any, args: tuple, kwargs: dict, result: Any) -> None:
        if active():
            return  # inside another autologged call (Trainer.fit): it records the training
        tensors = args[0] if args else kwargs.get("tensors")
        if isinstance(tensors, (list, tuple)):
            for tensor in tensors:
                if tensor.numel() == 1:
                    tracker.captured(tensor.detach())
        elif tensors is not None and tensors.numel() == 1:
            tracker.captured(tensors.detach())

    return after


def _iter_hook(tracker: Any):
    def hook(call: Any):
        yield
        tracker.loader_started(call.instance)

    return hook


def _save_hook(config: Any):
    from autotrack.integrations.pytorch import checkpoints
    from autotrack.integrations.pytorch.distributed import is_rank_zero

    def hook(call: Any):
        args, kwargs = call.args, call.kwargs
        path = checkpoints.file_path(args[1] if len(args) > 1 else kwargs.get("f"))
        run = None
        if path is not None and not checkpoints.suppressed() and is_rank_zero():
            from autotrack.tracking import fluent

            run = fluent.active_run()
            if run is not None and config.exclusive and run.data.tags.get("autotrack.autologging") != NAME:
                run = None
            if run is not None:
                checkpoints.uploader().before_save(path)
        yield
        if run is None:
            return
        import os

        from autotrack.core import safety
        from autotrack.tracking import fluent
        from autotrack.tracking.client import TrackingClient

        uri = fluent.get_tracking_uri()
        TrackingClient(uri).set_tag(run.info.run_id, checkpoints.LAST_CHECKPOINT_TAG, os.path.basename(path))
        checkpoints.uploader().submit(
            path, run.info.run_id, uri,
            lambda exc: safety.report(NAME, f"logging checkpoint {path}", exc, silent=config.silent, allow_raise=False))

    return hook
