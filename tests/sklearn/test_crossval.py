"""Cross-validation: one run per cross_validate / cross_val_score call, with each fold's score at
step = fold and numpy's mean and std; the folds' fits create no runs."""

from __future__ import annotations

import json

import numpy as np
import pytest
from sklearn.datasets import load_iris, make_regression
from sklearn.linear_model import LogisticRegression, Ridge
# Functions are looked up on the module at call time: a name imported before autolog() is unpatched.
from sklearn import model_selection as ms
from sklearn.model_selection import KFold
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

import autotrack
import autotrack.sklearn
from autotrack.tracking.client import TrackingClient
from sklearn_helpers import all_runs, only_run


@pytest.fixture(autouse=True)
def autolog_on():
    autotrack.sklearn.autolog(log_models=False)
    yield
    autotrack.autolog(disable=True)


@pytest.fixture(scope="module")
def iris():
    return load_iris(return_X_y=True)


def history(run, key):
    return [(m.step, m.value) for m in TrackingClient().get_metric_history(run.info.run_id, key)]


def check_folds(run, key, values):
    assert history(run, key) == [(i, pytest.approx(v)) for i, v in enumerate(values)]
    assert run.data.metrics[f"mean_{key}"] == pytest.approx(float(np.mean(values)))
    assert run.data.metrics[f"std_{key}"] == pytest.approx(float(np.std(values)))


@pytest.mark.parametrize("n_jobs", [1, 2])
def test_cross_validate_logs_one_run_with_fold_scores(iris, n_jobs):
    X, y = iris
    result = ms.cross_validate(LogisticRegression(max_iter=300, C=0.5), X, y, cv=4, n_jobs=n_jobs)
    run = only_run()
    assert run.info.status == "FINISHED"
    check_folds(run, "test_score", result["test_score"])
    check_folds(run, "fit_time", result["fit_time"])
    check_folds(run, "score_time", result["score_time"])
    assert run.data.params["C"] == "0.5"
    assert run.data.tags["estimator_name"] == "LogisticRegression"
    assert run.data.tags["cross_validation.function"] == "cross_validate"
    assert run.data.tags["cross_validation.n_splits"] == "4"
    assert run.data.tags["autotrack.autologging"] == "sklearn"
    datasets = json.loads(run.data.tags["mlflow.datasets"])
    assert [(d["name"], d["context"]) for d in datasets] == [("X", "cross_validation")]


@pytest.mark.parametrize("n_jobs", [1, 2])
def test_cross_val_score_logs_one_run(n_jobs):
    X, y = make_regression(n_samples=100, n_features=4, noise=1.0, random_state=0)
    scores = ms.cross_val_score(Ridge(alpha=2.0), X, y, cv=KFold(5, shuffle=True, random_state=0), n_jobs=n_jobs)
    run = only_run()
    check_folds(run, "test_score", scores)
    assert run.data.params["alpha"] == "2.0"
    assert run.data.tags["cross_validation.function"] == "cross_val_score"
    assert run.data.tags["cross_validation.n_splits"] == "5"


def test_multimetric_and_train_scores_of_a_pipeline(iris):
    X, y = iris
    pipe = make_pipeline(StandardScaler(), LogisticRegression(max_iter=300))
    result = ms.cross_validate(pipe, X, y, cv=3, scoring=["accuracy", "f1_macro"], return_train_score=True)
    run = only_run()
    for key in ("test_accuracy", "test_f1_macro", "train_accuracy", "train_f1_macro"):
        check_folds(run, key, result[key])
    assert run.data.params["logisticregression__max_iter"] == "300"
    assert run.data.tags["estimator_name"] == "Pipeline"


def test_return_estimator_and_indices_are_not_metrics(iris):
    X, y = iris
    result = ms.cross_validate(LogisticRegression(max_iter=300), X, y, cv=3, return_estimator=True, return_indices=True)
    run = only_run()
    assert len(result["estimator"]) == 3
    assert not any(k.startswith(("estimator", "indices", "mean_estimator")) for k in run.data.metrics)


def test_inside_a_user_run(iris):
    X, y = iris
    with autotrack.start_run() as user_run:
        scores = ms.cross_val_score(LogisticRegression(max_iter=300), X, y, cv=3)
    run = only_run()
    assert run.info.run_id == user_run.info.run_id
    check_folds(run, "test_score", scores)


def test_cross_val_predict_is_one_run_and_learning_curve_none(iris):
    X, y = iris
    ms.cross_val_predict(LogisticRegression(max_iter=300), X, y, cv=3)
    run = only_run()
    assert run.data.tags["cross_validation.function"] == "cross_val_predict"
    assert run.data.metrics == {}
    ms.learning_curve(LogisticRegression(max_iter=300), X, y, cv=3, train_sizes=[0.5, 1.0])
    assert len(all_runs()) == 1, "learning_curve's fits must not create runs"


def test_cross_validate_still_returns_sklearns_result_and_reverts(iris):
    import sklearn.model_selection._validation as validation

    from autotrack.core import is_autotrack_wrapper

    X, y = iris
    assert is_autotrack_wrapper(ms.cross_validate) and is_autotrack_wrapper(validation.cross_val_score)
    patched = ms.cross_validate(LogisticRegression(max_iter=300), X, y, cv=3)
    autotrack.autolog(disable=True)
    assert not is_autotrack_wrapper(ms.cross_validate) and not is_autotrack_wrapper(validation.cross_validate)
    plain = ms.cross_validate(LogisticRegression(max_iter=300), X, y, cv=3)
    np.testing.assert_allclose(patched["test_score"], plain["test_score"])
    assert len(all_runs()) == 1


def test_a_failing_logger_does_not_affect_the_result(iris, monkeypatch):
    from autotrack.core import AutotrackWarning
    from autotrack.integrations.sklearn import crossval

    def broken(*args, **kwargs):
        raise RuntimeError("fold logging is broken")

    X, y = iris
    monkeypatch.setenv("AUTOTRACK_STRICT", "0")
    monkeypatch.setattr(crossval, "log_cross_validation", broken)
    with pytest.warns(AutotrackWarning, match="fold logging is broken"):
        scores = ms.cross_val_score(LogisticRegression(max_iter=300), X, y, cv=3)
    assert len(scores) == 3 and all(0.8 < s <= 1.0 for s in scores)
    run = only_run()
    assert run.info.status == "FINISHED" and run.data.metrics == {}


@pytest.mark.parametrize("n_jobs", [1, 2])
def test_functions_imported_before_autolog_create_no_stray_fold_runs(iris, n_jobs):
    # The usual script order: `from sklearn.model_selection import cross_validate`, then autolog().
    # The name the user holds is the unpatched function; its folds still must not each open a run.
    autotrack.autolog(disable=True)
    held = {name: getattr(ms, name) for name in ("cross_validate", "cross_val_predict", "learning_curve")}
    autotrack.sklearn.autolog()
    X, y = iris
    held["cross_validate"](LogisticRegression(max_iter=300), X, y, cv=4, n_jobs=n_jobs)
    held["cross_val_predict"](LogisticRegression(max_iter=300), X, y, cv=3, n_jobs=n_jobs)
    held["learning_curve"](LogisticRegression(max_iter=300), X, y, cv=3, train_sizes=[0.5, 1.0], n_jobs=n_jobs)
    assert all_runs() == []
    ms.cross_validate(LogisticRegression(max_iter=300), X, y, cv=4)  # through the module: one run
    assert len(all_runs()) == 1
