"""Artifacts in a local folder (the embedded default: ``autotrack-runs/artifacts``)."""

from __future__ import annotations

import os
import shutil
import tempfile
from urllib.parse import urlparse

from autotrack.artifacts.base import ArtifactRepository, FileInfo, clean_artifact_path
from autotrack.entities.errors import InvalidParameterError, ResourceNotFoundError


class LocalArtifactRepository(ArtifactRepository):
    def __init__(self, artifact_uri: str):
        super().__init__(artifact_uri)
        parsed = urlparse(artifact_uri)
        self.root = os.path.abspath(parsed.path if parsed.scheme == "file" else artifact_uri)

    def local_path(self, artifact_path: str | None) -> str:
        """The absolute local path of ``artifact_path`` (a file or folder, existing or not) in this
        repository; raises if it would resolve outside the repository's root."""
        rel = clean_artifact_path(artifact_path)
        full = os.path.realpath(os.path.join(self.root, rel)) if rel else os.path.realpath(self.root)
        root = os.path.realpath(self.root)
        if full != root and not full.startswith(root + os.sep):
            raise InvalidParameterError(f"Invalid artifact_path {artifact_path!r}: it resolves outside the run's artifact folder.")
        return full

    def log_artifact(self, local_file: str, artifact_path: str | None = None) -> None:
        if not os.path.isfile(local_file):
            raise InvalidParameterError(f"Cannot log artifact {local_file!r}: no such file (use log_artifacts for a folder).")
        dest_dir = self.local_path(artifact_path)
        os.makedirs(dest_dir, exist_ok=True)
        shutil.copy2(local_file, os.path.join(dest_dir, os.path.basename(local_file)))

    def log_artifacts(self, local_dir: str, artifact_path: str | None = None) -> None:
        if not os.path.isdir(local_dir):
            raise InvalidParameterError(f"Cannot log artifacts from {local_dir!r}: no such folder.")
        dest_dir = self.local_path(artifact_path)
        os.makedirs(dest_dir, exist_ok=True)
        shutil.copytree(local_dir, dest_dir, dirs_exist_ok=True)

    def list_artifacts(self, path: str | None = None) -> list[FileInfo]:
        rel = clean_artifact_path(path)
        full = self.local_path(rel)
        if not os.path.isdir(full):
            return []
        out = []
        for name in sorted(os.listdir(full)):
            child = os.path.join(full, name)
            child_rel = f"{rel}/{name}" if rel else name
            is_dir = os.path.isdir(child)
            out.append(FileInfo(child_rel, is_dir, None if is_dir else os.path.getsize(child)))
        return out

    def download_artifacts(self, artifact_path: str, dst_path: str | None = None) -> str:
        source = self.local_path(artifact_path)
        if not os.path.exists(source):
            raise ResourceNotFoundError(f"No artifact {artifact_path!r} under {self.artifact_uri}.")
        dst_root = os.path.abspath(dst_path) if dst_path else tempfile.mkdtemp(prefix="autotrack-download-")
        rel = clean_artifact_path(artifact_path)
        target = os.path.join(dst_root, rel) if rel else dst_root
        if os.path.isdir(source):
            shutil.copytree(source, target, dirs_exist_ok=True)
        else:
            os.makedirs(os.path.dirname(target), exist_ok=True)
            shutil.copy2(source, target)
        return target
