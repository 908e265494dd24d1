"""``autotrack.xgboost``: XGBoost autologging and save, log and load of XGBoost models
(``import autotrack.xgboost`` imports no xgboost).

``autolog()`` configures the integration in :mod:`autotrack.integrations.xgboost.autolog`; model
functions come from :mod:`autotrack.integrations.xgboost.flavor`.
"""

from __future__ import annotations

from autotrack.integrations.xgboost.flavor import FLAVOR_NAME, load_model, log_model, save_model

from autotrack.core.autolog import make_library_autolog

#: ``autotrack.xgboost.autolog(**options)``: the common options plus ``importance_types``,
#: ``log_plot_images``, ``model_format`` and ``log_post_training_metrics`` (docs/xgboost.md)
autolog = make_library_autolog("xgboost")

__all__ = ["FLAVOR_NAME", "autolog", "save_model", "log_model", "load_model"]
