"""Checkpoint files (and the model summary) go to the run's artifacts off the training thread, in
the order they were submitted.

One worker thread, started on the first upload. ``autotrack.flush()`` waits for it (a flush hook),
and so does the end of the process (bounded by ``AUTOTRACK_EXIT_FLUSH_TIMEOUT``, 30 s by default).
An upload that fails is reported as an autotrack warning; the local staging copy is always removed.
"""

from __future__ import annotations

import atexit
import os
import queue
import shutil
import threading
from collections.abc import Callable

_queue: queue.Queue = queue.Queue()
_lock = threading.Lock()
_worker: threading.Thread | None = None
_pending = 0
_idle = threading.Condition(_lock)


def _run() -> None:
    global _pending
    while True:
        job, cleanup = _queue.get()
        try:
            job()
        except Exception as exc:  # noqa: BLE001 - reported, never raised into anyone's thread
            from autotrack.core.safety import report

            report("keras", "writing an artifact in the background", exc, allow_raise=False)
        finally:
            if cleanup is not None:
                shutil.rmtree(cleanup, ignore_errors=True)
            with _idle:
                _pending -= 1
                if _pending == 0:
                    _idle.notify_all()


def submit(job: Callable[[], None], cleanup: str | None = None) -> None:
    """Run ``job()`` on the upload thread; afterwards remove the folder ``cleanup`` (a staging copy)."""
    global _worker, _pending
    with _idle:
        _pending += 1
        if _worker is None or not _worker.is_alive():
            _worker = threading.Thread(target=_run, name="autotrack-keras-uploads", daemon=True)
            _worker.start()
            from autotrack.tracking import fluent

            fluent.register_flush_hook(wait)
    _queue.put((job, cleanup))


def wait(timeout: float | None = None) -> bool:
    """Block until every submitted upload is done; False if ``timeout`` seconds passed first."""
    with _idle:
        return _idle.wait_for(lambda: _pending == 0, timeout)


def _wait_at_exit() -> None:
    try:
        wait(float(os.environ.get("AUTOTRACK_EXIT_FLUSH_TIMEOUT", "30")))
    except Exception:  # noqa: BLE001 - exit must not raise
        pass


# Registered at import, i.e. after the tracking pipeline's own exit hook: atexit runs hooks last in,
# first out, so uploads finish before the pipeline's final drain.
atexit.register(_wait_at_exit)
