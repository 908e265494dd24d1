"""The interface every artifact repository implements, and the path rules they share."""

from __future__ import annotations

import posixpath
from dataclasses import dataclass

from autotrack.entities.errors import InvalidParameterError


@dataclass(frozen=True)
class FileInfo:
    path: str
    is_dir: bool
    file_size: int | None = None


MAX_NAME_BYTES = 255  # one path component (NAME_MAX on Linux and macOS)
MAX_PATH_BYTES = 1024  # a whole artifact path
MAX_DEPTH = 64  # folders in an artifact path


def check_relative_path(path: str, what: str = "artifact_path") -> str:
    """Reject, before anything is written, a path the file system would refuse: a NUL character,
    a component over 255 bytes, over 1024 bytes in all, or more than 64 levels deep."""
    if "\x00" in path:
        raise InvalidParameterError(f"Invalid {what} {path[:80]!r}: it contains a NUL character.")
    try:
        encoded = path.encode("utf-8")
    except UnicodeEncodeError:
        raise InvalidParameterError(f"Invalid {what} {path[:80]!r}: it is not valid Unicode text (a lone surrogate).") from None
    parts = [p for p in path.replace("\\", "/").split("/") if p]
    if len(encoded) > MAX_PATH_BYTES:
        raise InvalidParameterError(f"Invalid {what} {path[:80]!r}...: {len(encoded)} bytes long, at most {MAX_PATH_BYTES} are accepted.")
    if len(parts) > MAX_DEPTH:
        raise InvalidParameterError(f"Invalid {what} {path[:80]!r}...: {len(parts)} levels deep, at most {MAX_DEPTH} are accepted.")
    for part in parts:
        if len(part.encode("utf-8")) > MAX_NAME_BYTES:
            raise InvalidParameterError(f"Invalid {what}: the name {part[:40]!r}... is {len(part.encode('utf-8'))} bytes, at most {MAX_NAME_BYTES} are accepted.")
    return path


def clean_artifact_path(artifact_path: str | None) -> str:
    """Normalize a relative artifact path; reject absolute paths, ones that climb out with ``..``,
    and ones the file system would refuse (see :func:`check_relative_path`)."""
    if artifact_path in (None, "", "."):
        return ""
    if not isinstance(artifact_path, str):
        raise InvalidParameterError(f"Invalid artifact_path {artifact_path!r}: expected a relative path string.")
    check_relative_path(artifact_path)
    path = artifact_path.replace("\\", "/")
    if path.startswith("/") or (len(path) > 1 and path[1] == ":"):
        raise InvalidParameterError(f"Invalid artifact_path {artifact_path!r}: absolute paths are not accepted; use a path relative to the run's artifacts.")
    normalized = posixpath.normpath(path)
    if normalized == ".." or normalized.startswith("../") or "/../" in f"/{path}/":
        raise InvalidParameterError(f"Invalid artifact_path {artifact_path!r}: '..' would leave the run's artifact folder.")
    return "" if normalized == "." else normalized


class ArtifactRepository:
    """Files of one run (or any folder) under ``artifact_uri``."""

    def __init__(self, artifact_uri: str):
        self.artifact_uri = artifact_uri

    def log_artifact(self, local_file: str, artifact_path: str | None = None) -> None:
        raise NotImplementedError

    def log_artifacts(self, local_dir: str, artifact_path: str | None = None) -> None:
        raise NotImplementedError

    def log_bytes(self, data: bytes, artifact_file: str) -> None:
        """Write ``data`` as the file ``artifact_file`` (a relative path such as ``plots/roc.json``),
        replacing an existing one.

        This default stages the bytes in a temporary file and hands it to :meth:`log_artifact`, so
        every repository gets it; repositories that can write bytes directly override it.
        """
        import os
        import tempfile

        artifact_file = clean_artifact_path(artifact_file)
        if not artifact_file:
            raise InvalidParameterError("Invalid artifact_file '': expected a relative file name such as 'config.json'.")
        folder, name = posixpath.split(artifact_file)
        with tempfile.TemporaryDirectory(prefix="autotrack-") as tmp:
            local = os.path.join(tmp, name)
            with open(local, "wb") as handle:
                handle.write(data)
            self.log_artifact(local, folder or None)

    def list_artifacts(self, path: str | None = None) -> list[FileInfo]:
        raise NotImplementedError

    def download_artifacts(self, artifact_path: str, dst_path: str | None = None) -> str:
        raise NotImplementedError
