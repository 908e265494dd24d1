"""Save an input example next to a model and read it back with its original types.

Tabular examples go to ``input_example.json`` (``{"columns", "data", "dtypes"}``: the dtypes restore
the exact column types on reading); arrays to ``input_example.npy``; dicts of arrays to
``input_example.npz``; sparse matrices to ``input_example.sparse.npz``.
"""

from __future__ import annotations

import base64
import json
import os
from pathlib import Path
from typing import Any

from autotrack.exceptions import InvalidParameterError
from autotrack.models.data import is_sparse, normalize


def _json_value(value: Any) -> Any:
    import numpy as np
    import pandas as pd

    if value is None or value is pd.NaT:
        return None
    if isinstance(value, float) and value != value:  # NaN
        return None
    if isinstance(value, np.generic):
        return _json_value(value.item())
    if isinstance(value, np.ndarray):  # a list-valued cell (Array column)
        return [_json_value(v) for v in value.tolist()]
    if isinstance(value, (list, tuple)):
        return [_json_value(v) for v in value]
    if isinstance(value, dict):  # a dict-valued cell (Object or Map column)
        return {k: _json_value(v) for k, v in value.items()}
    if isinstance(value, (bytes, bytearray)):
        return base64.b64encode(bytes(value)).decode("ascii")
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return value


def save_input_example(example: Any, folder: str | os.PathLike) -> dict[str, Any]:
    """Write ``example`` into ``folder``; returns the metadata entry describing the file."""
    import numpy as np

    data = normalize(example, "input_example")
    folder = Path(folder)
    if isinstance(data, dict):
        np.savez(folder / "input_example.npz", **data)
        return {"artifact_path": "input_example.npz", "type": "ndarray_dict", "format": "npz"}
    if is_sparse(data):
        import scipy.sparse

        scipy.sparse.save_npz(folder / "input_example.sparse.npz", data)
        return {"artifact_path": "input_example.sparse.npz", "type": "sparse", "format": "scipy_npz"}
    if isinstance(data, np.ndarray):
        if data.dtype == object:
            raise InvalidParameterError("input_example: a numpy array of dtype object cannot be saved; use a DataFrame")
        np.save(folder / "input_example.npy", data, allow_pickle=False)
        return {"artifact_path": "input_example.npy", "type": "ndarray", "format": "npy"}
    columns = [c if isinstance(c, str) else int(c) for c in data.columns]
    doc = {
        "columns": columns,
        "data": [[_json_value(v) for v in row] for row in data.itertuples(index=False, name=None)],
        "dtypes": [str(t) for t in data.dtypes],
        "base64_columns": [c for c, name in zip(columns, data.columns)
                           if data[name].map(lambda v: isinstance(v, (bytes, bytearray))).any()],
    }
    with open(folder / "input_example.json", "w", encoding="utf-8") as f:
        json.dump(doc, f)
    return {"artifact_path": "input_example.json", "type": "dataframe", "format": "split"}


def load_input_example(folder: str | os.PathLike, info: dict[str, Any] | None) -> Any:
    """The example saved in ``folder`` as described by ``info`` (None when the model has none)."""
    import numpy as np

    if not info:
        return None
    path = Path(folder) / info["artifact_path"]
    kind = info.get("type")
    if kind == "ndarray":
        return np.load(path, allow_pickle=False)
    if kind == "ndarray_dict":
        with np.load(path, allow_pickle=False) as arrays:
            return {k: arrays[k] for k in arrays.files}
    if kind == "sparse":
        import scipy.sparse

        return scipy.sparse.load_npz(path)
    if kind == "ndarray_json":  # an MLflow model's array example: {"inputs": list or dict of lists}
        inputs = json.loads(path.read_text(encoding="utf-8"))["inputs"]
        return {k: np.asarray(v) for k, v in inputs.items()} if isinstance(inputs, dict) else np.asarray(inputs)
    return _read_frame(path)


def _read_frame(path: Path) -> Any:
    import pandas as pd

    doc = json.loads(path.read_text(encoding="utf-8"))
    frame = pd.DataFrame(doc["data"], columns=doc["columns"])
    for column in doc.get("base64_columns", ()):
        frame[column] = frame[column].map(lambda v: base64.b64decode(v) if isinstance(v, str) else v)
    for column, dtype in zip(doc["columns"], doc.get("dtypes", ())):
        if dtype == "object":
            continue  # strings, bytes and mixed values are already what they were
        try:
            frame[column] = pd.to_datetime(frame[column]) if dtype.startswith("datetime") else frame[column].astype(dtype)
        except (TypeError, ValueError):
            pass  # e.g. missing values in an integer column: keep pandas' own choice
    return frame
