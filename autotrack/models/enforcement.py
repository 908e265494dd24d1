"""Check data against a schema at predict time, and convert it where that loses nothing.

Rules (docs/model-format.md has the full table):
- columns are put in the schema's order; a missing required column is an error, extra columns are
  dropped with a warning, optional columns may be absent;
- types may widen (integer -> long -> float/double, float -> double); long values narrow to
  integer only when every value fits in 32 bits; anything else is an error naming the column, the
  expected and the received type;
- tensors: dtype may widen as numpy's "safe" casting allows; shapes must match, ``-1`` matches any size;
- Array, Object and Map columns (MLflow's types) are checked value by value: a list whose every element
  has the item type, a dict with every required field and no undeclared one, a dict with string keys;
  numbers inside them follow the same widening rules (an int where a double is declared is converted,
  a float where a long is declared is an error).
"""

from __future__ import annotations

import warnings
from typing import Any

from autotrack.exceptions import InvalidParameterError
from autotrack.models.data import is_sparse, normalize
from autotrack.models.errors import SchemaEnforcementError
from autotrack.models.schema_inference import column_type
from autotrack.types import Array, ColSpec, DataType, Map, Object, Schema, TensorSpec, ValueType

# received type -> the declared types it converts to without losing information
_WIDENS_TO: dict[DataType, set[DataType]] = {
    DataType.integer: {DataType.long, DataType.float, DataType.double},
    DataType.long: {DataType.float, DataType.double},
    DataType.float: {DataType.double},
}
_INT32 = (-(2**31), 2**31 - 1)


def _accepted_for(expected: DataType) -> str:
    sources = [expected.name] + [src.name for src, dsts in _WIDENS_TO.items() if expected in dsts]
    if expected is DataType.integer:
        sources.append("long values within the 32-bit range")
    return ", ".join(sources)


def _fail(what: str, expected: str, received: str, accepted: str, hint: str = "") -> SchemaEnforcementError:
    message = f"{what}: expected {expected}, got {received}; accepted for {expected}: {accepted}"
    return SchemaEnforcementError(message + (f". {hint}" if hint else ""))


def _type_name(dtype: ValueType) -> str:
    return dtype.name if isinstance(dtype, DataType) else repr(dtype)


def _is_list(value: Any) -> bool:
    import numpy as np

    return isinstance(value, (list, tuple)) or (isinstance(value, np.ndarray) and value.ndim >= 1)


def _missing(value: Any) -> bool:
    return value is None or (isinstance(value, float) and value != value)


def _enforce_value(value: Any, expected: ValueType, where: str) -> Any:
    """One value (of an Array, Object or Map column, at any depth) checked and converted to ``expected``."""
    import datetime

    import numpy as np

    def fail(what: str) -> SchemaEnforcementError:
        return SchemaEnforcementError(f"{where}: expected {_type_name(expected)}, got {what}")

    if isinstance(expected, Array):
        if not _is_list(value):
            raise fail(f"{type(value).__name__} {value!r} (not a list)")
        items = value.tolist() if isinstance(value, np.ndarray) else list(value)
        return [_enforce_value(item, expected.dtype, f"{where}[{i}]") for i, item in enumerate(items)]
    if isinstance(expected, (Object, Map)):
        if not isinstance(value, dict):
            raise fail(f"{type(value).__name__} {value!r} (not a dict)")
        if isinstance(expected, Map):
            bad = [k for k in value if not isinstance(k, str)]
            if bad:
                raise fail(f"the key {bad[0]!r}; a Map's keys are strings")
            return {k: _enforce_value(v, expected.value_type, f"{where}[{k!r}]") for k, v in value.items()}
        declared = {p.name: p for p in expected.properties}
        missing = [p.name for p in expected.properties if p.required and _missing(value.get(p.name))]
        if missing:
            raise fail(f"a dict without the required field(s) {missing}")
        extra = sorted(str(k) for k in value if k not in declared)
        if extra:
            raise fail(f"the field(s) {extra}, which the signature does not declare (declared: {sorted(declared)})")
        return {k: (v if _missing(v) else _enforce_value(v, declared[k].dtype, f"{where}[{k!r}]")) for k, v in value.items()}
    if isinstance(value, (bool, np.bool_)):
        if expected is DataType.boolean:
            return bool(value)
        raise fail(f"the boolean {value!r}")
    if expected is DataType.boolean:
        raise fail(f"{type(value).__name__} {value!r}")
    if expected in (DataType.integer, DataType.long):
        if isinstance(value, (int, np.integer)):
            if expected is DataType.integer and not _INT32[0] <= int(value) <= _INT32[1]:
                raise fail(f"{value}, which does not fit in a 32-bit integer")
            return int(value)
        raise fail(f"{type(value).__name__} {value!r}" + ("; converting would lose information" if isinstance(value, (float, np.floating)) else ""))
    if expected in (DataType.float, DataType.double):
        if isinstance(value, (int, float, np.integer, np.floating)):
            return float(value)
        raise fail(f"{type(value).__name__} {value!r}")
    if expected is DataType.string:
        if isinstance(value, str):
            return str(value)
        raise fail(f"{type(value).__name__} {value!r}")
    if expected is DataType.binary:
        if isinstance(value, (bytes, bytearray)):
            return bytes(value)
        raise fail(f"{type(value).__name__} {value!r}")
    if isinstance(value, (datetime.datetime, datetime.date, np.datetime64)):  # DataType.datetime
        return value
    raise fail(f"{type(value).__name__} {value!r}")


def _enforce_nested_column(values: Any, spec: ColSpec, what: str) -> Any:
    """A column of lists or dicts, checked and converted value by value."""
    import pandas as pd

    out = []
    for position, value in enumerate(values.tolist()):
        where = f"{what}, row {position}"
        if _missing(value):
            if spec.required:
                raise SchemaEnforcementError(f"{where}: the column is required and the value is missing; expected {_type_name(spec.type)}")
            out.append(None)
            continue
        out.append(_enforce_value(value, spec.type, where))
    return pd.Series(out, index=values.index, name=values.name, dtype=object)


def _enforce_column(values: Any, spec: ColSpec, what: str) -> Any:
    """``values`` (a Series) converted to ``spec.type``, or an error."""
    import numpy as np

    expected = spec.type
    if not isinstance(expected, DataType):
        return _enforce_nested_column(values, spec, what)
    if not spec.required and values.isna().all():
        return values  # an optional column given with no values is the same as an absent one
    if values.dtype == object and expected not in (DataType.string, DataType.binary):
        values = values.infer_objects()
    try:
        received, nulls = column_type(values, what)
    except InvalidParameterError as exc:  # mixed value types
        raise SchemaEnforcementError(f"{exc}; expected {expected.name}") from None
    if received is expected:
        if expected in (DataType.string, DataType.binary, DataType.datetime) or nulls:
            return values
        return values.astype(expected.to_numpy())
    if expected in _WIDENS_TO.get(received, ()):
        return values.astype(expected.to_numpy())
    if received is DataType.long and expected is DataType.integer:
        low, high = values.min(), values.max()
        if _INT32[0] <= low and high <= _INT32[1]:
            return values.astype(np.int32)
        bad = low if low < _INT32[0] else high
        raise _fail(what, "integer", "long", _accepted_for(expected),
                    f"Value {bad} does not fit in a 32-bit integer")
    hint = ""
    if nulls and received in (DataType.float, DataType.double) and expected in (DataType.integer, DataType.long):
        hint = "The column has missing values, which pandas stores as floats; fill them before predicting"
    elif received in (DataType.float, DataType.double) and expected in (DataType.integer, DataType.long, DataType.float):
        hint = "Converting would lose information"
    raise _fail(what, expected.name, _type_name(received), _accepted_for(expected), hint)


def _enforce_tensor(array: Any, spec: TensorSpec, what: str) -> Any:
    """``array`` checked against the spec's dtype and shape, widened if numpy calls the cast safe."""
    import numpy as np

    if not is_sparse(array):
        array = np.asarray(array)
    if array.dtype != spec.dtype:
        same_text = array.dtype.kind == spec.dtype.kind and array.dtype.kind in "US"  # "str" / "bytes": any length
        # numpy calls number -> text "safe"; a text tensor takes text only
        if not same_text and (spec.dtype.kind in "US" or not np.can_cast(array.dtype, spec.dtype, casting="safe")):
            raise SchemaEnforcementError(
                f"{what}: expected dtype {spec.dtype}, got {array.dtype}; accepted: {spec.dtype} or a dtype "
                f"that converts to it without loss")
        if not same_text:
            array = array.astype(spec.dtype)
    shape = tuple(array.shape)
    if len(shape) != len(spec.shape) or any(want not in (-1, got) for want, got in zip(spec.shape, shape)):
        raise SchemaEnforcementError(
            f"{what}: expected shape {spec.shape} (-1 means any size), got {shape}")
    return array


def _label(direction: str, name: Any) -> str:
    direction = direction.capitalize()
    return f"{direction} column {name!r}" if isinstance(name, str) else f"{direction} column at position {name}"


def _enforce_frame(df: Any, schema: Schema, direction: str) -> Any:
    import pandas as pd

    if not schema.has_input_names():
        if df.shape[1] != len(schema):
            raise SchemaEnforcementError(
                f"{direction.capitalize()} has {df.shape[1]} columns; the signature declares {len(schema)} unnamed columns")
        out = pd.DataFrame({c: _enforce_column(df[c], spec, _label(direction, i))  # type: ignore[arg-type]
                            for i, (c, spec) in enumerate(zip(df.columns, schema.inputs))})
        return out
    names = schema.input_names()
    missing = [n for n in schema.required_input_names() if n not in df.columns]
    if missing:
        raise SchemaEnforcementError(
            f"{direction.capitalize()} is missing required column(s) {missing}; the signature declares "
            f"{names}, the data has {list(df.columns)}")
    extra = [c for c in df.columns if c not in names]
    if extra:
        warnings.warn(f"{direction.capitalize()} column(s) {extra} are not in the model signature and were dropped",
                      UserWarning, stacklevel=4)
    present = [(n, s) for n, s in zip(names, schema.inputs) if n in df.columns]
    return pd.DataFrame({n: _enforce_column(df[n], s, _label(direction, n)) for n, s in present}, index=df.index)  # type: ignore[arg-type]


def _enforce_named_tensors(data: Any, schema: Schema, direction: str) -> dict[str, Any]:
    if hasattr(data, "columns"):
        data = {c: data[c].to_numpy() for c in data.columns}
    if not isinstance(data, dict):
        raise SchemaEnforcementError(
            f"{direction.capitalize()} must be a dict of arrays or a DataFrame: the signature declares named "
            f"tensors {schema.input_names()}; got {type(data).__name__}")
    names = schema.input_names()
    missing = [n for n in names if n not in data]
    if missing:
        raise SchemaEnforcementError(f"{direction.capitalize()} is missing tensor(s) {missing}; got {list(data)}")
    extra = [k for k in data if k not in names]
    if extra:
        warnings.warn(f"{direction.capitalize()} tensor(s) {extra} are not in the model signature and were dropped",
                      UserWarning, stacklevel=4)
    return {n: _enforce_tensor(data[n], s, f"{direction.capitalize()} tensor {n!r}") for n, s in zip(names, schema.inputs)}  # type: ignore[arg-type]


def enforce_schema(data: Any, schema: Schema, direction: str = "input") -> Any:
    """``data`` made to match ``schema``; :class:`SchemaEnforcementError` naming the column if it cannot be."""
    import numpy as np
    import pandas as pd

    if not schema.is_tensor_spec() and isinstance(data, (list, tuple)) and data and all(_is_list(r) for r in data) \
            and len(schema) == 1 and isinstance(schema.inputs[0].type, Array):
        data = pd.DataFrame({schema.input_names()[0]: list(data)})  # a list of lists: rows of one Array column
    data = normalize(data, f"model {direction}")
    if schema.is_tensor_spec():
        if schema.has_input_names():
            return _enforce_named_tensors(data, schema, direction)
        if isinstance(data, dict):
            raise SchemaEnforcementError(
                f"{direction.capitalize()} is a dict of tensors {list(data)}; the signature declares one unnamed tensor")
        if isinstance(data, pd.DataFrame):
            data = data.to_numpy()
        return _enforce_tensor(data, schema.inputs[0], direction.capitalize())  # type: ignore[arg-type]
    if is_sparse(data):
        raise SchemaEnforcementError(
            f"{direction.capitalize()} is a sparse matrix; the signature declares columns {schema.input_names()}")
    if isinstance(data, dict):
        data = pd.DataFrame(data)
    if isinstance(data, np.ndarray):
        return _enforce_array_as_columns(data, schema, direction)
    return _enforce_frame(data, schema, direction)


def _enforce_array_as_columns(array: Any, schema: Schema, direction: str) -> Any:
    """A plain array against column specs: its columns are taken in the signature's order."""
    import pandas as pd

    columns = 1 if array.ndim == 1 else array.shape[1] if array.ndim == 2 else None
    if columns != len(schema):
        raise SchemaEnforcementError(
            f"{direction.capitalize()} is an array of shape {array.shape}; the signature declares "
            f"{len(schema)} columns {schema.input_names()}")
    frame = pd.DataFrame(array.reshape(len(array), -1), columns=schema.input_names())
    enforced = _enforce_frame(frame, schema, direction)
    if direction == "output":  # give back what the model returned, converted: an array
        values = enforced.to_numpy()
        return values.reshape(-1) if array.ndim == 1 else values
    return enforced


def enforce_output(prediction: Any, schema: Schema) -> Any:
    """The model's prediction checked and converted against the signature's outputs."""
    import pandas as pd

    if isinstance(prediction, pd.Series):  # one output column: matched by position, returned as a Series
        converted = enforce_output(prediction.to_numpy(), schema)
        if getattr(converted, "ndim", None) == 1:
            return pd.Series(converted, index=prediction.index, name=prediction.name)
        return converted
    if isinstance(prediction, pd.DataFrame) and not schema.is_tensor_spec() and schema.has_input_names() \
            and len(schema) == 1 and prediction.shape[1] == 1 and prediction.columns[0] not in schema.input_names():
        prediction = prediction.to_numpy()  # one unlabelled output column: match it by position
    try:
        return enforce_schema(prediction, schema, "output")
    except SchemaEnforcementError as exc:
        raise SchemaEnforcementError(
            f"{exc}. The signature's outputs do not describe this model's predictions; log the model with "
            "a signature inferred from them, e.g. infer_signature(X, model.predict(X))") from None
