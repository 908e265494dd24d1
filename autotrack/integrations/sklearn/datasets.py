"""Describe a training dataset: name, shape, columns, a content digest and the context it was used in.

The tracking store has no dataset table, so a dataset is recorded the way MLflow's run inputs can be
read back without one:

- the artifact ``datasets/<context>.json`` holds the full description (name, digest, context,
  source, shape, columns with dtypes, targets), for a UI to show;
- the run tag ``mlflow.datasets`` holds a JSON list of ``{"name", "digest", "context"}`` summaries of
  every dataset the run used, so runs can be searched by dataset digest.

The digest is a 16-hex BLAKE2b of the shape, the column names and dtypes, and the content of at most
the first and last 5,000 rows of features and targets (a sample: hashing a large dataset in full
would cost more than the training of a small model).
"""

from __future__ import annotations

import hashlib
from typing import Any

import numpy as np

SAMPLE_ROWS = 5_000  # rows hashed from each end of a large dataset


def _rows(data: Any) -> int | None:
    shape = getattr(data, "shape", None)
    if shape is not None and len(shape) > 0:
        return int(shape[0])
    try:
        return len(data)
    except TypeError:
        return None


def _hash_array(h: Any, arr: Any) -> None:
    """Feed a sample of ``arr`` (numpy, pandas, scipy.sparse, list) into ``h``."""
    n = _rows(arr)
    if hasattr(arr, "iloc"):  # pandas
        import pandas as pd

        part = arr if n is None or n <= 2 * SAMPLE_ROWS else pd.concat([arr.iloc[:SAMPLE_ROWS], arr.iloc[-SAMPLE_ROWS:]])
        if hasattr(part, "dtypes") and not hasattr(part, "name"):  # DataFrame
            values = part.to_numpy() if all(k in "biufcmMb" for k in (dt.kind for dt in part.dtypes)) else None
        else:
            values = part.to_numpy() if part.dtype.kind in "biufcmMb" else None
        if values is not None:
            h.update(np.ascontiguousarray(values).tobytes())
        else:
            h.update(pd.util.hash_pandas_object(part, index=False).to_numpy().tobytes())
        return
    if hasattr(arr, "tocsr") and hasattr(arr, "nnz"):  # scipy.sparse
        csr = arr.tocsr()
        if n is not None and n > 2 * SAMPLE_ROWS:
            import scipy.sparse as sp

            csr = sp.vstack([csr[:SAMPLE_ROWS], csr[-SAMPLE_ROWS:]]).tocsr()
        for part in (csr.data, csr.indices, csr.indptr):
            h.update(np.ascontiguousarray(part).tobytes())
        return
    values = np.asarray(arr)
    if values.ndim > 0 and values.shape[0] > 2 * SAMPLE_ROWS:
        values = np.concatenate([values[:SAMPLE_ROWS], values[-SAMPLE_ROWS:]])
    if values.dtype.kind == "O":
        h.update("\x1f".join(map(repr, values.ravel().tolist())).encode("utf-8", "replace"))
    else:
        h.update(np.ascontiguousarray(values).tobytes())


def _columns(X: Any) -> list[dict[str, str]] | None:
    dtypes = getattr(X, "dtypes", None)
    if dtypes is not None and hasattr(X, "columns"):
        return [{"name": str(c), "dtype": str(t)} for c, t in zip(X.columns, dtypes)]
    return None


def _shape(data: Any) -> list[int] | None:
    shape = getattr(data, "shape", None)
    if shape is not None:
        return [int(s) for s in shape]
    try:
        arr = np.asarray(data)
    except Exception:  # noqa: BLE001 - e.g. a generator of documents: no shape to report
        return None
    return [int(s) for s in arr.shape]


def describe(X: Any, y: Any, name: str, context: str = "train") -> dict[str, Any]:
    """The description of dataset ``(X, y)`` logged as ``datasets/<context>.json``."""
    h = hashlib.blake2b(digest_size=8)
    shape = _shape(X)
    columns = _columns(X)
    h.update(repr((shape, columns)).encode())
    if X is not None:
        _hash_array(h, X)
    target: dict[str, Any] | None = None
    if y is not None:
        y_shape = _shape(y)
        h.update(repr(y_shape).encode())
        _hash_array(h, y)
        target = {"name": str(getattr(y, "name", None)) if getattr(y, "name", None) is not None else None,
                  "shape": y_shape, "dtype": str(getattr(y, "dtype", type(y).__name__))}
    source_type = f"{type(X).__module__}.{type(X).__qualname__}"
    return {
        "name": name,
        "digest": h.hexdigest(),
        "context": context,
        "source": {"type": "in-memory", "python_type": source_type},
        "shape": shape,
        "num_rows": shape[0] if shape else None,
        "columns": columns,
        "dtype": None if columns is not None else str(getattr(X, "dtype", "")) or None,
        "targets": target,
    }


def summary(description: dict[str, Any]) -> dict[str, str]:
    """The short form kept in the run's ``mlflow.datasets`` tag."""
    return {"name": description["name"], "digest": description["digest"], "context": description["context"]}
