"""``autotrack.xgboost``: save, log and load XGBoost models (``import autotrack.xgboost`` imports no xgboost).

Model functions come from :mod:`autotrack.integrations.xgboost.flavor`.
"""

from __future__ import annotations

from autotrack.integrations.xgboost.flavor import FLAVOR_NAME, load_model, log_model, save_model


def __getattr__(name: str):
    # Until XGBoost autologging lands (it defines ``autolog`` here, and this is then never reached for
    # it), asking for it says so rather than a bare AttributeError.
    if name == "autolog":
        from autotrack.core import registry

        raise AttributeError(registry.unavailable_message("xgboost", "autotrack.xgboost.autolog"))
    raise AttributeError(f"module 'autotrack.xgboost' has no attribute {name!r}")

# --- autologging: autotrack.xgboost.autolog is added here by the XGBoost autologging issue ---

__all__ = ["FLAVOR_NAME", "save_model", "log_model", "load_model"]
