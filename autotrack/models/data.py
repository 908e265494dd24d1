"""Turn the data users hand to models into one of four shapes the rest of ``autotrack.models`` handles.

The shapes: a pandas DataFrame (tabular), a numpy array, a dict of numpy arrays (named tensors), or a
scipy sparse matrix. Dicts of scalars or lists and lists of dicts become DataFrames; a Series becomes
a one-column DataFrame.
"""

from __future__ import annotations

import sys
from typing import Any

from autotrack.exceptions import InvalidParameterError

ACCEPTED = ("pandas DataFrame or Series, numpy array, dict of numpy arrays, dict of column values, "
            "list of dicts, list of values, scipy sparse matrix")


def is_sparse(data: Any) -> bool:
    """True for a scipy sparse matrix or array, without importing scipy when the caller did not."""
    if "scipy.sparse" not in sys.modules:
        return False
    import scipy.sparse

    return scipy.sparse.issparse(data)


def is_unnamed_frame(df: Any) -> bool:
    """A DataFrame whose columns are just positions 0..n-1 (made from an array or an unnamed Series)."""
    return all(isinstance(c, int) and c == i for i, c in enumerate(df.columns))


def normalize(data: Any, field: str = "data") -> Any:
    """``data`` as a DataFrame, numpy array, dict of numpy arrays or sparse matrix; a clear error otherwise."""
    import numpy as np
    import pandas as pd

    if isinstance(data, (pd.DataFrame, np.ndarray)) or is_sparse(data):
        return data
    if isinstance(data, pd.Series):
        return data.to_frame(name=data.name if data.name is not None else 0)
    if isinstance(data, dict):
        if not data:
            raise InvalidParameterError(f"{field} is an empty dict; give at least one column or tensor")
        bad_keys = [k for k in data if not isinstance(k, str)]
        if bad_keys:
            raise InvalidParameterError(f"{field}: dict keys must be strings (column or tensor names); got {bad_keys[0]!r}")
        if all(isinstance(v, np.ndarray) for v in data.values()):
            return dict(data)
        if all(np.ndim(v) == 0 for v in data.values()):
            return pd.DataFrame([data])
        try:
            return pd.DataFrame(data)
        except ValueError as exc:
            raise InvalidParameterError(f"{field}: dict values could not form a table ({exc})") from None
    if isinstance(data, (list, tuple)):
        if not data:
            raise InvalidParameterError(f"{field} is an empty list; give at least one row")
        if all(isinstance(row, dict) for row in data):
            return pd.DataFrame(list(data))
        if all(np.ndim(v) == 0 for v in data):
            return pd.DataFrame({0: list(data)})
        array = np.asarray(data)
        if array.dtype == object:
            raise InvalidParameterError(f"{field}: a list of lists must be rectangular and of one type to form an array")
        return array
    raise InvalidParameterError(f"{field} of type {type(data).__name__} is not supported; accepted: {ACCEPTED}")
