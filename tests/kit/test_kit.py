"""Unit tests of the integration kit, read back from the store (and the artifact repository)."""

from __future__ import annotations

import json
import os
import warnings

import numpy as np
import pytest

import autotrack
from autotrack.core import AutologConfig, AutotrackWarning
from autotrack.integrations.kit import artifacts, callbacks, calls, datasets, metrics, models, params, runs
from autotrack.tracking.client import TrackingClient

CONFIG = AutologConfig({"silent": False, "extra_tags": {"team": "kit"}, "exclusive": False,
                        "log_input_examples": True, "log_model_signatures": True})


def _run() -> str:
    return runs.create_run("kit", CONFIG)


def _read(run_id):
    return TrackingClient().get_run(run_id)


# ------------------------------------------------------------------------------------------ runs
def test_create_run_applies_the_one_tag_policy():
    run_id = runs.create_run("kit", CONFIG, tags={"estimator_name": "Thing"})
    run = _read(run_id)
    assert run.info.status == "RUNNING"
    tags = run.data.tags
    assert tags["autotrack.autologging"] == "kit" and tags["team"] == "kit" and tags["estimator_name"] == "Thing"
    assert {"mlflow.user", "mlflow.source.name", "mlflow.source.type", "mlflow.runName"} <= set(tags)
    assert autotrack.active_run() is None  # not made active
    runs.end_run(run_id, "FAILED")
    assert _read(run_id).info.status == "FAILED"


def test_child_run_is_tagged_with_its_parent_and_lands_in_its_experiment():
    experiment = autotrack.create_experiment("kit-children")
    parent = runs.create_run("kit", CONFIG, experiment_id=experiment)
    child = runs.create_child_run("kit", CONFIG, parent, run_name="candidate-0")
    run = _read(child)
    assert run.info.experiment_id == experiment and run.info.run_name == "candidate-0"
    assert run.data.tags["mlflow.parentRunId"] == parent == run.data.tags["autotrack.parentRunId"]
    assert run.data.tags["autotrack.autologging"] == "kit"


def test_start_or_join_joins_the_users_run_and_respects_exclusive():
    with autotrack.start_run() as users:
        assert runs.start_or_join("kit", CONFIG) == (users.info.run_id, False)
        assert runs.start_or_join("kit", AutologConfig({"exclusive": True})) == (None, False)
    run_id, created = runs.start_or_join("kit", CONFIG)
    assert created and autotrack.active_run().info.run_id == run_id
    autotrack.end_run()
    assert _read(run_id).data.tags["autotrack.autologging"] == "kit"


def test_incremental_runs_outlive_calls_and_end_with_on_end_first():
    ended = []

    class Model:
        pass

    tracker = runs.IncrementalRuns("kit", on_end=lambda run_id, owner, config, status: ended.append((run_id, owner, status)))
    a, b = Model(), Model()
    run_a, created = tracker.run_for(a, CONFIG)
    assert created and tracker.run_for(a, CONFIG) == (run_a, False)
    run_b, _ = tracker.run_for(b, CONFIG)
    assert run_a != run_b and sorted(tracker.open_runs()) == sorted([run_a, run_b])
    metrics.log_metrics(run_a, {"loss": 0.5}, step=3, integration="kit")
    tracker.end(run_a)
    assert ended == [(run_a, a, "FINISHED")] and tracker.get(a) is None
    assert _read(run_a).info.status == "FINISHED" and _read(run_a).data.metrics == {"loss": 0.5}
    tracker.end_all("KILLED", "test")
    assert _read(run_b).info.status == "KILLED" and tracker.open_runs() == []


def test_incremental_run_still_ends_when_on_end_fails():
    def broken(*args):
        raise RuntimeError("on_end is broken")

    tracker = runs.IncrementalRuns("kit", on_end=broken)
    owner = type("Owner", (), {})()
    run_id, _ = tracker.run_for(owner, CONFIG)
    with pytest.warns(AutotrackWarning, match="on_end is broken"):
        tracker.end(run_id)
    assert _read(run_id).info.status == "FINISHED"


# ---------------------------------------------------------------------------------------- params
def test_flatten_and_to_text():
    from collections import namedtuple
    from dataclasses import dataclass

    @dataclass
    class Optim:
        lr: float = 0.1
        betas: tuple = (0.9, 0.99)

    Point = namedtuple("Point", "x y")
    flat = params.flatten({"optim": Optim(), "p": Point(1, 2), "layers": [1, 2], "empty": {}, "none": None})
    assert flat == {"optim.lr": 0.1, "optim.betas": (0.9, 0.99), "p.x": 1, "p.y": 2, "layers": [1, 2],
                    "empty": {}, "none": None}
    assert params.to_text(None) == "None" and params.to_text(b"abc") == "abc" and params.to_text(0.5) == "0.5"


def test_one_bad_param_among_good_ones_keeps_the_good_ones():
    run_id = _run()

    class Unprintable:
        def __str__(self):
            raise RuntimeError("no text")

    with pytest.warns(AutotrackWarning, match=r"could not log 2 param\(s\) \(the others were logged\)"):
        logged = params.log_params(run_id, {"good": 1, "bad key!": 2, "nested": {"ok": "yes"}, "obj": Unprintable(),
                                            "also_good": [1, 2]}, integration="kit", config=CONFIG)
    assert logged == {"good": "1", "nested.ok": "yes", "also_good": "[1, 2]"}
    assert _read(run_id).data.params == logged


def test_long_values_are_cut_with_one_warning_and_still_logged():
    from autotrack.entities.validation import MAX_PARAM_VALUE_LENGTH

    run_id = _run()
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        params.log_params(run_id, {"long": "x" * 10_000, "longer": "y" * 20_000, "k" * 300: 1, "short": 1},
                          integration="kit")
    cut = [w for w in seen if issubclass(w.category, AutotrackWarning)]
    assert len(cut) == 1 and "cut 3 param(s)" in str(cut[0].message)
    stored = _read(run_id).data.params
    assert len(stored["long"]) == MAX_PARAM_VALUE_LENGTH and stored["long"].endswith("...")
    assert stored["short"] == "1" and len([k for k in stored if k.startswith("kkk")][0]) == 250


def test_a_write_once_conflict_skips_that_param_only():
    run_id = _run()
    params.log_params(run_id, {"a": 1}, integration="kit")
    with pytest.warns(AutotrackWarning, match="could not log 1 param"):
        params.log_params(run_id, {"a": 2, "b": 3}, integration="kit", keep_existing=False)
    assert _read(run_id).data.params == {"a": "1", "b": "3"}
    params.log_params(run_id, {"a": 5, "c": 4}, integration="kit")  # keep_existing: silently kept
    assert _read(run_id).data.params == {"a": "1", "b": "3", "c": "4"}


# --------------------------------------------------------------------------------------- metrics
class FakeTensor:
    """A one-element tensor stand-in (torch's API: numel, item)."""

    def __init__(self, value, n=1):
        self.value, self.n = value, n

    def numel(self):
        return self.n

    def item(self):
        return self.value


def test_scalar_coercion():
    assert metrics.scalar(1) == 1.0 and metrics.scalar(2.5) == 2.5
    assert metrics.scalar(np.float32(0.5)) == 0.5 and metrics.scalar(np.int64(3)) == 3.0
    assert metrics.scalar(np.array(4.0)) == 4.0 and metrics.scalar(np.array([[5]])) == 5.0
    assert metrics.scalar(np.array([1.0, 2.0])) is None
    assert metrics.scalar(True) is None and metrics.scalar(np.bool_(True)) is None and metrics.scalar("1") is None
    assert metrics.scalar(np.complex64(1)) is None
    assert np.isnan(metrics.scalar(float("nan")))
    assert metrics.scalar(FakeTensor(0.25)) is None  # tensors only when asked
    assert metrics.scalar(FakeTensor(0.25), tensors=True) == 0.25
    assert metrics.scalar(FakeTensor(0.25, n=3), tensors=True) is None


def test_log_metrics_logs_a_dict_at_one_step_and_timestamp():
    run_id = _run()
    logged = metrics.log_metrics(run_id, {"loss": np.float64(0.5), "acc": np.array([0.9]), "name": "x",
                                          "t": FakeTensor(2.0)}, step=7, integration="kit", tensors=True, prefix="train_")
    assert logged == {"train_loss": 0.5, "train_acc": 0.9, "train_t": 2.0}
    client = TrackingClient()
    history = [client.get_metric_history(run_id, key)[0] for key in logged]
    assert {m.step for m in history} == {7} and len({m.timestamp for m in history}) == 1


def test_a_bad_metric_key_skips_only_that_metric():
    run_id = _run()
    with pytest.warns(AutotrackWarning, match="could not log metrics"):
        logged = metrics.log_metrics(run_id, {"ok": 1.0, "bad key!": 2.0}, integration="kit")
    assert logged == {"ok": 1.0}
    assert _read(run_id).data.metrics == {"ok": 1.0}


# -------------------------------------------------------------------------------------- datasets
def test_log_dataset_records_tag_artifact_and_mlflow_input_shape(artifact_root, tmp_path):
    import pandas as pd

    run_id = _run()
    X = pd.DataFrame({"a": [1.0, 2.0, 3.0], "b": ["x", "y", "z"]})
    y = np.array([0, 1, 0])
    desc = datasets.log_dataset(run_id, X, y, name="X_train", context="train", integration="kit", config=CONFIG)
    datasets.log_dataset(run_id, X, y, name="X_train", context="train", integration="kit")  # same: one entry
    datasets.log_dataset(run_id, X.iloc[:2], None, name="X_eval", context="eval", integration="kit")
    assert desc["shape"] == [3, 2] and desc["columns"] == [{"name": "a", "dtype": "float64"}, {"name": "b", "dtype": str(X.dtypes["b"])}]
    assert desc["digest"] == datasets.describe(X.copy(), y.copy(), "other")["digest"]  # content, not name
    tag = json.loads(_read(run_id).data.tags["mlflow.datasets"])
    assert [t["context"] for t in tag] == ["train", "eval"] and tag[0] == datasets.summary(desc)
    client = TrackingClient()
    path = client.download_artifacts(run_id, "datasets/train.json", str(tmp_path / "dl"))  # waits for the writer
    with open(path) as handle:
        assert json.load(handle) == desc
    autotrack.flush()  # the run inputs are written by the background writer
    inputs = TrackingClient().get_run(run_id).inputs.dataset_inputs
    assert {(i.dataset.name, i.dataset.digest, i.tags[0].value) for i in inputs} == \
        {("X_train", desc["digest"], "train"), ("X_eval", tag[1]["digest"], "eval")}
    entry = datasets.dataset_input(desc)
    assert entry["tags"] == [{"key": "mlflow.data.context", "value": "train"}]
    assert set(entry["dataset"]) == {"name", "digest", "source_type", "source", "schema", "profile"}
    assert json.loads(entry["dataset"]["schema"])["mlflow_colspec"][0] == {"name": "a", "dtype": "float64"}


# ---------------------------------------------------------------------------------------- models
def test_log_model_by_run_id_with_signature_and_example(artifact_root):
    from sklearn.linear_model import LinearRegression

    from autotrack.integrations.sklearn.flavor import model_writer

    X = np.arange(20, dtype=float).reshape(10, 2)
    model = LinearRegression().fit(X, X.sum(axis=1))
    run_id = _run()
    uri = models.log_model(run_id, model_writer(model), input_example=X[:3], integration="kit", config=CONFIG,
                           background=True)
    assert uri == f"runs:/{run_id}/model"
    loaded = autotrack.models.load_model(uri)  # waits for the background upload of this run
    assert np.allclose(loaded.predict(X[:3]), model.predict(X[:3]))
    info = autotrack.models.get_model_info(uri) if hasattr(autotrack.models, "get_model_info") else None
    names = {f.path for f in TrackingClient().list_artifacts(run_id, "model")}
    assert "model/MLmodel" in names and any(n.startswith("model/input_example") for n in names)
    if info is not None:
        assert info.signature is not None


def test_log_model_honours_the_autolog_options():
    from sklearn.linear_model import LinearRegression

    from autotrack.integrations.sklearn.flavor import model_writer

    X = np.arange(20, dtype=float).reshape(10, 2)
    model = LinearRegression().fit(X, X.sum(axis=1))
    run_id = _run()
    config = AutologConfig({"log_input_examples": False, "log_model_signatures": False})
    models.log_model(run_id, model_writer(model), input_example=X[:3], config=config)
    names = {f.path for f in TrackingClient().list_artifacts(run_id, "model")}
    assert "model/MLmodel" in names and not any(n.startswith("model/input_example") for n in names)


def test_infer_signature_gives_none_for_data_without_a_schema():
    assert models.infer_signature(lambda data: data, object()) is None
    assert models.infer_signature(None, None) is None
    assert models.infer_signature(lambda data: data[:, 0], np.ones((3, 2))) is not None


# ----------------------------------------------------------------------------------------- calls
class FakeCall:
    """What the engine passes a hook, reduced to what kit.calls reads and writes."""

    def __init__(self, fn, args, kwargs, integration="kit", config=CONFIG):
        from autotrack.core.patching import Call
        from autotrack.core.session import Session

        self.call = Call(integration, config, "m.f", None, args, kwargs, Session(integration, "m.f"), fn)


def _fit(X, y=None, sample_weight=None, callbacks=None, **extra):
    return X


def test_argument_lookup_by_position_or_name():
    call = FakeCall(_fit, ([1], [2], [3]), {}).call
    assert calls.argument(call, "sample_weight") == [3] and calls.argument(call, "y") == [2]
    assert calls.argument(call, "callbacks", default="none") == "none"
    call = FakeCall(_fit, ([1],), {"sample_weight": [9]}).call
    assert calls.argument(call, "sample_weight") == [9] and not calls.has_argument(call, "y")
    # a callable without a readable signature: the positional fallback
    call = FakeCall(print, ("a", "b"), {}).call
    assert calls.argument(call, "second", position=1) == "b"


def test_set_argument_replaces_where_the_user_passed_it():
    call = FakeCall(_fit, ([1], [2], None, ["cb"]), {}).call
    calls.set_argument(call, "callbacks", ["new"])
    args, kwargs = call.final_arguments()
    assert args[3] == ["new"] and kwargs == {}
    call = FakeCall(_fit, ([1],), {}).call
    calls.set_argument(call, "callbacks", ["new"])
    assert call.final_arguments() == (([1],), {"callbacks": ["new"]})

    def strict(X, y=None):
        return X

    with pytest.raises(TypeError, match="has no parameter 'callbacks'"):
        calls.set_argument(FakeCall(strict, ([1],), {}).call, "callbacks", [])


def test_caller_variable_name():
    X_train = [1, 2, 3]
    assert calls.caller_variable_name(X_train) == "X_train"

    assert calls.caller_variable_name([1], default="dataset") == "dataset"
    assert calls.caller_variable_name(None) == "dataset"


# ------------------------------------------------------------------------------------- callbacks
def test_add_callback_copies_the_users_list_and_guards_the_callback():
    def users(step):
        pass

    mine = [users]
    call = FakeCall(_fit, ([1],), {"callbacks": mine}).call

    def broken(step):
        raise ValueError("broken callback")

    new = callbacks.add_callback(call, broken)
    assert mine == [users] and new is not mine and new[0] is users
    assert call.final_arguments()[1]["callbacks"] is new
    with pytest.warns(AutotrackWarning, match="broken callback"):
        assert new[1](1) is None  # guarded: does not raise, even under AUTOTRACK_STRICT=1


def test_add_callback_guards_every_method_of_a_callback_object_and_keeps_the_container():
    class Base:
        def on_begin(self):
            return "base"

    class Logger(Base):
        def on_epoch_end(self, epoch):
            raise RuntimeError("epoch hook is broken")

    call = FakeCall(_fit, ([1],), {"callbacks": ("user",)}).call
    new = callbacks.add_callback(call, Logger())
    assert isinstance(new, tuple) and new[0] == "user"
    logger = new[1]
    assert callbacks.is_safe(logger) and logger.on_begin() == "base"
    with pytest.warns(AutotrackWarning, match="epoch hook is broken"):
        assert logger.on_epoch_end(1) is None
    # nothing added when the user already has an equivalent callback
    call = FakeCall(_fit, ([1],), {"callbacks": [Logger()]}).call
    assert callbacks.add_callback(call, Logger(), skip_if=lambda cb: isinstance(cb, Logger)) is None
    assert call.final_arguments()[1]["callbacks"][0].__class__ is Logger
    # a single callback object becomes a list of two; None becomes a list of one
    call = FakeCall(_fit, ([1],), {"callbacks": "single"}).call
    assert callbacks.add_callback(call, Logger())[0] == "single"
    call = FakeCall(_fit, ([1],), {}).call
    assert len(callbacks.add_callback(call, Logger())) == 1


# ------------------------------------------------------------------------------------- artifacts
def test_artifacts_are_written_the_same_with_a_local_and_a_non_local_repository(artifact_root, tmp_path):
    run_id = _run()
    artifacts.log_bytes(run_id, b"\x00\x01", "raw/data.bin")
    artifacts.log_text(run_id, "hello", "notes/hello.txt", background=True, integration="kit")
    artifacts.log_json(run_id, {"a": [1, 2]}, "cfg.json", background=True, integration="kit")
    source = tmp_path / "file.txt"
    source.write_text("file")
    artifacts.log_file(run_id, source, "files")
    folder = tmp_path / "folder"
    (folder / "sub").mkdir(parents=True)
    (folder / "sub" / "x.txt").write_text("x")
    artifacts.log_folder(run_id, folder, "tree")
    write = artifacts.writer_for(run_id)
    artifacts.submit(run_id, lambda: write({"computed/late.json": b"{}"}), integration="kit")
    assert artifacts.wait(30)
    client = TrackingClient()
    top = {f.path for f in client.list_artifacts(run_id)}
    assert top == {"raw", "notes", "cfg.json", "files", "tree", "computed"}
    out = client.download_artifacts(run_id, "", str(tmp_path / "dl"))
    read = {os.path.relpath(os.path.join(r, n), out): open(os.path.join(r, n), "rb").read()
            for r, _d, ns in os.walk(out) for n in ns}
    assert read == {"raw/data.bin": b"\x00\x01", "notes/hello.txt": b"hello", "cfg.json": b'{"a":[1,2]}',
                    "files/file.txt": b"file", "tree/sub/x.txt": b"x", "computed/late.json": b"{}"}


def test_local_log_bytes_is_atomic_and_replaces(tmp_path):
    from autotrack.artifacts import get_artifact_repository

    repo = get_artifact_repository(str(tmp_path / "root"))
    repo.log_bytes(b"one", "a/b.txt")
    repo.log_bytes(b"two", "a/b.txt")
    assert (tmp_path / "root" / "a" / "b.txt").read_bytes() == b"two"
    assert os.listdir(tmp_path / "root" / "a") == ["b.txt"]  # no temporary file left
    from autotrack.exceptions import InvalidParameterError

    with pytest.raises(InvalidParameterError):
        repo.log_bytes(b"x", "../escape.txt")


def test_a_failing_background_job_is_reported_not_raised(tmp_path):
    run_id = _run()

    def job():
        raise OSError("disk full")

    with pytest.warns(AutotrackWarning, match="disk full"):
        artifacts.submit(run_id, job, integration="kit-bg", what="writing plots")
        assert artifacts.wait(30)


def test_flush_drains_the_background_writer():
    run_id = _run()
    artifacts.log_text(run_id, "later", "late.txt", background=True, integration="kit")
    autotrack.flush()
    from autotrack.tracking import artifact_writer

    assert artifact_writer.pending() == 0
    assert TrackingClient().artifact_repository(run_id).list_artifacts()[0].path == "late.txt"


def test_unknown_artifact_scheme_lists_registered_ones(memory_artifacts):
    from autotrack.artifacts import get_artifact_repository
    from autotrack.exceptions import InvalidParameterError

    with pytest.raises(InvalidParameterError, match="memtest://"):
        get_artifact_repository("nope://x")
    with pytest.raises(InvalidParameterError, match="expected a URI scheme"):
        autotrack.artifacts.register_artifact_repository("", lambda uri: None)
