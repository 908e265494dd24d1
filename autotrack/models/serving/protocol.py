"""MLflow's scoring protocol: request bodies to model input, predictions to a JSON answer.

JSON bodies are an object with exactly one input key and optional ``params``:

- ``{"dataframe_split": {"columns": [...], "data": [[...], ...], "index": [...]}}``: a DataFrame;
- ``{"dataframe_records": [{"col": value, ...}, ...]}``: a DataFrame, one object per row;
- ``{"instances": [...]}``: rows (TF-serving's row format): a list of values or lists gives an
  array, a list of objects gives named columns or tensors;
- ``{"inputs": ...}``: columns (TF-serving's columnar format): a list gives an array, an object of
  name -> values gives named columns or tensors.

A ``text/csv`` body is a table with a header row. JSON and CSV carry no number widths and no dates, so
values are read with the signature in mind: numbers for a ``float`` column become 32-bit floats, numbers
for a float tensor take its width (integers too: JSON's ``1`` and ``1.0`` are the same number), integers
for an integer tensor take its width when they fit, strings for a ``datetime`` column are parsed as
ISO 8601 and strings for a ``binary`` column are base64-decoded. Everything else (types, names, shapes) is left to the model format's
enforcement, whose errors the server answers with 400.
"""

from __future__ import annotations

import base64
import io
import json
from typing import Any

from autotrack.types import ColSpec, DataType, Schema, TensorSpec

INPUT_KEYS = ("dataframe_split", "dataframe_records", "instances", "inputs")
PARAMS_KEY = "params"
ACCEPTED_CONTENT_TYPES = ("application/json", "text/csv")

try:  # orjson is several times faster at both ends; the standard library does the same job without it
    import orjson as _orjson
except ImportError:  # pragma: no cover - exercised only where orjson is absent
    _orjson = None


class RequestError(Exception):
    """The request cannot be scored; ``status`` is the HTTP status, the message says what is wrong."""

    def __init__(self, message: str, status: int = 400, error_code: str = "BAD_REQUEST"):
        super().__init__(message)
        self.message = message
        self.status = status
        self.error_code = error_code


# ---------------------------------------------------------------------- decoding
def loads(body: bytes) -> Any:
    """The JSON document in ``body``; :class:`RequestError` naming the position of a syntax error."""
    try:
        return _orjson.loads(body) if _orjson is not None else json.loads(body)
    except ValueError as exc:  # orjson.JSONDecodeError and json.JSONDecodeError are ValueErrors
        raise RequestError(f"The request body is not valid JSON: {exc}") from None


def split_request(doc: Any) -> tuple[str, Any, dict[str, Any] | None]:
    """``(input key, its value, params)`` of a parsed JSON body; :class:`RequestError` if the shape is wrong."""
    if not isinstance(doc, dict):
        raise RequestError(
            f"The JSON body must be an object with one of the keys {', '.join(INPUT_KEYS)}; got a "
            f"{_json_type(doc)}. Example: {{\"dataframe_records\": [{{\"x\": 1.0}}]}}")
    keys = [k for k in doc if k in INPUT_KEYS]
    unknown = [k for k in doc if k not in INPUT_KEYS and k != PARAMS_KEY]
    if unknown:
        raise RequestError(f"The JSON body has unknown key(s) {unknown}; accepted: {', '.join(INPUT_KEYS)} and {PARAMS_KEY}")
    if len(keys) != 1:
        what = f"several input keys {keys}" if keys else "no input key"
        raise RequestError(f"The JSON body has {what}; give exactly one of {', '.join(INPUT_KEYS)}")
    params = doc.get(PARAMS_KEY)
    if params is not None and not isinstance(params, dict):
        raise RequestError(f"'params' must be an object of parameter name -> value; got a {_json_type(params)}")
    return keys[0], doc[keys[0]], params


def _json_type(value: Any) -> str:
    if isinstance(value, dict):
        return "JSON object"
    if isinstance(value, list):
        return "JSON array"
    if isinstance(value, str):
        return "JSON string"
    if isinstance(value, bool):
        return "JSON boolean"
    if value is None:
        return "JSON null"
    return "JSON number"


def parse_json(body: bytes, schema: Schema | None) -> tuple[Any, dict[str, Any] | None]:
    """``(model input, params)`` for a JSON request body."""
    key, value, params = split_request(loads(body))
    return json_input(key, value, schema), params


def json_input(key: str, value: Any, schema: Schema | None) -> Any:
    """The model input for the value of input ``key``: a DataFrame, an array or a dict of arrays."""
    import pandas as pd

    tensors = schema is not None and schema.is_tensor_spec()
    if key == "dataframe_split":
        frame = _split_frame(value)
    elif key == "dataframe_records":
        if not isinstance(value, list) or not all(isinstance(r, dict) for r in value):
            raise RequestError("'dataframe_records' must be a JSON array of objects (one per row, column -> value); "
                               f"got {_describe(value)}")
        if not value:
            raise RequestError("'dataframe_records' is empty; give at least one row")
        frame = pd.DataFrame(value)
    elif key == "instances":
        if not isinstance(value, list) or not value:
            raise RequestError(f"'instances' must be a non-empty JSON array of rows; got {_describe(value)}")
        if all(isinstance(r, dict) for r in value):
            if tensors:
                return _named_tensors(_columns_of_rows(value), schema)  # type: ignore[arg-type]
            frame = pd.DataFrame(value)
        elif any(isinstance(r, dict) for r in value):
            raise RequestError("'instances' mixes objects and other values; give all rows as objects or none")
        else:
            return _array(value, schema, "'instances'")
    elif key == "inputs":
        if isinstance(value, dict):
            if not value:
                raise RequestError("'inputs' is an empty object; give at least one column or tensor")
            if tensors or schema is None and all(isinstance(v, list) and v and isinstance(v[0], list) for v in value.values()):
                return _named_tensors(value, schema)
            frame = _frame_of_columns(value)
        elif isinstance(value, list) and value:
            return _array(value, schema, "'inputs'")
        else:
            raise RequestError(f"'inputs' must be a JSON array or an object of name -> values; got {_describe(value)}")
    else:  # pragma: no cover - split_request only returns INPUT_KEYS
        raise RequestError(f"unknown input key {key!r}")
    return adapt_frame(frame, schema)


def _describe(value: Any) -> str:
    return f"an empty {_json_type(value)}" if value in ([], {}) else f"a {_json_type(value)}"


def _split_frame(value: Any) -> Any:
    import pandas as pd

    if not isinstance(value, dict):
        raise RequestError(f"'dataframe_split' must be an object with 'columns' and 'data'; got {_describe(value)}")
    unknown = [k for k in value if k not in ("columns", "data", "index")]
    if unknown:
        raise RequestError(f"'dataframe_split' has unknown key(s) {unknown}; accepted: columns, data, index")
    data = value.get("data")
    if not isinstance(data, list) or not data:
        raise RequestError(f"'dataframe_split.data' must be a non-empty JSON array of rows; got {_describe(data)}")
    columns = value.get("columns")
    if columns is not None and (not isinstance(columns, list) or not all(isinstance(c, str) for c in columns)):
        raise RequestError("'dataframe_split.columns' must be a JSON array of column names (strings)")
    rows = data if all(isinstance(r, list) for r in data) else None
    if rows is None:
        if any(isinstance(r, (list, dict)) for r in data):
            raise RequestError("'dataframe_split.data' must be a JSON array of rows, each an array of values")
        rows = [[v] for v in data]  # one value per row: a single column
    width = len(columns) if columns is not None else len(rows[0])
    bad = next((i for i, r in enumerate(rows) if len(r) != width), None)
    if bad is not None:
        raise RequestError(f"'dataframe_split.data' row {bad} has {len(rows[bad])} values; expected {width} "
                           f"({'one per column' if columns is not None else 'as many as row 0'})")
    index = value.get("index")
    if index is not None and (not isinstance(index, list) or len(index) != len(rows)):
        raise RequestError(f"'dataframe_split.index' must be a JSON array of {len(rows)} labels, one per row")
    return pd.DataFrame(rows, columns=columns, index=index)


def _frame_of_columns(columns: dict[str, Any]) -> Any:
    import pandas as pd

    if all(not isinstance(v, (list, dict)) for v in columns.values()):
        return pd.DataFrame([columns])  # one value per column: one row
    lengths = {k: len(v) if isinstance(v, list) else None for k, v in columns.items()}
    if any(n is None for n in lengths.values()) or len(set(lengths.values())) != 1:
        raise RequestError(f"'inputs' columns must all be JSON arrays of the same length; got lengths {lengths}")
    return pd.DataFrame(columns)


def _columns_of_rows(rows: list[dict[str, Any]]) -> dict[str, list[Any]]:
    names = list(rows[0])
    bad = next((i for i, r in enumerate(rows) if list(r) != names and set(r) != set(names)), None)
    if bad is not None:
        raise RequestError(f"'instances' row {bad} has keys {sorted(rows[bad])}; row 0 has {sorted(names)}")
    return {n: [r[n] for r in rows] for n in names}


def _tensor(values: Any, spec: TensorSpec | None, what: str) -> Any:
    """``values`` as a numpy array; numbers take the spec's width when the kind matches (JSON has no widths)."""
    import numpy as np

    try:
        array = np.asarray(values)
    except ValueError as exc:
        raise RequestError(f"{what} is not a rectangular array: {exc}") from None
    if array.dtype == object:
        raise RequestError(f"{what} is not a rectangular array of one type (rows of different lengths, or mixed values)")
    if spec is not None and array.dtype != spec.dtype:
        if array.dtype.kind in "iuf" and spec.dtype.kind == "f":  # JSON's 1 and 1.0 are the same number
            array = array.astype(spec.dtype)
        elif array.dtype.kind in "iu" and spec.dtype.kind in "iu" and array.size:
            info = np.iinfo(spec.dtype)
            if info.min <= array.min() and array.max() <= info.max:
                array = array.astype(spec.dtype)
    return array


def _array(values: list[Any], schema: Schema | None, what: str) -> Any:
    spec = schema.inputs[0] if schema is not None and schema.is_tensor_spec() else None
    array = _tensor(values, spec, what)  # type: ignore[arg-type]
    if schema is not None and not schema.is_tensor_spec():
        import pandas as pd

        # an array against columns: the columns are taken by position, read with the column types in mind
        if array.ndim in (1, 2) and (1 if array.ndim == 1 else array.shape[1]) == len(schema):
            frame = pd.DataFrame(array.reshape(len(array), -1), columns=schema.input_names())
            return adapt_frame(frame, schema)
    return array


def _named_tensors(columns: dict[str, Any], schema: Schema | None) -> dict[str, Any]:
    specs = {s.name: s for s in schema.inputs} if schema is not None and schema.has_input_names() else {}
    return {name: _tensor(values, specs.get(name), f"tensor {name!r}") for name, values in columns.items()}  # type: ignore[arg-type]


def adapt_frame(frame: Any, schema: Schema | None) -> Any:
    """``frame`` with the columns JSON and CSV cannot type read as the signature declares (see module doc)."""
    if schema is None or schema.is_tensor_spec():
        return frame
    if schema.has_input_names():
        pairs = [(s.name, s) for s in schema.inputs if s.name in frame.columns]
    else:
        pairs = list(zip(frame.columns, schema.inputs))
    for column, spec in pairs:
        converted = _adapt_column(frame[column], spec)  # type: ignore[arg-type]
        if converted is not None:
            frame[column] = converted
    return frame


def _adapt_column(values: Any, spec: ColSpec) -> Any:
    import pandas as pd

    kind = values.dtype.kind
    if spec.type is DataType.float and kind == "f" and values.dtype.itemsize > 4:
        return values.astype("float32")
    if spec.type is DataType.datetime and kind == "O":
        try:
            return pd.to_datetime(values)
        except (ValueError, TypeError) as exc:
            raise RequestError(f"Column {spec.name!r} is declared datetime; its values must be ISO 8601 strings "
                               f"such as \"2024-05-01T12:00:00\" ({exc})") from None
    if spec.type is DataType.binary and kind == "O":
        def decode(v: Any) -> Any:
            if not isinstance(v, str):
                return v  # bytes already, or missing: enforcement judges it
            try:
                return base64.b64decode(v, validate=True)
            except ValueError:
                raise RequestError(f"Column {spec.name!r} is declared binary; its values must be base64 strings; "
                                   f"got {v[:40]!r}") from None

        return values.map(decode)
    return None


def parse_csv(body: bytes, schema: Schema | None) -> Any:
    """The model input for a CSV body (header row first); string columns of the signature stay strings."""
    import pandas as pd

    if not body.strip():
        raise RequestError("The CSV body is empty; send a header row and at least one data row")
    dtype = None
    if schema is not None and not schema.is_tensor_spec() and schema.has_input_names():
        dtype = {s.name: str for s in schema.inputs if s.type in (DataType.string, DataType.binary)}  # type: ignore[union-attr]
    try:
        frame = pd.read_csv(io.BytesIO(body), dtype=dtype or None)
    except (ValueError, pd.errors.ParserError, UnicodeDecodeError) as exc:
        raise RequestError(f"The CSV body could not be read: {' '.join(str(exc).split())}") from None
    if frame.empty:
        raise RequestError(f"The CSV body has a header ({', '.join(map(str, frame.columns))}) but no data rows")
    if schema is not None and schema.is_tensor_spec():
        return frame
    return adapt_frame(frame, schema)


def content_kind(content_type: str | None) -> str:
    """``"json"`` or ``"csv"`` for a Content-Type header; :class:`RequestError` (415) for anything else."""
    media = (content_type or "").split(";", 1)[0].strip().lower()
    if media == "application/json" or media.endswith("+json"):
        return "json"
    if media in ("text/csv", "application/csv"):
        return "csv"
    shown = repr(content_type) if content_type else "none"
    raise RequestError(f"Content-Type {shown} is not supported; accepted: {', '.join(ACCEPTED_CONTENT_TYPES)}",
                       status=415, error_code="UNSUPPORTED_MEDIA_TYPE")


# ---------------------------------------------------------------------- encoding
def _default(value: Any) -> Any:
    import numpy as np

    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, (bytes, bytearray)):
        return base64.b64encode(value).decode("ascii")
    if hasattr(value, "isoformat"):
        return value.isoformat()
    if hasattr(value, "__array__"):  # tensors of other libraries (torch, TensorFlow) and array-likes
        return np.asarray(value).tolist()
    raise TypeError(f"a prediction of type {type(value).__name__} cannot be written as JSON")


def jsonable(prediction: Any) -> Any:
    """``prediction`` as values JSON can hold: arrays and Series as lists, DataFrames as lists of row objects."""
    import numpy as np

    if isinstance(prediction, np.ndarray):
        if prediction.dtype.kind in "biuf" and _orjson is not None and prediction.flags.c_contiguous \
                and prediction.dtype.isnative:
            return prediction  # orjson writes these itself, much faster than tolist()
        return prediction.tolist() if prediction.dtype.kind != "M" else prediction.astype(str).tolist()
    if type(prediction).__module__.startswith("pandas"):
        import pandas as pd

        if isinstance(prediction, pd.Series):
            return jsonable(prediction.to_numpy())
        if isinstance(prediction, pd.DataFrame):
            return prediction.to_dict(orient="records")
    if isinstance(prediction, dict):
        return {str(k): jsonable(v) for k, v in prediction.items()}
    if isinstance(prediction, (list, tuple)):
        return [jsonable(v) for v in prediction]
    if "scipy.sparse" in type(prediction).__module__:
        return prediction.toarray().tolist()
    return prediction


def dumps(doc: Any) -> bytes:
    """``doc`` as JSON bytes; NaN and infinities become ``null`` (JSON has no such numbers)."""
    if _orjson is not None:
        return _orjson.dumps(doc, default=_default, option=_orjson.OPT_SERIALIZE_NUMPY | _orjson.OPT_NON_STR_KEYS)
    return json.dumps(_nan_to_none(doc), default=_default, allow_nan=False).encode()  # pragma: no cover


def _nan_to_none(value: Any) -> Any:  # pragma: no cover - the path without orjson
    if isinstance(value, float) and (value != value or value in (float("inf"), float("-inf"))):
        return None
    if isinstance(value, list):
        return [_nan_to_none(v) for v in value]
    if isinstance(value, dict):
        return {k: _nan_to_none(v) for k, v in value.items()}
    return value


def predictions_body(prediction: Any) -> bytes:
    """The answer to a successful request: ``{"predictions": ...}``."""
    return dumps({"predictions": jsonable(prediction)})


def example_request(example: Any) -> dict[str, Any] | None:
    """The saved input example as a request body ready to POST (``dataframe_split`` or ``inputs``)."""
    import numpy as np
    import pandas as pd

    if example is None:
        return None
    if isinstance(example, pd.DataFrame):
        frame = example.astype(object).where(example.notna(), None)
        columns = [c if isinstance(c, str) else int(c) for c in example.columns]
        return {"dataframe_split": {"columns": columns, "data": jsonable(frame.to_numpy().tolist())}}
    if isinstance(example, dict):
        return {"inputs": {k: np.asarray(v).tolist() for k, v in example.items()}}
    if isinstance(example, np.ndarray):
        return {"inputs": example.tolist()}
    if hasattr(example, "toarray"):
        return {"inputs": example.toarray().tolist()}
    return None
