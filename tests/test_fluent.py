"""The fluent API, read back through the store."""

from __future__ import annotations

import asyncio
import math
import threading

import pytest

import autotrack
from autotrack.exceptions import InvalidParameterError, InvalidStateError, ResourceNotFoundError


def test_tutorial_hyperparameter_loop_shape(store_uri):
    ids = []
    for depth, acc in [(5, 0.8), (10, 0.9), (15, 0.85)]:
        with autotrack.start_run() as run:
            autotrack.log_param("max_depth", depth)
            autotrack.log_metric("accuracy", acc)
            ids.append(run.info.run_id)
    runs = autotrack.search_runs(order_by=["metrics.accuracy DESC"], output_format="list")
    assert [r.info.run_id for r in runs] == [ids[1], ids[2], ids[0]]
    assert [r.data.params["max_depth"] for r in runs] == ["10", "15", "5"]
    assert all(r.info.status == "FINISHED" and r.info.end_time for r in runs)
    df = autotrack.search_runs(order_by=["metrics.accuracy DESC"])
    assert list(df["metrics.accuracy"]) == [0.9, 0.85, 0.8] and list(df["run_id"]) == [ids[1], ids[2], ids[0]]
    assert {"params.max_depth", "tags.mlflow.runName", "status", "start_time"} <= set(df.columns)


def test_context_manager_statuses():
    with autotrack.start_run() as ok:
        pass
    with pytest.raises(ValueError):
        with autotrack.start_run() as failed:
            raise ValueError("boom")
    with pytest.raises(KeyboardInterrupt):
        with autotrack.start_run() as killed:
            raise KeyboardInterrupt
    statuses = [autotrack.get_run(r.info.run_id).info.status for r in (ok, failed, killed)]
    assert statuses == ["FINISHED", "FAILED", "KILLED"]
    assert autotrack.active_run() is None


def test_start_run_options_and_tags():
    autotrack.set_experiment("fluent-exp")
    with autotrack.start_run(run_name="parent", tags={"team": "a"}, description="first try") as parent:
        with autotrack.start_run(nested=True, run_name="child") as child:
            assert autotrack.active_run().info.run_id == child.info.run_id
        assert autotrack.active_run().info.run_id == parent.info.run_id
    p, c = autotrack.get_run(parent.info.run_id), autotrack.get_run(child.info.run_id)
    assert p.info.run_name == "parent" and p.data.tags["team"] == "a" and p.data.tags["mlflow.note.content"] == "first try"
    assert p.data.tags["mlflow.user"] and p.data.tags["mlflow.source.name"]
    assert c.data.tags["mlflow.parentRunId"] == parent.info.run_id == c.data.tags["autotrack.parentRunId"]
    assert p.info.experiment_id == autotrack.get_experiment_by_name("fluent-exp").experiment_id
    assert autotrack.last_active_run().info.run_id == parent.info.run_id


def test_second_start_run_without_nested_is_an_error():
    with autotrack.start_run() as run:
        with pytest.raises(InvalidStateError, match=f"{run.info.run_id} is already active.*nested=True"):
            autotrack.start_run()


def test_resume_finished_run():
    with autotrack.start_run() as run:
        autotrack.log_metric("m", 1.0, step=0)
    with pytest.raises(InvalidStateError, match="FINISHED"):
        autotrack.TrackingClient().log_metric(run.info.run_id, "m", 2.0)
    with autotrack.start_run(run_id=run.info.run_id):
        autotrack.log_metric("m", 2.0, step=1)
    assert [m.value for m in autotrack.TrackingClient().get_metric_history(run.info.run_id, "m")] == [1.0, 2.0]
    assert autotrack.get_run(run.info.run_id).info.status == "FINISHED"


def test_logging_without_active_run_starts_one():
    autotrack.log_metric("x", 1.5)
    run = autotrack.active_run()
    assert run is not None
    autotrack.end_run()
    assert autotrack.get_run(run.info.run_id).data.metrics == {"x": 1.5}


def test_params_metrics_tags_read_back():
    with autotrack.start_run() as run:
        autotrack.log_params({"a": 1, "b": [1, 2]})
        autotrack.log_param("a", 1)
        with pytest.raises(InvalidParameterError, match=rf"'a' of run {run.info.run_id}.*'1'.*'2'"):
            autotrack.log_param("a", 2)
        autotrack.log_metrics({"m1": 0.5, "m2": float("nan")}, step=3)
        autotrack.set_tags({"x": "1", "y": 2})
        autotrack.set_tag("x", "3")
        autotrack.delete_tag("y")
        with pytest.raises(InvalidParameterError, match="metric value 'high'"):
            autotrack.log_metric("m1", "high")
        with pytest.raises(InvalidParameterError, match="metric value True"):
            autotrack.log_metric("m1", True)
    data = autotrack.get_run(run.info.run_id).data
    assert data.params == {"a": "1", "b": "[1, 2]"}
    assert data.metrics["m1"] == 0.5 and math.isnan(data.metrics["m2"])
    assert data.tags["x"] == "3" and "y" not in data.tags
    history = autotrack.TrackingClient().get_metric_history(run.info.run_id, "m1")
    assert [(m.step, m.value) for m in history] == [(3, 0.5)]


def test_log_to_unknown_run_id():
    with pytest.raises(ResourceNotFoundError, match="f" * 32):
        autotrack.TrackingClient().log_metric("f" * 32, "m", 1.0)


def test_deleted_run_rejects_logging():
    with autotrack.start_run() as run:
        pass
    autotrack.delete_run(run.info.run_id)
    with pytest.raises(InvalidStateError, match="deleted"):
        autotrack.TrackingClient().set_tag(run.info.run_id, "k", "v")


def test_unsupported_tracking_uri_scheme_lists_supported():
    with pytest.raises(InvalidParameterError, match=r"'ftp'") as err:
        autotrack.set_tracking_uri("ftp://host/db")
    assert all(s in str(err.value) for s in ("sqlite://", "postgresql://", "mysql+pymysql://"))
    with pytest.raises(InvalidParameterError, match="'ftp'.*supported schemes"):
        autotrack.TrackingClient("ftp://host/db")


def test_env_experiment_name(monkeypatch):
    monkeypatch.setenv("AUTOTRACK_EXPERIMENT_NAME", "from-env")
    with autotrack.start_run() as run:
        pass
    assert autotrack.get_run(run.info.run_id).info.experiment_id == autotrack.get_experiment_by_name("from-env").experiment_id


def test_set_tracking_uri_overrides_env(tmp_path):
    uri = f"sqlite:///{tmp_path}/other.db"
    autotrack.set_tracking_uri(uri)
    assert autotrack.get_tracking_uri() == uri
    with autotrack.start_run() as run:
        autotrack.log_metric("m", 1.0)
    assert autotrack.TrackingClient(uri).get_run(run.info.run_id).data.metrics == {"m": 1.0}
    assert (tmp_path / "other.db").exists()


def test_run_context_is_isolated_between_threads():
    seen = {}
    with autotrack.start_run() as main_run:

        def worker():
            seen["active"] = autotrack.active_run()
            with autotrack.start_run() as own:  # no "already active" error: this thread has no run
                autotrack.log_metric("w", 1.0)
                seen["own"] = own.info.run_id

        thread = threading.Thread(target=worker)
        thread.start()
        thread.join()
        assert autotrack.active_run().info.run_id == main_run.info.run_id
    assert seen["active"] is None and seen["own"] != main_run.info.run_id
    assert autotrack.get_run(seen["own"]).data.metrics == {"w": 1.0}
    assert autotrack.get_run(main_run.info.run_id).data.metrics == {}


def test_run_context_is_isolated_between_asyncio_tasks():
    async def task(name):
        with autotrack.start_run(run_name=name) as run:
            await asyncio.sleep(0.01)
            assert autotrack.active_run().info.run_id == run.info.run_id
            autotrack.log_metric(name, 1.0)
            return run.info.run_id

    async def main():
        return await asyncio.gather(task("a"), task("b"))

    a, b = asyncio.run(main())
    assert autotrack.get_run(a).data.metrics == {"a": 1.0}
    assert autotrack.get_run(b).data.metrics == {"b": 1.0}


def test_artifacts_text_dict_figure(tmp_path):
    src = tmp_path / "ckpt.pth"
    src.write_bytes(b"weights")
    folder = tmp_path / "outputs"
    (folder / "sub").mkdir(parents=True)
    (folder / "sub" / "f.txt").write_text("f")
    with autotrack.start_run() as run:
        autotrack.log_artifact(str(src))
        autotrack.log_artifact(str(src), artifact_path="checkpoints/epoch1")
        autotrack.log_artifacts(str(folder), artifact_path="out")
        autotrack.log_text("hello", "notes/readme.txt")
        autotrack.log_dict({"lr": 0.1}, "config.json")
        matplotlib = pytest.importorskip("matplotlib")
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        fig, ax = plt.subplots()
        ax.plot([1, 2, 3])
        autotrack.log_figure(fig, "plots/curve.png")
        for bad in ("../escape.txt", "/etc/passwd", "a/../../b.txt"):
            with pytest.raises(InvalidParameterError, match="artifact_path"):
                autotrack.log_text("x", bad)
    client = autotrack.TrackingClient()
    top = {f.path for f in client.list_artifacts(run.info.run_id)}
    assert top == {"ckpt.pth", "checkpoints", "out", "notes", "config.json", "plots"}
    dst = client.download_artifacts(run.info.run_id, "", str(tmp_path / "dl"))
    import json, os

    assert open(os.path.join(dst, "checkpoints/epoch1/ckpt.pth"), "rb").read() == b"weights"
    assert open(os.path.join(dst, "out/sub/f.txt")).read() == "f"
    assert open(os.path.join(dst, "notes/readme.txt")).read() == "hello"
    assert json.load(open(os.path.join(dst, "config.json"))) == {"lr": 0.1}
    assert open(os.path.join(dst, "plots/curve.png"), "rb").read(4) == b"\x89PNG"
    assert run.info.artifact_uri.endswith(f"/{run.info.experiment_id}/{run.info.run_id}/artifacts")


def test_download_runs_uri(tmp_path):
    from autotrack.artifacts import download_artifacts

    with autotrack.start_run() as run:
        autotrack.log_text("v1", "model/weights.txt")
    local = download_artifacts(f"runs:/{run.info.run_id}/model", str(tmp_path / "m"))
    assert open(f"{local}/weights.txt").read() == "v1"
