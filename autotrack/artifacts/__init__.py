"""Artifact repositories, chosen by URI scheme, and ``download_artifacts`` for any artifact URI."""

from __future__ import annotations

import os
from collections.abc import Callable
from urllib.parse import urlparse

from autotrack.entities.errors import InvalidParameterError
from autotrack.artifacts.base import ArtifactRepository, FileInfo

__all__ = ["ArtifactRepository", "FileInfo", "get_artifact_repository", "download_artifacts", "SUPPORTED_SCHEMES",
           "register_artifact_repository", "unregister_artifact_repository"]

SUPPORTED_SCHEMES = ("file", "runs")

#: scheme -> factory(artifact_uri) -> ArtifactRepository, for schemes added with register_artifact_repository
_registered: dict[str, Callable[[str], ArtifactRepository]] = {}


def register_artifact_repository(scheme: str, factory: Callable[[str], ArtifactRepository]) -> None:
    """Serve artifact URIs of ``scheme`` (``"memory"`` for ``memory://bucket/path``) with
    ``factory(artifact_uri)``, usually an :class:`ArtifactRepository` subclass.

    The registration point for artifact stores other than the built-in ones (and for tests, which
    register a non-local repository to check that writers go through the repository interface).
    A registered scheme takes precedence over a built-in one of the same name.
    """
    if not isinstance(scheme, str) or not scheme or not scheme.replace("+", "").replace("-", "").replace(".", "").isalnum():
        raise InvalidParameterError(f"register_artifact_repository(scheme={scheme!r}): expected a URI scheme such as 's3'")
    if not callable(factory):
        raise InvalidParameterError(f"register_artifact_repository(factory={factory!r}): expected a callable taking the artifact URI")
    _registered[scheme.lower()] = factory


def unregister_artifact_repository(scheme: str) -> None:
    """Forget a scheme added with :func:`register_artifact_repository` (no error if it was not)."""
    _registered.pop(scheme.lower(), None)


def get_artifact_repository(artifact_uri: str) -> ArtifactRepository:
    """The repository rooted at ``artifact_uri``: a local path or ``file://`` URI, or a scheme added
    with :func:`register_artifact_repository`."""
    scheme = urlparse(artifact_uri).scheme.lower()
    factory = _registered.get(scheme)
    if factory is not None:
        return factory(artifact_uri)
    if scheme in ("", "file") or (len(scheme) == 1 and os.name == "nt"):
        from autotrack.artifacts.local import LocalArtifactRepository

        return LocalArtifactRepository(artifact_uri)
    raise InvalidParameterError(
        f"Unsupported artifact URI {artifact_uri!r}: scheme {scheme!r} is not supported here; supported: a local path, "
        + ", ".join(s + "://" for s in (*SUPPORTED_SCHEMES, *sorted(_registered)))
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
