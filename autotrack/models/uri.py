"""Resolve a model URI (local path, ``file://``, ``runs:/<run_id>/<path>``, any artifact URI) to a local folder."""

from __future__ import annotations

import os
from pathlib import Path
from urllib.parse import unquote, urlparse

from autotrack.exceptions import InvalidParameterError


def local_model_folder(model_uri: str | os.PathLike, dst_path: str | None = None) -> Path:
    """A local folder holding the model at ``model_uri``; remote models are downloaded (into ``dst_path``)."""
    if isinstance(model_uri, os.PathLike):
        model_uri = os.fspath(model_uri)
    if not isinstance(model_uri, str) or not model_uri:
        raise InvalidParameterError(
            f"model_uri={model_uri!r} is not a model URI; accepted: a local path, file://..., "
            "runs:/<run_id>/<artifact_path> or another artifact URI")
    parsed = urlparse(model_uri)
    is_local = parsed.scheme == "" or (len(parsed.scheme) == 1 and os.name == "nt")  # C:\... on Windows
    if is_local and dst_path is None:
        return Path(model_uri)
    if parsed.scheme == "file" and dst_path is None:
        return Path(unquote(parsed.path))
    from autotrack.artifacts import download_artifacts

    return Path(download_artifacts(model_uri, dst_path=dst_path))
