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


def clean_artifact_path(artifact_path: str | None) -> str:
    """Normalize a relative artifact path; reject absolute paths and ones that climb out with ``..``."""
    if artifact_path in (None, "", "."):
        return ""
    if not isinstance(artifact_path, str):
        raise InvalidParameterError(f"Invalid artifact_path {artifact_path!r}: expected a relative path string.")
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

    def list_artifacts(self, path: str | None = None) -> list[FileInfo]:
        raise NotImplementedError

    def download_artifacts(self, artifact_path: str, dst_path: str | None = None) -> str:
        raise NotImplementedError
