"""Hyperparameter searches: one parent run per search, child runs for its best candidates.

``GridSearchCV``, ``RandomizedSearchCV``, ``HalvingGridSearchCV`` and ``HalvingRandomSearchCV`` are
fitted like any estimator, so their ``fit`` opens the parent run and the standard logging records
the search's params, training metrics and its ``best_estimator_`` as the model. On top of that, the
after-fit handler here records:

- params ``best_<name>`` for each entry of ``best_params_``;
- metric ``best_cv_score`` (``best_score_``, when the search has one);
- the artifact ``cv_results.csv`` (every candidate, every column of ``cv_results_``);
- one child run per candidate among the best ``max_tuning_runs`` (default 5, ``None`` for all,
  ``0`` for none), ranked by the refit metric's ``rank_test_*``. A child run carries the tags
  ``mlflow.parentRunId``, ``autotrack.parentRunId`` and ``autotrack.cv_results_index`` (its row in
  ``cv_results.csv``); the params of the base estimator with the candidate's values set
  (``get_params(deep=True)``); and the candidate's numeric ``cv_results_`` entries as metrics
  (``mean_test_score``, ``std_test_score``, ``rank_test_score``, each split's score, fit and score
  times; for a halving search also ``iter`` and ``n_resources``).

The candidates' own fits are nested calls (``n_jobs=1``) or run in worker processes (``n_jobs>1``,
also when the workers inherit ``AUTOTRACK_AUTOLOG``): the engine's session stack and worker policy
give them no runs.
"""

from __future__ import annotations

import csv
import io
import math
import sys
from typing import Any

from autotrack.integrations.kit import artifacts, metrics, params, runs
from autotrack.tracking.run_tags import PARENT_TAGS  # noqa: F401  (the tags a child run carries)

TYPE_CHECKING = False
if TYPE_CHECKING:  # pragma: no cover
    from autotrack.core import AutologConfig, Patcher

NAME = "sklearn"
CV_RESULTS_ARTIFACT = "cv_results.csv"
#: tag of a child run: its row in ``cv_results_`` (and in ``cv_results.csv``)
CANDIDATE_TAG = "autotrack.cv_results_index"


def is_search(estimator: Any) -> bool:
    """Whether ``estimator`` is a scikit-learn hyperparameter search (a ``BaseSearchCV``)."""
    search_module = sys.modules.get("sklearn.model_selection._search")
    base = getattr(search_module, "BaseSearchCV", None)
    return base is not None and isinstance(estimator, base)


def ranking_key(search: Any) -> str:
    """The ``cv_results_`` column that ranks candidates: the refit metric's ``rank_test_<name>``
    (with several scorers and no refit metric named, the first scorer's)."""
    results = search.cv_results_
    if "rank_test_score" in results:
        return "rank_test_score"
    refit = getattr(search, "refit", None)
    if isinstance(refit, str) and f"rank_test_{refit}" in results:
        return f"rank_test_{refit}"
    ranks = [key for key in results if key.startswith("rank_test_")]  # the scorers' order
    if not ranks:
        raise ValueError(f"{type(search).__name__}.cv_results_ has no rank_test_* column to rank candidates by")
    return ranks[0]


def best_candidates(search: Any, max_tuning_runs: int | None) -> list[int]:
    """Indices into ``cv_results_`` of the best ``max_tuning_runs`` candidates (all for None), best
    first; ties keep the order sklearn listed the candidates in."""
    ranks = list(search.cv_results_[ranking_key(search)])
    order = sorted(range(len(ranks)), key=lambda i: (_rank_value(ranks[i]), i))
    return order if max_tuning_runs is None else order[:max_tuning_runs]


def _rank_value(value: Any) -> float:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return math.inf
    return math.inf if math.isnan(number) else number


def cv_results_csv(cv_results: dict[str, Any]) -> str:
    """``cv_results_`` as CSV text, one row per candidate (pandas when installed, else the csv module)."""
    pandas = None
    try:
        import pandas
    except ImportError:  # pragma: no cover - pandas is optional
        pass
    if pandas is not None:
        return pandas.DataFrame(cv_results).to_csv(index=False)
    columns = list(cv_results)
    rows = len(next(iter(cv_results.values()), []))
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(columns)
    for i in range(rows):
        writer.writerow([cv_results[c][i] for c in columns])
    return out.getvalue()


def candidate_metrics(cv_results: dict[str, Any], index: int) -> dict[str, float]:
    """The numeric ``cv_results_`` entries of candidate ``index`` (params excluded)."""
    metrics: dict[str, float] = {}
    for key, column in cv_results.items():
        if key == "params" or key.startswith("param_"):
            continue
        try:
            value = column[index]
        except (TypeError, IndexError, KeyError):
            continue
        if isinstance(value, bool) or getattr(value, "dtype", None) is not None and value.dtype.kind == "b":
            continue
        try:
            metrics[key] = float(value)
        except (TypeError, ValueError):
            continue
    return metrics


def candidate_params(base: Any, candidate: dict[str, Any]) -> dict[str, Any]:
    """The params of one candidate: the base estimator with the candidate's values set, read back with
    ``get_params(deep=True)`` (so a step replaced by the candidate brings its own nested params)."""
    from autotrack.integrations.sklearn.logging_parts import estimator_params

    try:
        from sklearn.base import clone

        return estimator_params(clone(base).set_params(**candidate))
    except Exception:  # noqa: BLE001 - a third-party estimator that does not clone: merge instead
        try:
            params = estimator_params(base)
        except Exception:  # noqa: BLE001
            params = {}
        return {**params, **candidate}


def log_search(search: Any, run_id: str, config: AutologConfig) -> list[str]:
    """Record the search's best params, ``best_cv_score``, ``cv_results.csv`` and child runs into
    ``run_id`` (the parent run, still running); return the child run ids, best first."""
    from autotrack.tracking.client import TrackingClient

    client = TrackingClient()
    # Params are write-once: a second search inside one user run keeps the first search's best_*.
    best = {f"best_{k}": v for k, v in (getattr(search, "best_params_", None) or {}).items()}
    params.log_params(run_id, best, integration=NAME, config=config, keep_existing=True, flatten_nested=False,
                      client=client)
    best_score = getattr(search, "best_score_", None)
    if best_score is not None:
        metrics.log_metrics(run_id, {"best_cv_score": float(best_score)}, step=0, integration=NAME, client=client)
    artifacts.log_text(run_id, cv_results_csv(search.cv_results_), CV_RESULTS_ARTIFACT, client=client)
    limit = config.max_tuning_runs
    if limit == 0:
        return []
    return log_child_runs(client, search, run_id, best_candidates(search, limit), config)


def log_child_runs(client: Any, search: Any, parent_run_id: str, indices: list[int], config: AutologConfig) -> list[str]:
    """One FINISHED child run of ``parent_run_id`` per candidate index, with its params and scores."""
    from autotrack.integrations.sklearn.logging_parts import estimator_tags

    parent = client.get_run(parent_run_id)
    base = search.estimator
    tags = estimator_tags(base)
    cv_results = search.cv_results_
    timestamp = _now()
    children: list[str] = []
    for index in indices:
        candidate = cv_results["params"][index]
        name = f"{parent.info.run_name}-candidate-{index}" if parent.info.run_name else f"candidate-{index}"
        child_id = runs.create_child_run(NAME, config, parent_run_id, run_name=name,
                                         tags={**tags, CANDIDATE_TAG: str(index)},
                                         experiment_id=parent.info.experiment_id)
        params.log_params(child_id, candidate_params(base, candidate), integration=NAME, config=config,
                          flatten_nested=False, client=client)
        metrics.log_metrics(child_id, candidate_metrics(cv_results, index), step=0, timestamp=timestamp,
                            integration=NAME, client=client)
        children.append(child_id)
    for child_id in children:
        runs.end_run(child_id, "FINISHED")
    return children


def _now() -> int:
    import time

    return int(time.time() * 1000)


def _after_fit(estimator: Any, X: Any, y: Any, run_id: str | None, config: AutologConfig) -> None:
    """After-fit handler: a fitted search gets its parent-run records and child runs."""
    if run_id and is_search(estimator) and hasattr(estimator, "cv_results_"):
        log_search(estimator, run_id, config)


def apply(patcher: Patcher, config: AutologConfig) -> None:
    """Register the search handler; searches need no patch of their own (their ``fit`` is patched)."""
    from autotrack.integrations.sklearn.autolog import register_after_fit

    register_after_fit(_after_fit)
