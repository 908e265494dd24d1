"""The one background artifact writer: artifact files of autologged training, written off the caller's thread.

Integrations (through :mod:`autotrack.integrations.kit.artifacts`) submit jobs that compute and
write artifact files (dataset descriptions, curves, plot images, uploads of saved models). One daemon
thread runs them in submission order. A slow disk or a remote artifact store then costs the training
loop nothing.

Draining:

- :func:`wait` blocks until everything submitted so far has run (or ``timeout`` passes);
- ``autotrack.flush()`` calls it (registered as a flush hook), so ``flush()`` still means
  "everything logged so far is written";
- reads of a run's artifacts through the tracking client (``list_artifacts``,
  ``download_artifacts``, hence ``load_model("runs:/...")``) wait for that run's pending jobs first,
  as reads of metrics flush the logging pipeline first;
- at interpreter exit, :func:`wait` runs with :data:`EXIT_TIMEOUT_S` (``AUTOTRACK_EXIT_FLUSH_TIMEOUT``
  when set). The shutdown sequence may call :func:`wait` itself in its drain phase; a second call
  with nothing pending returns at once.

A job's exception goes to its ``on_error`` callback (never raised into anyone's thread).
"""

from __future__ import annotations

import atexit
import collections
import os
import threading
import time
from collections.abc import Callable

EXIT_TIMEOUT_S = 10.0
QUIET_S = 0.05  # start writing once submissions have paused this long
MAX_BACKLOG = 2048  # ... or once this many jobs wait
MAX_BACKLOG_BYTES = 256 * 2**20  # ... or once the data they hold reach this size


class BackgroundWriter:
    """One daemon thread running submitted jobs in order; :meth:`wait` blocks until all are done.

    The thread starts on a job only once no new job has come for :data:`QUIET_S` seconds (or the
    backlog reaches :data:`MAX_BACKLOG` jobs or :data:`MAX_BACKLOG_BYTES`, or someone waits): a loop
    of quick fits is not slowed by a thread competing for the GIL (a busy Python thread keeps it up
    to 5 ms at a time), and the files are written as soon as the loop pauses.
    """

    def __init__(self, name: str = "autotrack-artifacts") -> None:
        self._name = name
        self._jobs: collections.deque = collections.deque()
        self._cond = threading.Condition()
        self._busy = 0
        self._waiters = 0
        self._last_submit = 0.0
        self._backlog_bytes = 0
        self._per_run: dict[str, int] = {}
        self._thread: threading.Thread | None = None

    def submit(self, job: Callable[[], None], on_error: Callable[[Exception], None], size: int = 0,
               run_id: str | None = None) -> None:
        """Queue ``job``; ``size`` is the bytes it holds until it runs; ``run_id`` the run it writes to."""
        with self._cond:
            self._jobs.append((job, on_error, size, run_id))
            self._backlog_bytes += size
            self._busy += 1
            if run_id is not None:
                self._per_run[run_id] = self._per_run.get(run_id, 0) + 1
            self._last_submit = time.monotonic()
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._run, name=self._name, daemon=True)
                self._thread.start()
            self._cond.notify_all()

    def _next(self) -> tuple:
        with self._cond:
            while True:
                if self._jobs:
                    if self._waiters or len(self._jobs) >= MAX_BACKLOG or self._backlog_bytes >= MAX_BACKLOG_BYTES:
                        break
                    quiet = self._last_submit + QUIET_S - time.monotonic()
                    if quiet <= 0:
                        break
                    self._cond.wait(quiet)
                else:
                    self._cond.wait()
            job = self._jobs.popleft()
            self._backlog_bytes -= job[2]
            return job

    def _run(self) -> None:
        while True:
            job, on_error, _size, run_id = self._next()
            try:
                job()
            except Exception as exc:  # noqa: BLE001 - autotrack's own job; reported, never raised
                try:
                    on_error(exc)
                except Exception:  # noqa: BLE001
                    pass
            finally:
                with self._cond:
                    self._busy -= 1
                    if run_id is not None:
                        left = self._per_run.get(run_id, 1) - 1
                        if left:
                            self._per_run[run_id] = left
                        else:
                            self._per_run.pop(run_id, None)
                    self._cond.notify_all()

    def wait(self, timeout: float | None = None, run_id: str | None = None) -> bool:
        """Block until every submitted job (of ``run_id`` only, when given) has run, or ``timeout``
        seconds passed; True if nothing is pending."""
        if threading.current_thread() is self._thread:
            return True  # a job that reads artifacts must not wait for itself
        with self._cond:
            if run_id is None:
                def done() -> bool:
                    return self._busy == 0
            else:
                def done() -> bool:
                    return run_id not in self._per_run
            if done():
                return True
            self._waiters += 1
            self._cond.notify_all()
            try:
                return self._cond.wait_for(done, timeout)
            finally:
                self._waiters -= 1

    def pending(self) -> int:
        """Jobs submitted and not yet finished."""
        with self._cond:
            return self._busy


_writer = BackgroundWriter()
_registered = False
_register_lock = threading.Lock()


def _exit_timeout() -> float:
    raw = os.environ.get("AUTOTRACK_EXIT_FLUSH_TIMEOUT", "").strip()
    try:
        return float(raw) if raw else EXIT_TIMEOUT_S
    except ValueError:
        return EXIT_TIMEOUT_S


def _wait_at_exit() -> None:
    _writer.wait(_exit_timeout())


def _register() -> None:
    global _registered
    with _register_lock:
        if _registered:
            return
        from autotrack.tracking import fluent

        fluent.register_flush_hook(wait)
        # The shutdown sequence (autotrack.tracking.shutdown, where this build has it) drains the
        # writer in its artifact phase, within the exit deadline; without it, an exit handler does.
        try:
            from autotrack.tracking import shutdown
        except ImportError:
            shutdown = None
        register = getattr(shutdown, "register_artifact_drain", None)
        if register is not None:
            register(wait)
        else:
            # Registered on first use, after the tracking modules' own exit handlers, so it runs
            # before them (atexit is last in, first out): files are written while the pipeline runs.
            atexit.register(_wait_at_exit)
        _registered = True


def submit(job: Callable[[], None], on_error: Callable[[Exception], None], size: int = 0,
           run_id: str | None = None) -> None:
    """Run ``job`` on the background writer thread; its exception goes to ``on_error``. ``size``:
    bytes the job holds until it runs (bounds the backlog); ``run_id``: the run whose artifacts it
    writes (reads of that run's artifacts wait for it)."""
    if not _registered:
        _register()
    _writer.submit(job, on_error, size, run_id)


def wait(timeout: float | None = None) -> bool:
    """Drain: block until every submitted job has run, or ``timeout`` seconds; True if nothing is pending.

    Called by ``autotrack.flush()``, at exit, and by the shutdown sequence in its drain phase."""
    return _writer.wait(timeout)


def wait_for_run(run_id: str, timeout: float | None = None) -> bool:
    """Block until the jobs submitted for ``run_id`` have run (reads of its artifacts call this)."""
    return _writer.wait(timeout, run_id=run_id)


def pending() -> int:
    """Jobs submitted and not yet finished."""
    return _writer.pending()
