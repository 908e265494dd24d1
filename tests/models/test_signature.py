"""Types, schemas, ModelSignature and infer_signature, including the tutorial's examples."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
import scipy.sparse

from autotrack.exceptions import InvalidParameterError
from autotrack.models import ModelSignature
from autotrack.models.signature import infer_signature
from autotrack.types import ColSpec, DataType, Schema, TensorSpec


def test_tutorial_manual_signature_round_trips_through_json():
    input_schema = Schema([ColSpec(DataType.integer, "age"), ColSpec(DataType.double, "salary")])
    output_schema = Schema([ColSpec(DataType.double, "predicted_salary")])
    signature = ModelSignature(inputs=input_schema, outputs=output_schema)

    d = json.loads(json.dumps(signature.to_dict()))
    assert d == {
        "inputs": [{"type": "integer", "name": "age", "required": True},
                   {"type": "double", "name": "salary", "required": True}],
        "outputs": [{"type": "double", "name": "predicted_salary", "required": True}],
    }
    assert ModelSignature.from_dict(d) == signature


def test_tutorial_inferred_signature_from_dataframes():
    input_example = pd.DataFrame({"age": [25, 30, 35], "salary": [50000, 60000, 70000]})
    output_example = pd.DataFrame({"predicted_salary": [52000, 61000, 73000]})
    signature = infer_signature(input_example, output_example)
    assert signature.inputs == Schema([ColSpec(DataType.long, "age"), ColSpec(DataType.long, "salary")])
    assert signature.outputs == Schema([ColSpec(DataType.long, "predicted_salary")])


def test_infer_column_types():  # f64 holds a NaN: optional, as MLflow infers it
    df = pd.DataFrame({
        "b": [True, False], "i32": np.array([1, 2], dtype=np.int32), "i64": [1, 2],
        "f32": np.array([1.0, 2.0], dtype=np.float32), "f64": [1.5, np.nan], "s": ["x", "y"],
        "bin": [b"a", b"b"], "t": pd.to_datetime(["2024-01-01", "2024-01-02"]), "opt": ["x", None],
    })
    inputs = infer_signature(df).inputs
    assert [(s.name, s.type, s.required) for s in inputs] == [
        ("b", DataType.boolean, True), ("i32", DataType.integer, True), ("i64", DataType.long, True),
        ("f32", DataType.float, True), ("f64", DataType.double, False), ("s", DataType.string, True),
        ("bin", DataType.binary, True), ("t", DataType.datetime, True), ("opt", DataType.string, False),
    ]


def test_infer_from_numpy_gives_tensor_with_variable_batch():
    signature = infer_signature(np.zeros((5, 4), dtype=np.float32), np.zeros(5))
    assert signature.inputs == Schema([TensorSpec(np.float32, (-1, 4))])
    assert signature.outputs == Schema([TensorSpec(np.float64, (-1,))])


def test_infer_from_series_dict_of_arrays_list_of_dicts_and_sparse():
    assert infer_signature(pd.Series([1.0, 2.0], name="y")).inputs == Schema([ColSpec(DataType.double, "y")])
    assert infer_signature(pd.Series(["a"])).inputs == Schema([ColSpec(DataType.string)])
    tensors = infer_signature({"img": np.zeros((2, 3, 3), dtype=np.uint8), "meta": np.zeros((2, 1))}).inputs
    assert tensors == Schema([TensorSpec(np.uint8, (-1, 3, 3), "img"), TensorSpec(np.float64, (-1, 1), "meta")])
    rows = infer_signature([{"a": 1, "b": "x"}, {"a": 2, "b": None}]).inputs
    assert rows == Schema([ColSpec(DataType.long, "a"), ColSpec(DataType.string, "b", required=False)])
    assert infer_signature({"a": 1.5, "b": "x"}).inputs == Schema([ColSpec(DataType.double, "a"), ColSpec(DataType.string, "b")])
    sparse = infer_signature(scipy.sparse.csr_matrix(np.eye(3, 7))).inputs
    assert sparse == Schema([TensorSpec(np.float64, (-1, 7))])


def test_tensor_spec_round_trip_and_string_dtype():
    schema = Schema([TensorSpec(np.int32, (-1, 2), "x"), TensorSpec("<U3", (-1,), "y")])
    assert Schema.from_dict(json.loads(json.dumps(schema.to_dict()))) == schema


def test_schema_rules_are_enforced_with_clear_messages():
    with pytest.raises(InvalidParameterError, match="mixes ColSpec and TensorSpec"):
        Schema([ColSpec("double", "a"), TensorSpec(np.float64, (-1,), "b")])
    with pytest.raises(InvalidParameterError, match=r"all named or all unnamed.*positions \[1\]"):
        Schema([ColSpec("double", "a"), ColSpec("double")])
    with pytest.raises(InvalidParameterError, match=r"repeated: \['a'\]"):
        Schema([ColSpec("double", "a"), ColSpec("long", "a")])
    with pytest.raises(InvalidParameterError, match="'decimal' is not a data type; accepted: boolean, integer"):
        ColSpec("decimal", "a")
    with pytest.raises(InvalidParameterError, match="shape"):
        TensorSpec(np.float64, (-2, 3))
    with pytest.raises(InvalidParameterError, match="inputs must be a Schema"):
        ModelSignature(inputs=[ColSpec("double", "a")])  # type: ignore[arg-type]


def test_infer_rejects_mixed_and_unsupported_data():
    with pytest.raises(InvalidParameterError, match=r"model_input column 'm' holds values of types \['int', 'str'\]"):
        infer_signature(pd.DataFrame({"m": [1, "x"]}))
    with pytest.raises(InvalidParameterError, match="type str is not supported; accepted: pandas DataFrame"):
        infer_signature("text")
    with pytest.raises(InvalidParameterError, match="only missing values"):
        infer_signature(pd.DataFrame({"n": [None, None]}))


def test_data_type_to_numpy():
    assert DataType.integer.to_numpy() == np.int32
    assert DataType.double.to_numpy() == np.float64
    assert DataType.string.to_numpy() == np.dtype(object)
