"""Signature parity with MLflow: NaN columns optional, numpy text as "str", integer column names,
and MLflow's Array, Object and Map types, inferred, serialised and enforced.

Where MLflow is installed (the test extra has it), the inferred schemas are compared with the JSON
MLflow's own inference writes for the same data.
"""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from autotrack.models.enforcement import enforce_schema
from autotrack.models.errors import SchemaEnforcementError
from autotrack.models.signature import infer_signature
from autotrack.types import Array, ColSpec, DataType, Map, Object, Property, Schema, TensorSpec

CASES = {
    "nan_float_column": lambda: pd.DataFrame({"a": [1.0, np.nan], "b": [1, 2]}),
    "numpy_text": lambda: np.array(["a", "bb"]),
    "numpy_bytes": lambda: np.array([b"a", b"bb"]),
    "integer_column_names": lambda: pd.DataFrame({0: [1.0, 2.0], 1: [3, 4]}),
    "frame_from_array": lambda: pd.DataFrame(np.zeros((2, 2))),
    "list_and_dict_columns": lambda: pd.DataFrame({"l": [[1, 2], [3]], "d": [{"x": 1}, {"x": 2}]}),
    "list_of_lists_column": lambda: pd.DataFrame({"ll": [[[1.0], [2.0]], [[3.0]]]}),
    "dicts_with_different_keys": lambda: pd.DataFrame({"m": [{"a": 1, "b": 2}, {"c": 3}]}),
    "optional_field": lambda: pd.DataFrame({"o": [{"x": 1, "y": "s"}, {"x": 2}]}),
    "list_with_missing_row": lambda: pd.DataFrame({"l": [[1], None]}),
    "list_of_dicts_column": lambda: pd.DataFrame({"l": [[{"a": 1}], [{"a": 2, "b": "x"}]]}),
    "dict_of_lists_field": lambda: pd.DataFrame({"d": [{"a": [1, 2]}, {"a": [3]}]}),
    "list_of_lists": lambda: [[1, 2], [3, 4]],
    "ragged_list_of_lists": lambda: [[1, 2], [3]],
    "string_column_with_none": lambda: pd.DataFrame({"s": ["x", None]}),
    "unnamed_series": lambda: pd.Series([1, 2]),
    "rows_with_a_list": lambda: [{"a": 1, "b": [1, 2]}],
}

EXPECTED = {  # what MLflow 3.17 writes for these inputs (checked against it below when it is installed)
    "nan_float_column": [{"type": "double", "name": "a", "required": False}, {"type": "long", "name": "b", "required": True}],
    "numpy_text": [{"type": "tensor", "tensor-spec": {"dtype": "str", "shape": [-1]}}],
    "numpy_bytes": [{"type": "tensor", "tensor-spec": {"dtype": "bytes", "shape": [-1]}}],
    "integer_column_names": [{"type": "double", "name": 0, "required": True}, {"type": "long", "name": 1, "required": True}],
    "frame_from_array": [{"type": "double", "name": 0, "required": True}, {"type": "double", "name": 1, "required": True}],
    "list_and_dict_columns": [
        {"type": "array", "items": {"type": "long"}, "name": "l", "required": True},
        {"type": "object", "properties": {"x": {"type": "long", "required": True}}, "name": "d", "required": True}],
    "list_of_lists_column": [{"type": "array", "items": {"type": "array", "items": {"type": "double"}}, "name": "ll", "required": True}],
    "dicts_with_different_keys": [{"type": "object", "properties": {
        "a": {"type": "long", "required": False}, "b": {"type": "long", "required": False}, "c": {"type": "long", "required": False}},
        "name": "m", "required": True}],
    "optional_field": [{"type": "object", "properties": {
        "x": {"type": "long", "required": True}, "y": {"type": "string", "required": False}}, "name": "o", "required": True}],
    "list_with_missing_row": [{"type": "array", "items": {"type": "long"}, "name": "l", "required": False}],
    "list_of_dicts_column": [{"type": "array", "items": {"type": "object", "properties": {
        "a": {"type": "long", "required": True}, "b": {"type": "string", "required": False}}}, "name": "l", "required": True}],
    "dict_of_lists_field": [{"type": "object", "properties": {"a": {"type": "array", "items": {"type": "long"}, "required": True}},
                             "name": "d", "required": True}],
    "list_of_lists": [{"type": "array", "items": {"type": "long"}, "required": True}],
    "ragged_list_of_lists": [{"type": "array", "items": {"type": "long"}, "required": True}],
    "string_column_with_none": [{"type": "string", "name": "s", "required": False}],
    "unnamed_series": [{"type": "long", "required": True}],
    "rows_with_a_list": [{"type": "long", "name": "a", "required": True}, {"type": "array", "items": {"type": "long"}, "name": "b", "required": True}],
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_inferred_schema_json(case):
    schema = infer_signature(CASES[case]()).inputs
    written = json.loads(json.dumps(schema.to_dict()))
    assert written == EXPECTED[case]
    assert Schema.from_dict(written) == schema  # and it reads back


@pytest.mark.parametrize("case", sorted(CASES))
def test_same_json_as_mlflow(case):
    utils = pytest.importorskip("mlflow.types.utils")
    assert json.loads(json.dumps(utils._infer_schema(CASES[case]()).to_dict())) == EXPECTED[case]


def test_mlflow_reads_what_autotrack_writes_and_back():
    schema_module = pytest.importorskip("mlflow.types.schema")
    ours = Schema([
        ColSpec(Array(DataType.long), "l"), ColSpec(Object([Property("x", DataType.long), Property("y", DataType.string, required=False)]), "o"),
        ColSpec(Map(DataType.double), "m"), ColSpec(Array(Array(DataType.double)), "ll"), ColSpec(DataType.double, 0, required=False),
    ])
    theirs = schema_module.Schema.from_json(json.dumps(ours.to_dict()))
    assert theirs.to_dict() == ours.to_dict()
    assert Schema.from_dict(theirs.to_dict()) == ours


def test_reprs():
    assert repr(Array(Array(DataType.double))) == "Array(Array(double))"
    assert repr(Map(DataType.long)) == "Map(str -> long)"
    assert repr(Object([Property("y", "string", False), Property("x", DataType.long)])) == "{x: long (required), y: string (optional)}"
    assert repr(TensorSpec(np.dtype("<U7"), (-1,))) == "Tensor('str', (-1,))"
    assert TensorSpec("<U7", (-1,)) == TensorSpec(str, (-1,))


NESTED = Schema([
    ColSpec(Array(DataType.long), "l"),
    ColSpec(Object([Property("x", DataType.long), Property("y", DataType.string, required=False)]), "o"),
    ColSpec(Map(DataType.double), "m"),
])


def _frame(l=(1, 2), o=None, m=None):
    return pd.DataFrame({"l": [list(l)], "o": [o if o is not None else {"x": 1}], "m": [m if m is not None else {"a": 1.0}]})


def test_nested_values_that_fit_pass_and_are_converted():
    out = enforce_schema(_frame(l=np.array([1, 2]), o={"x": np.int64(3), "y": "s"}, m={"a": 1}), NESTED)
    assert out["l"].tolist() == [[1, 2]]
    assert out["o"].tolist() == [{"x": 3, "y": "s"}]
    assert out["m"].tolist() == [{"a": 1.0}] and isinstance(out["m"][0]["a"], float)  # int widened to double


@pytest.mark.parametrize("frame, message", [
    (lambda: _frame(l=(1.5,)), "Input column 'l', row 0[0]: expected long, got float 1.5; converting would lose information"),
    (lambda: pd.DataFrame({"l": [1], "o": [{"x": 1}], "m": [{"a": 1.0}]}), "Input column 'l', row 0: expected Array(long), got int 1 (not a list)"),
    (lambda: _frame(o={"y": "s"}), "Input column 'o', row 0: expected {x: long (required), y: string (optional)}, got a dict without the required field(s) ['x']"),
    (lambda: _frame(o={"x": 1, "z": 2}), "got the field(s) ['z'], which the signature does not declare (declared: ['x', 'y'])"),
    (lambda: _frame(o={"x": "1"}), "Input column 'o', row 0['x']: expected long, got str '1'"),
    (lambda: _frame(m={"a": "text"}), "Input column 'm', row 0['a']: expected double, got str 'text'"),
    (lambda: _frame(m={1: 1.0}), "Input column 'm', row 0: expected Map(str -> double), got the key 1; a Map's keys are strings"),
    (lambda: pd.DataFrame({"l": [None], "o": [{"x": 1}], "m": [{"a": 1.0}]}), "Input column 'l', row 0: the column is required and the value is missing"),
])
def test_nested_values_that_do_not_fit_are_errors_naming_the_place(frame, message):
    with pytest.raises(SchemaEnforcementError) as caught:
        enforce_schema(frame(), NESTED)
    assert message in str(caught.value)


def test_list_of_lists_enforced_against_an_array_column():
    schema = infer_signature([[1, 2], [3]]).inputs
    out = enforce_schema([[4], [5, 6]], schema)
    assert out.iloc[:, 0].tolist() == [[4], [5, 6]]
    with pytest.raises(SchemaEnforcementError, match="expected long, got str 'x'"):
        enforce_schema([["x"]], schema)


def test_numpy_text_of_any_length_fits_a_str_tensor():
    schema = infer_signature(np.array(["a", "bb"])).inputs
    assert enforce_schema(np.array(["a much longer text"]), schema).tolist() == ["a much longer text"]
    with pytest.raises(SchemaEnforcementError, match="expected dtype"):
        enforce_schema(np.array([1.5]), schema)


def test_integer_column_names_are_matched_by_name():
    schema = infer_signature(pd.DataFrame({0: [1.0], 1: [2]})).inputs
    out = enforce_schema(pd.DataFrame({1: [5], 0: [2.5]}), schema)
    assert list(out.columns) == [0, 1] and out[0].tolist() == [2.5]


def test_nan_column_is_optional_and_may_be_left_out():
    schema = infer_signature(pd.DataFrame({"a": [1.0, np.nan], "b": [1, 2]})).inputs
    assert [(s.name, s.required) for s in schema] == [("a", False), ("b", True)]
    assert list(enforce_schema(pd.DataFrame({"b": [3]}), schema).columns) == ["b"]


def test_model_with_nested_signature_round_trips_through_its_folder(tmp_path):
    import autotrack.pyfunc
    from autotrack.models import load_model

    class Echo:
        def predict(self, data):
            return pd.Series([len(v) for v in data["l"]])

    example = pd.DataFrame({"l": [[1, 2], [3]], "o": [{"x": 1}, {"x": 2, "y": "s"}]})
    autotrack.pyfunc.save_model(Echo(), str(tmp_path / "m"), input_example=example)
    model = load_model(str(tmp_path / "m"))
    assert model.metadata.signature.inputs.to_dict()[0] == {"type": "array", "items": {"type": "long"}, "name": "l", "required": True}
    assert list(model.predict(example)) == [2, 1]
    with pytest.raises(SchemaEnforcementError, match="row 0"):
        model.predict(pd.DataFrame({"l": [["a"]], "o": [{"x": 1}]}))
