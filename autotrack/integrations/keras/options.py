"""The Keras integration's own autolog options: defaults and up-front validation (imports no Keras)."""

from __future__ import annotations

import numbers
from collections.abc import Mapping
from types import MappingProxyType
from typing import Any

#: integration-specific options (on top of the engine's common ones) and their defaults
SETTINGS: Mapping[str, Any] = MappingProxyType({
    "log_every_epoch": True,
    "log_every_n_steps": None,
    "log_model_summary": True,
    "checkpoint": False,
    "checkpoint_monitor": "val_loss",
    "checkpoint_mode": "min",
    "checkpoint_save_best_only": True,
    "checkpoint_save_freq": "epoch",
    "checkpoint_save_weights_only": False,
    "log_checkpoints": True,
})

CHECKPOINT_MODES = ("min", "max")
_BOOLS = ("log_every_epoch", "log_model_summary", "checkpoint", "checkpoint_save_best_only",
          "checkpoint_save_weights_only", "log_checkpoints")


def _positive_int(value: Any) -> bool:
    return isinstance(value, numbers.Integral) and not isinstance(value, bool) and value >= 1


def validate_settings(owner: str, options: Mapping[str, Any]) -> dict[str, Any]:
    """Check the Keras-specific options in ``options``; raise naming the option, the value and what
    is accepted. Other keys pass through untouched (the engine validates them)."""
    clean = dict(options)
    for key in _BOOLS:
        if key in clean and not isinstance(clean[key], bool):
            raise TypeError(f"{owner}(): option {key}={clean[key]!r} must be True or False")
    if "log_every_n_steps" in clean:
        value = clean["log_every_n_steps"]
        if value is not None and not _positive_int(value):
            raise ValueError(f"{owner}(): option log_every_n_steps={value!r} must be None (no per-batch "
                             "metrics) or an integer >= 1 (log every n optimizer steps)")
        clean["log_every_n_steps"] = None if value is None else int(value)
    if "checkpoint_monitor" in clean and not (isinstance(clean["checkpoint_monitor"], str)
                                              and clean["checkpoint_monitor"]):
        raise TypeError(f"{owner}(): option checkpoint_monitor={clean['checkpoint_monitor']!r} must be the "
                        "name of a metric Keras logs, e.g. 'val_loss' or 'accuracy'")
    if "checkpoint_mode" in clean and clean["checkpoint_mode"] not in CHECKPOINT_MODES:
        raise ValueError(f"{owner}(): option checkpoint_mode={clean['checkpoint_mode']!r} is not accepted; "
                         f"accepted: {', '.join(repr(m) for m in CHECKPOINT_MODES)}")
    if "checkpoint_save_freq" in clean:
        value = clean["checkpoint_save_freq"]
        if value != "epoch" and not _positive_int(value):
            raise ValueError(f"{owner}(): option checkpoint_save_freq={value!r} must be 'epoch' (save at the "
                             "end of every epoch) or an integer >= 1 (save every n batches)")
    return clean
