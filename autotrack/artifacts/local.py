"""Artifacts in a local folder (the embedded default: ``autotrack-runs/artifacts``)."""

from __future__ import annotations

import os
import shutil
import tempfile
import threading
import uuid
from urllib.parse import urlparse

from autotrack.artifacts.base import ArtifactRepository, FileInfo, check_relative_path, clean_artifact_path
from autotrack.entities.errors import InvalidParameterError, ResourceNotFoundError


_made_dirs: set[str] = set()  # folders known to exist (saves a makedirs per small file)


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
        name = os.path.basename(local_file)
        check_relative_path(name, "artifact file name")
        dest_dir = self.local_path(artifact_path)
        check_relative_path(os.path.join(clean_artifact_path(artifact_path), name), "artifact path")
        os.makedirs(dest_dir, exist_ok=True)
        _copy_no_follow(local_file, os.path.join(dest_dir, name))

    def log_bytes(self, data: bytes, artifact_file: str) -> None:
        """Write ``data`` as ``artifact_file`` atomically: a temporary file in the target folder, then
        ``os.replace``, so a reader sees the old file or the whole new one, never half of it."""
        rel = clean_artifact_path(artifact_file)
        if not rel:
            raise InvalidParameterError("Invalid artifact_file '': expected a relative file name such as 'config.json'.")
        target = self.local_path(rel)
        folder = os.path.dirname(target)
        if folder not in _made_dirs:
            os.makedirs(folder, exist_ok=True)
            if len(_made_dirs) > 4096:
                _made_dirs.clear()
            _made_dirs.add(folder)
        tmp = f"{target}.{os.getpid()}-{threading.get_ident()}.tmp"
        try:
            with open(tmp, "wb") as handle:
                handle.write(data)
            os.replace(tmp, target)
        except FileNotFoundError:
            _made_dirs.discard(folder)  # the folder was removed since we made it: once more, making it
            os.makedirs(folder, exist_ok=True)
            with open(tmp, "wb") as handle:
                handle.write(data)
            os.replace(tmp, target)
        except BaseException:
            try:
                os.unlink(tmp)
            except OSError:
                pass
            raise

    def log_artifacts(self, local_dir: str, artifact_path: str | None = None) -> None:
        """Copy the files under ``local_dir``; every path is checked before the first file is copied."""
        if not os.path.isdir(local_dir):
            raise InvalidParameterError(f"Cannot log artifacts from {local_dir!r}: no such folder.")
        dest_dir = self.local_path(artifact_path)
        base = clean_artifact_path(artifact_path)
        folders, files = _walk(local_dir, follow=True)
        for rel in folders + [rel for rel, _ in files]:
            check_relative_path(f"{base}/{rel}" if base else rel, "artifact path")
        for rel, source in files:
            if not os.path.exists(source):
                raise InvalidParameterError(f"Cannot log artifacts from {local_dir!r}: {rel!r} is a link to nothing ({os.readlink(source)!r}).")
        os.makedirs(dest_dir, exist_ok=True)
        for rel in folders:
            target = os.path.join(dest_dir, rel)
            if os.path.islink(target):
                os.unlink(target)  # a planted link must not redirect the copy
            os.makedirs(target, exist_ok=True)
        for rel, source in files:
            _copy_no_follow(source, os.path.join(dest_dir, rel))

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
        """Copy a file or folder out; links inside the artifact folder are followed only when they
        point inside it (a link to a file elsewhere is refused before anything is copied)."""
        source = self.local_path(artifact_path)
        if not os.path.exists(source):
            raise ResourceNotFoundError(f"No artifact {artifact_path!r} under {self.artifact_uri}.")
        dst_root = os.path.abspath(dst_path) if dst_path else tempfile.mkdtemp(prefix="autotrack-download-")
        rel = clean_artifact_path(artifact_path)
        target = os.path.join(dst_root, rel) if rel else dst_root
        if os.path.isdir(source):
            root = os.path.realpath(self.root)
            folders, files = _walk(source, follow=False)
            for name, path in files:
                real = os.path.realpath(path)
                if real != root and not real.startswith(root + os.sep):
                    raise InvalidParameterError(
                        f"Refusing to download {artifact_path!r}: {name!r} is a link to {real!r}, outside the run's artifact folder."
                    )
                if not os.path.exists(path):
                    raise InvalidParameterError(f"Cannot download {artifact_path!r}: {name!r} is a link to nothing.")
            os.makedirs(target, exist_ok=True)
            for name in folders:
                os.makedirs(os.path.join(target, name), exist_ok=True)
            for name, path in files:
                if os.path.isdir(path):  # a link to a folder inside the artifacts: an empty folder here
                    os.makedirs(os.path.join(target, name), exist_ok=True)
                else:
                    shutil.copyfile(path, os.path.join(target, name))
        else:
            os.makedirs(os.path.dirname(target), exist_ok=True)
            shutil.copy2(source, target)
        return target


def _walk(top: str, follow: bool) -> tuple[list[str], list[tuple[str, str]]]:
    """Folders and files under ``top`` as relative paths, without recursion (a 2,000-level tree
    must not hit Python's recursion limit). Links to folders are followed only with ``follow``,
    and never into a folder already on the way down (a loop)."""
    folders: list[str] = []
    files: list[tuple[str, str]] = []
    stack: list[tuple[str, str, frozenset]] = [("", top, frozenset({os.path.realpath(top)}))]
    while stack:
        rel, path, seen = stack.pop()
        try:
            entries = sorted(os.scandir(path), key=lambda e: e.name)
        except OSError as exc:
            raise InvalidParameterError(f"Cannot read folder {path!r}: {exc.strerror or exc}.") from None
        for entry in entries:
            child_rel = f"{rel}/{entry.name}" if rel else entry.name
            if entry.is_dir(follow_symlinks=follow):
                real = os.path.realpath(entry.path)
                if real in seen:
                    raise InvalidParameterError(f"Cannot copy {top!r}: {child_rel!r} links back to a folder above it (a loop).")
                folders.append(child_rel)
                stack.append((child_rel, entry.path, seen | {real}))
            else:
                files.append((child_rel, entry.path))
    return folders, files


def _copy_no_follow(source: str, target: str) -> None:
    """Copy ``source`` to ``target`` without following a link at ``target``: the bytes go to a new
    file in the target's folder (created with O_EXCL|O_NOFOLLOW), which then replaces the target
    name, so a symlink planted there is replaced, never written through."""
    folder = os.path.dirname(target)
    tmp = os.path.join(folder, f".{os.path.basename(target)[:200]}.{os.getpid()}.{uuid.uuid4().hex[:8]}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0), 0o644)
    try:
        with open(source, "rb") as src, os.fdopen(fd, "wb") as dst:
            shutil.copyfileobj(src, dst, 1 << 20)
        shutil.copystat(source, tmp)
        if os.path.isdir(target) and not os.path.islink(target):
            raise InvalidParameterError(f"Cannot write artifact {target!r}: a folder of that name exists.")
        os.replace(tmp, target)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
