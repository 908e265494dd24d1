"""``autotrack.torch``: another name for :mod:`autotrack.pytorch`."""

from autotrack.pytorch import FLAVOR_NAME, autolog, load_checkpoint, load_model, log_model, save_model

__all__ = ["FLAVOR_NAME", "autolog", "save_model", "log_model", "load_model", "load_checkpoint"]
