"""Autologging sessions and the runs they open.

A session is one outermost patched call. Sessions live in a ``contextvars`` stack, so a ``fit`` that
calls ``fit`` (``Pipeline.fit`` -> ``step.fit``, ``XGBClassifier.fit`` -> ``xgboost.train``,
``super().fit``) sees a session already open and passes straight through: only the outermost call logs.

Worker policy: autotrack never creates a run on behalf of work that belongs to another autologged
call. That covers (a) worker processes (``multiprocessing``, joblib/loky, or a ``fork`` made while a
session was open), and (b) threads that a running session fans out to (thread pools do not inherit
context variables). There a patched call logs into a run the worker's own code started, or not at all.
"""

from __future__ import annotations

import contextvars
import os
import sys
import threading

from autotrack.entities import tags as tag_names

TYPE_CHECKING = False  # typing costs ms at import; annotations are strings here anyway
if TYPE_CHECKING:  # pragma: no cover
    from typing import Any

RUN_TAG = tag_names.AUTOLOGGING


class Session:
    """One outermost autologged call: which integration, which callable, and the run it logs into.
    ``state`` is free for the integration's hook to keep per-call data."""

    __slots__ = ("integration", "target", "run_id", "created_run", "state")

    def __init__(self, integration: str, target: str) -> None:
        self.integration = integration
        self.target = target
        self.run_id: str | None = None
        self.created_run = False
        self.state: dict[str, Any] = {}

    def __repr__(self) -> str:
        return f"Session({self.integration!r}, {self.target!r}, run_id={self.run_id!r})"


_stack: contextvars.ContextVar[tuple[Session, ...]] = contextvars.ContextVar("autotrack_sessions", default=())
_open_lock = threading.Lock()
_open_in_process = 0  # outermost sessions open in this process, across all threads
_forked_during_session = False


def current() -> Session | None:
    """The session of the outermost autologged call in this context, or None."""
    stack = _stack.get()
    return stack[0] if stack else None


def active() -> bool:
    """Whether this context is inside an autologged call (so a patched call here must not log)."""
    return bool(_stack.get())


def enter(session: Session) -> contextvars.Token:
    """Open ``session`` in this context; pair with :func:`leave`."""
    global _open_in_process
    with _open_lock:
        _open_in_process += 1
    return _stack.set(_stack.get() + (session,))


def leave(token: contextvars.Token) -> None:
    """Close the session opened by :func:`enter`."""
    global _open_in_process
    _stack.reset(token)
    with _open_lock:
        _open_in_process -= 1


def other_session_open() -> bool:
    """Whether a session other than this context's is open in the process (e.g. in the thread that
    started this one). Called after :func:`enter`, so the own session counts once."""
    return _open_in_process > len(_stack.get())


def _after_fork_in_child() -> None:
    # The child of a fork made inside an autologged call works for that call: it must not open runs.
    global _forked_during_session, _open_in_process
    if _open_in_process > 0:
        _forked_during_session = True
    _open_in_process = len(_stack.get())


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_fork_in_child)


def in_worker_process() -> bool:
    """Whether this process is a worker started by another process (multiprocessing, joblib/loky) or a
    fork made during an autologged call."""
    if _forked_during_session:
        return True
    # multiprocessing's bootstrap (also used by loky) records the parent; if multiprocessing was
    # never imported this cannot be one of its workers, and we avoid importing it.
    mp = sys.modules.get("multiprocessing")
    return mp is not None and mp.parent_process() is not None


def open_run(integration: str, exclusive: bool, extra_tags: dict[str, str] | None) -> tuple[str | None, bool]:
    """The run a session logs into, and whether autotrack created it.

    An active run is reused unless ``exclusive``; a run is created only when none is active and this
    is not work done on behalf of another autologged call (see the worker policy above).
    """
    from autotrack.tracking import fluent

    run = fluent.active_run()
    if run is not None:
        return (None, False) if exclusive else (run.info.run_id, False)
    if in_worker_process() or other_session_open():
        return None, False
    from autotrack.tracking.run_tags import autolog_run_tags

    run = fluent.start_run(tags=autolog_run_tags(integration, extra_tags))
    return run.info.run_id, True


def close_run(run_id: str, status: str) -> None:
    """End the run autotrack created for a session with ``status`` (FINISHED, FAILED or KILLED)."""
    from autotrack.tracking import fluent

    run = fluent.active_run()
    if run is not None and run.info.run_id == run_id:
        fluent.end_run(status=status)
        return
    # The user's code ended or replaced the active run inside the call; end ours by id.
    from autotrack.tracking.client import TrackingClient

    TrackingClient().set_terminated(run_id, status=status)
