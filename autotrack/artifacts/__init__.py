"""Artifact repositories, chosen by URI scheme, and ``download_artifacts`` for any artifact URI."""

from __future__ import annotations

import os
from urllib.parse import urlparse

from autotrack.entities.errors import InvalidParameterError
from autotrack.artifacts.base import ArtifactRepository, FileInfo

__all__ = ["ArtifactRepository", "FileInfo", "get_artifact_repository", "download_artifacts", "SUPPORTED_SCHEMES"]

SUPPORTED_SCHEMES = ("file", "runs")


def get_artifact_repository(artifact_uri: str) -> ArtifactRepository:
    """The repository rooted at ``artifact_uri`` (a local path or ``file://`` URI)."""
    scheme = urlparse(artifact_uri).scheme.lower()
    if scheme in ("", "file") or (len(scheme) == 1 and os.name == "nt"):
        from autotrack.artifacts.local import LocalArtifactRepository

        return LocalArtifactRepository(artifact_uri)
    raise InvalidParameterError(
        f"Unsupported artifact URI {artifact_uri!r}: scheme {scheme!r} is not supported here; supported: a local path, "
        + ", ".join(s + "://" for s in SUPPORTED_SCHEMES)
    )


def download_artifacts(artifact_uri: str, dst_path: str | None = None, tracking_uri: str | None = None) -> str:
    """Return a local path holding the artifact at ``artifact_uri``.

    ``runs:/<run_id>/<path>`` is resolved through the tracking store; a local path or ``file://`` URI is
    returned as it is (or copied into ``dst_path`` when one is given).
    """
    if artifact_uri.startswith("runs:"):
        run_id, path = parse_runs_uri(artifact_uri)
        from autotrack.tracking.client import TrackingClient

        return TrackingClient(tracking_uri).download_artifacts(run_id, path, dst_path)
    parsed = urlparse(artifact_uri)
    if parsed.scheme in ("", "file"):
        local = parsed.path if parsed.scheme == "file" else artifact_uri
        if not os.path.exists(local):
            raise InvalidParameterError(f"Artifact {artifact_uri!r} does not exist.")
        if dst_path is None:
            return os.path.abspath(local)
        parent, name = os.path.split(os.path.abspath(local).rstrip("/"))
        return get_artifact_repository(parent).download_artifacts(name, dst_path)
    parent, _, name = artifact_uri.rstrip("/").rpartition("/")
    return get_artifact_repository(parent).download_artifacts(name, dst_path)


def parse_runs_uri(uri: str) -> tuple[str, str]:
    """Split ``runs:/<run_id>/<path>`` into ``(run_id, path)``."""
    rest = uri[len("runs:"):].lstrip("/")
    run_id, _, path = rest.partition("/")
    if not run_id:
        raise InvalidParameterError(f"Invalid model/artifact URI {uri!r}: expected 'runs:/<run_id>/<artifact path>'.")
    return run_id, path.strip("/")
