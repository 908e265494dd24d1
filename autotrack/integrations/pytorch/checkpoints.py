"""``torch.save`` to a file path during an autologged run: the file becomes ``checkpoints/<file name>``.

The copy into the run's artifacts happens on a background thread once ``torch.save`` has returned,
so the training loop never waits for it; the one exception is a second ``torch.save`` to the same
path while the previous copy of that path is still being made: that save waits for the copy first
(otherwise the file would be truncated under the upload). ``torch.save`` to a buffer or an open file
object is left alone. ``autotrack.flush()`` waits for pending copies.

The run's tag ``autotrack.pytorch.last_checkpoint`` names the most recently logged checkpoint, which
:func:`load_checkpoint` returns by default.
"""

from __future__ import annotations

import os
import queue
import threading
from collections.abc import Callable
from typing import Any

LAST_CHECKPOINT_TAG = "autotrack.pytorch.last_checkpoint"
ARTIFACT_DIR = "checkpoints"

_quiet = threading.local()


class not_logged:
    """``with not_logged(): torch.save(...)``: a save autotrack makes itself (a model folder) is no checkpoint."""

    def __enter__(self) -> None:
        _quiet.depth = getattr(_quiet, "depth", 0) + 1

    def __exit__(self, *exc: object) -> None:
        _quiet.depth -= 1


def suppressed() -> bool:
    return getattr(_quiet, "depth", 0) > 0


class CheckpointUploader:
    """One daemon thread copying checkpoint files into runs' artifacts, in the order they were saved."""

    def __init__(self) -> None:
        self._queue: queue.Queue = queue.Queue()
        self._pending: dict[str, threading.Event] = {}  # absolute path -> set when its copy is done
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._unfinished = 0
        self._idle = threading.Condition(self._lock)

    def before_save(self, path: str) -> None:
        """Called before ``torch.save`` writes ``path``: wait if that path is still being copied."""
        with self._lock:
            done = self._pending.get(path)
        if done is not None:
            done.wait()

    def submit(self, path: str, run_id: str, tracking_uri: str, on_error: Callable[[Exception], None]) -> None:
        done = threading.Event()
        with self._lock:
            self._pending[path] = done
            self._unfinished += 1
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._work, name="autotrack-checkpoints", daemon=True)
                self._thread.start()
        self._queue.put((path, run_id, tracking_uri, on_error, done))

    def _work(self) -> None:
        while True:
            path, run_id, uri, on_error, done = self._queue.get()
            try:
                upload(path, run_id, uri)
            except Exception as exc:  # noqa: BLE001 - reported, never raised into anything
                try:
                    on_error(exc)
                except Exception:  # noqa: BLE001
                    pass
            finally:
                done.set()
                with self._lock:
                    if self._pending.get(path) is done:
                        del self._pending[path]
                    self._unfinished -= 1
                    self._idle.notify_all()

    def wait(self, timeout: float | None = None) -> bool:
        """Block until every submitted copy is done; False if ``timeout`` passed first."""
        with self._lock:
            return self._idle.wait_for(lambda: self._unfinished == 0, timeout)


def upload(path: str, run_id: str, tracking_uri: str) -> None:
    """Copy ``path`` to ``checkpoints/<name>`` in the artifacts of ``run_id``."""
    from autotrack.tracking.client import TrackingClient

    TrackingClient(tracking_uri).artifact_repository(run_id).log_artifact(path, ARTIFACT_DIR)


_uploader: CheckpointUploader | None = None
_uploader_lock = threading.Lock()


def uploader() -> CheckpointUploader:
    global _uploader
    with _uploader_lock:
        if _uploader is None:
            _uploader = CheckpointUploader()
            from autotrack.tracking import fluent

            fluent.register_flush_hook(_uploader.wait)
        return _uploader


def file_path(f: Any) -> str | None:
    """The absolute path ``torch.save`` writes to, or None for a buffer / file object."""
    if isinstance(f, (str, os.PathLike)):
        try:
            return os.path.abspath(os.fspath(f))
        except TypeError:
            return None
    return None


def load_checkpoint(run_id: str, name: str | None = None, dst_path: str | None = None) -> str:
    """The local path of a checkpoint logged by ``torch.save`` autologging in ``run_id``, for resuming:
    ``name`` (a file name under ``checkpoints/``), else the latest one. Pass it to ``torch.load``.

    Raises :class:`autotrack.exceptions.ResourceNotFoundError` when the run has no such checkpoint.
    """
    from autotrack.exceptions import ResourceNotFoundError
    from autotrack.tracking import fluent
    from autotrack.tracking.client import TrackingClient

    if _uploader is not None:
        _uploader.wait()
    client = TrackingClient(fluent.get_tracking_uri())
    names = sorted(os.path.basename(a.path) for a in client.list_artifacts(run_id, ARTIFACT_DIR) if not a.is_dir)
    if name is None:
        name = client.get_run(run_id).data.tags.get(LAST_CHECKPOINT_TAG)
        if name is None and names:
            name = names[-1]
    if name is None or name not in names:
        raise ResourceNotFoundError(
            f"run {run_id} has no checkpoint {name!r} under {ARTIFACT_DIR}/; it has: {', '.join(names) or 'none'}"
            if name is not None else f"run {run_id} has no checkpoints under {ARTIFACT_DIR}/")
    return client.download_artifacts(run_id, f"{ARTIFACT_DIR}/{name}", dst_path)
