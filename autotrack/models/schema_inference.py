"""Infer a :class:`~autotrack.types.Schema` from example data.

Tabular data (DataFrames, dicts of columns, lists of dicts) gives one ColSpec per column; numpy arrays,
dicts of arrays and sparse matrices give TensorSpecs whose first dimension is ``-1`` (any batch size).

As in MLflow: a column holding missing values (``None``, ``NaN``) is optional; a column of lists is
an :class:`~autotrack.types.Array` of its elements' type (lists of lists nest), a column of dicts an
:class:`~autotrack.types.Object` whose fields are the union of the dicts' keys (a key some dicts lack is
optional); a list of lists is one unnamed Array column; integer column labels are kept as names.
"""

from __future__ import annotations

from typing import Any

from autotrack.exceptions import InvalidParameterError
from autotrack.models.data import is_sparse, normalize
from autotrack.types import Array, ColSpec, DataType, Object, Property, Schema, TensorSpec, ValueType


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


def _is_list(value: Any) -> bool:
    import numpy as np

    return isinstance(value, (list, tuple)) or (isinstance(value, np.ndarray) and value.ndim >= 1)


def value_type(values: list[Any], label: str) -> ValueType:
    """The one type of the (non-missing) ``values``: a DataType, or an Array / Object of what they hold."""
    if not values:
        raise InvalidParameterError(f"{label} has no values; its type cannot be inferred")
    if all(_is_list(v) for v in values):
        elements = [e for v in values for e in (v.tolist() if hasattr(v, "tolist") else v)]
        if not elements:
            raise InvalidParameterError(f"{label} holds only empty lists; the type of their elements cannot be inferred")
        return Array(value_type(elements, f"{label} elements"))
    if all(isinstance(v, dict) for v in values):
        keys: dict[str, None] = {}
        for record in values:
            for key in record:
                if not isinstance(key, str):
                    raise InvalidParameterError(f"{label}: a dict key {key!r} is not a string; fields are named by strings")
                keys.setdefault(key, None)
        properties = []
        for key in keys:
            present = [r[key] for r in values if key in r and not _missing(r[key])]
            required = len(present) == len(values)
            properties.append(Property(key, value_type(present, f"{label} field {key!r}"), required=required))
        return Object(properties)
    kinds = {_value_type(v) for v in values}
    if kinds == {DataType.long, DataType.double}:
        return DataType.double
    if len(kinds) == 1 and None not in kinds:
        return kinds.pop()
    names = sorted({type(v).__name__ for v in values})
    raise InvalidParameterError(
        f"{label} holds values of types {names}; a column must hold one of: "
        f"{', '.join(t.name for t in DataType)}, or lists (Array) or dicts (Object) of them")


def _missing(value: Any) -> bool:
    return value is None or (isinstance(value, float) and value != value)


def column_type(values: Any, label: str) -> tuple[ValueType, bool]:
    """The type of a pandas Series and whether it has missing values; error naming ``label`` if mixed."""
    found = dtype_to_datatype(values.dtype)
    if found is not None:
        return found, bool(values.isna().any())
    present = [v for v in values.tolist() if not _missing(v)]
    nulls = len(present) < len(values)
    if not present:
        raise InvalidParameterError(f"{label} has only missing values; its type cannot be inferred")
    return value_type(present, label), nulls


def _tensor_spec(array: Any, name: str | None, label: str) -> TensorSpec:
    if array.dtype.kind == "O":
        raise InvalidParameterError(
            f"{label} is a numpy array of dtype object; give a typed array or a DataFrame for mixed values")
    shape = (-1,) + tuple(array.shape[1:]) if array.ndim else ()
    return TensorSpec(array.dtype, shape, name)


def infer_schema(data: Any, field: str = "model_input") -> Schema:
    """The schema of ``data`` (see the module docstring for which types give which specs)."""
    import pandas as pd

    if isinstance(data, pd.Series) and data.name is None:  # an unnamed Series: one unnamed column
        dtype, nulls = column_type(data, field)
        return Schema([ColSpec(dtype, None, required=not nulls)])
    if isinstance(data, (list, tuple)) and data and all(_is_list(row) for row in data):
        # a list of lists: one unnamed column whose values are lists, as MLflow has it
        return Schema([ColSpec(value_type(list(data), field), None)])
    data = normalize(data, field)
    if isinstance(data, dict):
        return Schema(_tensor_spec(v, k, f"{field}[{k!r}]") for k, v in data.items())
    if is_sparse(data):
        return Schema([TensorSpec(data.dtype, (-1,) + tuple(data.shape[1:]))])
    if not hasattr(data, "columns"):  # numpy array
        return Schema([_tensor_spec(data, None, field)])
    specs = []
    for column in data.columns:
        if not isinstance(column, (str, int)) or isinstance(column, bool):
            raise InvalidParameterError(
                f"{field}: column name {column!r} is not a string or an integer; name every column with one")
        dtype, nulls = column_type(data[column], f"{field} column {column!r}")
        # a missing value (None, or NaN even in a float column) makes the column optional, as in MLflow
        specs.append(ColSpec(dtype, column, required=not nulls))
    return Schema(specs)
