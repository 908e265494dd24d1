"""Turning XGBoost autologging on (three ways), options, laziness, and datasets."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap

import pytest
import xgboost as xgb
from xgboost_helpers import only_run

import autotrack
import autotrack.xgboost


def run_python(code: str, **env: str) -> subprocess.CompletedProcess:
    full = {k: v for k, v in os.environ.items() if k != "AUTOTRACK_AUTOLOG"}
    full.update(env)
    return subprocess.run([sys.executable, "-c", textwrap.dedent(code)], env=full, capture_output=True, text=True,
                          timeout=180)


def test_import_autotrack_xgboost_imports_no_xgboost():
    result = run_python("""
        import sys, autotrack, autotrack.xgboost
        autotrack.xgboost.autolog()
        print(sorted(m for m in sys.modules if m.split('.')[0] in ('xgboost', 'numpy', 'sklearn')))
    """)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"


@pytest.mark.parametrize("value", ["1", "xgboost"])
def test_zero_code_autolog_from_environment(value):
    result = run_python("""
        import numpy as np, xgboost as xgb
        X = np.arange(40, dtype=float).reshape(20, 2); y = (X[:, 0] > 20).astype(int)
        d = xgb.DMatrix(X, label=y)
        xgb.train({"objective": "binary:logistic", "nthread": 1}, d, 3, evals=[(d, "train")], verbose_eval=False)
    """, AUTOTRACK_AUTOLOG=value)
    assert result.returncode == 0, result.stderr
    run = only_run()
    assert run.data.tags["autotrack.autologging"] == "xgboost" and len(run.data.metrics) == 1


def test_global_autolog_arms_xgboost_and_a_library_call_overrides_it(binary_data):
    autotrack.autolog(log_models=False)
    assert "xgboost" in autotrack.core.armed()
    autotrack.xgboost.autolog(log_models=False, importance_types=[])
    X, y, _, _ = binary_data
    xgb.train({"objective": "binary:logistic", "nthread": 1}, xgb.DMatrix(X, label=y), 2, verbose_eval=False)
    from autotrack.tracking.client import TrackingClient

    files = [a.path for a in TrackingClient().list_artifacts(only_run().info.run_id)]
    assert not any(f.startswith("feature_importance") for f in files)


def test_disable_leaves_xgboost_untouched(binary_data):
    autotrack.xgboost.autolog()
    autotrack.xgboost.autolog(disable=True)
    X, y, _, _ = binary_data
    xgb.train({"objective": "binary:logistic", "nthread": 1}, xgb.DMatrix(X, label=y), 2, verbose_eval=False)
    autotrack.flush()
    assert autotrack.search_runs(output_format="list") == []


@pytest.mark.parametrize("options, message", [
    ({"importance_types": ["weight", "shap"]}, "importance_types contains 'shap'; accepted importance types: weight, gain"),
    ({"importance_types": 3}, "importance_types=3 must be a list"),
    ({"model_format": "pickle"}, "model_format='pickle' is not supported; accepted: ubj, json"),
    ({"log_plot_images": "yes"}, "log_plot_images='yes' must be True or False"),
])
def test_options_are_checked_up_front(options, message):
    with pytest.raises((TypeError, ValueError), match=message.replace("(", r"\(").replace(")", r"\)")):
        autotrack.xgboost.autolog(**options)


def test_native_datasets_train_and_eval(binary_data):
    autotrack.xgboost.autolog(log_models=False)
    X, y, X_val, y_val = binary_data
    dtrain, dval = xgb.DMatrix(X, label=y), xgb.DMatrix(X_val, label=y_val)
    xgb.train({"objective": "binary:logistic", "nthread": 1}, dtrain, 2,
              evals=[(dtrain, "train"), (dval, "val")], verbose_eval=False)
    datasets = json.loads(only_run().data.tags["mlflow.datasets"])
    assert [(d["name"], d["context"]) for d in datasets] == [("dtrain", "train"), ("val", "eval")]


def test_native_dataset_of_a_matrix_whose_data_is_gone(binary_data):
    autotrack.xgboost.autolog()
    X, y, _, _ = binary_data
    dtrain = xgb.DMatrix(X.copy(), label=y.copy())  # the arrays it was built from are collected
    booster = xgb.train({"objective": "binary:logistic", "nthread": 1}, dtrain, 2, verbose_eval=False)
    run = only_run()
    datasets = json.loads(run.data.tags["mlflow.datasets"])
    assert [(d["name"], d["context"]) for d in datasets] == [("dtrain", "train")]
    # the input example was sliced out of the matrix: the model still has a signature
    pyfunc = autotrack.models.load_model(f"runs:/{run.info.run_id}/model")
    assert pyfunc.metadata.signature is not None
    assert booster.num_boosted_rounds() == 2


def test_sklearn_api_training_metrics(binary_data):
    autotrack.xgboost.autolog(log_models=False)
    X, y, _, _ = binary_data
    model = xgb.XGBClassifier(n_estimators=3, n_jobs=1).fit(X, y)
    metrics = only_run().data.metrics
    assert metrics["training_accuracy_score"] == pytest.approx(model.score(X, y))
    assert {"training_log_loss", "training_roc_auc", "training_f1_score"} <= set(metrics)
