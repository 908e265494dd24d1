"""The fluent API: MLflow's module-level tracking functions, with the active run in a context variable.

The active run lives in a ``contextvars`` variable, so a run started in one thread or asyncio task
is not the active run of another. A ``with autotrack.start_run():`` block ends the run FINISHED,
FAILED when an exception leaves it, KILLED on KeyboardInterrupt.
"""

from __future__ import annotations

import contextvars
import os
import sys
from collections.abc import Sequence
from typing import Any

from autotrack.entities import tags as tag_names
from autotrack.entities.clock import now_ms
from autotrack.entities import validation
from autotrack import config
from autotrack.entities.errors import InvalidParameterError, ResourceNotFoundError, InvalidStateError
from autotrack.tracking.client import TrackingClient
from autotrack.entities import Experiment, LifecycleStage, Run, RunStatus, ViewType

_tracking_uri: str | None = None
_active_experiment_id: str | None = None
# A tuple of ActiveRun, innermost last. Tuples, not lists: a context copied into a new task must
# not share a mutable stack with the context it came from.
_run_stack: contextvars.ContextVar[tuple] = contextvars.ContextVar("autotrack_run_stack", default=())
_last_active_run_id: str | None = None
_last_active_run_uri: str | None = None
# Every run started with start_run and not ended yet, in any thread or task, oldest first: the
# shutdown sequence ends them (the context variable above only shows the current thread's).
_open_runs: dict[str, "ActiveRun"] = {}


class ActiveRun(Run):
    """The run returned by ``start_run``; a context manager that ends the run on exit."""

    def __init__(self, run: Run, client: TrackingClient):
        super().__init__(run.info, run.data, run.inputs)
        self._client = client

    def __enter__(self) -> "ActiveRun":
        return self

    def __exit__(self, exc_type, exc, tb) -> bool:
        if exc_type is None:
            status = RunStatus.FINISHED
        elif issubclass(exc_type, KeyboardInterrupt):
            status = RunStatus.KILLED
        else:
            status = RunStatus.FAILED
        _end_this_run(self, status)
        return False


# ---------------------------------------------------------------------- configuration
def set_tracking_uri(uri: str | os.PathLike) -> None:
    """Send runs to ``uri``: ``sqlite:///path``, ``mysql+pymysql://...``, ``postgresql://...`` or ``http(s)://...``."""
    from autotrack.stores import scheme_of, SUPPORTED_SCHEMES

    uri = os.fspath(uri)
    scheme = scheme_of(uri)
    if scheme not in SUPPORTED_SCHEMES:
        raise InvalidParameterError(
            f"Unsupported tracking URI scheme {scheme!r} in {uri!r}; supported schemes: " + ", ".join(s + "://" for s in SUPPORTED_SCHEMES)
        )
    global _tracking_uri, _active_experiment_id
    if uri != _tracking_uri:
        _active_experiment_id = None
    _tracking_uri = uri


def get_tracking_uri() -> str:
    """The URI in use: ``set_tracking_uri``'s, else ``AUTOTRACK_TRACKING_URI``, else ``sqlite:///autotrack-runs/tracking.db``."""
    return _tracking_uri or config.tracking_uri()


def _client() -> TrackingClient:
    return TrackingClient(get_tracking_uri())


# ---------------------------------------------------------------------- experiments
def create_experiment(name: str, artifact_location: str | None = None, tags: dict[str, Any] | None = None) -> str:
    """Create an experiment; return its id."""
    return _client().create_experiment(name, artifact_location, tags)


def set_experiment(experiment_name: str | None = None, experiment_id: str | None = None) -> Experiment:
    """Make an experiment the active one, creating it by name if it does not exist."""
    global _active_experiment_id
    if (experiment_name is None) == (experiment_id is None):
        raise InvalidParameterError("set_experiment takes exactly one of experiment_name or experiment_id.")
    client = _client()
    if experiment_id is not None:
        experiment = client.get_experiment(str(experiment_id))
    else:
        experiment = client.get_experiment_by_name(experiment_name)
        if experiment is None:
            try:
                client.create_experiment(experiment_name)
            except Exception:
                if client.get_experiment_by_name(experiment_name) is None:  # lost a race: fine if it exists now
                    raise
            experiment = client.get_experiment_by_name(experiment_name)
    if experiment.lifecycle_stage != LifecycleStage.ACTIVE:
        raise InvalidStateError(f"Experiment {experiment.name!r} (id {experiment.experiment_id}) is deleted; restore it to use it.")
    _active_experiment_id = experiment.experiment_id
    return experiment


def set_experiment_tag(key: str, value: Any) -> None:
    """Set a tag on the active experiment (the one ``set_experiment`` chose, else the default)."""
    _client().set_experiment_tag(current_experiment_id(), key, value)


def set_experiment_tags(tags: dict[str, Any]) -> None:
    """Set several tags on the active experiment."""
    client, experiment_id = _client(), current_experiment_id()
    for key, value in tags.items():
        client.set_experiment_tag(experiment_id, key, value)


def get_experiment(experiment_id: str) -> Experiment:
    return _client().get_experiment(experiment_id)


def get_experiment_by_name(name: str) -> Experiment | None:
    """The experiment called ``name``, or None."""
    return _client().get_experiment_by_name(name)


def search_experiments(view_type: int = ViewType.ACTIVE_ONLY, max_results: int | None = None, filter_string: str | None = None, order_by: Sequence[str] | None = None) -> list[Experiment]:
    return list(_client().search_experiments(view_type, max_results, filter_string, order_by))


def delete_experiment(experiment_id: str) -> None:
    _client().delete_experiment(experiment_id)


def current_experiment_id() -> str:
    """The experiment new runs go to: ``set_experiment``'s, else ``AUTOTRACK_EXPERIMENT_ID``, else
    ``AUTOTRACK_EXPERIMENT_NAME`` (created if needed), else the default experiment ``"0"``."""
    if _active_experiment_id is not None:
        return _active_experiment_id
    env_id = config.env("EXPERIMENT_ID")
    if env_id:
        return env_id
    env_name = config.env("EXPERIMENT_NAME")
    if env_name:
        return set_experiment(env_name).experiment_id
    return "0"


# ---------------------------------------------------------------------- runs
def start_run(
    run_id: str | None = None,
    experiment_id: str | None = None,
    run_name: str | None = None,
    nested: bool = False,
    parent_run_id: str | None = None,
    tags: dict[str, Any] | None = None,
    description: str | None = None,
    log_system_metrics: bool | None = None,
) -> ActiveRun:
    """Start a new run (or resume ``run_id``) and make it the active run of this thread/task.

    With a run already active, pass ``nested=True`` to start a child run (tagged ``mlflow.parentRunId``).
    Use it as a context manager to end the run automatically.
    """
    global _last_active_run_id, _last_active_run_uri
    stack = _run_stack.get()
    if stack and not nested:
        raise InvalidStateError(
            f"Run {stack[-1].info.run_id} is already active. End it with end_run(), or start a child run with start_run(nested=True)."
        )
    client = _client()
    parent = parent_run_id or (stack[-1].info.run_id if stack and nested else None)
    if run_id is not None:
        run = client.resume_run(run_id, run_name=run_name, experiment_id=experiment_id)
        extra = {k: str(v) for k, v in (tags or {}).items()}
        if description is not None:
            extra[tag_names.NOTE] = description
        if extra:
            client.set_tags(run_id, extra)
            run.data.tags.update(extra)
    else:
        exp_id = str(experiment_id) if experiment_id is not None else current_experiment_id()
        all_tags = default_run_tags()
        all_tags.update({k: str(v) for k, v in (tags or {}).items()})
        if description is not None:
            all_tags[tag_names.NOTE] = description
        if parent:
            all_tags[tag_names.PARENT_RUN_ID] = parent
            all_tags[tag_names.AUTOTRACK_PARENT_RUN_ID] = parent
        if run_name:
            all_tags[tag_names.RUN_NAME] = run_name
        run = client.create_run(exp_id, tags=all_tags, run_name=run_name or all_tags.get(tag_names.RUN_NAME))
    active = ActiveRun(run, client)
    _run_stack.set(stack + (active,))
    _open_runs[run.info.run_id] = active
    from autotrack.tracking.shutdown import install_sigterm_handler

    install_sigterm_handler()
    _last_active_run_id, _last_active_run_uri = run.info.run_id, client.tracking_uri
    return active


_process_tags: dict[str, str] | None = None


def default_run_tags() -> dict[str, str]:
    """``mlflow.user``, ``mlflow.source.name`` and ``mlflow.source.type`` of this process (a new dict
    the caller may change): the tags every new run gets.

    Computed once: the user lookup and ``getcwd`` cost ~0.1 and ~1 ms on some systems, on every run
    (every autologged ``fit``), and neither changes while the process runs the same script.
    """
    global _process_tags
    if _process_tags is None:
        from autotrack.tracking.client import _user

        source = os.path.abspath(sys.argv[0]) if sys.argv and sys.argv[0] not in ("", "-c", "-m") else "<interactive>"
        _process_tags = {tag_names.USER: _user(), tag_names.SOURCE_NAME: source, tag_names.SOURCE_TYPE: "LOCAL"}
    return dict(_process_tags)


_end_run_hooks: list = []


def register_end_run_hook(hook) -> None:
    """Have ``hook(run_id)`` called just before a run ended through the fluent API is marked ended:
    for integrations that buffer values of the run (e.g. loss tensors read back in batches), so
    that they are written into the run before its end."""
    if hook not in _end_run_hooks:
        _end_run_hooks.append(hook)


def unregister_end_run_hook(hook) -> None:
    if hook in _end_run_hooks:
        _end_run_hooks.remove(hook)


def _call_end_run_hooks(run_id: str) -> None:
    for hook in list(_end_run_hooks):
        try:
            hook(run_id)
        except Exception as exc:  # noqa: BLE001 - a hook must not stop the run from ending
            import logging

            logging.getLogger("autotrack").warning("autotrack: end-of-run hook %r failed: %s", hook, exc)


def _end_this_run(run: ActiveRun, status: str) -> None:
    global _last_active_run_id, _last_active_run_uri
    if _end_run_hooks:
        _call_end_run_hooks(run.info.run_id)
    stack = _run_stack.get()
    if run in stack:
        # Ending an outer run ends the children still open inside it first.
        index = stack.index(run)
        for child in reversed(stack[index + 1:]):
            child._client.set_terminated(child.info.run_id, status)
            _open_runs.pop(child.info.run_id, None)
        _run_stack.set(stack[:index])
    run._client.set_terminated(run.info.run_id, status)
    _open_runs.pop(run.info.run_id, None)
    run.info.status = status
    _last_active_run_id, _last_active_run_uri = run.info.run_id, run._client.tracking_uri


def end_run(status: str = RunStatus.FINISHED) -> None:
    """End the active run of this thread/task (if any) with ``status``."""
    if status not in RunStatus.TERMINATED:
        raise InvalidParameterError(f"Invalid status {status!r} for end_run; accepted: {', '.join(RunStatus.TERMINATED)}.")
    stack = _run_stack.get()
    if stack:
        _end_this_run(stack[-1], status)


def active_run() -> ActiveRun | None:
    """The active run of this thread/task, or None."""
    stack = _run_stack.get()
    return stack[-1] if stack else None


def last_active_run() -> Run | None:
    """The active run, else the most recently started run of this process (read back from the store)."""
    stack = _run_stack.get()
    if stack:
        return get_run(stack[-1].info.run_id)
    if _last_active_run_id is None:
        return None
    return TrackingClient(_last_active_run_uri).get_run(_last_active_run_id)


def _run_for_logging() -> ActiveRun:
    stack = _run_stack.get()
    if stack:
        return stack[-1]
    return start_run()  # as MLflow does, logging with no active run starts one


def get_parent_run(run_id: str) -> Run | None:
    """The parent run of a child run, or ``None`` for a top-level run."""
    return _client().get_parent_run(run_id)


def get_run(run_id: str) -> Run:
    """The run ``run_id`` with its latest metrics, params and tags."""
    return _client().get_run(run_id)


def delete_run(run_id: str) -> None:
    _client().delete_run(run_id)


_flush_hooks: list = []


def register_flush_hook(hook) -> None:
    """Have ``flush()`` also call ``hook()``: for writers of other data (e.g. an integration's artifact
    files written in the background), so that ``flush()`` still means "everything is written"."""
    if hook not in _flush_hooks:
        _flush_hooks.append(hook)


def unregister_flush_hook(hook) -> None:
    if hook in _flush_hooks:
        _flush_hooks.remove(hook)


def flush(timeout: float | None = None) -> None:
    """Write everything logged so far to the store (logging is otherwise batched in the background).

    With ``timeout`` (seconds), return after at most that long: what is not written by then stays
    queued (or in the on-disk spool while the store is unreachable) and is written later.
    """
    import time as _t

    deadline = None if timeout is None else _t.monotonic() + timeout

    def left():
        return None if deadline is None else max(0.0, deadline - _t.monotonic())

    from autotrack.tracking.shutdown import _artifact_drains

    for drain in list(_artifact_drains):
        drain(left())
    for hook in list(_flush_hooks):
        hook()
    clients = {run._client.tracking_uri: run._client for run in _run_stack.get()}
    clients.setdefault(get_tracking_uri(), None)
    for uri, client in clients.items():
        (client or _client()).flush(left())


def end_open_runs(status: str = RunStatus.FINISHED) -> None:
    """End every run started with start_run and still open (any thread), newest first, with ``status``."""
    global _last_active_run_id, _last_active_run_uri
    for run_id, run in reversed(list(_open_runs.items())):
        try:
            run._client.set_terminated(run_id, status)
            run.info.status = status
        finally:
            _open_runs.pop(run_id, None)
    _run_stack.set(())


# ---------------------------------------------------------------------- logging
def log_metric(key: str, value: float, step: int | None = None, timestamp: int | None = None, run_id: str | None = None) -> None:
    """Log a metric value to the active run. Costs microseconds: it is written in the background."""
    if run_id is None:
        stack = _run_stack.get()
        run = stack[-1] if stack else _run_for_logging()
        run._client.log_metric(run.info.run_id, key, value, timestamp, step)
    else:
        _client().log_metric(run_id, key, value, timestamp, step)


def log_metrics(metrics: dict[str, float], step: int | None = None, timestamp: int | None = None, run_id: str | None = None) -> None:
    """Log several metrics at one step: all are validated first, so a bad one logs none of them."""
    if run_id is None:
        run = _run_for_logging()
        client, run_id = run._client, run.info.run_id
    else:
        client = _client()
    client.log_metrics(run_id, metrics, step, timestamp)


def log_param(key: str, value: Any) -> Any:
    """Log a param of the active run; returns ``value``."""
    run = _run_for_logging()
    return run._client.log_param(run.info.run_id, key, value)


def log_params(params: dict[str, Any]) -> None:
    run = _run_for_logging()
    run._client.log_params(run.info.run_id, dict(params))


def set_tag(key: str, value: Any) -> None:
    run = _run_for_logging()
    run._client.set_tag(run.info.run_id, key, value)


def set_tags(tags: dict[str, Any]) -> None:
    run = _run_for_logging()
    run._client.set_tags(run.info.run_id, dict(tags))


def delete_tag(key: str) -> None:
    run = _run_for_logging()
    run._client.delete_tag(run.info.run_id, key)


def log_artifact(local_path: str, artifact_path: str | None = None) -> None:
    """Copy a local file (or folder) into the active run's artifacts."""
    run = _run_for_logging()
    run._client.log_artifact(run.info.run_id, local_path, artifact_path)


def log_artifacts(local_dir: str, artifact_path: str | None = None) -> None:
    """Copy the contents of a local folder into the active run's artifacts."""
    run = _run_for_logging()
    run._client.log_artifacts(run.info.run_id, local_dir, artifact_path)


def log_text(text: str, artifact_file: str) -> None:
    run = _run_for_logging()
    run._client.log_text(run.info.run_id, text, artifact_file)


def log_dict(dictionary: Any, artifact_file: str) -> None:
    run = _run_for_logging()
    run._client.log_dict(run.info.run_id, dictionary, artifact_file)


def log_figure(figure: Any, artifact_file: str) -> None:
    run = _run_for_logging()
    run._client.log_figure(run.info.run_id, figure, artifact_file)


def log_table(data: Any, artifact_file: str, run_id: str | None = None) -> None:
    """Save a DataFrame or dict of columns as a table artifact (.json or .parquet), appending rows; MLflow's format."""
    if run_id is None:
        run = _run_for_logging()
        run._client.log_table(run.info.run_id, data, artifact_file)
    else:
        _client().log_table(run_id, data, artifact_file)


def log_input(dataset: Any, context: str | None = None, tags: dict[str, Any] | None = None) -> None:
    """Record that the active run used ``dataset`` (``autotrack.data.from_pandas`` / ``from_numpy``),
    in ``context`` (``training``, ``eval``, ...); runs are then found with ``datasets.name`` /
    ``datasets.digest`` / ``datasets.context`` filters."""
    run = _run_for_logging()
    run._client.log_input(run.info.run_id, dataset, context, tags)


def log_inputs(datasets: Sequence[Any], contexts: Sequence[str | None] | None = None,
               tags_list: Sequence[dict[str, Any] | None] | None = None) -> None:
    """Several datasets at once, each with its context (and tags)."""
    run = _run_for_logging()
    contexts = list(contexts) if contexts is not None else [None] * len(datasets)
    tags_list = list(tags_list) if tags_list is not None else [None] * len(datasets)
    if not len(contexts) == len(tags_list) == len(datasets):
        raise InvalidParameterError(f"log_inputs: {len(datasets)} datasets, {len(contexts)} contexts and {len(tags_list)} tags; give one each.")
    run._client.log_inputs(run.info.run_id, list(zip(datasets, contexts, tags_list)))


def log_image(image: Any, artifact_file: str | None = None, key: str | None = None, step: int | None = None,
              timestamp: int | None = None, synchronous: bool | None = None) -> None:
    """Save a numpy array or PIL image in the active run: at ``artifact_file``, or by ``key`` and ``step``."""
    run = _run_for_logging()
    run._client.log_image(run.info.run_id, image, artifact_file, key, step, timestamp, synchronous)


def get_artifact_uri(artifact_path: str | None = None) -> str:
    """The artifact URI of the active run (or of ``artifact_path`` inside it)."""
    run = _run_for_logging()
    base = run.info.artifact_uri
    return base if not artifact_path else base.rstrip("/") + "/" + artifact_path.lstrip("/")


# ---------------------------------------------------------------------- search
def search_runs(
    experiment_ids: Sequence[str] | str | None = None,
    filter_string: str = "",
    run_view_type: int = ViewType.ACTIVE_ONLY,
    max_results: int = 100_000,
    order_by: Sequence[str] | str | None = None,
    output_format: str = "pandas",
    search_all_experiments: bool = False,
    experiment_names: Sequence[str] | None = None,
):
    """Search runs with MLflow's filter grammar; a pandas DataFrame by default, or a list of Runs."""
    if output_format not in ("pandas", "list"):
        raise InvalidParameterError(f"Invalid output_format {output_format!r}; accepted: 'pandas', 'list'.")
    max_results = validation.validate_max_results(max_results, limit=2**31)
    client = _client()
    if isinstance(experiment_ids, (str, int)):
        experiment_ids = [str(experiment_ids)]
    ids = [str(e) for e in (experiment_ids or [])]
    for name in experiment_names or []:
        experiment = client.get_experiment_by_name(name)
        if experiment is None:
            raise ResourceNotFoundError(f"No experiment named {name!r} (in experiment_names).")
        ids.append(experiment.experiment_id)
    if not ids:
        if search_all_experiments:
            ids = [e.experiment_id for e in client.search_experiments(view_type=ViewType.ALL)]
        else:
            ids = [current_experiment_id()]
    runs: list[Run] = []
    token = None
    while len(runs) < max_results:
        page = client.search_runs(ids, filter_string, run_view_type, min(max_results - len(runs), 50_000), order_by, token)
        runs.extend(page)
        token = page.token
        if not token:
            break
    if output_format == "list":
        return runs
    return _runs_to_pandas(runs)


def _runs_to_pandas(runs: list[Run]):
    try:
        import pandas as pd
    except ImportError:
        raise InvalidParameterError("search_runs(output_format='pandas') needs pandas (pip install pandas); or pass output_format='list'.") from None
    rows = []
    for run in runs:
        info = run.info
        row: dict[str, Any] = {
            "run_id": info.run_id, "experiment_id": info.experiment_id, "status": info.status,
            "artifact_uri": info.artifact_uri,
            "start_time": pd.to_datetime(info.start_time, unit="ms", utc=True),
            "end_time": pd.to_datetime(info.end_time, unit="ms", utc=True) if info.end_time else pd.NaT,
        }
        row.update({f"metrics.{k}": v for k, v in run.data.metrics.items()})
        row.update({f"params.{k}": v for k, v in run.data.params.items()})
        row.update({f"tags.{k}": v for k, v in run.data.tags.items()})
        rows.append(row)
    base = ["run_id", "experiment_id", "status", "artifact_uri", "start_time", "end_time"]
    frame = pd.DataFrame(rows, columns=None if rows else base)
    extra = sorted(c for c in frame.columns if c not in base)
    return frame[base + [c for c in extra if c.startswith("metrics.")] + [c for c in extra if c.startswith("params.")] + [c for c in extra if c.startswith("tags.")]]


def _reset() -> None:
    """See :func:`autotrack.tracking.reset`."""
    global _tracking_uri, _active_experiment_id, _last_active_run_id, _last_active_run_uri, _process_tags
    from autotrack import stores
    from autotrack.tracking import client, shutdown
    from autotrack.tracking.pipeline import all_pipelines

    shutdown.shutdown(status=RunStatus.FINISHED, reopen=True)
    for pipeline in all_pipelines():
        pipeline.stop()
    _open_runs.clear()
    _run_stack.set(())
    _tracking_uri = None
    _active_experiment_id = None
    _last_active_run_id = _last_active_run_uri = None
    with client._states_lock:
        client._states.clear()
    stores._reset_for_tests()
