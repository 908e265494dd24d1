"""The SQL store on SQLite, PostgreSQL and MariaDB: everything is read back from the database."""

from __future__ import annotations

import math

import pytest
import sqlalchemy as sa

from autotrack.exceptions import (
    InvalidParameterError,
    InvalidStateError,
    ResourceExistsError,
    ResourceNotFoundError,
    SchemaVersionError,
)
from autotrack.entities import LifecycleStage, Metric, Param, RunStatus, RunTag, ViewType


def _run(store, experiment_id="0", **kw):
    return store.create_run(experiment_id, user_id="tester", start_time=kw.pop("start_time", 1000), tags=kw.pop("tags", []), run_name=kw.pop("run_name", None))


def test_default_experiment_exists(store):
    exp = store.get_experiment("0")
    assert (exp.experiment_id, exp.name, exp.lifecycle_stage) == ("0", "Default", "active")
    assert exp.artifact_location.endswith("/0")


def test_create_get_rename_delete_restore_experiment(store):
    eid = store.create_experiment("exp-a", tags={"team": "ml"})
    assert eid != "0"
    exp = store.get_experiment(eid)
    assert exp.name == "exp-a" and exp.tags == {"team": "ml"}
    assert exp.artifact_location.endswith("/" + eid)
    assert store.get_experiment_by_name("exp-a").experiment_id == eid
    assert store.get_experiment_by_name("nope") is None
    with pytest.raises(ResourceExistsError, match="exp-a"):
        store.create_experiment("exp-a")
    store.rename_experiment(eid, "exp-b")
    assert store.get_experiment(eid).name == "exp-b"
    store.set_experiment_tag(eid, "team", "research")
    assert store.get_experiment(eid).tags == {"team": "research"}
    store.delete_experiment(eid)
    assert store.get_experiment(eid).lifecycle_stage == LifecycleStage.DELETED
    assert eid not in [e.experiment_id for e in store.search_experiments()]
    assert eid in [e.experiment_id for e in store.search_experiments(view_type=ViewType.DELETED_ONLY)]
    store.restore_experiment(eid)
    assert store.get_experiment(eid).lifecycle_stage == LifecycleStage.ACTIVE
    assert [e.name for e in store.search_experiments(filter_string="name = 'exp-b'")] == ["exp-b"]
    assert [e.name for e in store.search_experiments(filter_string="name LIKE 'exp%'")] == ["exp-b"]


def test_bad_experiment_ids_and_names(store):
    with pytest.raises(ResourceNotFoundError, match="'12345'"):
        store.get_experiment("12345")
    with pytest.raises(InvalidParameterError, match="experiment_id 'abc'"):
        store.get_experiment("abc")
    with pytest.raises(InvalidParameterError, match="experiment name"):
        store.create_experiment("")
    with pytest.raises(InvalidParameterError, match="default experiment"):
        store.delete_experiment("0")


def test_run_lifecycle(store):
    run = _run(store, run_name="first", tags=[RunTag("k", "v")])
    assert len(run.info.run_id) == 32 and run.info.status == RunStatus.RUNNING
    got = store.get_run(run.info.run_id)
    assert got.info.run_name == "first" and got.data.tags == {"k": "v", "mlflow.runName": "first"}
    assert got.info.artifact_uri.endswith(f"/0/{run.info.run_id}/artifacts")
    store.update_run_info(run.info.run_id, status=RunStatus.FINISHED, end_time=2000)
    info = store.get_run(run.info.run_id).info
    assert (info.status, info.end_time) == ("FINISHED", 2000)
    store.delete_run(run.info.run_id)
    assert store.get_run(run.info.run_id).info.lifecycle_stage == "deleted"
    store.restore_run(run.info.run_id)
    assert store.get_run(run.info.run_id).info.lifecycle_stage == "active"
    with pytest.raises(InvalidParameterError, match="status 'DONE'"):
        store.update_run_info(run.info.run_id, status="DONE")


def test_generated_run_name(store):
    run = _run(store)
    assert run.info.run_name and store.get_run(run.info.run_id).data.tags["mlflow.runName"] == run.info.run_name


def test_log_batch_reads_back(store):
    run_id = _run(store).info.run_id
    metrics = [Metric("loss", 1.0 / (s + 1), 100 + s, s) for s in range(10)]
    metrics += [Metric("nan", math.nan, 1, 0), Metric("pinf", math.inf, 1, 0), Metric("ninf", -math.inf, 1, 0)]
    store.log_batch(run_id, metrics=metrics, params=[Param("lr", "0.1"), Param("name", "ünïcødé ✓")], tags=[RunTag("t", "1")])
    run = store.get_run(run_id)
    assert run.data.params == {"lr": "0.1", "name": "ünïcødé ✓"}
    assert run.data.tags["t"] == "1"
    assert run.data.metrics["loss"] == pytest.approx(0.1)
    assert math.isnan(run.data.metrics["nan"])
    assert run.data.metrics["pinf"] == math.inf and run.data.metrics["ninf"] == -math.inf
    history = store.get_metric_history(run_id, "loss")
    assert [m.step for m in history] == list(range(10))
    assert history == metrics[:10]


def test_latest_metric_is_highest_step_then_time(store):
    run_id = _run(store).info.run_id
    store.log_batch(run_id, metrics=[Metric("m", 5.0, 10, 3)])
    store.log_batch(run_id, metrics=[Metric("m", 1.0, 99, 2)])  # older step, newer time: not latest
    assert store.get_run(run_id).data.metrics["m"] == 5.0
    store.log_batch(run_id, metrics=[Metric("m", 7.0, 11, 3)])  # same step, newer time
    assert store.get_run(run_id).data.metrics["m"] == 7.0
    assert len(store.get_metric_history(run_id, "m")) == 3


def test_params_are_write_once(store):
    run_id = _run(store).info.run_id
    store.log_batch(run_id, params=[Param("depth", "5")])
    store.log_batch(run_id, params=[Param("depth", "5")])  # same value: fine
    with pytest.raises(InvalidParameterError) as err:
        store.log_batch(run_id, params=[Param("depth", "10")])
    assert run_id in str(err.value) and "'depth'" in str(err.value) and "'5'" in str(err.value) and "'10'" in str(err.value)
    assert store.get_run(run_id).data.params == {"depth": "5"}


def test_failed_batch_writes_nothing(store):
    run_id = _run(store).info.run_id
    store.log_batch(run_id, params=[Param("p", "a")])
    with pytest.raises(InvalidParameterError):
        store.log_batch(run_id, metrics=[Metric("m", 1.0, 1, 0)], params=[Param("p", "b")])
    assert store.get_metric_history(run_id, "m") == []


def test_tags_overwrite_and_delete(store):
    run_id = _run(store).info.run_id
    store.log_batch(run_id, tags=[RunTag("a", "1"), RunTag("b", "2")])
    store.log_batch(run_id, tags=[RunTag("a", "3")])
    assert {k: v for k, v in store.get_run(run_id).data.tags.items() if k in "ab"} == {"a": "3", "b": "2"}
    store.delete_tag(run_id, "a")
    assert "a" not in store.get_run(run_id).data.tags
    with pytest.raises(ResourceNotFoundError, match="'a'"):
        store.delete_tag(run_id, "a")


def test_logging_to_deleted_or_unknown_run(store):
    # (logging to a finished run is refused by the client, see test_fluent; the store accepts late
    # records of a finished run so that a drained buffer or a replayed spool loses nothing)
    run_id = _run(store).info.run_id
    store.delete_run(run_id)
    with pytest.raises(InvalidStateError, match="deleted"):
        store.log_batch(run_id, metrics=[Metric("m", 1.0, 1, 0)])
    with pytest.raises(ResourceNotFoundError, match="0" * 32):
        store.log_batch("0" * 32, metrics=[Metric("m", 1.0, 1, 0)])
    with pytest.raises(InvalidParameterError, match="run_id 'nope'"):
        store.get_run("nope")


def test_long_values_within_limits(store):
    run_id = _run(store).info.run_id
    store.log_batch(run_id, params=[Param("long", "p" * 6000)], tags=[RunTag("long", "t" * 8000)])
    run = store.get_run(run_id)
    assert run.data.params["long"] == "p" * 6000 and run.data.tags["long"] == "t" * 8000


def test_search_indexes_exist(store):
    insp = sa.inspect(store.engine)
    names = {ix["name"] for table in ("metrics", "latest_metrics", "runs", "params", "tags") for ix in insp.get_indexes(table)}
    assert {"ix_metrics_run_key_step", "ix_latest_metrics_key_value", "ix_runs_experiment_start"} <= names
    dialect = store.engine.dialect.name
    suffix = "_pg" if dialect == "postgresql" else ""
    assert {"ix_params_key_value" + suffix, "ix_tags_key_value" + suffix} <= names


def test_search_runs_filter_and_order(store):
    eid = store.create_experiment("search")
    ids = []
    for i, acc in enumerate([0.7, 0.9, 0.8]):
        run_id = _run(store, eid, start_time=1000 + i).info.run_id
        store.log_batch(run_id, metrics=[Metric("acc", acc, 1, 0)], params=[Param("depth", str(5 * (i + 1)))])
        ids.append(run_id)
    runs = store.search_runs([eid], "metrics.acc > 0.75", order_by=["metrics.acc DESC"])
    assert [r.info.run_id for r in runs] == [ids[1], ids[2]]
    runs = store.search_runs([eid], "params.depth = '5'")
    assert [r.info.run_id for r in runs] == [ids[0]]
    page = store.search_runs([eid], "", max_results=2)
    assert [r.info.run_id for r in page] == [ids[2], ids[1]] and page.token
    rest = store.search_runs([eid], "", max_results=2, page_token=page.token)
    assert [r.info.run_id for r in rest] == [ids[0]] and rest.token is None


def test_upgrade_from_older_schema_in_place(store_uri):
    from autotrack.stores.sql import migrations
    from autotrack.stores.sql.store import SqlStore, normalize_db_uri

    engine = sa.create_engine(normalize_db_uri(store_uri))
    assert migrations.upgrade(engine, target=1) == 1
    with engine.begin() as conn:
        assert migrations.current_version(conn) == 1
        names = {ix["name"] for ix in sa.inspect(conn).get_indexes("metrics")}
        assert "ix_metrics_run_key_step" not in names
    engine.dispose()
    store = SqlStore(store_uri)  # opening upgrades it
    with store.engine.begin() as conn:
        assert migrations.current_version(conn) == migrations.CURRENT_VERSION
    run_id = _run(store).info.run_id
    store.log_batch(run_id, metrics=[Metric("m", 1.0, 1, 0)])
    assert store.get_run(run_id).data.metrics == {"m": 1.0}
    assert "ix_metrics_run_key_step" in {ix["name"] for ix in sa.inspect(store.engine).get_indexes("metrics")}
    store.close()


def test_newer_schema_is_refused(store_uri):
    from autotrack.stores.sql import migrations, models
    from autotrack.stores.sql.store import SqlStore, normalize_db_uri

    engine = sa.create_engine(normalize_db_uri(store_uri))
    migrations.upgrade(engine)
    with engine.begin() as conn:
        conn.execute(sa.insert(models.schema_version).values(version=migrations.CURRENT_VERSION + 5))
    engine.dispose()
    with pytest.raises(SchemaVersionError, match=f"schema version {migrations.CURRENT_VERSION + 5}.*newer autotrack"):
        SqlStore(store_uri)


def test_keys_are_case_sensitive_on_every_backend(store):
    run_id = _run(store).info.run_id
    store.log_batch(run_id, metrics=[Metric("acc", 1.0, 1, 0), Metric("ACC", 2.0, 1, 0)], params=[Param("lr", "a"), Param("LR", "b")])
    data = store.get_run(run_id).data
    assert data.metrics == {"acc": 1.0, "ACC": 2.0} and data.params == {"lr": "a", "LR": "b"}
