"""Hyperparameter searches: one parent run with best params, best_cv_score, cv_results.csv and the
best estimator as the model; child runs for the top max_tuning_runs candidates; no stray runs."""

from __future__ import annotations

import io
import os
import subprocess
import sys
import textwrap

import numpy as np
import pandas as pd
import pytest
from sklearn.datasets import load_iris, make_regression
from sklearn.linear_model import LogisticRegression, Ridge
from sklearn.model_selection import GridSearchCV, RandomizedSearchCV
from sklearn.tree import DecisionTreeClassifier

import autotrack
import autotrack.sklearn
from autotrack.tracking.client import TrackingClient
from sklearn_helpers import all_runs

PARENT_TAG = "mlflow.parentRunId"


@pytest.fixture(autouse=True)
def autolog_off_afterwards():
    yield
    autotrack.autolog(disable=True)


@pytest.fixture(scope="module")
def iris():
    X, y = load_iris(return_X_y=True)
    return X, y


def split_runs():
    runs = all_runs()
    parents = [r for r in runs if PARENT_TAG not in r.data.tags]
    children = [r for r in runs if PARENT_TAG in r.data.tags]
    return parents, children


def check_children(search, parent, children, expected_count):
    """Children belong to the parent and are the best candidates with their params and scores."""
    results = search.cv_results_
    assert len(children) == expected_count
    order = sorted(range(len(results["params"])), key=lambda i: (results["rank_test_score"][i], i))
    expected = order[:expected_count]
    found = []
    for child in children:
        assert child.data.tags[PARENT_TAG] == parent.info.run_id
        assert child.data.tags["autotrack.parentRunId"] == parent.info.run_id
        assert child.info.status == "FINISHED"
        assert child.info.experiment_id == parent.info.experiment_id
        index = int(child.data.tags["autotrack.cv_results_index"])
        assert index in expected and index not in found
        found.append(index)
        for key, value in results["params"][index].items():
            assert child.data.params[key] == str(value)
        metrics = child.data.metrics
        assert metrics["mean_test_score"] == pytest.approx(results["mean_test_score"][index])
        assert metrics["std_test_score"] == pytest.approx(results["std_test_score"][index])
        assert metrics["rank_test_score"] == results["rank_test_score"][index]
        for split in range(search.n_splits_):
            key = f"split{split}_test_score"
            assert metrics[key] == pytest.approx(results[key][index])
        # base estimator params are there too, with the candidate's values overriding
        for key, value in search.estimator.get_params(deep=True).items():
            if key not in results["params"][index]:
                assert child.data.params[key] == str(value)
    assert sorted(found) == sorted(expected)


def read_cv_results(run_id, tmp_path):
    path = TrackingClient().download_artifacts(run_id, "cv_results.csv", str(tmp_path / "dl"))
    with open(path) as handle:
        return pd.read_csv(io.StringIO(handle.read()))


@pytest.mark.parametrize("n_jobs", [1, 2])
def test_grid_search_parent_children_and_no_stray_runs(iris, tmp_path, n_jobs):
    X, y = iris
    autotrack.sklearn.autolog()
    search = GridSearchCV(LogisticRegression(max_iter=300), {"C": [0.01, 0.1, 1.0, 10.0], "fit_intercept": [True, False]},
                          cv=3, n_jobs=n_jobs)
    search.fit(X, y)

    parents, children = split_runs()
    assert len(parents) == 1, "candidate fits must not create runs"
    parent = parents[0]
    assert parent.info.status == "FINISHED"
    # best params and score
    for key, value in search.best_params_.items():
        assert parent.data.params[f"best_{key}"] == str(value)
    assert parent.data.metrics["best_cv_score"] == pytest.approx(search.best_score_)
    # the 5 (default max_tuning_runs) best candidates as children
    check_children(search, parent, children, expected_count=5)
    # cv_results.csv has every candidate and column
    table = read_cv_results(parent.info.run_id, tmp_path)
    assert len(table) == 8
    assert set(search.cv_results_) <= set(table.columns)
    np.testing.assert_allclose(table["mean_test_score"], search.cv_results_["mean_test_score"])
    np.testing.assert_array_equal(table["rank_test_score"], search.cv_results_["rank_test_score"])
    # the best estimator is the model
    model = autotrack.sklearn.load_model(f"runs:/{parent.info.run_id}/model")
    np.testing.assert_array_equal(model.predict(X), search.best_estimator_.predict(X))
    assert type(model).__name__ == "LogisticRegression"
    assert model.get_params()["C"] == search.best_params_["C"]


@pytest.mark.parametrize("max_tuning_runs, expected", [(None, 6), (2, 2), (0, 0), (50, 6)])
def test_max_tuning_runs(iris, max_tuning_runs, expected):
    X, y = iris
    autotrack.sklearn.autolog(max_tuning_runs=max_tuning_runs, log_models=False)
    search = GridSearchCV(DecisionTreeClassifier(random_state=0), {"max_depth": [1, 2, 3], "criterion": ["gini", "entropy"]}, cv=3)
    search.fit(X, y)
    parents, children = split_runs()
    assert len(parents) == 1
    check_children(search, parents[0], children, expected)


def test_randomized_search_on_a_regressor(tmp_path):
    X, y = make_regression(n_samples=120, n_features=5, noise=0.5, random_state=0)
    autotrack.sklearn.autolog(max_tuning_runs=3)
    search = RandomizedSearchCV(Ridge(), {"alpha": list(np.logspace(-3, 2, 12))}, n_iter=6, cv=3, random_state=0)
    search.fit(X, y)
    parents, children = split_runs()
    assert len(parents) == 1
    parent = parents[0]
    assert parent.data.params["best_alpha"] == str(search.best_params_["alpha"])
    assert parent.data.metrics["best_cv_score"] == pytest.approx(search.best_score_)
    check_children(search, parent, children, 3)
    assert len(read_cv_results(parent.info.run_id, tmp_path)) == 6


@pytest.mark.parametrize("kind", ["grid", "random"])
def test_halving_searches(iris, kind):
    from sklearn.experimental import enable_halving_search_cv  # noqa: F401
    from sklearn.model_selection import HalvingGridSearchCV, HalvingRandomSearchCV

    X, y = iris
    autotrack.sklearn.autolog(max_tuning_runs=4, log_models=False)
    grid = {"max_depth": [1, 2, 3, 4, None], "min_samples_split": [2, 4]}
    if kind == "grid":
        search = HalvingGridSearchCV(DecisionTreeClassifier(random_state=0), grid, cv=3, random_state=0)
    else:
        search = HalvingRandomSearchCV(DecisionTreeClassifier(random_state=0), grid, n_candidates=8, cv=3, random_state=0)
    search.fit(X, y)
    parents, children = split_runs()
    assert len(parents) == 1
    parent = parents[0]
    assert parent.data.metrics["best_cv_score"] == pytest.approx(search.best_score_)
    for key, value in search.best_params_.items():
        assert parent.data.params[f"best_{key}"] == str(value)
    assert len(children) == 4
    results = search.cv_results_
    best = sorted(range(len(results["params"])), key=lambda i: (results["rank_test_score"][i], i))[:4]
    # halving results repeat a candidate across iterations: match children by (iter, score)
    got = sorted((int(c.data.metrics["iter"]), round(c.data.metrics["mean_test_score"], 9)) for c in children)
    want = sorted((int(results["iter"][i]), round(float(results["mean_test_score"][i]), 9)) for i in best)
    assert got == want
    assert all("n_resources" in c.data.metrics for c in children)


def test_multimetric_search_ranks_by_the_refit_metric(iris):
    X, y = iris
    autotrack.sklearn.autolog(max_tuning_runs=2, log_models=False)
    search = GridSearchCV(DecisionTreeClassifier(random_state=0), {"max_depth": [1, 2, 3, 5]}, cv=3,
                          scoring={"acc": "accuracy", "f1": "f1_macro"}, refit="f1")
    search.fit(X, y)
    parents, children = split_runs()
    parent = parents[0]
    assert parent.data.metrics["best_cv_score"] == pytest.approx(search.best_score_)
    results = search.cv_results_
    best = sorted(range(4), key=lambda i: (results["rank_test_f1"][i], i))[:2]
    assert sorted(c.data.metrics["mean_test_f1"] for c in children) == pytest.approx(
        sorted(results["mean_test_f1"][i] for i in best))
    assert all("mean_test_acc" in c.data.metrics and "std_test_f1" in c.data.metrics for c in children)


def test_search_in_a_user_run_nests_children_under_it(iris):
    X, y = iris
    autotrack.sklearn.autolog(max_tuning_runs=2, log_models=False)
    with autotrack.start_run() as run:
        GridSearchCV(DecisionTreeClassifier(random_state=0), {"max_depth": [1, 2, 3]}, cv=3).fit(X, y)
    parents, children = split_runs()
    assert [p.info.run_id for p in parents] == [run.info.run_id]
    assert len(children) == 2 and all(c.data.tags[PARENT_TAG] == run.info.run_id for c in children)


def test_zero_code_grid_search_with_two_workers(tmp_path):
    """AUTOTRACK_AUTOLOG=1 (the .pth start-up hook): loky workers inherit the variable, and their
    candidate fits still create no runs."""
    code = textwrap.dedent("""
        from sklearn.datasets import load_iris
        from sklearn.model_selection import GridSearchCV
        from sklearn.tree import DecisionTreeClassifier
        X, y = load_iris(return_X_y=True)
        GridSearchCV(DecisionTreeClassifier(random_state=0), {"max_depth": [1, 2, 3, 4, 5, 6, 7]}, cv=3, n_jobs=2).fit(X, y)
        print("done")
    """)
    env = {k: v for k, v in os.environ.items() if not k.startswith("AUTOTRACK_")}
    uri = f"sqlite:///{tmp_path}/zero.db"
    env.update({"AUTOTRACK_AUTOLOG": "1", "AUTOTRACK_TRACKING_URI": uri, "AUTOTRACK_STRICT": "1",
                "AUTOTRACK_ARTIFACT_ROOT": str(tmp_path / "artifacts")})
    proc = subprocess.run([sys.executable, "-c", code], env=env, cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-4000:]
    assert "done" in proc.stdout
    runs = TrackingClient(uri).search_runs("0")
    parents = [r for r in runs if PARENT_TAG not in r.data.tags]
    children = [r for r in runs if PARENT_TAG in r.data.tags]
    assert len(parents) == 1, [r.data.tags.get("estimator_name") for r in runs]
    assert len(children) == 5
    assert {c.data.tags[PARENT_TAG] for c in children} == {parents[0].info.run_id}
    assert "best_max_depth" in parents[0].data.params


def test_a_failing_tuning_handler_does_not_affect_the_search(iris, monkeypatch):
    from autotrack.core import AutotrackWarning
    from autotrack.integrations.sklearn import tuning

    def broken(*args, **kwargs):
        raise RuntimeError("child runs are broken")

    X, y = iris
    monkeypatch.setenv("AUTOTRACK_STRICT", "0")
    monkeypatch.setattr(tuning, "log_child_runs", broken)
    autotrack.sklearn.autolog(log_models=False)
    search = GridSearchCV(DecisionTreeClassifier(random_state=0), {"max_depth": [1, 2]}, cv=2)
    with pytest.warns(AutotrackWarning, match="child runs are broken"):
        returned = search.fit(X, y)
    assert returned is search and search.best_params_ in ({"max_depth": 1}, {"max_depth": 2})
    parents, children = split_runs()
    assert len(parents) == 1 and children == []
    assert parents[0].info.status == "FINISHED"


def test_gridsearch_example_records_a_parent_and_its_children(tmp_path):
    example = os.path.join(os.path.dirname(__file__), "..", "..", "examples", "sklearn_gridsearch.py")
    env = {k: v for k, v in os.environ.items() if not k.startswith("AUTOTRACK_")}
    proc = subprocess.run([sys.executable, example], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-4000:]
    client = TrackingClient(f"sqlite:///{tmp_path}/autotrack-runs/tracking.db")
    runs = client.search_runs([client.get_experiment_by_name("gridsearch").experiment_id])
    parents = [r for r in runs if PARENT_TAG not in r.data.tags]
    assert len(parents) == 1 and len(runs) == 4
    parent = parents[0]
    assert f"parent run {parent.info.run_id}" in proc.stdout
    assert {"GridSearchCV_score_X_test", "f1_score_X_test", "best_cv_score"} <= set(parent.data.metrics)
    assert "child runs (top 3 candidates)" in proc.stdout


def test_candidates_that_replace_a_pipeline_step_log_that_steps_params(iris):
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import StandardScaler

    X, y = iris
    autotrack.sklearn.autolog(max_tuning_runs=None, log_models=False)
    pipe = Pipeline([("scale", StandardScaler()), ("clf", LogisticRegression(max_iter=300))])
    grid = [{"clf__C": [0.1, 1.0]}, {"clf": [DecisionTreeClassifier(random_state=0)], "clf__max_depth": [2, 3]}]
    search = GridSearchCV(pipe, grid, cv=3).fit(X, y)
    parents, children = split_runs()
    assert len(children) == 4
    for child in children:
        candidate = search.cv_results_["params"][int(child.data.tags["autotrack.cv_results_index"])]
        if "clf__max_depth" in candidate:
            assert child.data.params["clf__max_depth"] == str(candidate["clf__max_depth"])
            assert child.data.params["clf__criterion"] == "gini"  # the tree's own params, not the base's C
            assert "clf__C" not in child.data.params
        else:
            assert child.data.params["clf__C"] == str(candidate["clf__C"])
            assert child.data.params["clf__max_iter"] == "300"
        assert child.data.params["scale__with_mean"] == "True"
    best = {f"best_{k}": str(v) for k, v in search.best_params_.items()}
    assert {k: v for k, v in parents[0].data.params.items() if k.startswith("best_")} == best


def test_search_with_several_scorers_and_callable_refit_logs_without_training_score():
    # sklearn's GridSearchCV.score has no scorer in this configuration (it raises KeyError); under
    # strict mode that used to surface from fit.
    autotrack.sklearn.autolog()
    X, y = load_iris(return_X_y=True)
    y = (y == 0).astype(int)

    def pick(cv_results):
        return int(np.argmax(cv_results["mean_test_acc"]))

    search = GridSearchCV(LogisticRegression(max_iter=200), {"C": [0.1, 1.0]}, scoring={"acc": "accuracy", "f1": "f1"}, refit=pick, cv=3)
    search.fit(X, y)
    autotrack.flush()
    parent = [r for r in all_runs() if "mlflow.parentRunId" not in r.data.tags]
    assert len(parent) == 1
    metrics = parent[0].data.metrics
    assert "training_score" not in metrics and "training_accuracy_score" in metrics
    assert parent[0].data.params["best_C"] == str(search.best_params_["C"])
