"""The one shutdown sequence of the tracking layer: at interpreter exit, on SIGTERM, and in ``reset()``.

Phases, all inside one deadline (``AUTOTRACK_EXIT_FLUSH_TIMEOUT``, default 30 s), whatever the store
does (a store that hangs costs the deadline, not more):

1. stop accepting: ``log_*`` calls made from now on are refused (one warning);
2. drain the pipeline: write what is queued (spool first, then memory);
3. drain background artifact writes (the hooks registered with :func:`register_artifact_drain`);
4. end open runs: FINISHED, FAILED after an uncaught exception, KILLED after KeyboardInterrupt or
   SIGTERM; their ends are written like any record;
5. close stores: what could not be written in time is moved to the spool (reported once, with the
   count and the place), the spool file is released for the next process, connections are closed.

The exit hook is registered after ``weakref.finalize``'s own exit hook (which SQLAlchemy's pool
relies on to check connections in), so it runs first: atexit calls hooks last-registered first.
"""

from __future__ import annotations

import atexit
import logging
import os
import signal
import sys
import threading
import time
import warnings
import weakref
from typing import Callable

from autotrack import config

_logger = logging.getLogger("autotrack")

_artifact_drains: list[Callable[[float], object]] = []
_lock = threading.Lock()
_signal_status: str | None = None


def register_artifact_drain(drain: Callable[[float], object]) -> None:
    """Have the shutdown sequence (phase 3) and ``flush()`` call ``drain(timeout_seconds)``: for
    writers of files in the background, so that their files are complete before runs end."""
    if drain not in _artifact_drains:
        _artifact_drains.append(drain)


def exit_status() -> str:
    """The status open runs end with at exit: KILLED after SIGTERM or KeyboardInterrupt, FAILED after
    another uncaught exception, else FINISHED."""
    if _signal_status is not None:
        return _signal_status
    exc_type = getattr(sys, "last_type", None)
    if exc_type is not None and not hasattr(sys, "ps1") and not sys.flags.interactive:
        return "KILLED" if issubclass(exc_type, KeyboardInterrupt) else "FAILED"
    return "FINISHED"


def _call_bounded(fn: Callable[[], object], deadline: float, what: str) -> None:
    """Run ``fn`` in a helper thread and wait for it until ``deadline`` (a hook must not hang exit)."""
    errors: list[BaseException] = []

    def target() -> None:
        try:
            fn()
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    thread = threading.Thread(target=target, name=f"autotrack-shutdown-{what}", daemon=True)
    thread.start()
    thread.join(max(0.0, deadline - time.monotonic()))
    if thread.is_alive():
        _logger.debug("autotrack: %s did not finish before the exit deadline", what)
    elif errors:
        _logger.debug("autotrack: %s failed at exit: %r", what, errors[0])


def drain_artifacts(deadline: float) -> None:
    """Phase 3: wait for background artifact writers (and flush hooks) until ``deadline``."""
    from autotrack.tracking import fluent

    for drain in list(_artifact_drains):
        _call_bounded(lambda d=drain: d(max(0.0, deadline - time.monotonic())), deadline, "artifact writer")
    for hook in list(fluent._flush_hooks):
        _call_bounded(hook, deadline, "flush hook")


def shutdown(timeout: float | None = None, status: str | None = None, *, reopen: bool = False) -> None:
    """Run the shutdown sequence now (see the module docstring); never raises.

    ``timeout`` defaults to ``AUTOTRACK_EXIT_FLUSH_TIMEOUT``; ``status`` to :func:`exit_status`.
    With ``reopen=True`` (``reset()``), logging is accepted again afterwards.
    """
    from autotrack.tracking import fluent
    from autotrack.tracking.pipeline import LoggingPipeline, all_pipelines

    with _lock:
        try:
            budget = config.exit_flush_timeout() if timeout is None else timeout
        except ValueError as exc:
            warnings.warn(str(exc))
            budget = config.DEFAULT_EXIT_FLUSH_TIMEOUT
        deadline = time.monotonic() + max(0.0, budget)
        status = status or exit_status()
        LoggingPipeline._shutdown_thread.ok = True
        try:
            pipelines = all_pipelines()
            # 1. stop accepting
            for pipeline in pipelines:
                pipeline.close_intake()
            # 2. drain the pipeline; 3. background artifact writes (they may queue records too)
            for pipeline in pipelines:
                _safely(lambda p=pipeline: p.drain_until(_share(deadline)), "drain")
            _safely(lambda: drain_artifacts(_share(deadline)), "artifacts")
            # 4. end open runs, and write their ends (and whatever phase 3 queued)
            _safely(lambda: fluent.end_open_runs(status), "end runs")
            pipelines = all_pipelines()
            for pipeline in pipelines:
                _safely(lambda p=pipeline: p.drain_until(deadline), "drain")
            # 5. spool what is left, report it once, release spool files, close stores
            left, moved, places = 0, 0, []
            for pipeline in pipelines:
                count, path = pipeline.spool_rest()
                moved += count
                pending = pipeline.journal_count()
                if pending:
                    left += pending
                    places.append(path or pipeline.spool_dir)
                pipeline.close_journal()
            lost = sum(p._spool_lost for p in pipelines)
            if lost:
                from autotrack.tracking.pipeline import warning_class

                message = (f"autotrack lost {lost} records in this process: the store could not take them and the spool "
                           f"could not keep them ({', '.join(sorted({p.spool_dir for p in pipelines if p._spool_lost}))}: see the earlier warning).")
                _logger.debug(message)
                warnings.warn(message, warning_class(), stacklevel=2)
            if left:
                from autotrack.tracking.pipeline import warning_class

                message = (
                    f"autotrack could not write everything within AUTOTRACK_EXIT_FLUSH_TIMEOUT={budget:g}s: "
                    f"{left} records were kept in {', '.join(sorted(set(places)))}; "
                    "the next process that logs to the same store writes them."
                )
                _logger.debug(message)
                warnings.warn(message, warning_class(), stacklevel=2)
            for pipeline in pipelines:
                close = getattr(pipeline.store, "close", None)
                if close is not None and not reopen:
                    _safely(close, "close store")
                if reopen:
                    pipeline.reopen()
        finally:
            LoggingPipeline._shutdown_thread.ok = False


def _share(deadline: float) -> float:
    """The first drain may use the deadline less a slice kept for ending runs and spooling the rest."""
    remaining = deadline - time.monotonic()
    return deadline - min(2.0, max(0.0, remaining) * 0.2)


def _safely(fn: Callable[[], object], what: str) -> None:
    try:
        fn()
    except Exception as exc:  # exit must not raise
        _logger.debug("autotrack shutdown (%s) failed: %r", what, exc, exc_info=True)


# ---------------------------------------------------------------------- SIGTERM
def install_sigterm_handler() -> None:
    """End runs KILLED on SIGTERM: installed (from the main thread) only when the user has no handler
    of their own; a user's Python handler is chained (ours marks runs KILLED, then calls theirs)."""
    if threading.current_thread() is not threading.main_thread():
        return
    try:
        current = signal.getsignal(signal.SIGTERM)
    except (ValueError, AttributeError):  # pragma: no cover - no signals here
        return
    if getattr(current, "_autotrack", False) or current in (signal.SIG_IGN, None):
        return

    def on_sigterm(signum, frame, _previous=current):
        global _signal_status
        _signal_status = "KILLED"
        if _previous is signal.SIG_DFL:
            shutdown(status="KILLED")
            signal.signal(signal.SIGTERM, signal.SIG_DFL)
            os.kill(os.getpid(), signal.SIGTERM)
        elif callable(_previous):
            _previous(signum, frame)

    on_sigterm._autotrack = True  # type: ignore[attr-defined]
    try:
        signal.signal(signal.SIGTERM, on_sigterm)
    except (ValueError, OSError):  # pragma: no cover - not the main thread of the main interpreter
        pass


# ---------------------------------------------------------------------- registration
def _at_exit() -> None:
    try:
        shutdown()
    except BaseException as exc:  # pragma: no cover - exit must not raise
        _logger.debug("autotrack shutdown failed: %r", exc)


class _Anchor:
    pass


# weakref.finalize registers its own exit hook with the first finalizer made; make one now, so that
# ours is registered after it and therefore runs before it (and before SQLAlchemy's pool cleanup).
_anchor = _Anchor()
weakref.finalize(_anchor, lambda: None)
atexit.register(_at_exit)
