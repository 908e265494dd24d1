"""Native API: ``xgboost.train`` and ``xgboost.cv`` autologged, read back from the store."""

from __future__ import annotations

import json

import numpy as np
import pytest
import xgboost as xgb
from xgboost_helpers import all_runs, artifact_files, history, only_run, read_artifact

import autotrack
import autotrack.xgboost

PARAMS = {"objective": "binary:logistic", "eval_metric": ["logloss", "error", "error@0.6"], "max_depth": 2,
          "seed": 7, "nthread": 1}
ROUNDS = 6


def matrices(binary_data):
    X, y, X_val, y_val = binary_data
    return xgb.DMatrix(X, label=y), xgb.DMatrix(X_val, label=y_val)


def test_per_iteration_metrics_equal_evals_result(binary_data, client):
    autotrack.xgboost.autolog(log_models=False)
    dtrain, dval = matrices(binary_data)
    evals_result: dict = {}
    xgb.train(PARAMS, dtrain, ROUNDS, evals=[(dtrain, "train"), (dval, "val")], evals_result=evals_result,
              verbose_eval=False)
    run = only_run()
    assert run.info.status == "FINISHED" and run.data.tags["autotrack.autologging"] == "xgboost"
    keys = {k for k in run.data.metrics}
    expected = {f"{data}-{metric.replace('@', '_at_')}" for data in ("train", "val") for metric in PARAMS["eval_metric"]}
    assert keys == expected  # '@' is written '_at_': val-error_at_0.6
    count = 0
    for data, metrics in evals_result.items():
        for metric, values in metrics.items():
            logged = history(client, run.info.run_id, f"{data}-{metric.replace('@', '_at_')}")
            assert logged == [(step, pytest.approx(v, rel=1e-12, abs=0)) for step, v in enumerate(values)]
            count += len(logged)
    assert count == ROUNDS * 2 * len(PARAMS["eval_metric"])  # rounds x eval sets x metrics


def test_params_are_booster_params_and_train_arguments(binary_data):
    autotrack.xgboost.autolog(log_models=False)
    dtrain, dval = matrices(binary_data)

    def my_metric(predt, dmatrix):
        return "my_error", float(np.mean((predt > 0.5) != dmatrix.get_label()))

    xgb.train(PARAMS, dtrain, ROUNDS, evals=[(dval, "val")], custom_metric=my_metric, verbose_eval=False)
    params = only_run().data.params
    assert params["objective"] == "binary:logistic" and params["max_depth"] == "2"
    assert params["eval_metric"] == str(PARAMS["eval_metric"])
    assert params["num_boost_round"] == str(ROUNDS)
    assert params["early_stopping_rounds"] == "None" and params["maximize"] == "None"
    assert params["verbose_eval"] == "False"
    assert params["custom_metric"].endswith("my_metric")
    assert "dtrain" not in params and "evals" not in params and "callbacks" not in params


def test_early_stopping_fields(binary_data, client):
    autotrack.xgboost.autolog(log_models=False)
    dtrain, dval = matrices(binary_data)
    evals_result: dict = {}
    # a learning rate this high overfits quickly: early stopping stops well before 200 rounds
    booster = xgb.train({**PARAMS, "eval_metric": "logloss", "eta": 0.9, "max_depth": 6}, dtrain, 200,
                        evals=[(dtrain, "train"), (dval, "val")], early_stopping_rounds=3,
                        evals_result=evals_result, verbose_eval=False)
    run = only_run()
    rounds_run = len(evals_result["val"]["logloss"])
    assert rounds_run < 200
    metrics = run.data.metrics
    assert metrics["best_iteration"] == booster.best_iteration
    assert metrics["stopped_iteration"] == rounds_run - 1
    # the best iteration's metrics, under their own keys at step stopped_iteration + 1
    for data in ("train", "val"):
        steps = history(client, run.info.run_id, f"{data}-logloss")
        assert steps[-1] == (rounds_run, pytest.approx(evals_result[data]["logloss"][booster.best_iteration]))
        assert len(steps) == rounds_run + 1
    assert run.data.params["early_stopping_rounds"] == "3"


def test_user_callbacks_list_unchanged_and_called_in_order(binary_data):
    autotrack.xgboost.autolog(log_models=False)
    dtrain, dval = matrices(binary_data)
    calls: list[tuple[str, int]] = []

    class Spy(xgb.callback.TrainingCallback):
        def __init__(self, name):
            self.name = name

        def after_iteration(self, model, epoch, evals_log):
            calls.append((self.name, epoch))
            return False

    callbacks = [Spy("first"), Spy("second")]
    before = list(callbacks)
    xgb.train(PARAMS, dtrain, 3, evals=[(dval, "val")], callbacks=callbacks, verbose_eval=False)
    assert callbacks == before and len(callbacks) == 2  # the very list object, not modified
    assert calls == [(name, epoch) for epoch in range(3) for name in ("first", "second")]
    assert "val-logloss" in only_run().data.metrics


def test_a_user_callback_that_stops_training_still_has_its_round_recorded(binary_data, client):
    autotrack.xgboost.autolog(log_models=False)
    dtrain, dval = matrices(binary_data)

    class StopAfterTwo(xgb.callback.TrainingCallback):
        def after_iteration(self, model, epoch, evals_log):
            return epoch == 1

    xgb.train(PARAMS, dtrain, 10, evals=[(dval, "val")], callbacks=(StopAfterTwo(),), verbose_eval=False)
    assert [step for step, _ in history(client, only_run().info.run_id, "val-logloss")] == [0, 1]


def test_cv_metrics_equal_its_frame(binary_data, client):
    autotrack.xgboost.autolog(log_models=False)
    dtrain, _ = matrices(binary_data)
    frame = xgb.cv({**PARAMS, "eval_metric": ["logloss", "error@0.6"]}, dtrain, 4, nfold=3, seed=3)
    run = only_run()
    assert run.data.params["nfold"] == "3" and run.data.params["num_boost_round"] == "4"
    assert set(run.data.metrics) == {c.replace("@", "_at_") for c in frame.columns}
    for column in frame.columns:
        logged = history(client, run.info.run_id, column.replace("@", "_at_"))
        assert logged == [(i, pytest.approx(v)) for i, v in enumerate(frame[column].tolist())]


def test_cv_early_stopping(binary_data, client):
    autotrack.xgboost.autolog(log_models=False)
    dtrain, _ = matrices(binary_data)
    frame = xgb.cv({**PARAMS, "eval_metric": "logloss", "eta": 0.9, "max_depth": 6}, dtrain, 100, nfold=3,
                   early_stopping_rounds=2, seed=3)
    metrics = only_run().data.metrics
    assert metrics["best_iteration"] == len(frame) - 1  # cv cuts its frame after the best round
    assert metrics["stopped_iteration"] >= metrics["best_iteration"]
    assert metrics["test-logloss-mean"] == pytest.approx(frame["test-logloss-mean"].iloc[-1])


def importance_files(client, run_id):
    return [f for f in artifact_files(client, run_id) if f.startswith("feature_importance")]


def test_feature_importance_json_per_type_and_png_only_on_request(binary_data, client):
    autotrack.xgboost.autolog(log_models=False, importance_types=["weight", "total_gain"])
    dtrain, _ = matrices(binary_data)
    booster = xgb.train(PARAMS, dtrain, 3, verbose_eval=False)
    run_id = all_runs()[-1].info.run_id
    assert importance_files(client, run_id) == ["feature_importance_total_gain.json", "feature_importance_weight.json"]
    weights = json.loads(read_artifact(client, run_id, "feature_importance_weight.json"))
    assert weights == pytest.approx(booster.get_score(importance_type="weight"))

    autotrack.xgboost.autolog(log_models=False, importance_types=["gain"], log_plot_images=True)
    xgb.train(PARAMS, dtrain, 3, verbose_eval=False)
    run_id = all_runs()[-1].info.run_id
    assert importance_files(client, run_id) == ["feature_importance_gain.json", "feature_importance_gain.png"]
    assert read_artifact(client, run_id, "feature_importance_gain.png").startswith(b"\x89PNG")


def test_model_logged_natively_with_signature_and_input_example(binary_data, client):
    autotrack.xgboost.autolog()
    X, y, X_val, _ = binary_data
    dtrain = xgb.DMatrix(X, label=y)
    booster = xgb.train(PARAMS, dtrain, 3, verbose_eval=False)
    run = only_run()
    assert "model" in artifact_files(client, run.info.run_id)
    loaded = autotrack.xgboost.load_model(f"runs:/{run.info.run_id}/model")
    assert isinstance(loaded, xgb.Booster)
    np.testing.assert_array_equal(loaded.predict(xgb.DMatrix(X_val)), booster.predict(xgb.DMatrix(X_val)))
    from autotrack.models import load_model

    pyfunc = load_model(f"runs:/{run.info.run_id}/model")
    assert str(pyfunc.metadata.signature.inputs) == "[Tensor('float32', (-1, 5))]"  # from numpy rows
    np.testing.assert_allclose(pyfunc.predict(X_val), booster.predict(xgb.DMatrix(X_val)), rtol=1e-6)
    files = artifact_files(client, run.info.run_id, "model")
    assert any("input_example" in f for f in files)  # the first rows of the training data


def test_log_input_examples_false_logs_none(binary_data, client):
    autotrack.xgboost.autolog(log_input_examples=False)
    X, y, _, _ = binary_data
    xgb.train(PARAMS, xgb.DMatrix(X, label=y), 2, verbose_eval=False)
    files = artifact_files(client, only_run().info.run_id, "model")
    assert not any("input_example" in f for f in files)


def test_inside_a_user_run_metrics_go_there(binary_data):
    autotrack.xgboost.autolog(log_models=False)
    dtrain, dval = matrices(binary_data)
    with autotrack.start_run() as run:
        xgb.train(PARAMS, dtrain, 2, evals=[(dval, "val")], verbose_eval=False)
        xgb.train(PARAMS, dtrain, 2, evals=[(dval, "val")], verbose_eval=False)
    found = only_run()
    assert found.info.run_id == run.info.run_id and "val-logloss" in found.data.metrics
