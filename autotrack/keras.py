"""``autotrack.keras``: autologging of Keras 3 training, and save, log and load Keras models.

``import autotrack.keras`` imports no Keras (nor numpy). Autologging applies once Keras is imported;
model functions come from :mod:`autotrack.integrations.keras.flavor`, checkpoints from
:mod:`autotrack.integrations.keras.checkpoints`. ``autotrack.tensorflow`` is the same for ``tf.keras``.
"""

from __future__ import annotations

from typing import Any

from autotrack.core.autolog import make_library_autolog
from autotrack.integrations.keras.checkpoints import list_checkpoints, load_checkpoint
from autotrack.integrations.keras.flavor import FLAVOR_NAME, load_model, log_model, save_model
from autotrack.integrations.keras.options import validate_settings

_engine_autolog = make_library_autolog("keras")


def autolog(
    *,
    log_every_epoch: bool = True,
    log_every_n_steps: int | None = None,
    log_model_summary: bool = True,
    checkpoint: bool = False,
    checkpoint_monitor: str = "val_loss",
    checkpoint_mode: str = "min",
    checkpoint_save_best_only: bool = True,
    checkpoint_save_freq: str | int = "epoch",
    checkpoint_save_weights_only: bool = False,
    log_checkpoints: bool = True,
    **options: Any,
) -> None:
    """Record every ``keras.Model.fit`` (``tf.keras.Model.fit`` too) with no logging code; these
    options override ``autotrack.autolog()``'s for Keras.

    - ``log_every_epoch``: Keras's epoch ``logs`` (``loss``, ``val_loss``, ...) at step = epoch, and
      ``learning_rate`` whenever it changes.
    - ``log_every_n_steps``: also the batch ``logs`` every n optimizer steps, at step = the optimizer's
      iteration count (None: off).
    - ``log_model_summary``: ``model_summary.txt``.
    - ``checkpoint``: save checkpoints under ``checkpoints/`` in the background, judged by
      ``checkpoint_monitor`` / ``checkpoint_mode`` (``"min"`` or ``"max"``), only improvements when
      ``checkpoint_save_best_only``, every epoch or every n batches (``checkpoint_save_freq``), whole
      models or weights only (``checkpoint_save_weights_only``). Resume with :func:`load_checkpoint`.
    - ``log_checkpoints``: upload the files the user's own ``ModelCheckpoint`` callbacks write.

    ``options`` are the engine's common ones (``disable``, ``exclusive``, ``silent``, ``log_models``,
    ``log_datasets``, ``log_input_examples``, ``log_model_signatures``, ``extra_tags``,
    ``disable_for_unsupported_versions``); only those given override the global call's. Calling it
    again reconfigures; ``disable=True`` turns Keras autologging off.
    """
    settings = validate_settings("autotrack.keras.autolog", {
        "log_every_epoch": log_every_epoch, "log_every_n_steps": log_every_n_steps,
        "log_model_summary": log_model_summary, "checkpoint": checkpoint,
        "checkpoint_monitor": checkpoint_monitor, "checkpoint_mode": checkpoint_mode,
        "checkpoint_save_best_only": checkpoint_save_best_only, "checkpoint_save_freq": checkpoint_save_freq,
        "checkpoint_save_weights_only": checkpoint_save_weights_only, "log_checkpoints": log_checkpoints,
    })
    _engine_autolog(**options, **settings)


__all__ = ["FLAVOR_NAME", "autolog", "save_model", "log_model", "load_model", "load_checkpoint",
           "list_checkpoints"]
