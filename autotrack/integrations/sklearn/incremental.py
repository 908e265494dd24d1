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

import threading
import weakref
from dataclasses import dataclass, field
from typing import Any

from autotrack.core import safety
from autotrack.core.integration import AutologConfig
from autotrack.integrations.kit.runs import IncrementalRuns

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
    runs_logged: set[str] = field(default_factory=set)


def _log_final_model(run_id: str, estimator: Any, config: AutologConfig, status: str) -> None:
    """``on_end`` of the incremental runs: the model in its final state, before the run ends."""
    from autotrack.integrations.sklearn import logging_parts
    from autotrack.tracking.client import TrackingClient

    if status != "FINISHED" or estimator is None or not config.log_models:
        return
    sample = _runs.data(run_id).get("sample")
    logging_parts.guarded("logging the model of an incremental run", config, logging_parts.log_model_artifact,
                          TrackingClient(), run_id, estimator, sample, config)


_lock = threading.RLock()
_states: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
#: the runs autotrack created for estimators trained chunk by chunk (ended with their final model)
_runs = IncrementalRuns(NAME, on_end=_log_final_model)


def _state(estimator: Any) -> _State:
    state = _states.get(estimator)
    if state is None:
        state = _states[estimator] = _State()
    return state


def begin_call(estimator: Any, active_run_id: str | None, config: AutologConfig) -> Chunk | None:
    """Choose the run a ``partial_fit`` call logs into (creating it if needed); None where the engine's
    worker policy forbids a run of our own."""
    with _lock:
        state = _state(estimator)
        previous = _runs.get(estimator) if active_run_id is not None else None
        if active_run_id is not None:
            run_id, created = active_run_id, False
        else:
            found = _runs.run_for(estimator, config)
            if found is None:
                return None
            run_id, created = found[0], True
        chunk = Chunk(run_id, created, state.calls, run_id not in state.runs_logged)
    if previous is not None:
        _runs.end(previous, "FINISHED")  # the estimator moved into a run the user started
    return chunk


def log_call(estimator: Any, X: Any, y: Any, sample_weight: Any, chunk: Chunk, config: AutologConfig, *,
             dataset_name: str | None = None) -> None:
    """Log one successful ``partial_fit`` call (see the module docstring)."""
    from autotrack.integrations.sklearn.logging_parts import log_training

    with _lock:
        state = _state(estimator)
        state.calls += 1
        state.runs_logged.add(chunk.run_id)
        if chunk.created and X is not None:
            data = _runs.data(chunk.run_id)
            if data.get("sample") is None:
                data["sample"] = _sample(X)
    log_training(estimator, X, y, chunk.run_id, config, log_model=not chunk.created, sample_weight=sample_weight,
                 dataset_name=dataset_name, step=chunk.step, log_plots=False,
                 log_params_and_dataset=chunk.first_in_run)


def call_failed(estimator: Any, chunk: Chunk) -> None:
    """A ``partial_fit`` raised: end the run autotrack created for the estimator FAILED. Never raises."""
    if not chunk.created:
        return
    try:
        _runs.end(chunk.run_id, "FAILED", call_on_end=False)
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
    _runs.forget(estimator)


def open_runs() -> list[str]:
    """Ids of the incremental runs autotrack created and has not ended yet."""
    return _runs.open_runs()


def end_open_runs(reason: str = "") -> None:
    """End every incremental run autotrack created, FINISHED (logging each final model first)."""
    _runs.end_all("FINISHED", reason)
