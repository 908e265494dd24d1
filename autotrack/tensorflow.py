"""``autotrack.tensorflow``: the Keras integration for users of ``tf.keras`` (TensorFlow >= 2.16, where
``tf.keras`` is Keras 3). Same functions and options as :mod:`autotrack.keras`; TensorBoard is never
needed. ``import autotrack.tensorflow`` imports neither TensorFlow nor Keras.
"""

from __future__ import annotations

from autotrack.keras import FLAVOR_NAME, autolog, list_checkpoints, load_checkpoint, load_model, log_model, save_model

__all__ = ["FLAVOR_NAME", "autolog", "save_model", "log_model", "load_model", "load_checkpoint",
           "list_checkpoints"]
