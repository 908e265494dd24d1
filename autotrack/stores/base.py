"""The tracking store contract: what every backend (SQL, REST, gRPC) implements, with these meanings.

``autotrack.stores.get_store(uri)`` returns a :class:`TrackingStore`. The tracking client, the
logging pipeline, the CLI and the server use stores only through the methods and data declared
here, so a new backend is a subclass that passes ``tests/store_contract.py`` unchanged.

Conventions every implementation keeps:

- ids are strings (experiments: digits, ``"0"`` is the default experiment; runs: 32 lowercase hex);
- errors are :mod:`autotrack.entities.errors` exceptions (unknown ids ``ResourceNotFoundError``,
  bad values ``InvalidParameterError``, a deleted run written to ``InvalidStateError``);
- a run's latest value of a metric is the one with the largest step, then timestamp, then value;
- metric values keep NaN and +-infinity; params are write-once, tags last-write-wins;
- paged reads return a :class:`PagedList` whose ``token`` fetches the next page (``None`` on the last).
"""

from __future__ import annotations

import abc
from collections.abc import Sequence
from dataclasses import dataclass

from autotrack.entities.objects import DatasetInput, Experiment, Metric, Param, Run, RunInfo, RunTag, ViewType


class PagedList(list):
    """A list of results with the token of the next page (``None`` on the last page)."""

    def __init__(self, items=(), token: str | None = None):
        super().__init__(items)
        self.token = token


@dataclass(frozen=True)
class BatchLimits:
    """How much one ``log_batch`` call may carry; callers (the logging pipeline) split to fit.

    The defaults are MLflow's REST limits (also at most 1000 metrics, params and tags together); a
    store that can take more says so (the SQL store does).
    """

    max_metrics_per_batch: int = 1000
    max_params_per_batch: int = 100
    max_tags_per_batch: int = 100
    max_request_bytes: int = 1_000_000
    max_entities_per_batch: int = 1000


class TrackingStore(abc.ABC):
    """A tracking backend. Thread-safe: one instance is shared by every client of its URI."""

    #: the URI the store was opened with (passwords included: redact before showing it)
    uri: str
    #: what one ``log_batch`` may carry
    batch_limits: BatchLimits = BatchLimits()

    def close(self) -> None:
        """Release connections; the store is not used afterwards."""

    # ------------------------------------------------------------------ experiments
    @abc.abstractmethod
    def create_experiment(self, name: str, artifact_location: str | None = None, tags: dict[str, str] | None = None) -> str:
        """Create an experiment and return its id; a taken name is ``ResourceExistsError``."""

    @abc.abstractmethod
    def get_experiment(self, experiment_id: str) -> Experiment: ...

    @abc.abstractmethod
    def get_experiment_by_name(self, name: str) -> Experiment | None: ...

    @abc.abstractmethod
    def search_experiments(self, view_type: int = ViewType.ACTIVE_ONLY, max_results: int | None = None, filter_string: str | None = None, order_by: Sequence[str] | None = None, page_token: str | None = None) -> PagedList: ...

    @abc.abstractmethod
    def delete_experiment(self, experiment_id: str) -> None:
        """Soft-delete the experiment and its runs (the default experiment ``"0"`` cannot be deleted)."""

    @abc.abstractmethod
    def restore_experiment(self, experiment_id: str) -> None: ...

    @abc.abstractmethod
    def rename_experiment(self, experiment_id: str, new_name: str) -> None: ...

    @abc.abstractmethod
    def set_experiment_tag(self, experiment_id: str, key: str, value: str) -> None: ...

    # ------------------------------------------------------------------ runs
    @abc.abstractmethod
    def create_run(self, experiment_id: str, user_id: str, start_time: int, tags: Sequence[RunTag] = (), run_name: str | None = None, run_id: str | None = None) -> Run:
        """Create a RUNNING run. ``run_id`` may be chosen by the client (32 lowercase hex), so that a
        client can queue the creation instead of waiting for it; creating again with the id of a run
        of the same experiment returns that run (a retried creation)."""

    @abc.abstractmethod
    def get_run(self, run_id: str) -> Run:
        """The run with its latest metric values, params, tags and dataset inputs."""

    @abc.abstractmethod
    def update_run_info(self, run_id: str, status: str | None = None, end_time: int | None = None, run_name: str | None = None) -> RunInfo: ...

    @abc.abstractmethod
    def delete_run(self, run_id: str) -> None: ...

    @abc.abstractmethod
    def restore_run(self, run_id: str) -> None: ...

    # ------------------------------------------------------------------ data
    @abc.abstractmethod
    def log_batch(self, run_id: str, metrics: Sequence[Metric] = (), params: Sequence[Param] = (), tags: Sequence[RunTag] = ()) -> None:
        """Write metrics, params and tags of one run, all or nothing, within :attr:`batch_limits`."""

    @abc.abstractmethod
    def log_inputs(self, run_id: str, datasets: Sequence[DatasetInput]) -> None:
        """Record datasets the run used; a dataset (name, digest) logged again is stored once."""

    @abc.abstractmethod
    def delete_tag(self, run_id: str, key: str) -> None: ...

    # ------------------------------------------------------------------ reads
    @abc.abstractmethod
    def get_metric_history(self, run_id: str, key: str, max_results: int | None = None, page_token: str | None = None) -> PagedList:
        """Every value of ``key`` in ``run_id`` ordered by step, then timestamp; paged when ``max_results`` is given."""

    @abc.abstractmethod
    def get_metric_history_bulk(self, run_ids: Sequence[str], key: str, max_results: int | None = None, start_step: int | None = None, end_step: int | None = None) -> dict[str, list[Metric]]:
        """The history of ``key`` of several runs (for charts), keyed by run id.

        With ``max_results``, a run with more points in ``[start_step, end_step]`` is sampled down to at
        most ``max_results`` points spread evenly over its steps, keeping its first and last point.
        """

    @abc.abstractmethod
    def search_runs(self, experiment_ids: Sequence[str], filter_string: str = "", run_view_type: int = ViewType.ACTIVE_ONLY, max_results: int = 1000, order_by: Sequence[str] | None = None, page_token: str | None = None) -> PagedList:
        """Runs matching MLflow's filter grammar (:mod:`autotrack.entities.search`), in ``order_by`` order."""
