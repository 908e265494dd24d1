"""Artifacts: bytes, text, JSON and files written into a run through the tracking client.

Everything goes through :meth:`TrackingClient.log_bytes` / ``log_artifact(s)``, hence through the
run's artifact repository (local folder, S3, the server's proxy, ...): an integration never opens
a path inside the artifact folder itself.

With ``background=True`` the write (and whatever the job computes first) runs on the tracking
layer's one background artifact writer (:mod:`autotrack.tracking.artifact_writer`), in order; it is
drained by ``autotrack.flush()``, by reads of the run's artifacts, and at exit. Data handed to a
background write must not change afterwards: pass bytes, or a job that owns private copies.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

from autotrack.core import safety

TYPE_CHECKING = False
if TYPE_CHECKING:  # pragma: no cover
    from autotrack.core import AutologConfig

__all__ = ["log_bytes", "log_file", "log_folder", "log_json", "log_text", "submit", "wait", "writer_for"]


def _client(client: Any = None) -> Any:
    if client is not None:
        return client
    from autotrack.tracking.client import TrackingClient

    return TrackingClient()


def _on_error(integration: str, config: Any, what: str) -> Callable[[Exception], None]:
    silent = bool(config and config.get("silent"))
    return lambda exc: safety.report(integration, what, exc, silent=silent, allow_raise=False)


def submit(run_id: str, job: Callable[[], None], *, integration: str, config: AutologConfig | Any = None,
           what: str = "writing artifacts", size: int = 0) -> None:
    """Run ``job()`` on the background artifact writer (after the jobs submitted before it). Its
    exception is reported as a failure of ``what`` (one warning), never raised. ``size``: bytes the
    job holds on to until it runs (bounds the backlog). Reads of ``run_id``'s artifacts wait for it."""
    from autotrack.tracking import artifact_writer

    artifact_writer.submit(job, _on_error(integration, config, what), size, run_id)


def wait(timeout: float | None = None) -> bool:
    """Block until every background artifact write has run (or ``timeout`` seconds); True if done."""
    from autotrack.tracking import artifact_writer

    return artifact_writer.wait(timeout)


def log_bytes(run_id: str, data: bytes, artifact_file: str, *, background: bool = False, integration: str = "",
              config: Any = None, client: Any = None) -> None:
    """Write ``data`` as ``artifact_file`` (relative, e.g. ``datasets/train.json``) in the run's artifacts."""
    client = _client(client)
    if not background:
        client.log_bytes(run_id, data, artifact_file)
        return
    data = bytes(data)
    # The run's repository is resolved now, while the run is being logged to; the write itself may
    # come after the run ended (a finished run's artifacts can still be added).
    repo = client.artifact_repository(run_id)
    submit(run_id, lambda: repo.log_bytes(data, artifact_file), integration=integration, config=config,
           what=f"writing {artifact_file}", size=len(data))


def writer_for(run_id: str, client: Any = None) -> Callable[[dict[str, bytes]], None]:
    """A function that writes ``{artifact_file: bytes}`` into the run's artifacts, for background jobs
    that compute their files first (resolve it on the caller's thread, call it in the job)."""
    repo = _client(client).artifact_repository(run_id)

    def write(files: dict[str, bytes]) -> None:
        for artifact_file, data in files.items():
            repo.log_bytes(data, artifact_file)

    return write


def log_text(run_id: str, text: str, artifact_file: str, **options: Any) -> None:
    """:func:`log_bytes` of ``text`` in UTF-8 (same options)."""
    log_bytes(run_id, text.encode("utf-8"), artifact_file, **options)


def log_json(run_id: str, value: Any, artifact_file: str, *, indent: int | None = None, **options: Any) -> None:
    """:func:`log_bytes` of ``value`` as JSON (``default=str`` for what JSON cannot hold; same options).
    The value is serialised now, on the caller's thread, so it may change afterwards."""
    import json

    text = json.dumps(value, default=str, indent=indent, separators=None if indent else (",", ":"))
    log_bytes(run_id, text.encode("utf-8"), artifact_file, **options)


def log_file(run_id: str, local_path: str | os.PathLike, artifact_path: str | None = None, *,
             client: Any = None) -> None:
    """Copy the local file ``local_path`` into the run's artifacts under folder ``artifact_path``."""
    _client(client).log_artifact(run_id, os.fspath(local_path), artifact_path)


def log_folder(run_id: str, local_dir: str | os.PathLike, artifact_path: str | None = None, *,
               client: Any = None) -> None:
    """Copy the contents of ``local_dir`` into the run's artifacts under ``artifact_path``."""
    _client(client).log_artifacts(run_id, os.fspath(local_dir), artifact_path)
