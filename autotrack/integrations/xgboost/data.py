"""What autotrack knows of a ``DMatrix``: the data it was built from, for datasets and input examples.

A ``DMatrix`` cannot give its data back cheaply (``get_data()`` copies the whole matrix: ~9 ms for
2,000 x 20), so the patched ``DMatrix.__init__`` / ``QuantileDMatrix.__init__`` remember *weak*
references to the ``data`` and ``label`` objects it was built from (a few hundred nanoseconds, and
nothing kept alive for autotrack's sake). At training time the source, if still alive, gives the
dataset digest and the first rows for the input example and signature; otherwise the matrix itself
gives its shape and feature names, and five sliced rows for the example.
"""

from __future__ import annotations

import weakref
from typing import Any

EXAMPLE_ROWS = 5  # rows of the training data kept as the input example and used for the signature

# DMatrix -> (weakref to data or None, weakref to label or None)
_sources: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def _weak(value: Any) -> Any:
    if value is None:
        return None
    try:
        return weakref.ref(value)
    except TypeError:  # a list, a file name...: nothing to remember cheaply
        return None


def remember_source(dmatrix: Any, data: Any, label: Any) -> None:
    """Remember (weakly) what ``dmatrix`` was built from."""
    try:
        _sources[dmatrix] = (_weak(data), _weak(label))
    except TypeError:
        pass


def source_of(dmatrix: Any) -> tuple[Any, Any]:
    """``(data, label)`` ``dmatrix`` was built from, each None when unknown or already collected."""
    try:
        refs = _sources.get(dmatrix)
    except TypeError:
        refs = None
    if refs is None:
        return None, None
    data_ref, label_ref = refs
    return (data_ref() if data_ref is not None else None), (label_ref() if label_ref is not None else None)


def init_arguments(args: tuple, kwargs: dict) -> tuple[Any, Any]:
    """``(data, label)`` of a ``DMatrix.__init__(self, data, label=None, ...)`` call (self excluded)."""
    data = args[0] if args else kwargs.get("data")
    label = args[1] if len(args) > 1 else kwargs.get("label")
    return data, label


def head_rows(data: Any, rows: int = EXAMPLE_ROWS) -> Any:
    """The first ``rows`` rows of a DataFrame, sparse matrix or array (a copy), or None."""
    try:
        if hasattr(data, "iloc"):
            return data.iloc[:rows].copy()
        if hasattr(data, "tocsr"):
            return data.tocsr()[:rows]
        import numpy as np

        if isinstance(data, np.ndarray):
            return np.array(data[:rows], copy=True)
        return None
    except Exception:  # noqa: BLE001 - data autotrack cannot slice has no example
        return None


def example_rows(dmatrix: Any, rows: int = EXAMPLE_ROWS) -> Any:
    """The first rows of the data ``dmatrix`` was built from (its source if alive, else rows sliced
    out of the matrix as a DataFrame named by its feature names), or None."""
    data, _ = source_of(dmatrix)
    if data is not None:
        found = head_rows(data, rows)
        if found is not None:
            return found
    try:
        n = min(rows, dmatrix.num_row())
        if n <= 0:
            return None
        part = dmatrix.slice(list(range(n))).get_data().toarray()
        import pandas as pd

        names = dmatrix.feature_names or [f"f{i}" for i in range(part.shape[1])]
        return pd.DataFrame(part, columns=names)
    except Exception:  # noqa: BLE001 - e.g. an external-memory matrix that cannot be sliced
        return None


def dataset_source(dmatrix: Any) -> tuple[Any, Any, dict[str, Any]]:
    """``(data, label, facts)``: the source arrays when alive (None otherwise) and what the matrix
    itself says (``num_rows``, ``num_cols``, ``feature_names``, ``feature_types``)."""
    data, label = source_of(dmatrix)
    facts: dict[str, Any] = {}
    try:
        facts = {"num_rows": int(dmatrix.num_row()), "num_cols": int(dmatrix.num_col()),
                 "feature_names": dmatrix.feature_names, "feature_types": dmatrix.feature_types}
    except Exception:  # noqa: BLE001 - a matrix without these (external memory) is described by its source only
        pass
    if label is None:
        try:
            label = dmatrix.get_label()
            if label is not None and len(label) == 0:
                label = None
        except Exception:  # noqa: BLE001
            label = None
    return data, label, facts
