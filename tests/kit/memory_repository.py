"""A non-local artifact repository for tests: files live in a dict, keyed by ``memtest://`` URI.

Registered for the ``memtest`` scheme through :func:`autotrack.artifacts.register_artifact_repository`,
it proves that writers reach artifacts only through the repository interface: anything that opened
a path inside a local artifact folder would find none here.
"""

from __future__ import annotations

import os
import posixpath
import tempfile

from autotrack.artifacts import ArtifactRepository, FileInfo
from autotrack.artifacts.base import clean_artifact_path
from autotrack.exceptions import ResourceNotFoundError

SCHEME = "memtest"
FILES: dict[str, bytes] = {}  # full URI of a file -> content
WRITES: list[str] = []  # every URI written, in order


class MemoryArtifactRepository(ArtifactRepository):
    def _uri(self, path: str) -> str:
        path = clean_artifact_path(path)
        return self.artifact_uri.rstrip("/") + ("/" + path if path else "")

    def log_artifact(self, local_file: str, artifact_path: str | None = None) -> None:
        with open(local_file, "rb") as handle:
            data = handle.read()
        rel = posixpath.join(clean_artifact_path(artifact_path), os.path.basename(local_file))
        FILES[self._uri(rel)] = data
        WRITES.append(self._uri(rel))

    def log_artifacts(self, local_dir: str, artifact_path: str | None = None) -> None:
        base = clean_artifact_path(artifact_path)
        for root, _dirs, names in os.walk(local_dir):
            rel_root = os.path.relpath(root, local_dir)
            for name in names:
                folder = posixpath.join(base, "" if rel_root == "." else rel_root.replace(os.sep, "/"))
                self.log_artifact(os.path.join(root, name), folder or None)

    def list_artifacts(self, path: str | None = None) -> list[FileInfo]:
        prefix = self._uri(path or "").rstrip("/") + "/"
        rel_base = clean_artifact_path(path)
        entries: dict[str, FileInfo] = {}
        for uri, data in FILES.items():
            if not uri.startswith(prefix):
                continue
            head, _, rest = uri[len(prefix):].partition("/")
            rel = posixpath.join(rel_base, head) if rel_base else head
            entries[rel] = FileInfo(rel, True, None) if rest else FileInfo(rel, False, len(data))
        return [entries[k] for k in sorted(entries)]

    def download_artifacts(self, artifact_path: str, dst_path: str | None = None) -> str:
        dst_root = os.path.abspath(dst_path) if dst_path else tempfile.mkdtemp(prefix="memtest-")
        rel = clean_artifact_path(artifact_path)
        uri = self._uri(rel)
        found = False
        for key, data in FILES.items():
            if key == uri or key.startswith(uri.rstrip("/") + "/"):
                found = True
                sub = key[len(self.artifact_uri.rstrip("/")) + 1:]
                target = os.path.join(dst_root, *sub.split("/"))
                os.makedirs(os.path.dirname(target), exist_ok=True)
                with open(target, "wb") as handle:
                    handle.write(data)
        if not found:
            raise ResourceNotFoundError(f"No artifact {artifact_path!r} under {self.artifact_uri}.")
        return os.path.join(dst_root, *rel.split("/")) if rel else dst_root


def install(monkeypatch) -> str:
    """Register the scheme and make it the artifact root of new experiments; return the root URI."""
    from autotrack import artifacts

    FILES.clear()
    WRITES.clear()
    monkeypatch.setitem(artifacts._registered, SCHEME, None)  # so that the registration is undone after the test
    artifacts.register_artifact_repository(SCHEME, MemoryArtifactRepository)
    root = f"{SCHEME}://bucket/artifacts"
    monkeypatch.setenv("AUTOTRACK_ARTIFACT_ROOT", root)
    return root
