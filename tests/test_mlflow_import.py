"""MLflow databases: autotrack refuses to write into one (the file stays byte-for-byte the same), and
``autotrack import mlflow`` copies one made by the real ``mlflow`` package into an autotrack store:
counts and values equal to what MLflow itself reads back, and a second import adds nothing.

MLflow runs in subprocesses (it is heavy, and patches nothing here that way): one script builds the
database with MLflow's client, another dumps what MLflow reads from it as JSON.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import shutil
import subprocess
import sys
import textwrap

import pytest
import sqlalchemy as sa
from click.testing import CliRunner

from databases import create_database

from autotrack.cli import main
from autotrack.entities import ViewType
from autotrack.entities.errors import ForeignSchemaError
from autotrack.stores.sql.store import SqlStore, normalize_db_uri

pytest.importorskip("mlflow")

_ENV = {**os.environ, "MLFLOW_DISABLE_TELEMETRY": "true", "DO_NOT_TRACK": "1", "MLFLOW_TRACKING_URI": ""}

BUILD = textwrap.dedent('''
    import sys
    from mlflow import MlflowClient
    from mlflow.entities import Dataset, DatasetInput, InputTag, Metric, Param, RunTag

    c = MlflowClient(tracking_uri=sys.argv[1])
    alpha = c.create_experiment("alpha", artifact_location="/mlflow/artifacts/alpha", tags={"team": "ml"})
    beta = c.create_experiment("beta")
    first = c.create_run(alpha, run_name="first", tags={"k": "v"})
    rid = first.info.run_id
    metrics = [Metric("loss", 1.0 / (s + 1), 1_000 + s, s) for s in range(300)]
    metrics += [Metric("loss", 0.5, 2_000, 10), Metric("odd", float("nan"), 5, 0), Metric("odd", float("inf"), 6, 1), Metric("neg", float("-inf"), 5, 0)]
    c.log_batch(rid, metrics=metrics, params=[Param("lr", "0.1"), Param("depth", "5"), Param("name", "ünïcødé ✓")], tags=[RunTag("t", "1")])
    train = Dataset(name="train", digest="abc123", source_type="local", source='{"uri": "/data/train.csv"}',
                    schema='{"mlflow_colspec": [{"type": "double", "name": "x"}]}', profile='{"num_rows": 3}')
    c.log_inputs(rid, [DatasetInput(train, tags=[InputTag("mlflow.data.context", "training")])])
    child = c.create_run(alpha, run_name="child", tags={"mlflow.parentRunId": rid})
    c.log_metric(child.info.run_id, "acc", 0.75, step=2)
    c.log_inputs(child.info.run_id, [DatasetInput(train, tags=[InputTag("mlflow.data.context", "eval")])])
    c.set_terminated(child.info.run_id)
    c.set_terminated(rid)
    second = c.create_run(beta, run_name="second")
    c.log_metric(second.info.run_id, "acc", 0.9, step=1)
    c.log_param(second.info.run_id, "empty", "")
    c.set_terminated(second.info.run_id, "FAILED")
    gone = c.create_run(alpha, run_name="gone")
    c.delete_run(gone.info.run_id)
''')

DUMP = textwrap.dedent('''
    import json, sys
    from mlflow import MlflowClient
    from mlflow.entities import ViewType

    def num(v):
        return repr(float(v))

    c = MlflowClient(tracking_uri=sys.argv[1])
    out = {"experiments": {}, "runs": {}}
    exps = c.search_experiments(view_type=ViewType.ALL)
    for e in exps:
        out["experiments"][e.name] = {"artifact_location": e.artifact_location, "lifecycle_stage": e.lifecycle_stage, "tags": dict(e.tags)}
    names = {e.experiment_id: e.name for e in exps}
    for r in c.search_runs([e.experiment_id for e in exps], run_view_type=ViewType.ALL, max_results=1000):
        i = r.info
        out["runs"][i.run_id] = {
            "experiment": names[i.experiment_id], "name": i.run_name, "status": i.status, "user": i.user_id,
            "start": i.start_time, "end": i.end_time, "artifact_uri": i.artifact_uri, "stage": i.lifecycle_stage,
            "params": dict(r.data.params), "tags": dict(r.data.tags),
            "metrics": {k: num(v) for k, v in r.data.metrics.items()},
            "history": {k: sorted([m.step, m.timestamp, num(m.value)] for m in c.get_metric_history(i.run_id, k)) for k in r.data.metrics},
            "datasets": sorted([d.dataset.name, d.dataset.digest, d.dataset.source_type, d.dataset.source, d.dataset.schema, d.dataset.profile,
                                sorted([t.key, t.value] for t in d.tags)] for d in r.inputs.dataset_inputs),
        }
    json.dump(out, sys.stdout)
''')


def _mlflow(script: str, uri: str) -> str:
    result = subprocess.run([sys.executable, "-c", script, uri], capture_output=True, text=True, env=_ENV, timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    return result.stdout


def _autotrack_view(store: SqlStore) -> dict:
    """What autotrack reads from its store, in the shape of the MLflow dump."""
    def num(v):
        return repr(float(v))

    out = {"experiments": {}, "runs": {}}
    exps = store.search_experiments(view_type=ViewType.ALL)
    for e in exps:
        out["experiments"][e.name] = {"artifact_location": e.artifact_location, "lifecycle_stage": e.lifecycle_stage, "tags": dict(e.tags)}
    names = {e.experiment_id: e.name for e in exps}
    for r in store.search_runs([e.experiment_id for e in exps], run_view_type=ViewType.ALL, max_results=1000):
        i = r.info
        run = store.get_run(i.run_id)
        out["runs"][i.run_id] = {
            "experiment": names[i.experiment_id], "name": i.run_name, "status": i.status, "user": i.user_id,
            "start": i.start_time, "end": i.end_time, "artifact_uri": i.artifact_uri, "stage": i.lifecycle_stage,
            "params": dict(r.data.params), "tags": dict(r.data.tags),
            "metrics": {k: num(v) for k, v in r.data.metrics.items()},
            "history": {k: sorted([m.step, m.timestamp, num(m.value)] for m in store.get_metric_history(i.run_id, k)) for k in r.data.metrics},
            "datasets": sorted([d.dataset.name, d.dataset.digest, d.dataset.source_type, d.dataset.source, d.dataset.schema, d.dataset.profile,
                                sorted([t.key, t.value] for t in d.tags)] for d in run.inputs.dataset_inputs),
        }
    return out


def _counts(uri: str) -> dict[str, int]:
    engine = sa.create_engine(normalize_db_uri(uri))
    try:
        with engine.connect() as conn:
            names = sa.inspect(conn).get_table_names()
            return {t: conn.execute(sa.text(f"SELECT COUNT(*) FROM {t}")).scalar() for t in sorted(names)}
    finally:
        engine.dispose()


@pytest.fixture(scope="module", params=["sqlite", "postgresql", "mysql"])
def mlflow_db(request, tmp_path_factory):
    """(URI of an MLflow tracking database built by mlflow, MLflow's own view of it)."""
    if request.param == "sqlite":
        path = tmp_path_factory.mktemp("mlflow") / "mlflow.db"
        uri, drop = f"sqlite:///{path}", None
    else:
        uri, drop = create_database(request.param)
    _mlflow(BUILD, uri)
    view = json.loads(_mlflow(DUMP, uri))
    yield uri, view
    if drop:
        drop()


def _sqlite_copy(uri: str, tmp_path) -> str:
    """A private copy of a SQLite source (tests that must see the file untouched use their own)."""
    if not uri.startswith("sqlite:"):
        return uri
    target = tmp_path / "mlflow-copy.db"
    shutil.copy(uri[len("sqlite:///"):], target)
    return f"sqlite:///{target}"


def _import(*args: str):
    return CliRunner().invoke(main, ["import", "mlflow", "--no-progress", *args], catch_exceptions=False)


def test_import_round_trip_then_a_second_import_adds_nothing(mlflow_db, tmp_path):
    source, expected = mlflow_db
    target = f"sqlite:///{tmp_path}/autotrack.db"
    result = _import("--from", source, "--to", target)
    assert result.exit_code == 0, result.output
    assert "Imported 4 runs" in result.output and "Experiments created: alpha, beta" in result.output

    store = SqlStore(target)
    got = _autotrack_view(store)
    store.close()
    assert got["runs"] == expected["runs"]
    for name in ("alpha", "beta"):
        assert got["experiments"][name] == expected["experiments"][name]
    assert set(got["experiments"]) == set(expected["experiments"])  # MLflow's "Default" matched autotrack's
    first = next(r for r in got["runs"].values() if r["name"] == "first")
    assert len(first["history"]["loss"]) == 301 and first["datasets"][0][0] == "train"
    assert [math.isnan(float(v)) for _, _, v in first["history"]["odd"]] == [True, False]

    before = _counts(target)
    again = _import("--from", source, "--to", target)
    assert again.exit_code == 0, again.output
    assert "Imported 0 runs" in again.output and "Skipped 4 runs already in the target" in again.output
    assert _counts(target) == before


def _sqlite_source_only(source: str) -> None:
    if not source.startswith("sqlite:"):
        pytest.skip("checked with the SQLite source; the source's backend changes only how rows are read")


def test_import_into_postgresql_and_only_named_experiments(mlflow_db, tmp_path):
    source, expected = mlflow_db
    _sqlite_source_only(source)
    target, drop = create_database("postgresql")
    try:
        SqlStore(target).create_experiment("taken")  # takes id 1: beta keeps its MLflow id only if free
        result = _import("--from", source, "--to", target, "--experiments", "beta")
        assert result.exit_code == 0, result.output
        store = SqlStore(target)
        got = _autotrack_view(store)
        assert set(got["runs"]) == {rid for rid, r in expected["runs"].items() if r["experiment"] == "beta"}
        assert all(got["runs"][rid] == expected["runs"][rid] for rid in got["runs"])
        store.create_experiment("after-import")  # the id sequence moved past the imported ids
        store.close()
    finally:
        drop()


def test_an_interrupted_import_resumes_without_duplicates(mlflow_db, tmp_path, monkeypatch):
    from autotrack.stores.sql import mlflow_import

    source, expected = mlflow_db
    _sqlite_source_only(source)
    target = f"sqlite:///{tmp_path}/autotrack.db"
    real = mlflow_import.MlflowImporter._import_run
    calls = {"n": 0}

    def failing(self, *args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 2:
            raise KeyboardInterrupt  # the user pressed Ctrl-C while the second run was being written
        return real(self, *args, **kwargs)

    monkeypatch.setattr(mlflow_import.MlflowImporter, "_import_run", failing)
    interrupted = _import("--from", source, "--to", target)
    assert interrupted.exit_code != 0  # click reports the interrupt as "Aborted!"
    monkeypatch.setattr(mlflow_import.MlflowImporter, "_import_run", real)
    partial = SqlStore(target)
    present = _autotrack_view(partial)["runs"]
    partial.close()
    assert all(present[rid] == expected["runs"][rid] for rid in present) and len(present) < 4  # whole runs only
    result = _import("--from", source, "--to", target)
    assert f"Imported {4 - len(present)} runs" in result.output
    assert not present or f"Skipped {len(present)} runs" in result.output
    store = SqlStore(target)
    assert _autotrack_view(store)["runs"] == expected["runs"]
    store.close()


def test_opening_an_mlflow_database_is_refused_and_leaves_it_unchanged(mlflow_db, tmp_path):
    source, _ = mlflow_db
    source = _sqlite_copy(source, tmp_path)
    if source.startswith("sqlite:"):
        path = source[len("sqlite:///"):]
        digest = hashlib.sha256(open(path, "rb").read()).hexdigest()
        files = sorted(os.listdir(os.path.dirname(path)))
    before = _counts(source)
    with pytest.raises(ForeignSchemaError, match="MLflow tracking database.*autotrack import mlflow --from"):
        SqlStore(source)
    result = CliRunner().invoke(main, ["runs", "list", "--tracking-uri", source])
    assert result.exit_code == 1 and "autotrack import mlflow" in result.output
    assert _counts(source) == before and "autotrack_schema_version" not in before
    if source.startswith("sqlite:"):
        assert hashlib.sha256(open(path, "rb").read()).hexdigest() == digest
        assert sorted(os.listdir(os.path.dirname(path))) == files  # no -wal, -shm or lock file either


def test_import_errors_name_what_is_wrong(tmp_path):
    target = f"sqlite:///{tmp_path}/autotrack.db"
    SqlStore(target).close()
    result = CliRunner().invoke(main, ["import", "mlflow", "--from", target, "--to", f"sqlite:///{tmp_path}/other.db"])
    assert result.exit_code == 1 and "is not an MLflow tracking database" in result.output
    result = CliRunner().invoke(main, ["import", "mlflow", "--from", f"sqlite:///{tmp_path}/missing.db"])
    assert result.exit_code == 1 and "no such file" in result.output
