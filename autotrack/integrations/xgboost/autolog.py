"""XGBoost autologging: which calls are patched, and what one training run records.

Patched when the user imports ``xgboost``:

- ``xgboost.train`` (as ``xgboost.train``, ``xgboost.training.train`` and the ``train`` that the
  scikit-learn API calls), with ``nested="join"``: called inside an autologged ``XGBClassifier.fit``
  it adds its per-round metrics and early-stopping fields to that fit's run;
- ``xgboost.cv``: one run with the per-round mean and std of every metric;
- ``fit`` of the scikit-learn API classes (``XGBModel``, ``XGBClassifier``, ``XGBRegressor``,
  ``XGBRanker``, ``XGBRFClassifier``, ``XGBRFRegressor``): one run per outermost fit;
- ``DMatrix.__init__`` / ``QuantileDMatrix.__init__``: remember (weakly) the data a matrix is built
  from, for the dataset digest and the input example (:mod:`~autotrack.integrations.xgboost.data`).

Inside another autologged call (a scikit-learn ``Pipeline`` or search with scikit-learn autologging
on), an XGBoost ``fit`` is a nested call like any scikit-learn estimator's: the outer call's run is
the only one, and the inner ``train`` joins only a session that an XGBoost ``fit`` opened.
"""

from __future__ import annotations

from types import ModuleType
from typing import Any

from autotrack.core.integration import Integration
from autotrack.integrations.xgboost import record
from autotrack.integrations.xgboost.options import SETTINGS, validate_settings

NAME = record.NAME
#: the scikit-learn API classes whose own ``fit`` is patched (a subclass's ``super().fit`` is nested)
SKLEARN_API_CLASSES: tuple[str, ...] = (
    "XGBModel", "XGBClassifier", "XGBRegressor", "XGBRanker", "XGBRFClassifier", "XGBRFRegressor",
)


class XGBoostIntegration(Integration):
    """Autologging of XGBoost training: see the module docstring for what is patched."""

    name = NAME
    distribution = "xgboost"
    supports = ">=2.0"
    triggers = ("xgboost",)
    settings = SETTINGS

    @classmethod
    def validate_settings(cls, settings: dict[str, Any]) -> dict[str, Any]:
        """``importance_types`` (a list of ``weight``, ``gain``, ``cover``, ``total_gain``,
        ``total_cover``), ``model_format`` (``ubj`` or ``json``), ``log_plot_images`` and
        ``log_post_training_metrics`` (bools)."""
        return validate_settings(settings)

    def apply(self, patcher: Any, module: ModuleType) -> None:
        """On ``import xgboost``: patch training, cross-validation, the scikit-learn API and DMatrix."""
        import xgboost.core
        import xgboost.sklearn
        import xgboost.training

        from autotrack.integrations.xgboost import hooks

        for owner in (xgboost.training, xgboost, xgboost.sklearn):
            if hasattr(owner, "train"):
                patcher.patch(owner, "train", hooks.on_train, nested="join")
        for owner in (xgboost.training, xgboost):
            if hasattr(owner, "cv"):
                patcher.patch(owner, "cv", hooks.on_cv)
        for name in ("DMatrix", "QuantileDMatrix"):
            cls = getattr(xgboost.core, name, None)
            if cls is not None and "__init__" in vars(cls):
                patcher.patch(cls, "__init__", hooks.on_dmatrix_init, creates_run=False)
        for name in SKLEARN_API_CLASSES:
            cls = getattr(xgboost.sklearn, name, None)
            if isinstance(cls, type) and "fit" in vars(cls):
                patcher.patch(cls, "fit", hooks.on_fit)
        if patcher.config.log_post_training_metrics:
            from autotrack.integrations.xgboost import post_training

            post_training.apply(patcher, xgboost.sklearn)
