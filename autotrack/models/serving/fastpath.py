"""Single-row requests straight to the model's input, without the general parsing and enforcement.

A request for one row spends most of its time in pandas when it goes the general way (a DataFrame
from the JSON, then enforcement column by column). When the signature declares named columns of
numbers, booleans or strings, one row whose values already have the declared types can be turned into
the enforced input directly: the values are checked in plain Python and the DataFrame is built once,
from one numpy row when every column has the same dtype.

The fast path never decides an error: anything it does not recognise as clean (a missing, extra or
``null`` value, a value of another type, several rows) returns ``None`` and the request goes the general
way, whose enforcement gives the answer and the message. So both ways accept the same requests and
produce the same input.
"""

from __future__ import annotations

from typing import Any, Callable

from autotrack.types import ColSpec, DataType, Schema

_INT32 = (-(2**31), 2**31 - 1)
_INT64 = (-(2**63), 2**63 - 1)


def _is_number(v: Any) -> bool:
    t = type(v)
    return t is float or t is int  # bool is excluded: type(True) is bool


def _is_long(v: Any) -> bool:
    return type(v) is int and _INT64[0] <= v <= _INT64[1]


def _is_integer(v: Any) -> bool:
    return type(v) is int and _INT32[0] <= v <= _INT32[1]


# declared type -> (does a JSON value have it, numpy dtype of the enforced column)
_CHECKS: dict[DataType, tuple[Callable[[Any], bool], str]] = {
    DataType.double: (_is_number, "float64"),
    DataType.float: (_is_number, "float32"),  # JSON numbers carry no width (see protocol)
    DataType.long: (_is_long, "int64"),
    DataType.integer: (_is_integer, "int32"),
    DataType.boolean: (lambda v: type(v) is bool, "bool"),
    DataType.string: (lambda v: type(v) is str, "object"),
}


class SingleRowFastPath:
    """Builds the enforced one-row DataFrame for a clean single-row request; ``None`` otherwise."""

    def __init__(self, names: list[str], checks: list[Callable[[Any], bool]], dtypes: list[str]):
        import numpy as np
        import pandas as pd

        self._pd = pd
        self._np = np
        self.names = names
        self._name_set = frozenset(names)
        self._checks = list(zip(names, checks))
        self._dtypes = dtypes
        self._one_dtype = dtypes[0] if len(set(dtypes)) == 1 and dtypes[0] != "object" else None
        self._columns = pd.Index(names)

    @classmethod
    def for_schema(cls, schema: Schema | None) -> SingleRowFastPath | None:
        """A fast path for ``schema``, or ``None`` when it declares tensors, unnamed columns or other types."""
        if schema is None or schema.is_tensor_spec() or not schema.has_input_names():
            return None
        specs: list[ColSpec] = list(schema.inputs)  # type: ignore[arg-type]
        if any(s.type not in _CHECKS for s in specs):
            return None
        return cls([s.name for s in specs], [_CHECKS[s.type][0] for s in specs],  # type: ignore[misc]
                   [_CHECKS[s.type][1] for s in specs])

    def from_record(self, row: Any) -> Any:
        """The enforced input for one ``{"column": value}`` row, or ``None`` to take the general way."""
        if type(row) is not dict or len(row) != len(self.names) or row.keys() != self._name_set:
            return None
        values = []
        for name, check in self._checks:
            value = row[name]
            if not check(value):
                return None
            values.append(value)
        return self._frame(values)

    def from_split(self, split: Any) -> Any:
        """The enforced input for ``{"columns": [...], "data": [[...]]}`` holding one row, or ``None``."""
        if type(split) is not dict or split.keys() - {"columns", "data"}:
            return None
        columns, data = split.get("columns"), split.get("data")
        if type(columns) is not list or type(data) is not list or len(data) != 1 or type(data[0]) is not list \
                or len(columns) != len(data[0]):
            return None
        try:
            row = dict(zip(columns, data[0]))
        except TypeError:  # an unhashable column name: the general way says what is wrong
            return None
        return self.from_record(row) if len(row) == len(columns) else None

    def _frame(self, values: list[Any]) -> Any:
        np = self._np
        if self._one_dtype is not None:
            return self._pd.DataFrame(np.array([values], dtype=self._one_dtype), columns=self._columns, copy=False)
        return self._pd.DataFrame({n: np.array([v], dtype=t) for n, v, t in zip(self.names, values, self._dtypes)})
