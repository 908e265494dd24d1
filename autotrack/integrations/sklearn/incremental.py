"""Incremental training: successive ``partial_fit`` calls on one estimator log into one run.

- With a run active (the user's ``with autotrack.start_run():``, e.g. the tutorial's run per chunk),
  the call logs into it, as is: autotrack neither ends nor changes it.
- Without one, the estimator's first ``partial_fit`` creates a run (tag ``autotrack.autologging=sklearn``)
  that stays open for its next calls. It is not made the active run, so the user's own
  ``start_run()`` keeps working. autotrack ends it FINISHED when a new top-level training starts
  (a ``fit``/``fit_transform``/``fit_predict`` of any estimator), when autologging is disabled or
  reconfigured, or when the process exits; FAILED if a ``partial_fit`` raises. Other estimators'
  ``partial_fit`` calls do not end it, so two models can be trained side by side on the same chunks.

Each call logs the training metrics of the chunk it was given (the estimator's score on that chunk)
at ``step`` = the estimator's call index (0, 1, 2, ... since its last ``fit``), so the run's metric
history is the learning curve. Params, tags and the dataset (the first chunk) are logged once per
run. The model is logged once, when the autotrack-created run ends (its final state); into a user's
run it is logged after every call (the run may end at any time).
"""

from __future__ import annotations

import atexit
import threading
import weakref
from dataclasses import dataclass, field
from typing import Any

from autotrack.core import safety
from autotrack.core.integration import AutologConfig

NAME = "sklearn"


@dataclass
class Chunk:
    """Where one ``partial_fit`` call logs: the run, whether autotrack created it, the step."""

    run_id: str
    created: bool
    step: int
    first_in_run: bool


@dataclass
class _State:
    calls: int = 0
    created_run: str | None = None
    runs_logged: set[str] = field(default_factory=set)


_lock = threading.RLock()
_states: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
# run id -> [weak reference to its estimator, config, a few rows of its first chunk (for the model's
# signature)] for every run autotrack created and has not ended
_open: dict[str, list[Any]] = {}
_exit_registered = False


def _state(estimator: Any) -> _State:
    state = _states.get(estimator)
    if state is None:
        state = _states[estimator] = _State()
    return state


def _create_run(config: AutologConfig) -> str:
    from autotrack.core.session import RUN_TAG
    from autotrack.tracking import fluent
    from autotrack.tracking.client import TrackingClient

    client = TrackingClient()
    tags = fluent.default_run_tags()
    tags[RUN_TAG] = NAME
    tags.update(config.extra_tags or {})
    run = client.create_run(fluent.current_experiment_id(), tags=tags)
    return run.info.run_id


def begin_call(estimator: Any, active_run_id: str | None, config: AutologConfig) -> Chunk | None:
    """Choose the run a ``partial_fit`` call logs into (creating it if needed); None where the engine's
    worker policy forbids a run of our own."""
    global _exit_registered
    from autotrack.core import session

    with _lock:
        state = _state(estimator)
        previous = state.created_run if active_run_id is not None else None
        if active_run_id is not None:
            run_id, created = active_run_id, False
            state.created_run = None
        elif state.created_run is not None and state.created_run in _open:
            run_id, created = state.created_run, True
        else:
            if session.in_worker_process() or session.other_session_open():
                return None
            run_id, created = _create_run(config), True
            state.created_run = run_id
            _open[run_id] = [weakref.ref(estimator), config, None]
            if not _exit_registered:
                # After the tracking modules registered theirs, so it runs before them at exit.
                atexit.register(end_open_runs, "the process exits")
                _exit_registered = True
        chunk = Chunk(run_id, created, state.calls, run_id not in state.runs_logged)
    if previous is not None:
        _end(previous, "FINISHED")  # the estimator moved into a run the user started
    return chunk


def log_call(estimator: Any, X: Any, y: Any, sample_weight: Any, chunk: Chunk, config: AutologConfig, *,
             dataset_name: str | None = None) -> None:
    """Log one successful ``partial_fit`` call (see the module docstring)."""
    from autotrack.integrations.sklearn.logging_parts import log_training

    with _lock:
        state = _state(estimator)
        state.calls += 1
        state.runs_logged.add(chunk.run_id)
        entry = _open.get(chunk.run_id)
        if entry is not None and entry[2] is None and X is not None:
            entry[2] = _sample(X)
    log_training(estimator, X, y, chunk.run_id, config, log_model=not chunk.created, sample_weight=sample_weight,
                 dataset_name=dataset_name, step=chunk.step, log_plots=False,
                 log_params_and_dataset=chunk.first_in_run)


def call_failed(estimator: Any, chunk: Chunk) -> None:
    """A ``partial_fit`` raised: end the run autotrack created for the estimator FAILED. Never raises."""
    if not chunk.created:
        return
    with _lock:
        state = _states.get(estimator)
        if state is not None and state.created_run == chunk.run_id:
            state.created_run = None
    try:
        _end(chunk.run_id, "FAILED", log_model=False)
    except Exception as exc:  # noqa: BLE001 - the user's exception is propagating
        safety.report(NAME, "ending an incremental run", exc, allow_raise=False)


def _sample(X: Any) -> Any:
    """A private copy of the first rows of ``X`` (the caller may reuse its chunk buffer)."""
    import copy

    from autotrack.integrations.sklearn.logging_parts import SIGNATURE_ROWS, head_rows

    try:
        return copy.deepcopy(head_rows(X, SIGNATURE_ROWS))
    except Exception:  # noqa: BLE001 - no sample: the model is logged without a signature
        return None


def forget(estimator: Any) -> None:
    """A ``fit`` restarted the estimator: its next ``partial_fit`` starts at step 0 in a new run."""
    with _lock:
        _states.pop(estimator, None)


def open_runs() -> list[str]:
    """Ids of the incremental runs autotrack created and has not ended yet."""
    with _lock:
        return list(_open)


def _end(run_id: str, status: str, *, log_model: bool = True) -> None:
    with _lock:
        entry = _open.pop(run_id, None)
    if entry is None:
        return
    ref, config, sample = entry
    from autotrack.integrations.sklearn import logging_parts
    from autotrack.tracking.client import TrackingClient

    client = TrackingClient()
    estimator = ref()
    try:
        if log_model and estimator is not None and config.log_models:
            logging_parts.guarded("logging the model of an incremental run", config,
                                   logging_parts.log_model_artifact, client, run_id, estimator, sample, config)
    finally:
        client.set_terminated(run_id, status)


def end_open_runs(reason: str = "") -> None:
    """End every incremental run autotrack created, FINISHED (logging each final model first)."""
    for run_id in open_runs():
        config = (_open.get(run_id) or [None, None])[1]
        try:
            _end(run_id, "FINISHED")
        except Exception as exc:  # noqa: BLE001
            safety.report(NAME, f"ending incremental run {run_id} ({reason})", exc,
                          silent=bool(config and config.silent), allow_raise=reason not in ("the process exits",))
