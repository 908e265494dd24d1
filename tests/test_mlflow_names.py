"""The names MLflow users reach for: MlflowClient, log_table, log_image, get_artifact_uri,
search_experiments, set_experiment_tags, get_parent_run, and MLflow's error codes on exceptions."""

from __future__ import annotations

import json
import os

import numpy as np
import pandas as pd
import pytest

import autotrack
from autotrack.exceptions import InvalidParameterError


def test_mlflow_client_is_the_tracking_client():
    import autotrack.tracking

    assert autotrack.MlflowClient is autotrack.TrackingClient
    assert autotrack.tracking.MlflowClient is autotrack.TrackingClient
    from autotrack import MlflowClient
    from autotrack.tracking import MlflowClient as FromTracking

    assert MlflowClient is FromTracking
    client = MlflowClient()
    experiment_id = client.create_experiment("via-mlflow-name")
    assert client.get_experiment(experiment_id).name == "via-mlflow-name"


def _artifact_json(run_id: str, path: str):
    local = autotrack.TrackingClient().download_artifacts(run_id, path)
    with open(local) as handle:
        return json.load(handle)


def test_log_table_writes_mlflow_split_json_and_appends():
    with autotrack.start_run() as run:
        autotrack.log_table({"question": ["a?", "b?"], "score": [0.5, 1.0]}, "eval/results.json")
        autotrack.log_table(pd.DataFrame({"question": ["c?"], "score": [0.25]}), "eval/results.json")
    assert _artifact_json(run.info.run_id, "eval/results.json") == {
        "columns": ["question", "score"], "data": [["a?", 0.5], ["b?", 1.0], ["c?", 0.25]]}
    tags = autotrack.get_run(run.info.run_id).data.tags
    assert json.loads(tags["mlflow.loggedArtifacts"]) == [{"path": "eval/results.json", "type": "table"}]
    # pandas (as MLflow does) reads it back as a table
    frame = pd.read_json(autotrack.TrackingClient().download_artifacts(run.info.run_id, "eval/results.json"), orient="split")
    assert frame["score"].tolist() == [0.5, 1.0, 0.25]


def test_log_table_scalars_are_one_row_and_bad_names_are_refused():
    with autotrack.start_run() as run:
        autotrack.log_table({"inputs": "What is MLflow?", "n": 1}, "one.json")
        with pytest.raises(InvalidParameterError, match=r"expected a name ending in \.json or \.parquet"):
            autotrack.log_table({"a": [1]}, "table.csv")
        with pytest.raises(InvalidParameterError, match="may not contain :"):
            autotrack.log_table({"a": [1]}, "a:b.json")
        with pytest.raises(InvalidParameterError, match="expected a pandas DataFrame or a dict"):
            autotrack.log_table([1, 2], "x.json")
    assert _artifact_json(run.info.run_id, "one.json") == {"columns": ["inputs", "n"], "data": [["What is MLflow?", 1]]}


def test_client_log_table_by_run_id():
    client = autotrack.MlflowClient()
    run = client.create_run("0")
    client.log_table(run.info.run_id, {"x": [1, 2]}, "t.json")
    client.set_terminated(run.info.run_id)
    assert _artifact_json(run.info.run_id, "t.json") == {"columns": ["x"], "data": [[1], [2]]}


def test_log_image_static_and_stepped():
    from PIL import Image

    pixels = np.zeros((4, 6, 3), dtype=np.uint8)
    pixels[0, 0] = [255, 0, 0]
    with autotrack.start_run() as run:
        autotrack.log_image(pixels, "pictures/red_corner.png")
        autotrack.log_image(np.full((3, 3), 0.5), key="val/attention", step=7, timestamp=1_700_000_000_000)
    client = autotrack.TrackingClient()
    with Image.open(client.download_artifacts(run.info.run_id, "pictures/red_corner.png")) as img:
        assert img.size == (6, 4) and img.getpixel((0, 0)) == (255, 0, 0) and img.getpixel((1, 0)) == (0, 0, 0)
    names = sorted(f.path for f in client.list_artifacts(run.info.run_id, "images"))
    assert len(names) == 2
    png, webp = sorted(names, key=lambda n: n.endswith(".webp"))
    assert png.startswith("images/val~attention+step+7+timestamp+1700000000000+") and png.endswith(".png")
    assert webp == png[:-len(".png")] + "+compressed.webp"
    with Image.open(client.download_artifacts(run.info.run_id, png)) as img:
        assert img.mode == "L" and img.getpixel((1, 1)) == 128
    assert client.get_run(run.info.run_id).data.tags["mlflow.loggedImages"] == "true"


def test_log_image_errors_name_the_problem():
    with autotrack.start_run():
        with pytest.raises(InvalidParameterError, match="either artifact_file, or key"):
            autotrack.log_image(np.zeros((2, 2)), "a.png", key="k")
        with pytest.raises(InvalidParameterError, match="needs artifact_file"):
            autotrack.log_image(np.zeros((2, 2)))
        with pytest.raises(InvalidParameterError, match=r"must lie in \[0, 1\]; got values from 0.0 to 2.0"):
            autotrack.log_image(np.array([[0.0, 2.0]]), "a.png")
        with pytest.raises(InvalidParameterError, match=r"expected \(H, W\)"):
            autotrack.log_image(np.zeros((2, 2, 5), dtype=np.uint8), "a.png")
        with pytest.raises(InvalidParameterError, match="Invalid image key"):
            autotrack.log_image(np.zeros((2, 2)), key="a:b")


def test_get_artifact_uri_and_search_experiments():
    with autotrack.start_run() as run:
        assert autotrack.get_artifact_uri() == run.info.artifact_uri
        assert autotrack.get_artifact_uri("model/MLmodel") == run.info.artifact_uri + "/model/MLmodel"
    autotrack.create_experiment("alpha")
    names = [e.name for e in autotrack.search_experiments(filter_string="name LIKE 'al%'")]
    assert names == ["alpha"]


def test_set_experiment_tags_on_the_active_experiment():
    experiment = autotrack.set_experiment("tagged")
    autotrack.set_experiment_tags({"team": "vision", "priority": 1})
    autotrack.set_experiment_tag("stage", "dev")
    assert autotrack.get_experiment(experiment.experiment_id).tags == {"team": "vision", "priority": "1", "stage": "dev"}


def test_get_parent_run():
    with autotrack.start_run() as parent:
        with autotrack.start_run(nested=True) as child:
            pass
    assert autotrack.get_parent_run(child.info.run_id).info.run_id == parent.info.run_id
    assert autotrack.get_parent_run(parent.info.run_id) is None
    assert autotrack.MlflowClient().get_parent_run(child.info.run_id).info.run_id == parent.info.run_id


@pytest.mark.parametrize("make, code", [
    (lambda: autotrack.get_run("0" * 32), "RESOURCE_DOES_NOT_EXIST"),
    (lambda: autotrack.log_metric("bad key!", 1.0), "INVALID_PARAMETER_VALUE"),
    (lambda: autotrack.create_experiment("Default"), "RESOURCE_ALREADY_EXISTS"),
])
def test_exceptions_carry_mlflow_error_codes(make, code):
    with pytest.raises(autotrack.AutotrackException) as caught:
        make()
    assert caught.value.error_code == code
    assert autotrack.MlflowException is autotrack.AutotrackException
    autotrack.end_run()
    exceptions = pytest.importorskip("mlflow.exceptions")
    codes = pytest.importorskip("mlflow.protos.databricks_pb2")
    theirs = exceptions.MlflowException("x", codes.ErrorCode.Value(code))  # a code MLflow defines...
    assert theirs.error_code == code and theirs.get_http_status_code() == caught.value.get_http_status_code()
