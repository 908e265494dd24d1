"""The scikit-learn API models as scikit-learn estimators: training metrics and post-training metrics.

An autologged ``XGBClassifier.fit`` records what a scikit-learn classifier's fit records on top of
XGBoost's own (``training_accuracy_score``, ``training_log_loss``, ..., ``training_score``: the
names ``mlflow.xgboost.autolog`` logs), and its later evaluations -- ``model.score(X_test, y_test)``,
``sklearn.metrics`` functions called on its predictions -- go to the run of its training, as for
scikit-learn. Both come from the scikit-learn integration's public functions (no copy): this
module only says which XGBoost classes they apply to.
"""

from __future__ import annotations

from types import ModuleType
from typing import Any


def _classes(module: ModuleType) -> list[type]:
    from autotrack.integrations.xgboost.autolog import SKLEARN_API_CLASSES

    return [cls for cls in (getattr(module, name, None) for name in SKLEARN_API_CLASSES) if isinstance(cls, type)]


def apply(patcher: Any, module: ModuleType) -> None:
    """Patch the prediction methods and ``score`` of the scikit-learn API classes of ``xgboost.sklearn``
    and the ``sklearn.metrics`` functions (when scikit-learn is installed; xgboost's scikit-learn API
    needs it anyway)."""
    from autotrack.integrations.sklearn import post_training

    post_training.apply_to_models(patcher, _classes(module))


def remember_model(estimator: Any, run_id: str) -> None:
    """Evaluations of ``estimator`` from now on belong to ``run_id``."""
    from autotrack.integrations.sklearn import post_training

    post_training.remember_model(estimator, run_id)


def log_training_metrics(tracking: Any, run_id: str, estimator: Any, X: Any, y: Any, sample_weight: Any,
                         config: Any) -> None:
    """``training_*`` metrics of the fitted model on its training data, as scikit-learn's fit logs them."""
    from autotrack.integrations.sklearn import training_metrics
    from autotrack.integrations.xgboost import record

    result = training_metrics.compute(estimator, X, y, sample_weight, None)
    if result is not None and result.metrics:
        record.log_metrics(tracking, run_id, result.metrics, config)
