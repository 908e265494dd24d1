"""Cross-validation: ``cross_validate`` and ``cross_val_score`` log one run, not a run per fold.

The run holds the estimator's params (``get_params(deep=True)``), the tags ``estimator_name``,
``estimator_class``, ``cross_validation.function`` and ``cross_validation.n_splits``, the data the
folds were cut from as a dataset with context ``cross_validation`` (with ``log_datasets``), and for each
per-fold result of ``cross_validate`` (``test_score`` or ``test_<scorer>``, ``train_*`` with
``return_train_score=True``, ``fit_time``, ``score_time``):

- the fold values under the result's own name at step = fold index (0 .. k-1);
- ``mean_<name>`` and ``std_<name>`` (numpy's mean and population std, as ``cv_results_`` does).

``cross_val_score`` returns the test scores only: ``test_score``, ``mean_test_score``,
``std_test_score``. ``cross_val_predict`` logs one run with params and tags. ``learning_curve``,
``validation_curve`` and ``permutation_test_score`` log nothing, but their many internal fits no
longer create a run each. The folds' fits are nested calls (or run in worker processes with
``n_jobs>1``) and create no runs.
"""

from __future__ import annotations

import sys
import time
from types import ModuleType
from typing import Any

from autotrack.integrations.kit import calls, metrics

TYPE_CHECKING = False
if TYPE_CHECKING:  # pragma: no cover
    from collections.abc import Generator

    from autotrack.core import AutologConfig, Call, Patcher

VALIDATION_MODULE = "sklearn.model_selection._validation"
#: functions that get one run with fold metrics
SCORED = ("cross_validate", "cross_val_score")
#: functions that get one run with params and tags only
UNSCORED = ("cross_val_predict",)
#: functions whose internal fits must not create runs, and that log nothing themselves
QUIET = ("learning_curve", "validation_curve", "permutation_test_score")
#: the per-fold workers those functions call through the module's globals. A user who imported
#: ``cross_validate`` by name before ``autolog()`` holds the unpatched function, which still calls
#: these: patched quiet, its folds create no stray runs (the cross-validation then logs no run).
FOLD_WORKERS = ("_fit_and_score", "_fit_and_predict", "_permutation_test_score")


def fold_metrics(function: str, result: Any) -> dict[str, list[float]]:
    """Per-fold numeric results of ``cross_validate``/``cross_val_score``, by metric name."""
    if function == "cross_val_score":
        return {"test_score": [float(v) for v in result]}
    folds: dict[str, list[float]] = {}
    for key, values in result.items():
        if key in ("estimator", "indices"):
            continue
        try:
            folds[key] = [float(v) for v in values]
        except (TypeError, ValueError):
            continue
    return folds


def summary_metrics(folds: dict[str, list[float]]) -> dict[str, float]:
    """``mean_<name>`` and ``std_<name>`` of each per-fold metric (numpy's mean and std)."""
    import numpy as np

    summary: dict[str, float] = {}
    for key, values in folds.items():
        if values:
            summary[f"mean_{key}"] = float(np.mean(values))
            summary[f"std_{key}"] = float(np.std(values))
    return summary


def log_cross_validation(function: str, estimator: Any, result: Any, run_id: str) -> None:
    """Log the params, tags and (for scored functions) fold metrics of one cross-validation."""
    from autotrack.integrations.sklearn.logging_parts import NAME, estimator_tags, log_params
    from autotrack.tracking.client import TrackingClient

    client = TrackingClient()
    log_params(client, run_id, estimator)
    tags = {**estimator_tags(estimator), "cross_validation.function": function}
    if function in SCORED:
        folds = fold_metrics(function, result)
        timestamp = int(time.time() * 1000)
        steps = max((len(v) for v in folds.values()), default=0)
        for step in range(steps):  # one batch per fold: every result of fold k at step k
            fold = {key: values[step] for key, values in folds.items() if step < len(values)}
            metrics.log_metrics(run_id, fold, step=step, timestamp=timestamp, integration=NAME, client=client)
        metrics.log_metrics(run_id, summary_metrics(folds), step=0, timestamp=timestamp, integration=NAME,
                            client=client)
        tags["cross_validation.n_splits"] = str(steps)
    client.set_tags(run_id, tags)


def log_cross_validation_dataset(call: Call, name: str) -> None:
    """The data the folds were cut from, as the run's dataset with context ``cross_validation``."""
    from autotrack.integrations.sklearn.logging_parts import log_dataset
    from autotrack.tracking.client import TrackingClient

    X, y = calls.argument(call, "X", 1), calls.argument(call, "y", 2)
    if X is not None:
        log_dataset(TrackingClient(), call.run_id, X, y, name, call.config, context="cross_validation")


def _on_cross_validation(call: Call) -> Generator[None, Any, None]:
    """One run for the whole cross-validation (the folds' fits are nested and log nothing)."""
    from autotrack.integrations.sklearn.autolog import caller_variable_name

    function = call.target.rsplit(".", 1)[-1]
    estimator = calls.argument(call, "estimator", 0)
    dataset_name = caller_variable_name(calls.argument(call, "X", 1))
    result = yield
    log_cross_validation(function, estimator, result, call.run_id)
    if call.config.log_datasets:
        log_cross_validation_dataset(call, dataset_name)


def _quiet(call: Call) -> Generator[None, Any, None]:
    """Open a session without a run: the wrapped function's internal fits create no runs."""
    yield


def _patch(patcher: Patcher, model_selection: ModuleType) -> None:
    validation = sys.modules.get(VALIDATION_MODULE)
    if validation is None:
        return
    for names, hook, creates_run in ((SCORED + UNSCORED, _on_cross_validation, True), (QUIET + FOLD_WORKERS, _quiet, False)):
        for name in names:
            original = getattr(validation, name, None)
            if original is None:
                continue
            patcher.patch(validation, name, hook, creates_run=creates_run)
            # The public re-export is the same function object: patch that name too.
            if getattr(model_selection, name, None) is original:
                patcher.patch(model_selection, name, hook, creates_run=creates_run)


def apply(patcher: Patcher, config: AutologConfig) -> None:
    """Patch the cross-validation functions when ``sklearn.model_selection`` is imported."""
    patcher.on_import("sklearn.model_selection", lambda module: _patch(patcher, module))
