"""Tracking and search parity with MLflow 3.17: key rules, metric values, timestamps, the search grammar.

The key table is checked against MLflow's own validators when mlflow is installed (the test extra has it).
"""

from __future__ import annotations

import math

import numpy as np
import pytest

import autotrack
from autotrack.entities import validation as v
from autotrack.entities.errors import InvalidParameterError
from autotrack.entities.search import ATTRIBUTE, METRIC, PARAM, TAG, Comparison, OrderBy, parse_filter, parse_order_by

KEYS = {  # key -> accepted by MLflow 3.17 (metric, param and tag names alike)
    "a..b": True, "é": True, "名前": True, "α/β": True, "ｆｕｌｌ": True, "a b": True, "a:b": True, "a.": True, "-a": True,
    "train/loss": True, "a" * 250: True,
    "a/./b": False, "a//b": False, "a/": False, "/a": False, "./a": False, "a/../b": False, "..": False, ".": False,
    "a\\b": False, "a#b": False, "a%b": False, "a=b": False, "a\tb": False, "a\nb": False, "": False, "a" * 251: False,
}


@pytest.mark.parametrize("key", sorted(KEYS), ids=lambda k: repr(k)[:20])
def test_key_rules(key):
    if KEYS[key]:
        assert v.validate_key("metric", key) == key
    else:
        with pytest.raises(InvalidParameterError, match="Invalid metric key"):
            v.validate_key("metric", key)


@pytest.mark.parametrize("key", sorted(KEYS), ids=lambda k: repr(k)[:20])
def test_key_rules_are_mlflows(key):
    validation = pytest.importorskip("mlflow.utils.validation")
    try:
        for check in (validation._validate_metric_name, validation._validate_param_name, validation._validate_tag_name):
            check(key)
        validation._validate_length_limit("key", validation.MAX_ENTITY_KEY_LENGTH, key)
        accepted = True
    except Exception:
        accepted = False
    assert accepted is KEYS[key]


def test_unicode_and_dotted_keys_round_trip_through_the_store():
    with autotrack.start_run() as run:
        autotrack.log_metric("größe/verlust", 0.5)
        autotrack.log_param("学习率", "0.1")
        autotrack.set_tag("a..b", "x")
    data = autotrack.get_run(run.info.run_id).data
    assert data.metrics["größe/verlust"] == 0.5 and data.params["学习率"] == "0.1" and data.tags["a..b"] == "x"
    found = autotrack.search_runs(filter_string="params.`学习率` = '0.1'", output_format="list")
    assert [r.info.run_id for r in found] == [run.info.run_id]


def test_single_item_numpy_arrays_are_metric_values():
    assert v.validate_metric_value("m", np.array([0.5])) == 0.5
    assert v.validate_metric_value("m", np.array(0.25)) == 0.25
    assert v.validate_metric_value("m", np.array([[3]], dtype=np.int64)) == 3.0
    with pytest.raises(InvalidParameterError, match=r"a numpy array of 2 values \(shape \(2,\), dtype int64\)"):
        v.validate_metric_value("m", np.array([1, 2]))
    with pytest.raises(InvalidParameterError):
        v.validate_metric_value("m", np.array([True]))
    with autotrack.start_run() as run:
        autotrack.log_metric("loss", np.array([0.5]), step=1)
        autotrack.log_metrics({"acc": np.array(0.75)})
    assert autotrack.get_run(run.info.run_id).data.metrics == {"loss": 0.5, "acc": 0.75}


@pytest.mark.parametrize("timestamp", [-1, -1.0, -10**12])
def test_negative_timestamps_are_rejected(timestamp):
    with autotrack.start_run():
        with pytest.raises(InvalidParameterError, match=r"Invalid timestamp .* non-negative"):
            autotrack.log_metric("m", 1.0, timestamp=timestamp)
        with pytest.raises(InvalidParameterError, match="non-negative"):
            autotrack.log_metrics({"m": 1.0}, timestamp=timestamp)
    assert v.validate_timestamp("m", 0) == 0


# ---------------------------------------------------------------------- search grammar
@pytest.mark.parametrize("text, expected", [
    ("`params`.opt = 'adam'", Comparison(PARAM, "opt", "=", "adam")),
    ("`metric`.acc > 0.5", Comparison(METRIC, "acc", ">", 0.5)),
    ("`metrics`.`val loss` < 1", Comparison(METRIC, "val loss", "<", 1)),
    ("`tags`.`a b` = 'x'", Comparison(TAG, "a b", "=", "x")),
    ("`attribute`.status = 'FINISHED'", Comparison(ATTRIBUTE, "status", "=", "FINISHED")),
    ("`attr`.start_time > 0", Comparison(ATTRIBUTE, "start_time", ">", 0)),
    ("`Run name` = 'x'", Comparison(ATTRIBUTE, "run_name", "=", "x")),
    ("`Run Name` = 'x'", Comparison(ATTRIBUTE, "run_name", "=", "x")),
    ("attributes.`Run Name` LIKE 'x%'", Comparison(ATTRIBUTE, "run_name", "LIKE", "x%")),
    ("attributes.`Run name` != 'x'", Comparison(ATTRIBUTE, "run_name", "!=", "x")),
])
def test_backticked_entities_and_run_name_aliases(text, expected):
    assert parse_filter(text) == [expected]


def test_backticked_entities_in_order_by():
    assert parse_order_by(["`metrics`.acc DESC", "`params`.`learning rate`"]) == [
        OrderBy(METRIC, "acc", False), OrderBy(PARAM, "learning rate", True)]


def test_unknown_backticked_entity_is_an_error_naming_it():
    with pytest.raises(InvalidParameterError, match="unknown attribute 'colour'"):
        parse_filter("`colour` = 'red'")
    with pytest.raises(InvalidParameterError, match="unterminated"):
        parse_filter("`params.opt = 'adam'")


def test_backticks_and_aliases_search_the_store():
    with autotrack.start_run(run_name="adam-run") as adam:
        autotrack.log_param("opt", "adam")
        autotrack.log_metric("acc", 0.9)
    with autotrack.start_run(run_name="sgd-run"):
        autotrack.log_param("opt", "sgd")
        autotrack.log_metric("acc", 0.4)

    def ids(text):
        return [r.info.run_id for r in autotrack.search_runs(filter_string=text, output_format="list")]

    assert ids("`params`.opt = 'adam'") == [adam.info.run_id]
    assert ids("`metric`.acc > 0.5") == [adam.info.run_id]
    assert ids("`Run name` = 'adam-run'") == [adam.info.run_id]
    assert ids("attributes.`Run Name` = 'adam-run'") == [adam.info.run_id]
    assert math.isclose(autotrack.search_runs(order_by=["`metrics`.acc DESC"], output_format="list")[0].data.metrics["acc"], 0.9)
