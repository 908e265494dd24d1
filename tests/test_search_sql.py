"""run_search_select executed for real on SQLite, PostgreSQL and MariaDB: exact ids, exact order.

Each server backend gets a fresh database of its own for this module (``tests/databases.py``),
dropped afterwards. A server that cannot be reached skips its tests, except under CI=true, where that
is a failure.
"""

from __future__ import annotations

import math
import sys
from collections.abc import Iterator, Sequence

import pytest
import sqlalchemy as sa
from databases import create_database

from autotrack.exceptions import InvalidParameterError
from autotrack.stores.sql import models
from autotrack.stores.sql.search import like_to_glob, run_search_select
from autotrack.entities.search import decode_page_token, encode_page_token

ACTIVE, DELETED = ["active"], ["deleted"]

# Experiment 1 holds runs a..e (active) and f (deleted); g is in experiment 2; h1/h2 (experiment 3)
# share a start time. Columns: name, status, user, start, end, artifact uri, lifecycle stage.
RUNS = {
    "a": ("alpha", "FINISHED", "ann", 1000, 1100, "s3://bucket/a", "active", 1),
    "b": ("Beta", "FINISHED", "bob", 2000, 2100, "file:///tmp/b", "active", 1),
    "c": ("gamma", "FAILED", "ann", 3000, 3100, "s3://bucket/c", "active", 1),
    "d": (None, "RUNNING", None, 4000, None, None, "active", 1),
    "e": ("alpha2", "KILLED", "eve", 5000, 5100, "S3://BUCKET/e", "active", 1),
    "f": ("deleted one", "FINISHED", "ann", 6000, 6100, "s3://bucket/f", "deleted", 1),
    "g": ("other experiment", "FINISHED", "ann", 7000, 7100, "s3://bucket/g", "active", 2),
    "h2": ("tie two", "FINISHED", "ann", 100, 200, None, "active", 3),
    "h1": ("tie one", "FINISHED", "ann", 100, 200, None, "active", 3),
}
LATEST_METRICS = {
    "a": {"acc": 0.5, "loss": 1.0, "my key": 1.0},
    "b": {"acc": 0.9, "loss": 2.0},
    "c": {"acc": math.nan, "loss": 3.0},
    "d": {"acc": math.inf},
    "e": {"acc": -math.inf},
    "f": {"acc": 0.7},
    "g": {"acc": 0.95},
}
PARAMS = {
    "a": {"model": "rf", "lr": "0.1", "pct": "100%", "glob": "a*b"},
    "b": {"model": "RF", "lr": "0.01", "pct": "1000", "glob": "axb"},
    "c": {"model": "svm", "lr": "0.001", "pct": "a_b", "glob": "[x]"},
    "d": {"model": "rf ", "lr": "1e-3", "pct": "axb", "glob": "x"},
    "e": {"Model": "only upper-case key", "quote": "it's"},
}
TAGS = {
    "a": {"team": "ml-core", "mlflow.runName": "alpha"},
    "b": {"team": "ML-Core", "mlflow.runName": "Beta"},
    "c": {"team": "data", "note": None},
    "d": {"team": "ML core 2"},
    "e": {"unicode": "Ünïcødé ☃"},
}


def _metric_row(run: str, key: str, value: float) -> dict:
    """A latest_metrics row, non-finite values stored the way the SQL store stores them."""
    if math.isnan(value):
        stored, special = 0.0, 1
    elif math.isinf(value):
        stored, special = math.copysign(sys.float_info.max, value), 2 if value > 0 else 3
    else:
        stored, special = value, 0
    return {"run_uuid": run, "key": key, "value": stored, "special": special, "timestamp": 1, "step": 0}


def _load(engine: sa.Engine) -> None:
    models.metadata.create_all(engine)
    with engine.begin() as conn:
        for ix in models.SEARCH_INDEXES:
            ix.create(conn, checkfirst=True)  # create_all made those attached to the tables already
        conn.execute(
            models.experiments.insert(),
            [{"experiment_id": i, "name": f"exp{i}", "artifact_location": f"/tmp/{i}", "lifecycle_stage": "active"} for i in (1, 2, 3)],
        )
        conn.execute(
            models.runs.insert(),
            [
                dict(zip(("run_uuid", "name", "status", "user_id", "start_time", "end_time", "artifact_uri", "lifecycle_stage", "experiment_id"), (run, *row)))
                for run, row in RUNS.items()
            ],
        )
        conn.execute(models.latest_metrics.insert(), [_metric_row(r, k, v) for r, kv in LATEST_METRICS.items() for k, v in kv.items()])
        conn.execute(models.params.insert(), [{"run_uuid": r, "key": k, "value": v} for r, kv in PARAMS.items() for k, v in kv.items()])
        conn.execute(models.tags.insert(), [{"run_uuid": r, "key": k, "value": v} for r, kv in TAGS.items() for k, v in kv.items()])


@pytest.fixture(scope="module", params=["sqlite", "postgresql", "mysql"])
def engine(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[sa.Engine]:
    """An engine on a private database (a fresh one per server backend) holding the runs above."""
    if request.param == "sqlite":
        uri, drop = f"sqlite:///{tmp_path_factory.mktemp('search') / 'search.db'}", None
    else:
        uri, drop = create_database(request.param)  # skips, or fails under CI=true, when the server is absent
    eng = sa.create_engine(uri)
    try:
        _load(eng)
        yield eng
    finally:
        eng.dispose()
        if drop:
            drop()


def ids(
    engine: sa.Engine,
    filter_string: str | None = None,
    order_by: Sequence[str] | None = None,
    experiments: Sequence[int] = (1,),
    stages: Sequence[str] = ACTIVE,
    max_results: int = 1000,
    offset: int = 0,
) -> list[str]:
    """The run ids the search returns, in order."""
    with engine.connect() as conn:
        query = run_search_select(experiments, filter_string, stages, order_by, max_results, offset)
        return list(conn.execute(query).scalars())


# -- scope and default order ----------------------------------------------------------------------


def test_default_order_is_newest_first(engine):
    assert ids(engine) == ["e", "d", "c", "b", "a"]


def test_lifecycle_stages_and_experiments(engine):
    assert ids(engine, stages=DELETED) == ["f"]
    assert ids(engine, stages=["active", "deleted"]) == ["f", "e", "d", "c", "b", "a"]
    assert ids(engine, experiments=[1, 2]) == ["g", "e", "d", "c", "b", "a"]
    assert ids(engine, experiments=[]) == []


def test_equal_start_times_tie_break_on_run_id(engine):
    assert ids(engine, experiments=[3]) == ["h1", "h2"]


# -- metrics --------------------------------------------------------------------------------------
# acc: a 0.5, b 0.9, c NaN, d +inf, e -inf. NaN satisfies only !=, like a Python float.


@pytest.mark.parametrize(
    ("filter_string", "expected"),
    [
        ("metrics.acc > 0.6", ["d", "b"]),
        ("metrics.acc >= 0.5", ["d", "b", "a"]),
        ("metrics.acc < 0.6", ["e", "a"]),
        ("metrics.acc <= 0.9", ["e", "b", "a"]),
        ("metrics.acc = 0.5", ["a"]),
        ("metrics.acc != 0.5", ["e", "d", "c", "b"]),
        ("metrics.acc > -1e999", ["d", "b", "a"]),  # -1e999 is -inf: -inf > -inf is False
        ("metrics.acc < 1e999", ["e", "b", "a"]),
        ("metrics.acc >= 1e999", ["d"]),
        ("metrics.acc = -1e999", ["e"]),
        ("metrics.acc > 1.7976931348623157e308", ["d"]),  # DBL_MAX is +inf's placeholder, yet not +inf
        ("metrics.acc < -5e-1", ["e"]),
        ("metrics.loss >= 2", ["c", "b"]),
        ("metrics.loss != 1", ["c", "b"]),  # runs without loss never match, not even !=
        ("metrics.loss IS NULL", ["e", "d"]),
        ("metrics.loss IS NOT NULL", ["c", "b", "a"]),
        ("metrics.`my key` = 1", ["a"]),
        ('metrics."my key" = 1', ["a"]),
        ("metrics.ACC > 0", []),  # keys are case-sensitive
        ("metrics.acc > 0.1 and metrics.loss < 3", ["b", "a"]),
    ],
)
def test_metric_filters(engine, filter_string, expected):
    assert ids(engine, filter_string) == expected


# -- params and tags ------------------------------------------------------------------------------
# model: a 'rf', b 'RF', c 'svm', d 'rf ' (trailing space), e has only the key 'Model'.


@pytest.mark.parametrize(
    ("filter_string", "expected"),
    [
        ("params.model = 'rf'", ["a"]),
        ("params.model = 'rf '", ["d"]),
        ("params.model != 'rf'", ["d", "c", "b"]),
        ("params.model IN ('rf', 'svm')", ["c", "a"]),
        ("params.model NOT IN ('rf', 'svm')", ["d", "b"]),
        ("params.model LIKE 'rf%'", ["d", "a"]),
        ("params.model LIKE 'r_'", ["a"]),
        ("params.model ILIKE 'rf'", ["b", "a"]),
        ("params.model ILIKE 'RF%'", ["d", "b", "a"]),
        ("params.model IS NULL", ["e"]),
        ("params.Model IS NOT NULL", ["e"]),
        ("params.Model = 'only upper-case key'", ["e"]),
        ("params.quote = 'it''s'", ["e"]),
        ('params.quote = "it\'s"', ["e"]),
        ("params.pct LIKE '100\\%'", ["a"]),
        ("params.pct LIKE '100%'", ["b", "a"]),
        ("params.pct LIKE 'a\\_b'", ["c"]),
        ("params.pct LIKE 'a_b'", ["d", "c"]),
        ("params.glob LIKE 'a*b'", ["a"]),  # GLOB's metacharacters are plain characters in LIKE
        ("params.glob LIKE '[x]'", ["c"]),
        ("params.glob LIKE '%x%'", ["d", "c", "b"]),
        ("params.lr = '0.1'", ["a"]),
        ("params.model = 'x'' OR 1=1 --'", []),
        ("params.model = 'rf' AND params.lr = '0.1'", ["a"]),
    ],
)
def test_param_filters(engine, filter_string, expected):
    assert ids(engine, filter_string) == expected


@pytest.mark.parametrize(
    ("filter_string", "expected"),
    [
        ("tags.team = 'ml-core'", ["a"]),
        ("tags.team != 'ml-core'", ["d", "c", "b"]),
        ("tags.team LIKE 'ml%'", ["a"]),
        ("tags.team LIKE 'ML%'", ["d", "b"]),
        ("tags.team ILIKE 'ml%'", ["d", "b", "a"]),
        ("tags.team ILIKE 'ml_core'", ["b", "a"]),
        ("tags.team IN ('data', 'ML-Core')", ["c", "b"]),
        ("tags.team NOT IN ('data')", ["d", "b", "a"]),
        ("tags.team IS NULL", ["e"]),
        ('tags."mlflow.runName" = \'Beta\'', ["b"]),
        ("tags.`mlflow.runName` IS NOT NULL", ["b", "a"]),
        ("tags.note IS NOT NULL", ["c"]),  # the key is there, with an empty value
        ("tags.note != 'x'", []),
        ("tags.unicode = 'Ünïcødé ☃'", ["e"]),
        ("tags.unicode = 'ünïcødé ☃'", []),
        ("tags.unicode LIKE 'Ü%☃'", ["e"]),
        ("tags.unicode ILIKE '%☃'", ["e"]),
    ],
)
def test_tag_filters(engine, filter_string, expected):
    assert ids(engine, filter_string) == expected


# -- attributes ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("filter_string", "expected"),
    [
        ("attributes.run_id = 'b'", ["b"]),
        ("run_id != 'b'", ["e", "d", "c", "a"]),
        ("attributes.run_id IN ('a', 'c', 'zz')", ["c", "a"]),
        ("attributes.run_id NOT IN ('a', 'c')", ["e", "d", "b"]),
        ("attributes.run_id LIKE '_'", ["e", "d", "c", "b", "a"]),
        ("attributes.run_name = 'alpha'", ["a"]),
        ("run_name != 'alpha'", ["e", "c", "b"]),  # d has no name
        ("run_name LIKE 'alpha%'", ["e", "a"]),
        ("run_name LIKE 'beta'", []),
        ("run_name ILIKE 'beta'", ["b"]),
        ("run_name IS NULL", ["d"]),
        ("run.run_name IS NOT NULL", ["e", "c", "b", "a"]),
        ("status = 'FINISHED'", ["b", "a"]),
        ("status = 'finished'", []),
        ("status != 'FINISHED'", ["e", "d", "c"]),
        ("attributes.status IN ('FAILED', 'KILLED')", ["e", "c"]),
        ("status NOT IN ('FAILED', 'KILLED')", ["d", "b", "a"]),
        ("status LIKE 'F%'", ["c", "b", "a"]),
        ("status ILIKE '%ed'", ["e", "c", "b", "a"]),
        ("user_id = 'ann'", ["c", "a"]),
        ("attr.user_id != 'ann'", ["e", "b"]),
        ("user_id IS NULL", ["d"]),
        ("artifact_uri LIKE 's3://%'", ["c", "a"]),
        ("artifact_uri ILIKE 's3://bucket/%'", ["e", "c", "a"]),
        ("artifact_uri = 'file:///tmp/b'", ["b"]),
        ("start_time >= 3000", ["e", "d", "c"]),
        ("start_time < 3000", ["b", "a"]),
        ("attributes.start_time = 2000", ["b"]),
        ("created != 2000", ["e", "d", "c", "a"]),
        ("end_time > 2100", ["e", "c"]),
        ("end_time <= 2100", ["b", "a"]),
        ("end_time IS NULL", ["d"]),
        ("end_time < 1e999", ["e", "c", "b", "a"]),
        ("lifecycle_stage = 'active'", ["e", "d", "c", "b", "a"]),
        ("status = 'FINISHED' and metrics.acc > 0.6 and params.model ILIKE 'rf'", ["b"]),
    ],
)
def test_attribute_filters(engine, filter_string, expected):
    assert ids(engine, filter_string) == expected


def test_lifecycle_stage_attribute_narrows_the_stages(engine):
    assert ids(engine, "lifecycle_stage = 'deleted'", stages=["active", "deleted"]) == ["f"]
    assert ids(engine, "lifecycle_stage = 'deleted'", stages=ACTIVE) == []


# -- order_by ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("order_by", "expected"),
    [
        # numbers (infinities at the ends), then NaN (c), in both directions
        (["metrics.acc"], ["e", "a", "b", "d", "c"]),
        (["metrics.acc ASC"], ["e", "a", "b", "d", "c"]),
        (["metrics.acc DESC"], ["d", "b", "a", "e", "c"]),
        # runs without the metric come last in both directions, newest first among themselves
        (["metrics.loss ASC"], ["a", "b", "c", "e", "d"]),
        (["metrics.loss desc"], ["c", "b", "a", "e", "d"]),
        (["metrics.`my key` DESC"], ["a", "e", "d", "c", "b"]),
        # strings by code point: 'RF' < 'rf' < 'rf ' < 'svm'; e has no such param
        (["params.model"], ["b", "a", "d", "c", "e"]),
        (["params.model DESC"], ["c", "d", "a", "b", "e"]),
        (["params.lr ASC"], ["c", "b", "a", "d", "e"]),
        (["tags.team ASC"], ["d", "b", "c", "a", "e"]),  # 'ML core 2' < 'ML-Core' < 'data' < 'ml-core'
        (["tags.team DESC"], ["a", "c", "b", "d", "e"]),
        (["attributes.start_time ASC"], ["a", "b", "c", "d", "e"]),
        (["start_time"], ["a", "b", "c", "d", "e"]),
        (["start_time DESC"], ["e", "d", "c", "b", "a"]),
        (["end_time ASC"], ["a", "b", "c", "e", "d"]),
        (["end_time DESC"], ["e", "c", "b", "a", "d"]),
        (["run_name"], ["b", "a", "e", "c", "d"]),
        (["attributes.run_name DESC"], ["c", "e", "a", "b", "d"]),
        (["run_id DESC"], ["e", "d", "c", "b", "a"]),
        (["user_id"], ["c", "a", "b", "e", "d"]),
        (["status ASC", "metrics.acc DESC"], ["c", "b", "a", "e", "d"]),
        (["params.model", "metrics.acc"], ["b", "a", "d", "c", "e"]),
    ],
)
def test_order_by(engine, order_by, expected):
    assert ids(engine, order_by=order_by) == expected


def test_filter_and_order_by_together(engine):
    assert ids(engine, "metrics.acc != 0.9 and params.model LIKE '%'", ["metrics.acc DESC"]) == ["d", "a", "c"]
    assert ids(engine, "metrics.loss > 0", ["metrics.acc ASC", "params.model"]) == ["a", "b", "c"]


# -- pages ----------------------------------------------------------------------------------------


def test_pages_cover_the_result_once_in_order(engine):
    pages, token = [], None
    while True:
        offset = decode_page_token(token)
        page = ids(engine, order_by=["metrics.acc DESC"], max_results=2, offset=offset)
        pages.append(page)
        if len(page) < 2:
            break
        token = encode_page_token(offset + len(page))
    assert pages == [["d", "b"], ["a", "e"], ["c"]]
    assert ids(engine, max_results=3, offset=4) == ["a"]
    assert ids(engine, max_results=3, offset=10) == []


@pytest.mark.parametrize(("max_results", "offset"), [(0, 0), (-1, 0), (100_001, 0), (True, 0), (10, -1), (10, 1.5)])
def test_bad_page_arguments(max_results, offset):
    with pytest.raises(InvalidParameterError, match="max_results|offset"):
        run_search_select([1], None, ACTIVE, None, max_results, offset)


def test_bad_filter_is_an_invalid_parameter_error():
    with pytest.raises(InvalidParameterError, match=r"invalid comparator '~' for metrics\.acc"):
        run_search_select([1], "metrics.acc ~ 1", ACTIVE, None, 10)
    with pytest.raises(InvalidParameterError, match="ASC or DESC"):
        run_search_select([1], None, ACTIVE, ["metrics.acc UP"], 10)


# -- translation details ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("like", "glob"),
    [("a%", "a*"), ("a_c", "a?c"), ("100\\%", "100%"), ("a\\_b", "a_b"), ("a*b?[c]", "a[*]b[?][[]c]"), ("x\\", "x\\"), ("\\\\%", "\\*")],
)
def test_like_to_glob(like, glob):
    assert like_to_glob(like) == glob


def test_selects_only_the_run_id():
    query = run_search_select([1], "metrics.acc > 0", ACTIVE, ["params.lr"], 10)
    assert [c.name for c in query.selected_columns] == ["run_uuid"]


def test_sqlite_uses_indexes_for_metric_filter_and_order(engine):
    if engine.dialect.name != "sqlite":
        pytest.skip("query plans are checked on SQLite only")
    query = run_search_select([1], "metrics.acc > 0.5 and params.model = 'rf'", ACTIVE, ["metrics.loss DESC"], 10)
    sql = str(query.compile(engine, compile_kwargs={"literal_binds": True}))
    with engine.connect() as conn:
        plan = " | ".join(row[-1] for row in conn.exec_driver_sql("EXPLAIN QUERY PLAN " + sql))
    assert "SCAN f" not in plan and "SCAN o" not in plan, plan  # metric/param rows are looked up by index
