"""Infer a :class:`~autotrack.types.Schema` from example data.

Tabular data (DataFrames, dicts of columns, lists of dicts) gives one ColSpec per column; numpy arrays,
dicts of arrays and sparse matrices give TensorSpecs whose first dimension is ``-1`` (any batch size).
"""

from __future__ import annotations

from typing import Any

from autotrack.exceptions import InvalidParameterError
from autotrack.models.data import is_sparse, is_unnamed_frame, normalize
from autotrack.types import ColSpec, DataType, Schema, TensorSpec


def dtype_to_datatype(dtype: Any) -> DataType | None:
    """The DataType a numpy or pandas dtype holds exactly, or None for ``object`` and unsupported dtypes."""
    import numpy as np
    import pandas as pd

    if isinstance(dtype, pd.CategoricalDtype):
        return dtype_to_datatype(dtype.categories.dtype)
    if isinstance(dtype, pd.StringDtype):
        return DataType.string
    if isinstance(dtype, pd.DatetimeTZDtype):
        return DataType.datetime
    if isinstance(dtype, pd.api.extensions.ExtensionDtype):  # nullable Int64, Float64, boolean
        dtype = np.dtype(dtype.numpy_dtype) if hasattr(dtype, "numpy_dtype") else np.dtype(object)
    kind, size = dtype.kind, dtype.itemsize
    if kind == "b":
        return DataType.boolean
    if kind == "i":
        return DataType.integer if size <= 4 else DataType.long
    if kind == "u":  # unsigned: the signed type that holds every value
        return DataType.integer if size <= 2 else DataType.long if size == 4 else None
    if kind == "f":
        return DataType.float if size <= 4 else DataType.double
    if kind == "M":
        return DataType.datetime
    if kind in "US":
        return DataType.string if kind == "U" else DataType.binary
    return None


def _value_type(value: Any) -> DataType | None:
    import datetime

    import numpy as np

    if isinstance(value, (bool, np.bool_)):
        return DataType.boolean
    if isinstance(value, (int, np.integer)):
        return DataType.long
    if isinstance(value, (float, np.floating)):
        return DataType.double
    if isinstance(value, str):
        return DataType.string
    if isinstance(value, (bytes, bytearray)):
        return DataType.binary
    if isinstance(value, (datetime.datetime, datetime.date, np.datetime64)):
        return DataType.datetime
    return None


def column_type(values: Any, label: str) -> tuple[DataType, bool]:
    """The DataType of a pandas Series and whether it has missing values; error naming ``label`` if mixed."""
    nulls = bool(values.isna().any())
    found = dtype_to_datatype(values.dtype)
    if found is not None:
        return found, nulls
    present = values.dropna()
    if present.empty:
        raise InvalidParameterError(f"{label} has only missing values; its type cannot be inferred")
    kinds = {_value_type(v) for v in present}
    if kinds == {DataType.long, DataType.double}:
        return DataType.double, nulls
    if len(kinds) == 1 and None not in kinds:
        return kinds.pop(), nulls
    names = sorted({type(v).__name__ for v in present})
    raise InvalidParameterError(
        f"{label} holds values of types {names}; a column must hold one of: "
        f"{', '.join(t.name for t in DataType)}")


def _tensor_spec(array: Any, name: str | None, label: str) -> TensorSpec:
    if array.dtype.kind == "O":
        raise InvalidParameterError(
            f"{label} is a numpy array of dtype object; give a typed array or a DataFrame for mixed values")
    shape = (-1,) + tuple(array.shape[1:]) if array.ndim else ()
    return TensorSpec(array.dtype, shape, name)


def infer_schema(data: Any, field: str = "model_input") -> Schema:
    """The schema of ``data`` (see the module docstring for which types give which specs)."""
    data = normalize(data, field)
    if isinstance(data, dict):
        return Schema(_tensor_spec(v, k, f"{field}[{k!r}]") for k, v in data.items())
    if is_sparse(data):
        return Schema([TensorSpec(data.dtype, (-1,) + tuple(data.shape[1:]))])
    if not hasattr(data, "columns"):  # numpy array
        return Schema([_tensor_spec(data, None, field)])
    unnamed = is_unnamed_frame(data)
    specs = []
    for position, column in enumerate(data.columns):
        if not isinstance(column, str) and not unnamed:
            raise InvalidParameterError(
                f"{field}: column name {column!r} is not a string; name every column with a string, "
                "or none of them")
        label = f"{field} column {column!r}" if not unnamed else f"{field} column at position {position}"
        dtype, nulls = column_type(data[column], label)
        # a value-less entry (None) marks the column optional; NaN in a float column is a valid float
        optional = nulls and dtype not in (DataType.float, DataType.double)
        specs.append(ColSpec(dtype, None if unnamed else column, required=not optional))
    return Schema(specs)
