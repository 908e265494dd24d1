"""The search grammar: filter strings, order_by items and page tokens parsed into plain objects."""

from __future__ import annotations

import base64

import pytest

from autotrack.exceptions import InvalidParameterError
from autotrack.entities.search import (
    Comparison,
    OrderBy,
    decode_page_token,
    encode_page_token,
    parse_filter,
    parse_order_by,
)


def one(filter_string: str) -> Comparison:
    (clause,) = parse_filter(filter_string)
    return clause


@pytest.mark.parametrize("empty", [None, "", "   ", "\n\t"])
def test_no_filter(empty):
    assert parse_filter(empty) == []


# -- every operator -------------------------------------------------------------------------------


@pytest.mark.parametrize("op", ["=", "!=", ">", ">=", "<", "<="])
def test_metric_comparators(op):
    assert one(f"metrics.acc {op} 0.9") == Comparison("metric", "acc", op, 0.9)
    assert one(f"metrics.acc{op}0.9") == Comparison("metric", "acc", op, 0.9)


@pytest.mark.parametrize(
    ("literal", "value"),
    [("1", 1), ("-2", -2), ("+3", 3), ("0.5", 0.5), (".5", 0.5), ("5.", 5.0), ("-1.5e-3", -0.0015), ("2E+2", 200.0), ("1e999", float("inf"))],
)
def test_metric_numbers(literal, value):
    assert one(f"metrics.loss < {literal}").value == value


@pytest.mark.parametrize("entity, canonical", [("params", "param"), ("param", "param"), ("tags", "tag"), ("tag", "tag")])
@pytest.mark.parametrize("op", ["=", "!=", "LIKE", "ILIKE"])
def test_param_and_tag_string_comparators(entity, canonical, op):
    assert one(f"{entity}.model {op} 'rf%'") == Comparison(canonical, "model", op, "rf%")


@pytest.mark.parametrize(("written", "op"), [("IN", "IN"), ("in", "IN"), ("NOT IN", "NOT IN"), ("not  in", "NOT IN")])
def test_in_lists(written, op):
    assert one(f"params.model {written} ('rf', \"svm\",'x y')") == Comparison("param", "model", op, ("rf", "svm", "x y"))
    assert one(f"tags.t {written}('a')") == Comparison("tag", "t", op, ("a",))


@pytest.mark.parametrize("entity, canonical", [("metrics", "metric"), ("params", "param"), ("tags", "tag")])
@pytest.mark.parametrize(("written", "op"), [("IS NULL", "IS NULL"), ("is not null", "IS NOT NULL"), ("IS  NOT\tNULL", "IS NOT NULL")])
def test_is_null(entity, canonical, written, op):
    assert one(f"{entity}.k {written}") == Comparison(canonical, "k", op, None)


def test_like_is_case_insensitive_keyword_and_keeps_the_pattern_verbatim():
    assert one("params.p like '100\\%_x'") == Comparison("param", "p", "LIKE", "100\\%_x")
    assert one("tags.t iLike 'A%'") == Comparison("tag", "t", "ILIKE", "A%")


# -- attributes -------------------------------------------------------------------------------------


@pytest.mark.parametrize("prefix", ["attributes.", "attribute.", "attr.", "run.", ""])
def test_attribute_prefixes(prefix):
    assert one(f"{prefix}status = 'FINISHED'") == Comparison("attribute", "status", "=", "FINISHED")


@pytest.mark.parametrize(
    ("filter_string", "expected"),
    [
        ("run_id = 'abc'", Comparison("attribute", "run_id", "=", "abc")),
        ("attributes.run_id IN ('a', 'b')", Comparison("attribute", "run_id", "IN", ("a", "b"))),
        ("attributes.run_id NOT IN ('a')", Comparison("attribute", "run_id", "NOT IN", ("a",))),
        ("attributes.run_id LIKE 'ab%'", Comparison("attribute", "run_id", "LIKE", "ab%")),
        ("run_name ILIKE '%x%'", Comparison("attribute", "run_name", "ILIKE", "%x%")),
        ("run_name != 'x'", Comparison("attribute", "run_name", "!=", "x")),
        ("run_name IS NULL", Comparison("attribute", "run_name", "IS NULL", None)),
        ("status IN ('FAILED','KILLED')", Comparison("attribute", "status", "IN", ("FAILED", "KILLED"))),
        ("status LIKE 'F%'", Comparison("attribute", "status", "LIKE", "F%")),
        ("user_id = 'ann'", Comparison("attribute", "user_id", "=", "ann")),
        ("artifact_uri ILIKE 's3://%'", Comparison("attribute", "artifact_uri", "ILIKE", "s3://%")),
        ("start_time >= 1700000000000", Comparison("attribute", "start_time", ">=", 1700000000000)),
        ("attributes.created < 5", Comparison("attribute", "start_time", "<", 5)),
        ("end_time != 3", Comparison("attribute", "end_time", "!=", 3)),
        ("end_time IS NOT NULL", Comparison("attribute", "end_time", "IS NOT NULL", None)),
        ("lifecycle_stage = 'deleted'", Comparison("attribute", "lifecycle_stage", "=", "deleted")),
        ("STATUS = 'x'", Comparison("attribute", "status", "=", "x")),
        ("attributes.`run_name` = 'x'", Comparison("attribute", "run_name", "=", "x")),
    ],
)
def test_attribute_clauses(filter_string, expected):
    assert one(filter_string) == expected


# -- quoting and joining ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("filter_string", "key"),
    [
        ("metrics.`my key` > 1", "my key"),
        ('metrics."my key" > 1', "my key"),
        ('tags."mlflow.runName" = \'x\'', "mlflow.runName"),
        ("tags.mlflow.runName = 'x'", "mlflow.runName"),
        ("params.`a=b AND c` = 'x'", "a=b AND c"),
        ("metrics.val-loss > 1", "val-loss"),
        ("metrics.train/loss:0 > 1", "train/loss:0"),
    ],
)
def test_keys(filter_string, key):
    assert one(filter_string).key == key


@pytest.mark.parametrize(
    ("literal", "value"),
    [("'a b'", "a b"), ('"a b"', "a b"), ("'it''s'", "it's"), ('"say ""hi"""', 'say "hi"'), ('"it\'s"', "it's"), ("''", ""), ("'AND'", "AND")],
)
def test_string_values(literal, value):
    assert one(f"params.p = {literal}").value == value


def test_clauses_joined_by_and_in_any_case():
    clauses = parse_filter("metrics.acc > 0.9 and params.model = 'rf' AND tags.t LIKE 'x%'   And status != 'FAILED'")
    assert clauses == [
        Comparison("metric", "acc", ">", 0.9),
        Comparison("param", "model", "=", "rf"),
        Comparison("tag", "t", "LIKE", "x%"),
        Comparison("attribute", "status", "!=", "FAILED"),
    ]


# -- errors name the text, the position and what is accepted -------------------------------------------


@pytest.mark.parametrize(
    ("filter_string", "message"),
    [
        ("metrics.acc ~ 1", r"invalid comparator '~' for metrics\.acc; accepted: =, !=, >, >=, <, <=, IS NULL, IS NOT NULL \(at position 12\)"),
        ("metrics.acc == 1", r"invalid comparator '==' for metrics\.acc"),
        ("metrics.acc LIKE '1'", r"invalid comparator 'LIKE' for metrics\.acc; accepted: =, !=, >"),
        ("params.lr > '1'", r"invalid comparator '>' for params\.lr; accepted: =, !=, LIKE, ILIKE, IN, NOT IN, IS NULL, IS NOT NULL"),
        ("tags.t NOT LIKE 'x'", r"invalid comparator 'NOT LIKE' for tags\.t"),
        ("start_time LIKE '1'", r"invalid comparator 'LIKE' for attributes\.start_time; accepted: =, !=, >, >=, <, <= \(at"),
        ("status IS NULL", r"invalid comparator 'IS NULL' for attributes\.status; accepted: =, !=, LIKE, ILIKE, IN, NOT IN \(at"),
        ("metrics.`my key` ~ 1", r"for metrics\.`my key`"),
        ("metrics.acc > 1 OR metrics.acc < 0", r"OR is not supported; join clauses with AND \(at position 16\)"),
        ("metrics.acc > 1 metrics.x < 0", r"expected AND between clauses, got 'metrics\.x' \(at position 16\)"),
        ("metrics.acc > 1 AND", r"expected a clause after AND"),
        ("metrics.acc > 'high'", r"expected a number for metrics\.acc, got \"'high'\""),
        ("metrics.acc > 0.9x", r"expected a number for metrics\.acc, got '0\.9x'"),
        ("metrics.acc >", r"expected a number for metrics\.acc, got 'end of input'"),
        ("start_time > 'now'", r"expected a number for attributes\.start_time"),
        ("params.lr = 0.01", r"expected a quoted string for params\.lr, got '0\.01' \(write params\.lr = '0\.01'\)"),
        ("status = FINISHED", r"expected a quoted string for attributes\.status"),
        ("params.p = 'open", r"unterminated string for params\.p \(at position 11\)"),
        ("params.p IN 'a'", r"expected a parenthesized list such as \('a', 'b'\) for params\.p"),
        ("params.p IN ('a' 'b')", r"expected ',' or '\)' in the list for params\.p"),
        ("params.p IN ()", r"expected a quoted string for params\.p, got '\)'"),
        ("params.p IN ('a', 1)", r"expected a quoted string for params\.p, got '1\)'"),
        ("metrics.`open > 1", r"unterminated `-quoted key after metrics\."),
        ("metrics.`` > 1", r"empty key after metrics\."),
        ("metrics. > 1", r"expected a key after metrics\."),
        ("bogus.x = 1", r"unknown entity 'bogus' in 'bogus\.x'; accepted: metrics, params, tags, attributes \(at position 0\)"),
        ("attributes.color = 'red'", r"unknown attribute 'color'; accepted: artifact_uri, end_time, lifecycle_stage, run_id, run_name, start_time, status, user_id"),
        ("acc > 1", r"expected an identifier such as metrics\.<key>.*got 'acc'"),
        ("= 1", r"expected an identifier .*got '='"),
        ("metrics.acc 1", r"invalid comparator '1' for metrics\.acc"),
    ],
)
def test_filter_errors(filter_string, message):
    with pytest.raises(InvalidParameterError, match=message) as info:
        parse_filter(filter_string)
    assert repr(filter_string) in str(info.value)  # the whole filter is quoted back
    assert info.value.error_code == "INVALID_PARAMETER_VALUE"


def test_filter_must_be_a_string():
    with pytest.raises(InvalidParameterError, match="filter_string must be a string, got int: 5"):
        parse_filter(5)  # type: ignore[arg-type]


# -- order_by -------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("item", "expected"),
    [
        ("metrics.acc DESC", OrderBy("metric", "acc", False)),
        ("metrics.acc desc", OrderBy("metric", "acc", False)),
        ("metrics.acc", OrderBy("metric", "acc", True)),
        ("params.lr", OrderBy("param", "lr", True)),
        ("params.lr ASC", OrderBy("param", "lr", True)),
        ("tags.`mlflow.runName` DESC", OrderBy("tag", "mlflow.runName", False)),
        ('metrics."my key"   ASC ', OrderBy("metric", "my key", True)),
        ("attributes.start_time ASC", OrderBy("attribute", "start_time", True)),
        ("start_time", OrderBy("attribute", "start_time", True)),
        ("created DESC", OrderBy("attribute", "start_time", False)),
        ("end_time DESC", OrderBy("attribute", "end_time", False)),
        ("run_name", OrderBy("attribute", "run_name", True)),
        ("attr.status", OrderBy("attribute", "status", True)),
        ("run_id DESC", OrderBy("attribute", "run_id", False)),
    ],
)
def test_order_by_items(item, expected):
    assert parse_order_by([item]) == [expected]


def test_order_by_keeps_the_order_of_items():
    assert parse_order_by(["params.a", "metrics.b DESC", "start_time"]) == [
        OrderBy("param", "a", True),
        OrderBy("metric", "b", False),
        OrderBy("attribute", "start_time", True),
    ]
    assert parse_order_by(None) == [] and parse_order_by([]) == []


@pytest.mark.parametrize(
    ("order_by", "message"),
    [
        (["metrics.acc DOWN"], r"Invalid order_by 'metrics\.acc DOWN': expected ASC or DESC after metrics\.acc, got 'DOWN' \(at position 12\)"),
        (["metrics.acc DESC extra"], r"unexpected 'extra' after the sort direction"),
        ([""], r"empty order_by item"),
        (["colour"], r"expected an identifier .*got 'colour'"),
        (["attributes.colour"], r"unknown attribute 'colour'"),
        ("metrics.acc", r"order_by must be a list of strings such as \['metrics\.acc DESC'\], got 'metrics\.acc'"),
        ([3], r"order_by items must be strings such as 'metrics\.acc DESC', got 3"),
    ],
)
def test_order_by_errors(order_by, message):
    with pytest.raises(InvalidParameterError, match=message):
        parse_order_by(order_by)


# -- page tokens -----------------------------------------------------------------------------------------


@pytest.mark.parametrize("offset", [0, 1, 1000, 10**12])
def test_page_token_round_trip(offset):
    token = encode_page_token(offset)
    assert isinstance(token, str) and str(offset) not in token  # opaque
    assert decode_page_token(token) == offset


@pytest.mark.parametrize("empty", [None, ""])
def test_no_page_token_is_the_first_page(empty):
    assert decode_page_token(empty) == 0


@pytest.mark.parametrize(
    ("token", "message"),
    [
        ("not a token!", r"Invalid page_token 'not a token!': not a token returned by search_runs"),
        (base64.b64encode(b"\xff\xfe").decode(), r"not a token returned by search_runs"),
        (base64.b64encode(b"[1, 2]").decode(), r"expected a non-negative offset, got \[1, 2\]"),
        (base64.b64encode(b'{"offset": -1}').decode(), r"expected a non-negative offset"),
        (base64.b64encode(b'{"offset": "3"}').decode(), r"expected a non-negative offset"),
        (base64.b64encode(b'{"offset": true}').decode(), r"expected a non-negative offset"),
    ],
)
def test_bad_page_tokens(token, message):
    with pytest.raises(InvalidParameterError, match=message):
        decode_page_token(token)
