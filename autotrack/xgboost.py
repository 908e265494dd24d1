"""``autotrack.xgboost``: save, log and load XGBoost models (``import autotrack.xgboost`` imports no xgboost).

Model functions come from :mod:`autotrack.integrations.xgboost.flavor`.
"""

from __future__ import annotations

from autotrack.integrations.xgboost.flavor import FLAVOR_NAME, load_model, log_model, save_model

# --- autologging: autotrack.xgboost.autolog is added here by the XGBoost autologging issue ---

__all__ = ["FLAVOR_NAME", "save_model", "log_model", "load_model"]
