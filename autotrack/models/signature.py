"""A model's signature: the schema of what it takes and, optionally, of what it returns."""

from __future__ import annotations

import json
from typing import Any

from autotrack.exceptions import InvalidParameterError
from autotrack.models.schema_inference import infer_schema
from autotrack.types import Schema


class ModelSignature:
    """``inputs`` (required) and ``outputs`` (optional) schemas of a model."""

    def __init__(self, inputs: Schema, outputs: Schema | None = None):
        if not isinstance(inputs, Schema):
            raise InvalidParameterError(
                f"ModelSignature inputs must be a Schema; got {type(inputs).__name__}. "
                "Build one with Schema([ColSpec(...), ...]) or use infer_signature(data)")
        if outputs is not None and not isinstance(outputs, Schema):
            raise InvalidParameterError(f"ModelSignature outputs must be a Schema or None; got {type(outputs).__name__}")
        self.inputs = inputs
        self.outputs = outputs

    def to_dict(self) -> dict[str, Any]:
        """JSON-able form: ``{"inputs": [...], "outputs": [...] or None}``."""
        return {"inputs": self.inputs.to_dict(), "outputs": self.outputs.to_dict() if self.outputs else None}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> ModelSignature:
        """Inverse of :meth:`to_dict`. Also accepts entries stored as JSON strings (MLflow's layout)."""
        def schema(value: Any) -> Schema | None:
            if value is None:
                return None
            return Schema.from_dict(json.loads(value) if isinstance(value, str) else value)

        if not isinstance(d, dict) or "inputs" not in d:
            raise InvalidParameterError(f"a signature dict needs an 'inputs' entry; got {d!r}")
        return cls(schema(d["inputs"]), schema(d.get("outputs")))  # type: ignore[arg-type]

    def __eq__(self, other: object) -> bool:
        return isinstance(other, ModelSignature) and (self.inputs, self.outputs) == (other.inputs, other.outputs)

    def __repr__(self) -> str:
        return f"inputs:\n  {self.inputs!r}\noutputs:\n  {self.outputs!r}\n"


def infer_signature(model_input: Any, model_output: Any = None) -> ModelSignature:
    """The signature of a model that takes ``model_input`` and returns ``model_output``.

    Accepts pandas DataFrames and Series, numpy arrays, dicts of arrays or of column values, lists of
    dicts and scipy sparse matrices. Columns give ColSpecs, arrays give TensorSpecs with a variable
    first dimension.
    """
    inputs = infer_schema(model_input, "model_input")
    outputs = infer_schema(model_output, "model_output") if model_output is not None else None
    return ModelSignature(inputs, outputs)


__all__ = ["ModelSignature", "infer_signature"]
