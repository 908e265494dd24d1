"""log_model puts the model folder in the run's artifacts; it loads back through runs:/ and artifact URIs."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest
from sklearn.ensemble import RandomForestRegressor

import autotrack as mlflow
import autotrack.models
import autotrack.sklearn
import autotrack.xgboost
from autotrack.exceptions import InvalidParameterError
from autotrack.models.signature import infer_signature


@pytest.fixture
def tutorial():
    input_example = pd.DataFrame({"age": [25, 30, 35], "salary": [50000, 60000, 70000]})
    output_example = pd.DataFrame({"predicted_salary": [52000, 61000, 73000]})
    model = RandomForestRegressor(n_estimators=5, random_state=0)
    model.fit(input_example, output_example["predicted_salary"])
    return input_example, output_example, model


def test_tutorial_log_model_appears_in_artifacts_and_loads_through_runs_uri(tutorial):
    input_example, output_example, model = tutorial
    signature = infer_signature(input_example, output_example)
    with mlflow.start_run() as run:
        info = mlflow.sklearn.log_model(sk_model=model, artifact_path="random_forest_model",
                                        signature=signature, input_example=input_example)
    run_id = run.info.run_id
    assert info.model_uri == f"runs:/{run_id}/random_forest_model"
    assert info.run_id == run_id and info.artifact_path == "random_forest_model"
    listed = {f.path for f in mlflow.TrackingClient().list_artifacts(run_id, "random_forest_model")}
    assert {"random_forest_model/MLmodel", "random_forest_model/model.pkl", "random_forest_model/input_example.json",
            "random_forest_model/requirements.txt"} <= listed
    native = mlflow.sklearn.load_model(info.model_uri)
    np.testing.assert_array_equal(native.predict(input_example), model.predict(input_example))
    generic = mlflow.models.load_model(info.model_uri)
    assert generic.signature == signature
    assert generic.metadata.run_id == run_id and generic.metadata.artifact_path == "random_forest_model"
    pd.testing.assert_frame_equal(generic.input_example, input_example)


def test_log_model_starts_a_run_when_none_is_active(tutorial):
    input_example, _, model = tutorial
    assert mlflow.active_run() is None
    info = mlflow.sklearn.log_model(model, "model")
    active = mlflow.active_run()
    assert active is not None and info.model_uri == f"runs:/{active.info.run_id}/model"
    mlflow.end_run()
    loaded = mlflow.models.load_model(info.model_uri)
    np.testing.assert_allclose(loaded.predict(input_example), model.predict(input_example))


def test_load_from_artifact_uri_and_into_dst_path(tutorial, tmp_path):
    input_example, _, model = tutorial
    with mlflow.start_run() as run:
        mlflow.sklearn.log_model(model, "nested/model", input_example=input_example)
    artifact_uri = mlflow.get_run(run.info.run_id).info.artifact_uri
    loaded = mlflow.sklearn.load_model(f"{artifact_uri}/nested/model")
    np.testing.assert_array_equal(loaded.predict(input_example), model.predict(input_example))
    generic = mlflow.models.load_model(f"runs:/{run.info.run_id}/nested/model", dst_path=str(tmp_path / "dl"))
    assert (tmp_path / "dl").exists()
    np.testing.assert_array_equal(generic.predict(input_example), model.predict(input_example))


def test_xgboost_and_pyfunc_log_model(tmp_path):
    import xgboost as xgb

    X = pd.DataFrame({"a": np.arange(20.0), "b": np.arange(20.0) % 3})
    y = X["a"] * 2
    model = xgb.XGBRegressor(n_estimators=3).fit(X, y)
    with mlflow.start_run():
        info = mlflow.xgboost.log_model(model, "xgb", input_example=X.head(2))
        fn_info = mlflow.pyfunc.log_model(lambda d: d["a"] * 10, "fn", input_example=X.head(2))
    np.testing.assert_allclose(mlflow.models.load_model(info.model_uri).predict(X), model.predict(X))
    assert mlflow.pyfunc.load_model(fn_info.model_uri).predict(X.head(3)).tolist() == [0.0, 10.0, 20.0]


@pytest.mark.parametrize("bad", ["", "/abs", "../up", None])
def test_bad_artifact_path(tutorial, bad):
    _, _, model = tutorial
    with pytest.raises(InvalidParameterError, match="artifact_path="):
        mlflow.sklearn.log_model(model, bad)


def test_metadata_file_is_json_with_run_fields(tutorial):
    input_example, _, model = tutorial
    with mlflow.start_run() as run:
        mlflow.sklearn.log_model(model, "m", input_example=input_example)
    local = mlflow.TrackingClient().download_artifacts(run.info.run_id, "m/MLmodel")
    meta = json.loads(open(local).read())
    assert meta["run_id"] == run.info.run_id and meta["artifact_path"] == "m"
    assert meta["saved_input_example_info"] == {"artifact_path": "input_example.json", "type": "dataframe", "format": "split"}


def test_imports_stay_light():
    code = ("import sys, autotrack, autotrack.models, autotrack.types, autotrack.sklearn, autotrack.xgboost, "
            "autotrack.pyfunc, autotrack.models.signature; "
            "print([m for m in ('numpy', 'pandas', 'sklearn', 'xgboost', 'scipy') if m in sys.modules])")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
