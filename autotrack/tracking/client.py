"""``TrackingClient``: the explicit, run-id based API over one tracking store."""

from __future__ import annotations

import json
import logging
import os
import posixpath
import struct
import tempfile
import threading
import uuid
from collections.abc import Sequence
from typing import Any

from autotrack.entities import tags as tag_names
from autotrack.entities.clock import now_ms
from time import time as _time
from autotrack.entities.errors import InvalidParameterError, InvalidStateError
from autotrack.stores import get_store
from autotrack.entities import validation
from autotrack.entities import Experiment, LifecycleStage, Metric, Param, Run, RunData, RunInfo, RunStatus, RunTag, ViewType
from autotrack.entities.run_names import generate_run_name
from autotrack.tracking.pipeline import CREATE, END, METRIC, PARAM, TAG, LoggingPipeline
from autotrack.tracking import shutdown as _shutdown  # noqa: F401  (registers the exit sequence)

_valid_keys = validation._valid_keys
_logger = logging.getLogger("autotrack")


class _StoreState:
    """What every client of one store shares: the pipeline, and what is known of runs being logged to."""

    def __init__(self, store):
        self.store = store
        self.pipeline = LoggingPipeline(store)
        # run_id -> {param key: value} for runs known to be writable (RUNNING, not deleted). Checked once
        # per run id, so that logging to an unknown, finished or deleted run fails at the call.
        self.writable: dict[str, dict[str, str]] = {}
        self.artifact_uris: dict[str, str] = {}
        # experiment id -> artifact location, for experiments known to be active (cleared on delete)
        self.experiments: dict[str, str] = {}
        self.lock = threading.Lock()


_states: dict[str, _StoreState] = {}
_states_lock = threading.Lock()


def _state_for(uri: str) -> _StoreState:
    state = _states.get(uri)
    if state is None:
        store = get_store(uri)
        with _states_lock:
            state = _states.get(uri)
            if state is None:
                state = _states[uri] = _StoreState(store)
    return state


def resolve_tracking_uri(uri: str | None = None) -> str:
    """Argument, else ``set_tracking_uri``'s value, else ``AUTOTRACK_TRACKING_URI``, else the embedded SQLite file."""
    if uri:
        return uri
    from autotrack.tracking import fluent

    return fluent.get_tracking_uri()


class TrackingClient:
    """The full tracking API addressed by experiment and run id.

    ``TrackingClient()`` uses the current tracking URI; ``TrackingClient("postgresql://...")`` another store.
    Writes of metrics, params and tags go through the batching pipeline; reads flush it first.
    """

    def __init__(self, tracking_uri: str | None = None):
        self.tracking_uri = resolve_tracking_uri(tracking_uri)
        self._state = _state_for(self.tracking_uri)
        self.store = self._state.store
        self._pipeline = self._state.pipeline

    # ------------------------------------------------------------------ experiments
    def create_experiment(self, name: str, artifact_location: str | None = None, tags: dict[str, Any] | None = None) -> str:
        """Create an experiment and return its id (a string)."""
        return self.store.create_experiment(name, artifact_location, {k: str(v) for k, v in (tags or {}).items()})

    def get_experiment(self, experiment_id: str) -> Experiment:
        return self.store.get_experiment(experiment_id)

    def get_experiment_by_name(self, name: str) -> Experiment | None:
        validation.validate_experiment_name(name)
        return self.store.get_experiment_by_name(name)

    def search_experiments(self, view_type: int = ViewType.ACTIVE_ONLY, max_results: int | None = None, filter_string: str | None = None, order_by: Sequence[str] | None = None, page_token: str | None = None) -> list[Experiment]:
        if max_results is not None:
            max_results = validation.validate_max_results(max_results)
        return self.store.search_experiments(view_type, max_results, filter_string, order_by, page_token)

    def delete_experiment(self, experiment_id: str) -> None:
        self.flush()
        self.store.delete_experiment(experiment_id)
        self._state.writable.clear()
        self._state.experiments.clear()

    def restore_experiment(self, experiment_id: str) -> None:
        self.store.restore_experiment(experiment_id)

    def rename_experiment(self, experiment_id: str, new_name: str) -> None:
        self.store.rename_experiment(experiment_id, new_name)

    def set_experiment_tag(self, experiment_id: str, key: str, value: Any) -> None:
        self.store.set_experiment_tag(experiment_id, key, str(value))

    # ------------------------------------------------------------------ runs
    def create_run(self, experiment_id: str, start_time: int | None = None, tags: dict[str, Any] | None = None, run_name: str | None = None) -> Run:
        """Create a RUNNING run in ``experiment_id`` and return it.

        The run id is chosen here (every store accepts a client-chosen id, see
        :meth:`TrackingStore.create_run`), so the creation is queued in the logging pipeline ahead of
        the run's records and starting a run costs the caller microseconds; reads flush first, as for
        every record.
        """
        experiment_id = str(experiment_id)
        validation.validate_run_name(run_name)
        tags = {k: str(v) for k, v in (tags or {}).items()}
        user = tags.get(tag_names.USER) or _user()
        start_time = start_time or now_ms()
        location = self._experiment_location(experiment_id)
        for key, value in tags.items():
            validation.validate_key("tag", key)
            validation.validate_tag_value(key, value)
        run_name = validation.validate_run_name(run_name or tags.get(tag_names.RUN_NAME)) or generate_run_name()
        tags[tag_names.RUN_NAME] = run_name
        run_id = uuid.uuid4().hex
        create = {"user_id": user, "start_time": start_time, "tags": [RunTag(k, v) for k, v in tags.items()], "run_name": run_name}
        self._pipeline.add((CREATE, run_id, experiment_id, create, 0, 0))
        info = RunInfo(run_id, experiment_id, run_name, user, RunStatus.RUNNING, start_time, None, f"{location.rstrip('/')}/{run_id}/artifacts")
        run = Run(info, RunData(tags=tags))
        self._state.writable[run_id] = {}
        self._state.artifact_uris[run_id] = info.artifact_uri
        return run

    def resume_run(self, run_id: str, run_name: str | None = None, experiment_id: str | None = None) -> Run:
        """Set a finished (or running) run back to RUNNING so that it can be logged to again; return it.

        A deleted run cannot be resumed; with ``experiment_id``, the run must belong to that experiment.
        """
        validation.validate_run_id(run_id)
        validation.validate_run_name(run_name)
        self.flush()  # its queued end must be written before it is resumed
        run = self.store.get_run(run_id)
        if run.info.lifecycle_stage != LifecycleStage.ACTIVE:
            raise InvalidStateError(f"Cannot resume run {run_id}: it is deleted.")
        if experiment_id is not None and str(experiment_id) != run.info.experiment_id:
            raise InvalidParameterError(
                f"Run {run_id} belongs to experiment {run.info.experiment_id}, not to experiment_id={experiment_id!r}."
            )
        self.store.update_run_info(run_id, status=RunStatus.RUNNING, run_name=run_name)
        run = self.store.get_run(run_id)
        self._state.writable[run_id] = dict(run.data.params)
        self._state.artifact_uris[run_id] = run.info.artifact_uri
        return run

    def _experiment_location(self, experiment_id: str) -> str:
        """The artifact location of an active experiment (looked up once per client state)."""
        location = self._state.experiments.get(experiment_id)
        if location is None:
            experiment = self.store.get_experiment(experiment_id)
            if experiment.lifecycle_stage != LifecycleStage.ACTIVE:
                raise InvalidStateError(f"Cannot create a run in experiment {experiment_id!r}: it is deleted (restore it first).")
            location = self._state.experiments[experiment_id] = experiment.artifact_location
        return location

    def get_run(self, run_id: str) -> Run:
        """The run with its latest metrics, params and tags (what was logged so far is flushed first)."""
        self.flush()
        return self.store.get_run(run_id)

    def update_run(self, run_id: str, status: str | None = None, name: str | None = None) -> None:
        validation.validate_run_name(name)
        self.flush()
        end_time = now_ms() if status and RunStatus.is_terminated(status) else None
        self.store.update_run_info(run_id, status=status, end_time=end_time, run_name=name)
        if status is not None:
            self._forget(run_id)

    def set_terminated(self, run_id: str, status: str = RunStatus.FINISHED, end_time: int | None = None) -> None:
        """End a run with ``status``. The end is queued after the run's records, so it is written after them."""
        if status not in RunStatus.TERMINATED:
            raise InvalidParameterError(f"Invalid status {status!r} for ending a run; accepted: {', '.join(RunStatus.TERMINATED)}.")
        self._pipeline.add((END, run_id, status, None, end_time or now_ms(), 0))
        self._forget(run_id)

    def delete_run(self, run_id: str) -> None:
        self.flush()
        self.store.delete_run(run_id)
        self._forget(run_id)

    def restore_run(self, run_id: str) -> None:
        self.store.restore_run(run_id)

    def _forget(self, run_id: str) -> None:
        self._state.writable.pop(run_id, None)

    def _writable_params(self, run_id: str) -> dict[str, str]:
        """The params of a run that may be logged to; raise if it is unknown, finished or deleted."""
        params = self._state.writable.get(run_id)
        if params is not None:
            return params
        validation.validate_run_id(run_id)
        self.flush()  # a queued end (or creation) of this run must reach the store before we look
        run = self.store.get_run(run_id)  # raises ResourceNotFoundError for an unknown id
        if run.info.lifecycle_stage != LifecycleStage.ACTIVE:
            raise InvalidStateError(f"Cannot log to run {run_id}: it is deleted.")
        if RunStatus.is_terminated(run.info.status):
            raise InvalidStateError(
                f"Cannot log to run {run_id}: it is {run.info.status}. Resume it with start_run(run_id={run_id!r}) to log more."
            )
        with self._state.lock:
            params = self._state.writable.setdefault(run_id, dict(run.data.params))
        self._state.artifact_uris[run_id] = run.info.artifact_uri
        return params

    # ------------------------------------------------------------------ logging
    def log_metric(self, run_id: str, key: str, value: float, timestamp: int | None = None, step: int | None = None) -> None:
        """Queue one metric value. Costs about a microsecond; the pipeline writes it in the background."""
        if run_id not in self._state.writable:
            self._writable_params(run_id)
        if key.__class__ is not str or key not in _valid_keys:
            validation.validate_key("metric", key)
        if value.__class__ is not float:
            value = validation.validate_metric_value(key, value)
        if timestamp is None:
            timestamp = int(_time() * 1000)  # now_ms() inlined: this is the hot path
        elif timestamp.__class__ is not int or timestamp < 0:  # log_metrics/log_batch pass one int for many metrics
            timestamp = validation.validate_timestamp(key, timestamp)
        step = 0 if step is None else (step if step.__class__ is int else validation.validate_step(key, step))
        try:
            self._pipeline.add_metric(run_id, key, value, timestamp, step)
        except struct.error:
            raise _int64_error(key, step, timestamp) from None

    def log_metrics(self, run_id: str, metrics: dict[str, float], step: int | None = None, timestamp: int | None = None) -> None:
        """Queue several metrics of one run at one step: all of them, or (on a bad one) none."""
        if not isinstance(metrics, dict):
            raise InvalidParameterError(f"Invalid metrics {metrics!r}: expected a dict of metric key to number.")
        self._writable_params(run_id)
        timestamp = now_ms() if timestamp is None else validation.validate_timestamp("metrics", timestamp)
        step = validation.validate_step("metrics", step)
        records = [
            (METRIC, run_id, validation.validate_key("metric", key), validation.validate_metric_value(key, value), timestamp, step)
            for key, value in metrics.items()
        ]
        if records:
            self._pipeline.add_many(records)

    def log_late_metric(self, run_id: str, key: str, value: float, step: int = 0, timestamp: int | None = None) -> None:
        """Queue one metric value for ``run_id`` even if the run has ended; its status and end time stay.

        For records that belong to the run by construction but come after it ended (evaluations of
        the run's model after training). Unlike :meth:`log_metric`, which refuses a finished run
        (a user's late ``log_metric`` is a mistake worth an error), the run is not checked here:
        the store writes records of finished runs and refuses deleted ones when the batch is written.
        """
        validation.validate_key("metric", key)
        value = validation.validate_metric_value(key, value)
        timestamp = now_ms() if timestamp is None else validation.validate_timestamp(key, timestamp)
        self._pipeline.add((METRIC, run_id, key, value, timestamp, validation.validate_step(key, step)))

    def log_param(self, run_id: str, key: str, value: Any) -> Any:
        """Log a param (write-once: the same value again is fine, another value is an error)."""
        self.log_params(run_id, {validation.validate_key("param", key): value})
        return value

    def log_params(self, run_id: str, params: dict[str, Any], *, keep_existing: bool = False) -> None:
        """Queue several params of one run (write-once, as :meth:`log_param`).

        With ``keep_existing=True`` a key the run already has with another value keeps that value and
        is skipped, instead of raising: for autologging that may train twice inside one user run.
        """
        known = self._writable_params(run_id)
        if not isinstance(params, dict):
            raise InvalidParameterError(f"Invalid params {params!r}: expected a dict of param key to value.")
        checked = self._check_params(run_id, params, known, keep_existing)
        records = [(PARAM, run_id, key, text, 0, 0) for key, text in checked.items() if key not in known]
        if records:
            self._pipeline.add_many(records)
        known.update(checked)

    def _check_params(self, run_id: str, params: dict[str, Any], known: dict[str, str], keep_existing: bool) -> dict[str, str]:
        """Validate every param first (nothing is queued on a bad one); the ones to keep, as text."""
        checked: dict[str, str] = {}
        kept: list[str] = []
        for key, value in params.items():
            validation.validate_key("param", key)
            text = validation.validate_param_value(key, value)
            old = known.get(key)
            if old is not None and old != text:
                if keep_existing:
                    kept.append(key)
                    continue
                raise InvalidParameterError(
                    f"Param {key!r} of run {run_id} is already logged with value {old!r}; params are write-once, so the "
                    f"new value {text!r} was rejected. Log it under another key or in another run."
                )
            checked[key] = text
        if kept:
            _logger.debug("run %s already has params %s with other values; kept them", run_id, kept)
        return checked

    def set_tag(self, run_id: str, key: str, value: Any) -> None:
        self.set_tags(run_id, {validation.validate_key("tag", key): value})

    def set_tags(self, run_id: str, tags: dict[str, Any]) -> None:
        """Queue several tags of one run (a tag set again takes the new value)."""
        self._writable_params(run_id)
        if not isinstance(tags, dict):
            raise InvalidParameterError(f"Invalid tags {tags!r}: expected a dict of tag key to value.")
        records = [(TAG, run_id, validation.validate_key("tag", k), validation.validate_tag_value(k, v), 0, 0) for k, v in tags.items()]
        if records:
            self._pipeline.add_many(records)

    def delete_tag(self, run_id: str, key: str) -> None:
        self.flush()
        self.store.delete_tag(run_id, key)

    def log_batch(self, run_id: str, metrics: Sequence[Metric] = (), params: Sequence[Param] = (), tags: Sequence[RunTag] = ()) -> None:
        """Queue several metrics, params and tags of one run: everything is validated first, so a bad
        item queues nothing. A param key given twice in one batch is rejected (MLflow's rule)."""
        known = self._writable_params(run_id)
        seen: set[str] = set()
        for p in params:
            if p.key in seen:
                raise InvalidParameterError(f"Invalid log_batch for run {run_id}: param {p.key!r} is given more than once in one batch.")
            seen.add(p.key)
        checked_params = self._check_params(run_id, {p.key: p.value for p in params}, known, keep_existing=False)
        checked_tags = [(validation.validate_key("tag", t.key), validation.validate_tag_value(t.key, t.value)) for t in tags]
        records = []
        for metric in metrics:
            key = validation.validate_key("metric", metric.key)
            value = validation.validate_metric_value(key, metric.value)
            timestamp = validation.validate_timestamp(key, metric.timestamp)
            step = validation.validate_step(key, metric.step)
            records.append((METRIC, run_id, key, value, timestamp, step))
        records += [(PARAM, run_id, k, v, 0, 0) for k, v in checked_params.items() if k not in known]
        records += [(TAG, run_id, k, v, 0, 0) for k, v in checked_tags]
        if records:
            self._pipeline.add_many(records)  # packs every metric before queueing any (int64 checks)
        known.update(checked_params)

    def flush(self, timeout: float | None = None) -> None:
        """Write everything queued for this store, waiting at most ``timeout`` seconds if given
        (what is not written by then stays queued, or in the spool while the store is down)."""
        self._pipeline.flush(timeout)

    # ------------------------------------------------------------------ reading
    def get_metric_history(self, run_id: str, key: str) -> list[Metric]:
        """Every value logged for ``key`` in ``run_id``, by step then time."""
        self.flush()
        return self.store.get_metric_history(run_id, key)

    def search_runs(self, experiment_ids: Sequence[str] | str, filter_string: str = "", run_view_type: int = ViewType.ACTIVE_ONLY, max_results: int = 1000, order_by: Sequence[str] | None = None, page_token: str | None = None) -> list[Run]:
        """Runs of the experiments matching ``filter_string`` (MLflow's grammar), ordered by ``order_by``."""
        if isinstance(experiment_ids, (str, int)):
            experiment_ids = [str(experiment_ids)]
        if isinstance(order_by, str):
            order_by = [order_by]
        max_results = validation.validate_max_results(max_results)
        self.flush()
        return self.store.search_runs(list(experiment_ids), filter_string or "", run_view_type, max_results, order_by, page_token)

    # ------------------------------------------------------------------ artifacts
    def artifact_repository(self, run_id: str):
        """The :class:`~autotrack.artifacts.ArtifactRepository` of the run's artifact folder (its URI is
        looked up once per run), for writers that put files there themselves."""
        from autotrack.artifacts import get_artifact_repository

        uri = self._state.artifact_uris.get(run_id)
        if uri is None:
            uri = self.store.get_run(run_id).info.artifact_uri
            self._state.artifact_uris[run_id] = uri
        return get_artifact_repository(uri)

    def log_artifact(self, run_id: str, local_path: str, artifact_path: str | None = None) -> None:
        """Copy a file (or a folder, recursively) into the run's artifacts under ``artifact_path``."""
        self._writable_params(run_id)
        repo = self.artifact_repository(run_id)
        if os.path.isdir(local_path):
            name = os.path.basename(os.path.normpath(local_path))
            repo.log_artifacts(local_path, posixpath.join(artifact_path, name) if artifact_path else name)
        else:
            repo.log_artifact(local_path, artifact_path)

    def log_artifacts(self, run_id: str, local_dir: str, artifact_path: str | None = None) -> None:
        """Copy the contents of ``local_dir`` into the run's artifacts under ``artifact_path``."""
        self._writable_params(run_id)
        self.artifact_repository(run_id).log_artifacts(local_dir, artifact_path)

    def list_artifacts(self, run_id: str, path: str | None = None):
        """The files and folders under ``path`` in the run's artifacts (files still being written in
        the background for this run are waited for first)."""
        _wait_for_background_artifacts(run_id)
        return self.artifact_repository(run_id).list_artifacts(path)

    def download_artifacts(self, run_id: str, path: str = "", dst_path: str | None = None) -> str:
        """Copy an artifact (file or folder) of the run to ``dst_path`` (a new temp folder by default); return its local path.

        Files of this run still being written in the background are waited for first."""
        _wait_for_background_artifacts(run_id)
        return self.artifact_repository(run_id).download_artifacts(path, dst_path)

    def log_bytes(self, run_id: str, data: bytes, artifact_file: str) -> None:
        """Save ``data`` as the artifact ``artifact_file`` (e.g. ``plots/roc.json``) through the run's
        artifact repository (atomic on local disk: a reader never sees half a file)."""
        from autotrack.artifacts.base import clean_artifact_path

        if not isinstance(data, (bytes, bytearray, memoryview)):
            raise InvalidParameterError(f"Invalid data of type {type(data).__name__} for log_bytes: expected bytes.")
        artifact_file = clean_artifact_path(artifact_file)
        if not artifact_file:
            raise InvalidParameterError("Invalid artifact_file '': expected a relative file name such as 'config.json'.")
        self._writable_params(run_id)
        self.artifact_repository(run_id).log_bytes(bytes(data), artifact_file)

    def log_text(self, run_id: str, text: str, artifact_file: str) -> None:
        """Save ``text`` as the artifact ``artifact_file`` (e.g. ``notes/summary.txt``)."""
        if not isinstance(text, str):
            raise InvalidParameterError(f"Invalid text of type {type(text).__name__} for log_text: expected str.")
        self.log_bytes(run_id, text.encode("utf-8"), artifact_file)

    def log_dict(self, run_id: str, dictionary: Any, artifact_file: str) -> None:
        """Save a dict (or list) as JSON, or as YAML when ``artifact_file`` ends in .yaml/.yml and PyYAML is installed."""
        if artifact_file.endswith((".yaml", ".yml")):
            try:
                import yaml
            except ImportError:
                raise InvalidParameterError(
                    f"Cannot write {artifact_file!r} as YAML: PyYAML is not installed (pip install pyyaml), or use a .json name."
                ) from None
            text = yaml.safe_dump(dictionary, sort_keys=False)
        else:
            text = json.dumps(dictionary, indent=2, default=str)
        self.log_bytes(run_id, text.encode("utf-8"), artifact_file)

    def log_figure(self, run_id: str, figure: Any, artifact_file: str) -> None:
        """Save a matplotlib figure (PNG, SVG, PDF... by extension) or a plotly figure (HTML) as an artifact."""
        from autotrack.artifacts.base import clean_artifact_path

        artifact_file = clean_artifact_path(artifact_file)
        folder, name = posixpath.split(artifact_file)
        with tempfile.TemporaryDirectory(prefix="autotrack-") as tmp:
            local = os.path.join(tmp, name)
            if hasattr(figure, "savefig"):
                figure.savefig(local)
            elif hasattr(figure, "write_html") and name.endswith(".html"):
                figure.write_html(local)
            elif hasattr(figure, "write_image"):
                figure.write_image(local)
            else:
                raise InvalidParameterError(
                    f"Invalid figure of type {type(figure).__name__}: expected a matplotlib Figure or a plotly Figure."
                )
            self.log_artifact(run_id, local, folder or None)

    def log_table(self, run_id: str, data: Any, artifact_file: str) -> None:
        """Save a DataFrame or dict of columns as the table ``artifact_file`` (.json or .parquet), appending
        to the rows already there, in MLflow's format (``{"columns", "data"}``); see :mod:`autotrack.tracking.media`."""
        from autotrack.tracking import media

        media.log_table(self, run_id, data, artifact_file)

    def log_image(self, run_id: str, image: Any, artifact_file: str | None = None, key: str | None = None,
                  step: int | None = None, timestamp: int | None = None, synchronous: bool | None = None) -> None:
        """Save a numpy array or PIL image: at ``artifact_file``, or under ``images/`` by ``key`` and ``step``
        (MLflow's layout, with a WebP preview). ``synchronous`` is accepted for MLflow's signature; writes are synchronous."""
        from autotrack.tracking import media

        media.log_image(self, run_id, image, artifact_file, key, step, timestamp)

    def log_inputs(self, run_id: str, datasets: Sequence[Any] = ()) -> None:
        """Record datasets the run used: ``DatasetInput`` records, or ``(dataset, context)`` pairs of an
        :mod:`autotrack.data` dataset and its context (``training``, ``eval``...). Written at once (after
        what is queued for the run), so that a search by ``datasets.*`` finds the run right away."""
        from autotrack.entities import DatasetInput, InputTag

        records = []
        for item in datasets:
            if isinstance(item, DatasetInput):
                records.append(item)
                continue
            dataset, context, extra = (tuple(item) + (None, None))[:3] if isinstance(item, tuple) else (item, None, None)
            if not hasattr(dataset, "to_entity"):
                raise InvalidParameterError(
                    f"Invalid dataset {dataset!r}: expected one made by autotrack.data.from_pandas / from_numpy, or a DatasetInput.")
            tags = dict(extra or {})
            if context is not None:
                if not isinstance(context, str) or not context:
                    raise InvalidParameterError(f"Invalid dataset context {context!r}: expected a non-empty string such as 'training' or 'eval'.")
                tags[DATASET_CONTEXT_TAG] = context
            records.append(DatasetInput(dataset.to_entity(), tuple(InputTag(k, str(v)) for k, v in tags.items())))
        if records:
            self.flush()  # the run (created in the background) must be in the store first
            self.store.log_inputs(run_id, records)

    def log_input(self, run_id: str, dataset: Any, context: str | None = None, tags: dict[str, Any] | None = None) -> None:
        """Record one :mod:`autotrack.data` dataset the run used, with its context (MLflow's ``mlflow.data.context`` tag)."""
        self.log_inputs(run_id, [(dataset, context, tags)])

    def get_parent_run(self, run_id: str) -> Run | None:
        """The parent of a child run (tag ``mlflow.parentRunId``), or ``None`` for a top-level run."""
        parent = self.get_run(run_id).data.tags.get(tag_names.PARENT_RUN_ID)
        return self.get_run(parent) if parent else None


MlflowClient = TrackingClient  # MLflow's name for the explicit client
DATASET_CONTEXT_TAG = "mlflow.data.context"


def _int64_error(key: str, step: object, timestamp: object) -> InvalidParameterError:
    return InvalidParameterError(
        f"Invalid step {step!r} or timestamp {timestamp!r} for metric {key!r}: both must fit in a signed 64-bit "
        "integer (-2**63 to 2**63-1; timestamps are milliseconds since the epoch)."
    )


def _wait_for_background_artifacts(run_id: str) -> None:
    # Only when the background writer was ever used (importing it costs nothing, but stay lazy).
    import sys

    writer = sys.modules.get("autotrack.tracking.artifact_writer")
    if writer is not None:
        writer.wait_for_run(run_id)


def _user() -> str:
    global _user_name
    if _user_name is None:
        _user_name = _lookup_user()
    return _user_name


_user_name: str | None = None


def _lookup_user() -> str:
    try:
        import getpass

        return getpass.getuser()
    except Exception:
        return os.environ.get("USER", "unknown")

