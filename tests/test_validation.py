"""Keys and values follow MLflow's rules; every error names the field, the value and what is accepted."""

from __future__ import annotations

import math

import pytest

from autotrack.exceptions import InvalidParameterError
from autotrack.entities import validation as v


@pytest.mark.parametrize("key", ["loss", "train/loss", "a.b-c_d e:f", "x" * 250, "UPPER9"])
def test_valid_keys(key):
    assert v.validate_key("metric", key) == key


@pytest.mark.parametrize(
    "key, fragment",
    [("", "''"), ("a" * 251, "aaaa"), ("bad!key", "'bad!key'"), ("a/../b", "'a/../b'"), ("/abs", "'/abs'"), ("a//b", "'a//b'"), (3, "3")],
)
def test_invalid_keys_name_the_value_and_the_rule(key, fragment):
    with pytest.raises(InvalidParameterError) as err:
        v.validate_key("param", key)
    message = str(err.value)
    assert "param key" in message and fragment in message and "250 characters" in message


def test_metric_values():
    assert v.validate_metric_value("m", 3) == 3.0
    assert math.isnan(v.validate_metric_value("m", float("nan")))
    assert v.validate_metric_value("m", float("-inf")) == -math.inf
    np = pytest.importorskip("numpy")
    assert v.validate_metric_value("m", np.float32(0.5)) == 0.5
    assert v.validate_metric_value("m", np.int64(7)) == 7.0
    for bad in (True, "0.5", None, np.bool_(True), [1]):
        with pytest.raises(InvalidParameterError, match="metric 'm'.*must be numbers"):
            v.validate_metric_value("m", bad)


def test_param_and_tag_value_lengths():
    assert v.validate_param_value("p", "x" * 6000) == "x" * 6000
    with pytest.raises(InvalidParameterError, match="param 'p': 6001 characters, at most 6000"):
        v.validate_param_value("p", "x" * 6001)
    assert v.validate_tag_value("t", "x" * 8000) == "x" * 8000
    with pytest.raises(InvalidParameterError, match="tag 't': 8001 characters, at most 8000"):
        v.validate_tag_value("t", "x" * 8001)


def test_steps_timestamps_run_ids():
    assert v.validate_step("m", 5) == 5
    with pytest.raises(InvalidParameterError, match="step 1.5 for metric 'm'"):
        v.validate_step("m", 1.5)
    with pytest.raises(InvalidParameterError, match="timestamp 'now'"):
        v.validate_timestamp("m", "now")
    with pytest.raises(InvalidParameterError, match="run_id 'abc'.*32"):
        v.validate_run_id("abc")
