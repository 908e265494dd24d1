"""Tables and images as run artifacts, in MLflow's layout so that MLflow's tools read them.

``log_table`` writes a DataFrame (or a dict of columns) as ``{"columns": [...], "data": [[...]]}``
JSON (pandas' ``split`` orient) or as Parquet; logging to the same file again appends the rows.
``log_image`` writes a numpy array or a PIL image as a PNG: at ``artifact_file``, or, for an image
that changes over training, under ``images/`` named by ``key``, step and time (with a smaller WebP
copy for previews), as MLflow names them. Both record what they wrote in the run's tags
(``mlflow.loggedArtifacts``, ``mlflow.loggedImages``).
"""

from __future__ import annotations

import io
import json
import os
import posixpath
import re
import tempfile
import time
import uuid
from typing import Any

from autotrack.entities.errors import InvalidParameterError

LOGGED_ARTIFACTS_TAG = "mlflow.loggedArtifacts"
LOGGED_IMAGES_TAG = "mlflow.loggedImages"
_TABLE_FORBIDDEN = ('"', "'", ",", ":", "[", "]", "{", "}")
_IMAGE_KEY = re.compile(r"^[a-zA-Z0-9_\-./ ]+$")
PREVIEW_SIZE = 256  # the longer side of the WebP preview written next to a stepped image


# ---------------------------------------------------------------------- tables
def table_frame(data: Any):
    """``data`` (a DataFrame, or a dict of columns or of scalars) as a DataFrame; an error otherwise."""
    import pandas as pd

    if isinstance(data, pd.DataFrame):
        return data
    if isinstance(data, dict):
        try:
            return pd.DataFrame(data)
        except ValueError:  # every value a scalar: one row
            return pd.DataFrame([data])
    raise InvalidParameterError(f"Invalid data of type {type(data).__name__} for log_table: expected a pandas DataFrame or a dict.")


def check_table_file(artifact_file: str) -> None:
    bad = [c for c in _TABLE_FORBIDDEN if c in artifact_file]
    if bad:
        raise InvalidParameterError(f"Invalid artifact_file {artifact_file!r} for log_table: it may not contain {' '.join(bad)}.")
    if not artifact_file.endswith((".json", ".parquet")):
        raise InvalidParameterError(
            f"Invalid artifact_file {artifact_file!r} for log_table: expected a name ending in .json or .parquet.")


def log_table(client, run_id: str, data: Any, artifact_file: str) -> None:
    """Write ``data`` as the table ``artifact_file`` of the run, appending to the rows already there."""
    import pandas as pd

    check_table_file(artifact_file)
    frame = table_frame(data)
    existing = read_table(client, run_id, artifact_file)
    if existing is not None:
        frame = pd.concat([existing, frame], ignore_index=True)
    if artifact_file.endswith(".parquet"):
        buffer = io.BytesIO()
        frame.to_parquet(buffer, index=False)
        payload = buffer.getvalue()
    else:
        payload = frame.to_json(orient="split", index=False, date_format="iso").encode("utf-8")
    client.log_bytes(run_id, payload, artifact_file)
    _record_artifact(client, run_id, artifact_file, "table")


def read_table(client, run_id: str, artifact_file: str):
    """The table ``artifact_file`` of the run as a DataFrame, or ``None`` if the run has no such file."""
    import pandas as pd

    folder, name = posixpath.split(artifact_file)
    if name not in {posixpath.basename(f.path) for f in client.list_artifacts(run_id, folder or None)}:
        return None
    with tempfile.TemporaryDirectory(prefix="autotrack-") as tmp:
        local = client.download_artifacts(run_id, artifact_file, tmp)
        if artifact_file.endswith(".parquet"):
            return pd.read_parquet(local)
        with open(local, encoding="utf-8") as handle:
            doc = json.load(handle)
        return pd.DataFrame(doc["data"], columns=doc["columns"])


def _record_artifact(client, run_id: str, path: str, kind: str) -> None:
    run = client.get_run(run_id)
    try:
        entries = json.loads(run.data.tags.get(LOGGED_ARTIFACTS_TAG, "[]"))
    except ValueError:
        entries = []
    entry = {"path": path, "type": kind}
    if entry not in entries:
        entries.append(entry)
        client.set_tag(run_id, LOGGED_ARTIFACTS_TAG, json.dumps(entries))


# ---------------------------------------------------------------------- images
def to_pil(image: Any):
    """A PIL image from a PIL image or a numpy array (H×W, H×W×1, H×W×3 or H×W×4; uint8, or floats in [0, 1])."""
    import numpy as np
    from PIL import Image

    if isinstance(image, Image.Image):
        return image
    if not isinstance(image, np.ndarray):
        raise InvalidParameterError(
            f"Invalid image of type {type(image).__name__} for log_image: expected a numpy array or a PIL image.")
    array = image
    if array.ndim == 3 and array.shape[2] == 1:
        array = array[:, :, 0]
    if array.ndim not in (2, 3) or (array.ndim == 3 and array.shape[2] not in (3, 4)):
        raise InvalidParameterError(
            f"Invalid image of shape {image.shape} for log_image: expected (H, W), (H, W, 1), (H, W, 3) or (H, W, 4).")
    if array.dtype.kind == "f":
        low, high = float(np.nanmin(array)), float(np.nanmax(array))
        if low < 0 or high > 1:
            raise InvalidParameterError(
                f"Invalid image values for log_image: a float image must lie in [0, 1]; got values from {low} to {high}.")
        array = (array * 255).round().astype(np.uint8)
    elif array.dtype.kind == "b":
        array = array.astype(np.uint8) * 255
    elif array.dtype.kind in "iu":
        low, high = int(array.min()), int(array.max())
        if low < 0 or high > 255:
            raise InvalidParameterError(
                f"Invalid image values for log_image: an integer image must lie in [0, 255]; got values from {low} to {high}.")
        array = array.astype(np.uint8)
    else:
        raise InvalidParameterError(f"Invalid image dtype {array.dtype} for log_image: expected an integer, float or bool array.")
    return Image.fromarray(array)


def log_image(client, run_id: str, image: Any, artifact_file: str | None = None, key: str | None = None,
              step: int | None = None, timestamp: int | None = None) -> str:
    """Write the image; return the artifact path of the PNG written."""
    if artifact_file is not None and (key is not None or step is not None or timestamp is not None):
        raise InvalidParameterError("log_image takes either artifact_file, or key (with step and timestamp); not both.")
    if artifact_file is None and key is None:
        raise InvalidParameterError("log_image needs artifact_file (a static image) or key (an image that changes over steps).")
    picture = to_pil(image)
    if artifact_file is not None:
        fmt = os.path.splitext(artifact_file)[1].lstrip(".").upper() or "PNG"
        client.log_bytes(run_id, _encode(picture, "JPEG" if fmt == "JPG" else fmt), artifact_file)
        return artifact_file
    if not _IMAGE_KEY.match(key):
        raise InvalidParameterError(
            f"Invalid image key {key!r}: it may contain letters, digits, '_', '-', '.', ' ' and '/'.")
    step = 0 if step is None else int(step)
    timestamp = int(time.time() * 1000) if timestamp is None else int(timestamp)
    stem = f"images/{key.replace('/', '~')}+step+{step}+timestamp+{timestamp}+{uuid.uuid4()}"
    client.log_bytes(run_id, _encode(picture, "PNG"), stem + ".png")
    preview = picture.copy()
    preview.thumbnail((PREVIEW_SIZE, PREVIEW_SIZE))
    client.log_bytes(run_id, _encode(preview, "WEBP"), stem + "+compressed.webp")
    client.set_tag(run_id, LOGGED_IMAGES_TAG, "true")
    return stem + ".png"


def _encode(picture, fmt: str) -> bytes:
    buffer = io.BytesIO()
    if fmt == "JPEG" and picture.mode in ("RGBA", "LA", "P"):
        picture = picture.convert("RGB")
    try:
        picture.save(buffer, format=fmt)
    except (KeyError, ValueError, OSError) as exc:
        raise InvalidParameterError(f"Cannot write the image as {fmt}: {exc}; use a .png file name.") from None
    return buffer.getvalue()
