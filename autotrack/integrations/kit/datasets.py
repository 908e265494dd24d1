"""Datasets: describe what a run trained or evaluated on, and record it the way MLflow reads it.

The tracking store has no dataset table, so a dataset is recorded as:

- the artifact ``datasets/<context>.json``: the full description (name, digest, context, source,
  shape, columns with dtypes, targets), for a UI to show (written in the background);
- the run tag ``mlflow.datasets``: a JSON list of ``{"name", "digest", "context"}`` summaries of
  every dataset the run used (kept per run here, so several calls add to one list), so runs can be
  searched by dataset digest;
- the store's run inputs (``log_inputs``, MLflow's ``runs/log-inputs``), written off the caller's
  thread, in MLflow's shape (:func:`dataset_input`), so the server can expose them as the run's inputs.

The digest is a 16-hex BLAKE2b of the shape, the column names and dtypes, and the content of at most
the first and last 5,000 rows of features and targets (a sample: hashing a large dataset in full
would cost more than the training of a small model). numpy is imported only when data is described.
An integration whose data is not array-like (a ``tf.data.Dataset``, a ``DataLoader``) builds its own
description with :func:`description` and logs it with ``log_dataset(..., description=...)``.
"""

from __future__ import annotations

import threading
from typing import Any

TYPE_CHECKING = False
if TYPE_CHECKING:  # pragma: no cover
    from autotrack.core import AutologConfig

__all__ = ["DATASETS_TAG", "CONTEXT_TAG", "dataset_input", "describe", "description", "log_dataset", "summary"]

DATASETS_TAG = "mlflow.datasets"  # = autotrack.entities.tags.DATASETS
CONTEXT_TAG = "mlflow.data.context"  # MLflow's input tag naming a dataset's role (train, eval, ...)

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
            import numpy as np

            h.update(np.ascontiguousarray(values).tobytes())
        else:
            h.update(pd.util.hash_pandas_object(part, index=False).to_numpy().tobytes())
        return
    if hasattr(arr, "tocsr") and hasattr(arr, "nnz"):  # scipy.sparse
        csr = arr.tocsr()
        if n is not None and n > 2 * SAMPLE_ROWS:
            import scipy.sparse as sp

            csr = sp.vstack([csr[:SAMPLE_ROWS], csr[-SAMPLE_ROWS:]]).tocsr()
        import numpy as np

        for part in (csr.data, csr.indices, csr.indptr):
            h.update(np.ascontiguousarray(part).tobytes())
        return
    import numpy as np

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
    import numpy as np

    try:
        arr = np.asarray(data)
    except Exception:  # noqa: BLE001 - e.g. a generator of documents: no shape to report
        return None
    return [int(s) for s in arr.shape]


def describe(X: Any, y: Any = None, name: str = "dataset", context: str = "train") -> dict[str, Any]:
    """The description of dataset ``(X, y)`` logged as ``datasets/<context>.json``: name, digest,
    context, source, shape, num_rows, columns (name and dtype, for a DataFrame), dtype, targets."""
    import hashlib

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


def description(name: str, digest: str, context: str = "train", *, shape: list[int] | None = None,
                columns: list[dict[str, str]] | None = None, dtype: str | None = None,
                source: dict[str, Any] | None = None, targets: dict[str, Any] | None = None) -> dict[str, Any]:
    """A dataset description in the same shape as :func:`describe`'s, from parts an integration
    computed itself (e.g. the element spec of a ``tf.data.Dataset``)."""
    return {
        "name": name, "digest": digest, "context": context,
        "source": source or {"type": "in-memory"}, "shape": shape,
        "num_rows": shape[0] if shape else None, "columns": columns, "dtype": dtype, "targets": targets,
    }


def dataset_input(desc: dict[str, Any]) -> dict[str, Any]:
    """The description as one entry of MLflow's ``runs/log-inputs`` ``datasets`` list:
    ``{"tags": [{"key": "mlflow.data.context", "value": ...}], "dataset": {"name", "digest",
    "source_type", "source", "schema", "profile"}}`` (``source``, ``schema``, ``profile`` are JSON text)."""
    import json

    schema = {"mlflow_colspec": desc["columns"]} if desc.get("columns") else {"shape": desc.get("shape"), "dtype": desc.get("dtype")}
    profile = {"num_rows": desc.get("num_rows"), "shape": desc.get("shape")}
    source = desc.get("source") or {}
    return {
        "tags": [{"key": CONTEXT_TAG, "value": desc["context"]}],
        "dataset": {
            "name": desc["name"], "digest": desc["digest"], "source_type": source.get("type", "in-memory"),
            "source": json.dumps(source, default=str), "schema": json.dumps(schema, default=str),
            "profile": json.dumps(profile, default=str),
        },
    }


def _input_entity(entry: dict[str, Any]) -> Any:
    """:func:`dataset_input`'s dict as the store's ``DatasetInput`` entity."""
    from autotrack.entities import Dataset, DatasetInput, InputTag

    return DatasetInput(Dataset(**entry["dataset"]), tuple(InputTag(t["key"], t["value"]) for t in entry["tags"]))


def _log_input(client: Any, run_id: str, entry: Any) -> None:
    # Off the caller's thread. The run's creation may still be queued in the logging pipeline: if the
    # store does not know the run yet, write what is queued and try once more.
    try:
        client.store.log_inputs(run_id, [entry])
    except Exception:  # noqa: BLE001 - retried once after a flush; a second failure is reported
        client.flush()
        client.store.log_inputs(run_id, [entry])


_summaries: dict[str, list[dict[str, str]]] = {}  # run id -> the mlflow.datasets list logged so far
_summaries_lock = threading.Lock()
MAX_TRACKED_RUNS = 1024  # only runs being logged to matter


def log_dataset(run_id: str, X: Any = None, y: Any = None, *, name: str = "dataset", context: str = "train",
                integration: str, config: AutologConfig | Any = None, desc: dict[str, Any] | None = None,
                artifact: bool = True, client: Any = None) -> dict[str, Any]:
    """Record dataset ``(X, y)`` (or the ready description ``desc``) as used by ``run_id`` in ``context``:
    the ``mlflow.datasets`` tag now, ``datasets/<context>.json`` in the background (unless
    ``artifact=False``), and the store's run inputs where it has them. Returns the description."""
    import json

    from autotrack.integrations.kit import artifacts

    if client is None:
        from autotrack.tracking.client import TrackingClient

        client = TrackingClient()
    if desc is None:
        desc = describe(X, y, name, context)
    entry = summary(desc)
    with _summaries_lock:
        known = _summaries.setdefault(run_id, [])
        changed = entry not in known
        if changed:
            known.append(entry)
            if len(_summaries) > MAX_TRACKED_RUNS:
                _summaries.pop(next(iter(_summaries)))
        tag = json.dumps(known)
    if changed:
        client.set_tags(run_id, {DATASETS_TAG: tag})
        if callable(getattr(client.store, "log_inputs", None)):
            entry = _input_entity(dataset_input(desc))
            artifacts.submit(run_id, lambda: _log_input(client, run_id, entry), integration=integration,
                             config=config, what="recording the run's dataset input")
    if artifact:
        artifacts.log_json(run_id, desc, f"datasets/{desc['context']}.json", background=True,
                           integration=integration, config=config, client=client)
    return desc
