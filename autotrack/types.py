"""Data types and schemas that describe a model's inputs and outputs.

A :class:`Schema` is either a list of :class:`ColSpec` (tabular data: one entry per column) or a list
of :class:`TensorSpec` (arrays: dtype and shape). A column holds values of a :class:`DataType`, or,
as in MLflow, lists (:class:`Array`), records with named fields (:class:`Object` of
:class:`Property`) or string-keyed dicts (:class:`Map`); these nest (``Array(Array(DataType.double))``). Schemas serialise to plain JSON-able lists so they
can be stored in a model's metadata file. This module imports numpy only inside the methods that
need it, so ``import autotrack.types`` stays cheap.
"""

from __future__ import annotations

from enum import Enum
from typing import Any, Iterable, Sequence

from autotrack.exceptions import InvalidParameterError


class DataType(Enum):
    """The column types a :class:`ColSpec` may declare."""

    boolean = "boolean"
    integer = "integer"  # 32-bit signed
    long = "long"  # 64-bit signed
    float = "float"  # 32-bit IEEE
    double = "double"  # 64-bit IEEE
    string = "string"
    binary = "binary"  # bytes
    datetime = "datetime"  # numpy datetime64[ns]

    def __repr__(self) -> str:
        return f"DataType.{self.name}"

    def __str__(self) -> str:
        return self.name

    def to_numpy(self):
        """The numpy dtype values of this type are held in (``object`` for string and binary)."""
        import numpy as np

        return np.dtype(_NUMPY_NAMES[self])

    @classmethod
    def from_name(cls, name: str | DataType, field: str = "type") -> DataType:
        """``DataType`` for a name such as ``"double"``; a clear error naming ``field`` otherwise."""
        if isinstance(name, DataType):
            return name
        try:
            return cls[name]
        except (KeyError, TypeError):
            raise InvalidParameterError(
                f"{field}={name!r} is not a data type; accepted: {', '.join(t.name for t in cls)}"
            ) from None


_NUMPY_NAMES = {
    DataType.boolean: "bool",
    DataType.integer: "int32",
    DataType.long: "int64",
    DataType.float: "float32",
    DataType.double: "float64",
    DataType.string: "object",
    DataType.binary: "object",
    DataType.datetime: "datetime64[ns]",
}


class Array:
    """A column (or field) whose values are lists, each element of ``dtype`` (which may nest)."""

    def __init__(self, dtype: DataType | str | Array | Object | Map):
        self.dtype = _value_type(dtype, "Array dtype")

    def to_dict(self) -> dict[str, Any]:
        """``{"type": "array", "items": {"type": "long"}}``, MLflow's form."""
        return {"type": "array", "items": _type_dict(self.dtype)}

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Array) and self.dtype == other.dtype

    def __hash__(self) -> int:
        return hash(("array", self.dtype))

    def __repr__(self) -> str:
        return f"Array({_type_repr(self.dtype)})"


class Property:
    """One named field of an :class:`Object`: its type and whether every record must have it."""

    def __init__(self, name: str, dtype: DataType | str | Array | Object | Map, required: bool = True):
        if not isinstance(name, str):
            raise InvalidParameterError(f"Property name={name!r} must be a string")
        self.name = name
        self.dtype = _value_type(dtype, f"Property {name!r} dtype")
        self.required = bool(required)

    def to_dict(self) -> dict[str, Any]:
        """``{name: {"type": ..., "required": ...}}``, MLflow's form."""
        return {self.name: {**_type_dict(self.dtype), "required": self.required}}

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Property) and (self.name, self.dtype, self.required) == (other.name, other.dtype, other.required)

    def __hash__(self) -> int:
        return hash((self.name, self.dtype, self.required))

    def __repr__(self) -> str:
        return f"{self.name}: {_type_repr(self.dtype)} ({'required' if self.required else 'optional'})"


class Object:
    """A column (or field) whose values are dicts with the given properties (fields), sorted by name."""

    def __init__(self, properties: Iterable[Property]):
        self.properties = sorted(properties, key=lambda p: p.name) if properties is not None else []
        bad = [p for p in self.properties if not isinstance(p, Property)]
        if bad or not self.properties:
            raise InvalidParameterError(f"Object needs a non-empty list of Property; got {bad[0] if bad else 'none'!r}")
        names = [p.name for p in self.properties]
        repeated = sorted({n for n in names if names.count(n) > 1})
        if repeated:
            raise InvalidParameterError(f"Object property names must be unique; repeated: {repeated}")

    def to_dict(self) -> dict[str, Any]:
        """``{"type": "object", "properties": {"x": {"type": "long", "required": true}}}``."""
        properties: dict[str, Any] = {}
        for prop in self.properties:
            properties.update(prop.to_dict())
        return {"type": "object", "properties": properties}

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Object) and self.properties == other.properties

    def __hash__(self) -> int:
        return hash(("object", tuple(self.properties)))

    def __repr__(self) -> str:
        return "{" + ", ".join(repr(p) for p in self.properties) + "}"


class Map:
    """A column (or field) whose values are dicts from strings to values of ``value_type``."""

    def __init__(self, value_type: DataType | str | Array | Object | Map):
        self.value_type = _value_type(value_type, "Map value_type")

    def to_dict(self) -> dict[str, Any]:
        """``{"type": "map", "values": {"type": "double"}}``."""
        return {"type": "map", "values": _type_dict(self.value_type)}

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Map) and self.value_type == other.value_type

    def __hash__(self) -> int:
        return hash(("map", self.value_type))

    def __repr__(self) -> str:
        return f"Map(str -> {_type_repr(self.value_type)})"


ValueType = DataType | Array | Object | Map


def _value_type(dtype: Any, field: str) -> ValueType:
    if isinstance(dtype, (DataType, Array, Object, Map)):
        return dtype
    if isinstance(dtype, str):
        return DataType.from_name(dtype, field)
    raise InvalidParameterError(
        f"{field}={dtype!r} is not a type; accepted: a DataType ({', '.join(t.name for t in DataType)}), Array, Object or Map")


def _type_dict(dtype: ValueType) -> dict[str, Any]:
    return {"type": dtype.name} if isinstance(dtype, DataType) else dtype.to_dict()


def _type_repr(dtype: ValueType) -> str:
    return dtype.name if isinstance(dtype, DataType) else repr(dtype)


def type_from_dict(d: dict[str, Any], field: str = "type") -> ValueType:
    """A value type from its JSON form: ``{"type": "long"}``, ``{"type": "array", "items": ...}``, ..."""
    kind = d.get("type")
    if kind == "array":
        return Array(type_from_dict(d["items"], f"{field} items"))
    if kind == "object":
        return Object([Property(name, type_from_dict(p, f"{field} property {name!r}"), p.get("required", True))
                       for name, p in d["properties"].items()])
    if kind == "map":
        return Map(type_from_dict(d["values"], f"{field} values"))
    return DataType.from_name(kind, field)


class ColSpec:
    """One column of tabular data: its type, optional name and whether it must be present.

    The name is a string, or an integer for the integer-labelled columns of a DataFrame (kept as
    MLflow keeps them); ``None`` for an unnamed column, matched by position.
    """

    def __init__(self, type: DataType | str | Array | Object | Map, name: str | int | None = None, required: bool = True):
        self.type = _value_type(type, "ColSpec type")
        if name is not None and (not isinstance(name, (str, int)) or isinstance(name, bool)):
            raise InvalidParameterError(f"ColSpec name={name!r} must be a string, an integer or None")
        self.name = name
        self.required = bool(required)

    def to_dict(self) -> dict[str, Any]:
        """JSON-able form: ``{"type": "double", "name": "salary", "required": true}``."""
        out: dict[str, Any] = _type_dict(self.type)
        if self.name is not None:
            out["name"] = self.name
        out["required"] = self.required
        return out

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> ColSpec:
        """Inverse of :meth:`to_dict`."""
        return cls(type_from_dict(d, "ColSpec type"), d.get("name"), d.get("required", True))

    def __eq__(self, other: object) -> bool:
        return isinstance(other, ColSpec) and (self.type, self.name, self.required) == (
            other.type, other.name, other.required)

    def __hash__(self) -> int:
        return hash((self.type, self.name, self.required))

    def __repr__(self) -> str:
        optional = "" if self.required else " (optional)"
        body = _type_repr(self.type)
        return f"{self.name!r}: {body}{optional}" if self.name is not None else f"{body}{optional}"


class TensorSpec:
    """An array: numpy dtype, shape (``-1`` marks a dimension of any size) and optional name."""

    def __init__(self, dtype: Any, shape: Sequence[int], name: str | None = None):
        import numpy as np

        try:
            self.dtype = np.dtype(dtype)
        except TypeError:
            raise InvalidParameterError(
                f"TensorSpec dtype={dtype!r} is not a numpy dtype; use e.g. numpy.float64 or 'int32'") from None
        if self.dtype.kind in "US":
            # like MLflow: text is "str" and bytes are "bytes", whatever their length in the example
            self.dtype = np.dtype(str) if self.dtype.kind == "U" else np.dtype(bytes)
        if self.dtype.kind == "O":
            raise InvalidParameterError(
                "TensorSpec dtype=object is not accepted: an object array has no fixed element type; "
                "use a ColSpec schema (a DataFrame) for strings or mixed values")
        try:
            self.shape = tuple(int(d) for d in shape)
        except (TypeError, ValueError):
            raise InvalidParameterError(f"TensorSpec shape={shape!r} must be a sequence of integers") from None
        if any(d < -1 for d in self.shape):
            raise InvalidParameterError(f"TensorSpec shape={shape!r}: dimensions must be >= 0, or -1 for any size")
        if name is not None and not isinstance(name, str):
            raise InvalidParameterError(f"TensorSpec name={name!r} must be a string or None")
        self.name = name

    @property
    def type(self):
        """The numpy dtype (same as :attr:`dtype`; for symmetry with :attr:`ColSpec.type`)."""
        return self.dtype

    def to_dict(self) -> dict[str, Any]:
        """JSON-able form: ``{"type": "tensor", "tensor-spec": {"dtype": "float64", "shape": [-1, 4]}}``."""
        # numeric dtypes by name ("float64"), text as "str" and "bytes" (MLflow's names), datetimes by
        # their exact code ("<M8[ns]")
        kind = self.dtype.kind
        dtype = self.dtype.name if kind in "biufc" else "str" if kind == "U" else "bytes" if kind == "S" else self.dtype.str
        out: dict[str, Any] = {"type": "tensor", "tensor-spec": {"dtype": dtype, "shape": list(self.shape)}}
        if self.name is not None:
            out["name"] = self.name
        return out

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> TensorSpec:
        """Inverse of :meth:`to_dict`."""
        spec = d["tensor-spec"]
        return cls(spec["dtype"], spec["shape"], d.get("name"))

    def __eq__(self, other: object) -> bool:
        return isinstance(other, TensorSpec) and (self.dtype, self.shape, self.name) == (
            other.dtype, other.shape, other.name)

    def __hash__(self) -> int:
        return hash((self.dtype.str, self.shape, self.name))

    def __repr__(self) -> str:
        kind = self.dtype.kind
        name = "str" if kind == "U" else "bytes" if kind == "S" else self.dtype.name
        body = f"Tensor({name!r}, {self.shape})"
        return f"{self.name!r}: {body}" if self.name is not None else body


Spec = ColSpec | TensorSpec


class Schema:
    """An ordered list of specs: all ColSpec or all TensorSpec, all named or all unnamed."""

    def __init__(self, inputs: Iterable[Spec]):
        self.inputs: list[Spec] = list(inputs)
        if not self.inputs:
            raise InvalidParameterError("Schema needs at least one ColSpec or TensorSpec; got an empty list")
        bad = [s for s in self.inputs if not isinstance(s, (ColSpec, TensorSpec))]
        if bad:
            raise InvalidParameterError(
                f"Schema entries must be ColSpec or TensorSpec; got {type(bad[0]).__name__}: {bad[0]!r}")
        kinds = {type(s) for s in self.inputs}
        if len(kinds) > 1:
            raise InvalidParameterError(
                "Schema mixes ColSpec and TensorSpec entries; a schema is either tabular (ColSpec) or tensors (TensorSpec)")
        named = [s.name is not None for s in self.inputs]
        if any(named) and not all(named):
            unnamed = [i for i, n in enumerate(named) if not n]
            raise InvalidParameterError(
                f"Schema entries must be all named or all unnamed; entries at positions {unnamed} have no name")
        names = [s.name for s in self.inputs if s.name is not None]
        duplicates = sorted({n for n in names if names.count(n) > 1})
        if duplicates:
            raise InvalidParameterError(f"Schema names must be unique; repeated: {duplicates}")

    def is_tensor_spec(self) -> bool:
        """True when the schema describes arrays (TensorSpec entries)."""
        return isinstance(self.inputs[0], TensorSpec)

    def has_input_names(self) -> bool:
        """True when every entry has a name."""
        return self.inputs[0].name is not None

    def input_names(self) -> list[str | int]:
        """Names of the entries, or their positions when unnamed."""
        return [s.name if s.name is not None else i for i, s in enumerate(self.inputs)]

    def required_input_names(self) -> list[str | int]:
        """Names (or positions) of entries that must be present."""
        return [n for n, s in zip(self.input_names(), self.inputs) if getattr(s, "required", True)]

    def to_dict(self) -> list[dict[str, Any]]:
        """JSON-able list of the entries' dicts."""
        return [s.to_dict() for s in self.inputs]

    @classmethod
    def from_dict(cls, entries: list[dict[str, Any]]) -> Schema:
        """Inverse of :meth:`to_dict`."""
        if not isinstance(entries, list):
            raise InvalidParameterError(f"a schema must be a list of entries; got {type(entries).__name__}")
        return cls(TensorSpec.from_dict(e) if e.get("type") == "tensor" else ColSpec.from_dict(e) for e in entries)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Schema) and self.inputs == other.inputs

    def __iter__(self):
        return iter(self.inputs)

    def __len__(self) -> int:
        return len(self.inputs)

    def __repr__(self) -> str:
        return "[" + ", ".join(repr(s) for s in self.inputs) + "]"


__all__ = ["DataType", "ColSpec", "TensorSpec", "Schema", "Array", "Object", "Property", "Map"]
