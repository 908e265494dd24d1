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

from autotrack.entities import tags as tag_names

TYPE_CHECKING = False
if TYPE_CHECKING:  # pragma: no cover
    from autotrack.core import AutologConfig, Patcher

PARENT_TAGS = (tag_names.PARENT_RUN_ID, tag_names.AUTOTRACK_PARENT_RUN_ID)
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


def candidate_params(base: Any, candidate: dict[str, Any]) -> dict[str, str]:
    """The params of one candidate: the base estimator with the candidate's values set, read back with
    ``get_params(deep=True)`` (so a step replaced by the candidate brings its own nested params)."""
    from autotrack.integrations.sklearn.logging_parts import estimator_params, param_text

    try:
        from sklearn.base import clone

        return estimator_params(clone(base).set_params(**candidate))
    except Exception:  # noqa: BLE001 - a third-party estimator that does not clone: merge instead
        try:
            params = estimator_params(base)
        except Exception:  # noqa: BLE001
            params = {}
        return {**params, **{k: param_text(v) for k, v in candidate.items()}}


def log_search(search: Any, run_id: str, config: AutologConfig) -> list[str]:
    """Record the search's best params, ``best_cv_score``, ``cv_results.csv`` and child runs into
    ``run_id`` (the parent run, still running); return the child run ids, best first."""
    from autotrack.integrations.sklearn.logging_parts import param_text
    from autotrack.tracking.client import TrackingClient
    from autotrack.entities import Metric

    client = TrackingClient()
    # Params are write-once: a second search inside one user run keeps the first search's best_*.
    best = {f"best_{k}": param_text(v) for k, v in (getattr(search, "best_params_", None) or {}).items()}
    client.log_params(run_id, best, keep_existing=True)
    metrics = []
    best_score = getattr(search, "best_score_", None)
    if best_score is not None:
        metrics.append(Metric("best_cv_score", float(best_score), _now(), 0))
    client.log_batch(run_id, metrics=metrics)
    client.log_text(run_id, cv_results_csv(search.cv_results_), CV_RESULTS_ARTIFACT)
    limit = config.get("max_tuning_runs", 5)
    if limit == 0:
        return []
    return log_child_runs(client, search, run_id, best_candidates(search, limit), config)


def log_child_runs(client: Any, search: Any, parent_run_id: str, indices: list[int], config: AutologConfig) -> list[str]:
    """One FINISHED child run of ``parent_run_id`` per candidate index, with its params and scores."""
    from autotrack.core.session import RUN_TAG
    from autotrack.entities import Metric, Param

    from autotrack.integrations.sklearn.logging_parts import estimator_tags

    parent = client.get_run(parent_run_id)
    base = search.estimator
    tags = {key: parent_run_id for key in PARENT_TAGS}
    tags[RUN_TAG] = "sklearn"
    tags.update(estimator_tags(base))
    tags.update(config.get("extra_tags") or {})
    for key in (tag_names.SOURCE_NAME, tag_names.SOURCE_TYPE, tag_names.USER):
        if key in parent.data.tags:
            tags[key] = parent.data.tags[key]
    cv_results = search.cv_results_
    timestamp = _now()
    children: list[str] = []
    for index in indices:
        candidate = cv_results["params"][index]
        name = f"{parent.info.run_name}-candidate-{index}" if parent.info.run_name else f"candidate-{index}"
        child = client.create_run(parent.info.experiment_id, tags={**tags, CANDIDATE_TAG: str(index)}, run_name=name)
        child_id = child.info.run_id
        params = candidate_params(base, candidate)
        client.log_batch(
            child_id,
            params=[Param(k, v) for k, v in params.items()],
            metrics=[Metric(k, v, timestamp, 0) for k, v in candidate_metrics(cv_results, index).items()],
        )
        children.append(child_id)
    for child_id in children:
        client.set_terminated(child_id, "FINISHED")
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
