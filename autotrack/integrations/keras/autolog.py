"""The Keras / TensorFlow integration as data: what it patches and when (imports no Keras).

One integration serves ``autotrack.keras`` and ``autotrack.tensorflow``: on TensorFlow >= 2.16
``tf.keras`` *is* Keras 3, so patching ``keras.Model`` covers both. It applies when ``keras`` is
imported, which ``import tensorflow`` does too.
"""

from __future__ import annotations

from types import ModuleType
from typing import TYPE_CHECKING

from autotrack.core.integration import Integration
from autotrack.integrations.keras.options import SETTINGS

if TYPE_CHECKING:  # pragma: no cover
    from autotrack.core.patching import Patcher


class KerasIntegration(Integration):
    """Autologging of ``keras.Model.fit`` (and ``evaluate`` after an autologged fit), Keras 3, any backend."""

    name = "keras"
    distribution = "keras"
    supports = ">=3.0"
    triggers = ("keras",)
    settings = SETTINGS

    def apply(self, patcher: Patcher, module: ModuleType) -> None:
        from autotrack.integrations.keras import hooks

        hooks.install(patcher, module)
