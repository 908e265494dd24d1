"""``autotrack.pytorch`` (also ``autotrack.torch``): autologging of PyTorch training, and save, log
and load PyTorch models. ``import autotrack.pytorch`` imports no torch.

Autologging comes from :mod:`autotrack.integrations.pytorch.autolog` (applied when torch or
Lightning is imported); model functions from :mod:`autotrack.integrations.pytorch.flavor`.
"""

from __future__ import annotations

from typing import Any

from autotrack.core.autolog import make_library_autolog
from autotrack.integrations.pytorch.autolog import validate_settings
from autotrack.integrations.pytorch.checkpoints import load_checkpoint
from autotrack.integrations.pytorch.flavor import FLAVOR_NAME, load_model, log_model, save_model

_engine_autolog = make_library_autolog("pytorch")


def autolog(
    *,
    log_every_n_steps: int = 1,
    log_checkpoints: bool = True,
    log_every_n_epoch: int = 1,
    log_every_n_step: int | None = None,
    **options: Any,
) -> None:
    """Record PyTorch training with no logging code; these options override ``autotrack.autolog()``'s.

    Plain loops: every ``optimizer.step()`` is a step; ``loss`` is the value of the last one-element
    tensor ``backward()`` was called on before it (see docs/pytorch.md for the exact rule), plus
    ``lr`` and ``epoch``, and the optimizer's params. Lightning: ``Trainer.fit`` is one run.

    - ``log_every_n_steps``: plain loops record the loss of every n-th optimizer step (1: all).
      Loss values are read back to the host in batches either way, never once per step.
    - ``log_checkpoints``: ``torch.save(obj, path)`` during a run logs the file as
      ``checkpoints/<file name>`` in the background (``load_checkpoint`` gets it back).
    - ``log_every_n_epoch``: Lightning epoch-level metrics every n epochs.
    - ``log_every_n_step``: Lightning step-level metrics (``self.log(..., on_step=True)``) every n
      global steps; None follows the Trainer's own ``log_every_n_steps``.

    ``options`` are the engine's common ones (``disable``, ``exclusive``, ``silent``, ``log_models``,
    ``log_input_examples``, ``log_model_signatures``, ``extra_tags``, ...); ``disable=True`` removes
    every hook, the global optimizer and module hooks included.
    """
    settings = validate_settings("autotrack.pytorch.autolog", {
        "log_every_n_steps": log_every_n_steps, "log_checkpoints": log_checkpoints,
        "log_every_n_epoch": log_every_n_epoch, "log_every_n_step": log_every_n_step,
    })
    _engine_autolog(**options, **settings)


__all__ = ["FLAVOR_NAME", "autolog", "save_model", "log_model", "load_model", "load_checkpoint"]
