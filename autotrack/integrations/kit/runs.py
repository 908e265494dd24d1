"""Runs of autologging: the run of a call, child runs, and incremental runs that outlive one call.

The engine already opens (or joins) the run of an outermost patched call: the hook finds it in
``call.run_id``. This module is for the other runs an integration makes, all with one tag policy
(:func:`run_tags`, see :mod:`autotrack.tracking.run_tags`):

- :func:`start_or_join` -- the run a call outside the engine's patching would log into (the user's
  active run, else a new one), honouring ``exclusive`` and the worker policy;
- :func:`create_child_run` -- a child of a run (``mlflow.parentRunId``, ``autotrack.parentRunId``),
  e.g. one per hyperparameter candidate;
- :class:`IncrementalRuns` -- one run per object (an estimator trained chunk by chunk, a model trained
  by a hand-written loop) that stays open across calls and is ended by the integration, when
  autologging is reconfigured, or at exit;
- :func:`create_run` / :func:`end_run` -- the primitives the others use.

Runs created here are not made the active run: the user's own ``start_run()`` keeps working.
"""

from __future__ import annotations

import atexit
import threading
import weakref
from collections.abc import Callable, Mapping
from typing import Any

from autotrack.core import safety, session
from autotrack.tracking.run_tags import AUTOLOG_TAG, PARENT_TAGS, autolog_run_tags

TYPE_CHECKING = False
if TYPE_CHECKING:  # pragma: no cover
    from autotrack.core import AutologConfig

__all__ = ["AUTOLOG_TAG", "PARENT_TAGS", "IncrementalRuns", "create_child_run", "create_run", "end_run",
           "new_run_allowed", "run_tags", "start_or_join"]


def run_tags(integration: str, config: AutologConfig | Mapping[str, Any] | None = None, *,
             parent_run_id: str | None = None, tags: Mapping[str, Any] | None = None) -> dict[str, str]:
    """The tags of a run ``integration`` creates: source/user tags, ``autotrack.autologging``, ``tags``,
    the ``extra_tags`` option of ``config``, and the parent tags for a child run."""
    extra = None if config is None else config.get("extra_tags")
    return autolog_run_tags(integration, extra, parent_run_id=parent_run_id, tags=tags)


def _client(tracking_uri: str | None = None) -> Any:
    from autotrack.tracking.client import TrackingClient

    return TrackingClient(tracking_uri)


def create_run(integration: str, config: AutologConfig | Mapping[str, Any] | None = None, *,
               experiment_id: str | None = None, run_name: str | None = None, parent_run_id: str | None = None,
               tags: Mapping[str, Any] | None = None) -> str:
    """Create a RUNNING run (not made active) in ``experiment_id`` (default: the current experiment)
    with :func:`run_tags`; return its id. Costs microseconds on the SQL store: the creation is queued."""
    from autotrack.tracking import fluent

    client = _client()
    if experiment_id is None:
        experiment_id = fluent.current_experiment_id()
    all_tags = run_tags(integration, config, parent_run_id=parent_run_id, tags=tags)
    return client.create_run(experiment_id, tags=all_tags, run_name=run_name).info.run_id


def create_child_run(integration: str, config: AutologConfig | Mapping[str, Any] | None, parent_run_id: str, *,
                     run_name: str | None = None, tags: Mapping[str, Any] | None = None,
                     experiment_id: str | None = None) -> str:
    """Create a RUNNING child run of ``parent_run_id`` (tags ``mlflow.parentRunId`` and
    ``autotrack.parentRunId``), in the parent's experiment (looked up unless ``experiment_id`` is given)."""
    if experiment_id is None:
        experiment_id = _client().get_run(parent_run_id).info.experiment_id
    return create_run(integration, config, experiment_id=experiment_id, run_name=run_name,
                      parent_run_id=parent_run_id, tags=tags)


def end_run(run_id: str, status: str = "FINISHED") -> None:
    """End ``run_id`` with ``status`` (FINISHED, FAILED or KILLED); queued after the run's records."""
    _client().set_terminated(run_id, status)


def new_run_allowed() -> bool:
    """Whether autotrack may create a run here: not in a worker process or thread doing work for
    another autologged call (the engine's worker policy, :mod:`autotrack.core.session`)."""
    return not (session.in_worker_process() or session.other_session_open())


def start_or_join(integration: str, config: AutologConfig | Mapping[str, Any]) -> tuple[str | None, bool]:
    """``(run_id, created)``: the user's active run (None with ``exclusive``), else a new active run
    with :func:`run_tags`, else None where the worker policy forbids one. End a created run with
    :func:`end_run` (or ``autotrack.end_run``)."""
    return session.open_run(integration, bool(config.get("exclusive")), config.get("extra_tags"))


class IncrementalRuns:
    """Runs that outlive one call: at most one open run per *owner* object (weakly referenced).

    ``run_for(owner, config)`` returns the owner's open run, creating it on first use. The run ends
    when the integration calls :meth:`end` / :meth:`end_all`, and in any case at interpreter exit
    (FINISHED; ``on_end`` runs first, e.g. to log the final model). Integrations call
    :meth:`end_all` from their ``remove()`` so a reconfigured ``autolog()`` leaves no run open.

    ``on_end(run_id, owner, config, status)`` is called before a run is terminated; ``owner`` is None
    if it was garbage-collected. Its errors are reported (one warning) and the run still ends.
    """

    def __init__(self, integration: str, on_end: Callable[[str, Any, Any, str], None] | None = None) -> None:
        self.integration = integration
        self.on_end = on_end
        self._lock = threading.RLock()
        self._by_owner: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
        self._by_id: dict[int, str] = {}  # owners that cannot be weakly referenced
        self._open: dict[str, tuple[Any, Any, dict[str, Any]]] = {}  # run id -> (owner ref, config, data)
        self._ending: dict[str, tuple[Any, Any, dict[str, Any]]] = {}  # runs whose on_end is running
        self._exit_registered = False

    def _lookup(self, owner: Any) -> str | None:
        try:
            return self._by_owner.get(owner)
        except TypeError:
            return self._by_id.get(id(owner))

    def _remember(self, owner: Any, run_id: str | None) -> Any:
        try:
            if run_id is None:
                self._by_owner.pop(owner, None)
            else:
                self._by_owner[owner] = run_id
            return weakref.ref(owner)
        except TypeError:
            if run_id is None:
                self._by_id.pop(id(owner), None)
            else:
                self._by_id[id(owner)] = run_id
            return lambda owner=owner: owner

    def get(self, owner: Any) -> str | None:
        """The owner's open run, or None."""
        with self._lock:
            run_id = self._lookup(owner)
            return run_id if run_id in self._open else None

    def data(self, run_id: str) -> dict[str, Any]:
        """A dict the integration may keep per open run (e.g. a sample of the first chunk)."""
        with self._lock:
            entry = self._open.get(run_id) or self._ending.get(run_id)
            return entry[2] if entry is not None else {}

    def run_for(self, owner: Any, config: AutologConfig, *, tags: Mapping[str, Any] | None = None) -> tuple[str, bool] | None:
        """``(run_id, created_now)`` of the owner's open run, creating it (with :func:`run_tags` and
        ``tags``) if it has none; None where the worker policy forbids a new run."""
        with self._lock:
            run_id = self.get(owner)
            if run_id is not None:
                return run_id, False
            if not new_run_allowed():
                return None
            run_id = create_run(self.integration, config, tags=tags)
            ref = self._remember(owner, run_id)
            self._open[run_id] = (ref, config, {})
            if not self._exit_registered:
                # Registered after the tracking modules' exit handlers, so it runs before them.
                atexit.register(self.end_all, "FINISHED", "the process exits")
                self._exit_registered = True
            return run_id, True

    def open_runs(self) -> list[str]:
        """Ids of the runs created here and not ended yet."""
        with self._lock:
            return list(self._open)

    def forget(self, owner: Any) -> None:
        """Detach ``owner`` from its run without ending it (the run ends with :meth:`end_all`)."""
        with self._lock:
            self._remember(owner, None)

    def end(self, run_id: str, status: str = "FINISHED", *, call_on_end: bool = True) -> None:
        """End one open run (``on_end`` first, unless ``call_on_end`` is False); unknown ids are ignored."""
        with self._lock:
            entry = self._open.pop(run_id, None)
            if entry is not None:
                self._ending[run_id] = entry  # data() still answers for on_end
        if entry is None:
            return
        ref, config, _data = entry
        owner = ref()
        if owner is not None:
            with self._lock:
                if self._lookup(owner) == run_id:
                    self._remember(owner, None)
        try:
            if call_on_end and self.on_end is not None:
                try:
                    self.on_end(run_id, owner, config, status)
                except Exception as exc:  # noqa: BLE001 - the run must still end
                    safety.report(self.integration, f"finishing incremental run {run_id}", exc,
                                  silent=bool(config and config.get("silent")), allow_raise=False)
        finally:
            with self._lock:
                self._ending.pop(run_id, None)
            end_run(run_id, status)

    def end_all(self, status: str = "FINISHED", reason: str = "") -> None:
        """End every open run (see :meth:`end`); never raises."""
        for run_id in self.open_runs():
            try:
                self.end(run_id, status)
            except Exception as exc:  # noqa: BLE001
                safety.report(self.integration, f"ending incremental run {run_id} ({reason or 'end_all'})", exc,
                              allow_raise=False)
