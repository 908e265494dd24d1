"""One test per enforcement rule, checking the outcome and the exact message."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from autotrack.models import SchemaEnforcementError
from autotrack.models.enforcement import enforce_output, enforce_schema
from autotrack.types import ColSpec, DataType, Schema, TensorSpec

TUTORIAL_INPUTS = Schema([ColSpec(DataType.integer, "age"), ColSpec(DataType.double, "salary")])
TUTORIAL_OUTPUTS = Schema([ColSpec(DataType.double, "predicted_salary")])


def test_columns_are_put_in_signature_order_and_widened():
    out = enforce_schema(pd.DataFrame({"salary": [50000, 60000], "age": [25, 30]}), TUTORIAL_INPUTS)
    assert list(out.columns) == ["age", "salary"]
    assert out["age"].dtype == np.int32 and out["salary"].dtype == np.float64
    assert out["salary"].tolist() == [50000.0, 60000.0]


def test_missing_required_column_is_named():
    with pytest.raises(SchemaEnforcementError, match=r"Input is missing required column\(s\) \['age'\]"):
        enforce_schema(pd.DataFrame({"salary": [1.0]}), TUTORIAL_INPUTS)


def test_extra_columns_are_dropped_with_a_warning():
    with pytest.warns(UserWarning, match=r"\['bonus'\] are not in the model signature and were dropped"):
        out = enforce_schema(pd.DataFrame({"age": [1], "salary": [2.0], "bonus": [3]}), TUTORIAL_INPUTS)
    assert list(out.columns) == ["age", "salary"]


def test_optional_column_may_be_absent_but_is_checked_when_present():
    schema = Schema([ColSpec("double", "x"), ColSpec("string", "note", required=False)])
    assert list(enforce_schema(pd.DataFrame({"x": [1.0]}), schema).columns) == ["x"]
    with pytest.raises(SchemaEnforcementError, match="Input column 'note': expected string, got long"):
        enforce_schema(pd.DataFrame({"x": [1.0], "note": [3]}), schema)


@pytest.mark.parametrize("declared, values, dtype", [
    ("long", [1, 2], np.int32), ("float", [1, 2], np.int64), ("double", [1, 2], np.int32),
    ("double", [1.5, 2.5], np.float32), ("double", [1, 2], np.int64),
])
def test_safe_widening_is_allowed(declared, values, dtype):
    schema = Schema([ColSpec(declared, "v")])
    out = enforce_schema(pd.DataFrame({"v": np.array(values, dtype=dtype)}), schema)
    assert out["v"].dtype == DataType[declared].to_numpy()
    assert out["v"].tolist() == pytest.approx(values)


def test_double_to_integer_is_refused_naming_column_and_types():
    with pytest.raises(SchemaEnforcementError) as err:
        enforce_schema(pd.DataFrame({"age": [25.5], "salary": [1.0]}), TUTORIAL_INPUTS)
    assert str(err.value) == ("Input column 'age': expected integer, got double; accepted for integer: integer, "
                              "long values within the 32-bit range. Converting would lose information")


def test_string_to_number_is_refused():
    with pytest.raises(SchemaEnforcementError, match="Input column 'salary': expected double, got string"):
        enforce_schema(pd.DataFrame({"age": [25], "salary": ["50000"]}), TUTORIAL_INPUTS)


def test_double_to_float_is_refused():
    with pytest.raises(SchemaEnforcementError, match="Input column 'x': expected float, got double"):
        enforce_schema(pd.DataFrame({"x": [0.1]}), Schema([ColSpec("float", "x")]))


def test_long_narrows_to_integer_only_within_32_bits():
    ok = enforce_schema(pd.DataFrame({"age": [25, 30], "salary": [1.0, 2.0]}), TUTORIAL_INPUTS)
    assert ok["age"].dtype == np.int32
    with pytest.raises(SchemaEnforcementError, match="Value 4294967296 does not fit in a 32-bit integer"):
        enforce_schema(pd.DataFrame({"age": [2**32], "salary": [1.0]}), TUTORIAL_INPUTS)


def test_missing_values_in_integer_column_get_a_hint():
    with pytest.raises(SchemaEnforcementError, match="column has missing values"):
        enforce_schema(pd.DataFrame({"age": [25, None], "salary": [1.0, 2.0]}), TUTORIAL_INPUTS)


def test_object_columns_are_inferred_before_checking():
    out = enforce_schema(pd.DataFrame({"age": pd.Series([1, 2], dtype=object), "salary": [1.0, 2.0]}), TUTORIAL_INPUTS)
    assert out["age"].dtype == np.int32


def test_dicts_and_lists_of_dicts_become_a_dataframe():
    from_dict = enforce_schema({"salary": 1, "age": 2}, TUTORIAL_INPUTS)
    assert isinstance(from_dict, pd.DataFrame) and from_dict.to_dict("records") == [{"age": 2, "salary": 1.0}]
    from_rows = enforce_schema([{"age": 1, "salary": 2.0}, {"age": 3, "salary": 4.0}], TUTORIAL_INPUTS)
    assert from_rows["age"].tolist() == [1, 3]


def test_array_against_columns_takes_signature_names():
    out = enforce_schema(np.array([[25, 50000.0]]), Schema([ColSpec("double", "age"), ColSpec("double", "salary")]))
    assert list(out.columns) == ["age", "salary"]
    with pytest.raises(SchemaEnforcementError, match=r"array of shape \(1, 3\); the signature declares 2 columns"):
        enforce_schema(np.zeros((1, 3)), TUTORIAL_INPUTS)


def test_tensor_dtype_and_shape_with_variable_dimension():
    schema = Schema([TensorSpec(np.float64, (-1, 3))])
    out = enforce_schema(np.ones((7, 3), dtype=np.float32), schema)
    assert out.dtype == np.float64 and out.shape == (7, 3)
    with pytest.raises(SchemaEnforcementError, match=r"Input: expected shape \(-1, 3\) \(-1 means any size\), got \(2, 4\)"):
        enforce_schema(np.ones((2, 4)), schema)
    with pytest.raises(SchemaEnforcementError, match="Input: expected dtype int32, got float64"):
        enforce_schema(np.ones((2, 3)), Schema([TensorSpec(np.int32, (-1, 3))]))


def test_named_tensors_missing_and_extra():
    schema = Schema([TensorSpec(np.float32, (-1, 2), "a"), TensorSpec(np.int64, (-1,), "b")])
    good = {"a": np.zeros((3, 2), dtype=np.float32), "b": np.arange(3)}
    assert set(enforce_schema(good, schema)) == {"a", "b"}
    with pytest.raises(SchemaEnforcementError, match=r"missing tensor\(s\) \['b'\]"):
        enforce_schema({"a": good["a"]}, schema)
    with pytest.warns(UserWarning, match=r"tensor\(s\) \['c'\] are not in the model signature"):
        enforce_schema({**good, "c": np.zeros(3)}, schema)


def test_output_is_checked_and_converted():
    out = enforce_output(np.array([1, 2], dtype=np.int64), TUTORIAL_OUTPUTS)
    assert out.dtype == np.float64 and out.tolist() == [1.0, 2.0]
    series = enforce_output(pd.Series([1.5, 2.5]), TUTORIAL_OUTPUTS)
    assert isinstance(series, pd.Series) and series.tolist() == [1.5, 2.5]


def test_output_mismatch_is_an_error():
    schema = Schema([ColSpec(DataType.long, "predicted_salary")])
    with pytest.raises(SchemaEnforcementError,
                       match="Output column 'predicted_salary': expected long, got double"):
        enforce_output(np.array([52000.4]), schema)
    with pytest.raises(SchemaEnforcementError, match=r"Output: expected shape \(-1,\)"):
        enforce_output(np.zeros((2, 2)), Schema([TensorSpec(np.float64, (-1,))]))


def test_unnamed_columns_are_matched_by_position():
    schema = Schema([ColSpec("double"), ColSpec("string")])
    out = enforce_schema(pd.DataFrame({"p": [1], "q": ["x"]}), schema)
    assert out["p"].dtype == np.float64
    with pytest.raises(SchemaEnforcementError, match="has 1 columns; the signature declares 2 unnamed columns"):
        enforce_schema(pd.DataFrame({"p": [1]}), schema)


def test_optional_column_with_only_missing_values_passes():
    schema = Schema([ColSpec("double", "x"), ColSpec("string", "note", required=False)])
    out = enforce_schema(pd.DataFrame({"x": [1.0, 2.0], "note": [None, None]}), schema)
    assert out["note"].isna().all() and out["x"].tolist() == [1.0, 2.0]
