"""Datasets as MLflow names them: ``autotrack.data.from_pandas`` / ``from_numpy`` describe the data a
run used, and ``autotrack.log_input(dataset, context="training")`` records it with the run.

A dataset is recorded once per experiment, identified by its ``name`` and ``digest``; each run that
used it is linked to it with a context (``training``, ``eval``, ...). Runs are then found by the
data they used: ``search_runs(filter_string="datasets.digest = '1a2b3c4d'")``, ``datasets.name``,
``datasets.context``. numpy and pandas are imported only when a dataset is made.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from autotrack.entities.errors import InvalidParameterError

DIGEST_ROWS = 10_000  # the digest hashes the shape, the column names and dtypes, and at most this many rows
CONTEXT_TAG = "mlflow.data.context"


class Dataset:
    """What ``from_pandas`` / ``from_numpy`` return: a description of data, not a copy of it.

    ``name``, ``digest`` (8 hex characters), ``source`` (where the data came from), ``schema`` and
    ``profile`` (JSON-able dicts). ``to_dict()`` gives what is stored; the data itself stays in memory
    as ``df`` (pandas) or ``features``/``targets`` (numpy).
    """

    source_type: str = "code"

    def __init__(self, name: str, digest: str, source: str | None, schema: dict[str, Any], profile: dict[str, Any]):
        self.name = name
        self.digest = digest
        self.source = source
        self.schema = schema
        self.profile = profile

    @property
    def source_json(self) -> str:
        return json.dumps({"uri": self.source} if self.source else {})

    def to_dict(self) -> dict[str, str]:
        """MLflow's dataset fields: name, digest, source_type, source, schema and profile (JSON texts)."""
        return {
            "name": self.name, "digest": self.digest, "source_type": self._source_type(), "source": self.source_json,
            "schema": json.dumps(self.schema), "profile": json.dumps(self.profile),
        }

    def _source_type(self) -> str:
        if not self.source:
            return "code"
        head = self.source.split("://", 1)[0] if "://" in self.source else "local"
        return {"file": "local", "s3": "s3", "gs": "gcs", "http": "http", "https": "http"}.get(head, head)

    def to_entity(self):
        """The stored record (``autotrack.entities.Dataset``)."""
        from autotrack.entities.objects import Dataset as DatasetRecord

        d = self.to_dict()
        return DatasetRecord(name=d["name"], digest=d["digest"], source_type=d["source_type"], source=d["source"],
                             schema=d["schema"], profile=d["profile"])

    def __repr__(self) -> str:
        return f"<{type(self).__name__} name={self.name!r} digest={self.digest!r} source={self.source!r}>"


class PandasDataset(Dataset):
    """A DataFrame (``df``), with the name of its ``targets`` column if it has one."""

    def __init__(self, df: Any, name: str, digest: str, source: str | None, targets: str | None, predictions: str | None):
        from autotrack.models.schema_inference import infer_schema

        self.df = df
        self.targets = targets
        self.predictions = predictions
        schema = {"mlflow_colspec": infer_schema(df, "dataset").to_dict()}
        profile = {"num_rows": int(len(df)), "num_elements": int(df.size)}
        super().__init__(name, digest, source, schema, profile)


class NumpyDataset(Dataset):
    """A features array (or dict of arrays), and optionally a targets array."""

    def __init__(self, features: Any, targets: Any, name: str, digest: str, source: str | None):
        from autotrack.models.schema_inference import infer_schema

        self.features = features
        self.targets = targets
        schema = {"mlflow_tensorspec": {
            "features": json.dumps(infer_schema(features, "features").to_dict()),
            "targets": json.dumps(infer_schema(targets, "targets").to_dict()) if targets is not None else None,
        }}
        profile = _array_profile("features", features)
        if targets is not None:
            profile.update(_array_profile("targets", targets))
        super().__init__(name, digest, source, schema, profile)


def _array_profile(prefix: str, array: Any) -> dict[str, Any]:
    if isinstance(array, dict):
        return {f"{prefix}_shape": {k: list(v.shape) for k, v in array.items()},
                f"{prefix}_size": {k: int(v.size) for k, v in array.items()},
                f"{prefix}_nbytes": {k: int(v.nbytes) for k, v in array.items()}}
    return {f"{prefix}_shape": list(array.shape), f"{prefix}_size": int(array.size), f"{prefix}_nbytes": int(array.nbytes)}


def _hash_frame(h: Any, df: Any) -> None:
    import pandas as pd

    h.update(repr((df.shape, [str(c) for c in df.columns], [str(t) for t in df.dtypes])).encode())
    head = df.head(DIGEST_ROWS)
    try:
        h.update(pd.util.hash_pandas_object(head, index=False).values.tobytes())
    except TypeError:  # unhashable cells (lists, dicts): their text
        h.update(head.astype(str).to_csv(index=False).encode())


def _hash_array(h: Any, array: Any) -> None:
    import numpy as np

    if isinstance(array, dict):
        for key in sorted(array):
            h.update(key.encode())
            _hash_array(h, array[key])
        return
    array = np.asarray(array)
    h.update(repr((array.shape, str(array.dtype))).encode())
    part = array[:DIGEST_ROWS] if array.ndim else array
    h.update(part.tobytes() if part.dtype != object else repr(part.tolist()).encode())


def _check_name(name: Any, field: str = "name") -> None:
    if name is not None and (not isinstance(name, str) or not name or len(name) > 500):
        raise InvalidParameterError(f"Invalid dataset {field} {name!r}: expected a non-empty string of at most 500 characters.")


def from_pandas(df: Any, source: str | None = None, targets: str | None = None, name: str | None = None,
                digest: str | None = None, predictions: str | None = None) -> PandasDataset:
    """Describe a DataFrame as a dataset. ``targets`` (and ``predictions``) name columns of ``df``;
    ``name`` defaults to ``dataset``; ``digest`` to a hash of its shape, columns and first rows."""
    import pandas as pd

    if not isinstance(df, pd.DataFrame):
        raise InvalidParameterError(f"from_pandas needs a pandas DataFrame; got {type(df).__name__} (use from_numpy for arrays).")
    for field, column in (("targets", targets), ("predictions", predictions)):
        if column is not None and column not in df.columns:
            raise InvalidParameterError(f"from_pandas {field}={column!r} is not a column of the DataFrame; its columns: {list(df.columns)}.")
    _check_name(name)
    _check_name(digest, "digest")
    h = hashlib.sha256()
    _hash_frame(h, df)
    return PandasDataset(df, name or "dataset", digest or h.hexdigest()[:8], source, targets, predictions)


def from_numpy(features: Any, source: str | None = None, targets: Any = None, name: str | None = None,
               digest: str | None = None) -> NumpyDataset:
    """Describe a numpy array (or a dict of arrays) of features, with optional targets, as a dataset."""
    import numpy as np

    def check(value: Any, field: str) -> None:
        ok = isinstance(value, np.ndarray) or (isinstance(value, dict) and value and all(isinstance(v, np.ndarray) for v in value.values()))
        if not ok:
            raise InvalidParameterError(f"from_numpy {field} must be a numpy array or a dict of numpy arrays; got {type(value).__name__}.")

    check(features, "features")
    if targets is not None:
        check(targets, "targets")
    _check_name(name)
    _check_name(digest, "digest")
    h = hashlib.sha256()
    _hash_array(h, features)
    if targets is not None:
        _hash_array(h, targets)
    return NumpyDataset(features, targets, name or "dataset", digest or h.hexdigest()[:8], source)


__all__ = ["Dataset", "PandasDataset", "NumpyDataset", "from_pandas", "from_numpy", "CONTEXT_TAG"]
