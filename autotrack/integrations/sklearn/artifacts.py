"""Artifact files of autologged training, written off the caller's thread.

Per-fit files (dataset description, curves and confusion matrix as JSON, PNG plots) are computed
and written by one background thread (:func:`submit`), in order, once the training loop pauses: a
slow disk or a remote artifact store then costs the training loop nothing. :func:`wait` blocks until everything submitted is
written; the queue is drained at interpreter exit (bounded). For a local artifact repository a file
is written in place (temporary name, then ``os.replace``: a reader never sees half a file); other
repositories get it through their ``log_artifact``.
"""

from __future__ import annotations

import atexit
import collections
import os
import tempfile
import threading
import time
from collections.abc import Callable
from typing import Any

_EXIT_TIMEOUT_S = 10.0
QUIET_S = 0.05  # start writing once submissions have paused this long
MAX_BACKLOG = 2048  # ... or once this many jobs wait
MAX_BACKLOG_BYTES = 256 * 2**20  # ... or once the arrays they hold reach this size


def repository(client: Any, run_id: str) -> Any:
    """The artifact repository of ``run_id`` (resolved once per run by the client)."""
    return client.artifact_repository(run_id)


def local_folder(repo: Any, artifact_path: str) -> str | None:
    """The local folder of ``artifact_path`` when ``repo`` is a local folder, else None."""
    from autotrack.artifacts.local import LocalArtifactRepository

    if isinstance(repo, LocalArtifactRepository):
        return repo.local_path(artifact_path)
    return None


_made_dirs: set[str] = set()  # local folders known to exist (saves a makedirs per file)


def write_bytes(repo: Any, files: dict[str, bytes]) -> None:
    """Write ``{artifact file: content}`` into ``repo`` (replacing existing files)."""
    from autotrack.artifacts.base import clean_artifact_path

    for artifact_file, data in files.items():
        artifact_file = clean_artifact_path(artifact_file)
        folder, name = os.path.split(artifact_file)
        target_dir = local_folder(repo, folder)
        if target_dir is not None:
            if target_dir not in _made_dirs:
                os.makedirs(target_dir, exist_ok=True)
                if len(_made_dirs) > 4096:
                    _made_dirs.clear()
                _made_dirs.add(target_dir)
            target = os.path.join(target_dir, name)
            tmp = f"{target}.{os.getpid()}-{threading.get_ident()}.tmp"
            try:
                with open(tmp, "wb") as handle:
                    handle.write(data)
                os.replace(tmp, target)
            except BaseException:
                try:
                    os.unlink(tmp)
                except OSError:
                    pass
                raise
            continue
        with tempfile.TemporaryDirectory(prefix="autotrack-") as tmp_dir:
            local = os.path.join(tmp_dir, name)
            with open(local, "wb") as handle:
                handle.write(data)
            repo.log_artifact(local, folder or None)


class _Background:
    """One daemon thread running submitted jobs in order; :meth:`wait` blocks until all are done.

    The thread starts on a job only once no new job has come for :data:`QUIET_S` seconds (or the
    backlog reaches :data:`MAX_BACKLOG`, or someone waits): a loop of quick fits is not slowed by a
    thread competing for the GIL (a busy Python thread keeps it up to 5 ms at a time), and the files
    are written as soon as the loop pauses.
    """

    def __init__(self) -> None:
        self._jobs: collections.deque = collections.deque()
        self._cond = threading.Condition()
        self._busy = 0
        self._waiters = 0
        self._last_submit = 0.0
        self._backlog_bytes = 0
        self._thread: threading.Thread | None = None

    def submit(self, job: Callable[[], None], on_error: Callable[[Exception], None], size: int = 0) -> None:
        with self._cond:
            self._jobs.append((job, on_error, size))
            self._backlog_bytes += size
            self._busy += 1
            self._last_submit = time.monotonic()
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._run, name="autotrack-sklearn-artifacts", daemon=True)
                self._thread.start()
            self._cond.notify_all()

    def _next(self) -> tuple[Callable[[], None], Callable[[Exception], None], int]:
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
            job, on_error, _ = self._next()
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
                    self._cond.notify_all()

    def wait(self, timeout: float | None = None) -> bool:
        """Block until every submitted job has run (or ``timeout`` seconds); True if all ran."""
        with self._cond:
            self._waiters += 1
            self._cond.notify_all()
            try:
                return self._cond.wait_for(lambda: self._busy == 0, timeout)
            finally:
                self._waiters -= 1


_background = _Background()
_exit_registered = False
_exit_lock = threading.Lock()


def submit(job: Callable[[], None], on_error: Callable[[Exception], None], size: int = 0) -> None:
    """Run ``job`` on the background thread; its exception goes to ``on_error``. ``size``: bytes the
    job holds on to until it runs (bounds the backlog)."""
    global _exit_registered
    with _exit_lock:
        if not _exit_registered:
            # Registered after the tracking modules' own exit handlers, so it runs before them.
            atexit.register(_background.wait, _EXIT_TIMEOUT_S)
            # autotrack.flush() promises everything logged so far is written: these files too.
            from autotrack.tracking import fluent

            fluent.register_flush_hook(_background.wait)
            _exit_registered = True
    _background.submit(job, on_error, size)


def wait(timeout: float | None = None) -> bool:
    """Wait for background plot rendering to finish; True when nothing is pending."""
    return _background.wait(timeout)
