"""Incremental training: partial_fit calls on one estimator log into one run, metrics at step = call
index (score on that chunk); a user's run per chunk is used as is; the autotrack run ends FINISHED
at a new training, at disable and at process exit."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest
from sklearn import metrics as skm
from sklearn.datasets import make_classification
from sklearn.linear_model import LogisticRegression, SGDClassifier, SGDRegressor
from sklearn_helpers import all_runs, only_run

import autotrack
import autotrack.sklearn
from autotrack.integrations.sklearn import incremental
from autotrack.integrations.sklearn.autolog import training_run_for


@pytest.fixture(scope="module")
def chunks():
    X, y = make_classification(n_samples=400, n_features=5, random_state=0)
    return [(X[i:i + 100], y[i:i + 100]) for i in range(0, 400, 100)]


def test_partial_fit_calls_share_one_run_with_stepped_metrics(chunks, client):
    autotrack.sklearn.autolog()
    clf = SGDClassifier(loss="log_loss", random_state=0)
    expected_accuracy = []
    for X, y in chunks:
        returned = clf.partial_fit(X, y, classes=[0, 1])
        assert returned is clf
        expected_accuracy.append(skm.accuracy_score(y, clf.predict(X)))
    open_ids = incremental.open_runs()
    assert len(open_ids) == 1 and training_run_for(clf) == open_ids[0]
    run_id = open_ids[0]
    assert autotrack.active_run() is None  # not pushed on the user's run stack
    history = client.get_metric_history(run_id, "training_accuracy_score")
    assert [m.step for m in history] == [0, 1, 2, 3]
    assert [m.value for m in history] == pytest.approx(expected_accuracy)
    assert [m.step for m in client.get_metric_history(run_id, "training_log_loss")] == [0, 1, 2, 3]
    run = client.get_run(run_id)
    assert run.info.status == "RUNNING"
    assert run.data.params["loss"] == "log_loss"
    assert run.data.tags["autotrack.autologging"] == "sklearn"
    # a new top-level training ends it FINISHED, with the final model logged
    LogisticRegression().fit(*chunks[0])
    run = client.get_run(run_id)
    assert run.info.status == "FINISHED"
    assert incremental.open_runs() == []
    loaded = autotrack.sklearn.load_model(f"runs:/{run_id}/model")
    np.testing.assert_array_equal(loaded.predict(chunks[0][0]), clf.predict(chunks[0][0]))
    assert len(all_runs()) == 2


def test_tutorial_user_run_per_chunk(chunks, client):
    autotrack.sklearn.autolog(log_models=False)
    clf = SGDClassifier(random_state=0)
    run_ids = []
    for X, y in chunks:
        with autotrack.start_run() as run:
            clf.partial_fit(X, y, classes=[0, 1])
            autotrack.log_metric("accuracy", clf.score(X, y))
            run_ids.append(run.info.run_id)
    assert incremental.open_runs() == []
    runs = all_runs()
    assert sorted(r.info.run_id for r in runs) == sorted(run_ids)  # no stray autotrack run
    for index, run_id in enumerate(run_ids):
        run = client.get_run(run_id)
        assert run.info.status == "FINISHED"
        assert run.data.metrics["accuracy"] == pytest.approx(run.data.metrics["training_accuracy_score"])
        (point,) = client.get_metric_history(run_id, "training_accuracy_score")
        assert point.step == index  # the estimator's call index
        assert run.data.params["loss"] == "hinge"


def test_model_logged_into_user_run_after_each_call(chunks):
    autotrack.sklearn.autolog()
    reg = SGDRegressor(random_state=0)
    X, y = chunks[0]
    with autotrack.start_run() as run:
        reg.partial_fit(X, y.astype(float))
    loaded = autotrack.sklearn.load_model(f"runs:/{run.info.run_id}/model")
    np.testing.assert_allclose(loaded.predict(X), reg.predict(X))
    metrics = only_run().data.metrics
    assert metrics["training_r2_score"] == pytest.approx(skm.r2_score(y, reg.predict(X)))


def test_two_estimators_side_by_side_keep_their_runs(chunks, client):
    autotrack.sklearn.autolog(log_models=False)
    a, b = SGDClassifier(random_state=0), SGDClassifier(random_state=1, alpha=0.01)
    for X, y in chunks[:3]:
        a.partial_fit(X, y, classes=[0, 1])
        b.partial_fit(X, y, classes=[0, 1])
    assert len(incremental.open_runs()) == 2 and training_run_for(a) != training_run_for(b)
    for model in (a, b):
        assert [m.step for m in client.get_metric_history(training_run_for(model), "training_score")] == [0, 1, 2]
    autotrack.sklearn.autolog(disable=True)  # disabling ends them
    assert incremental.open_runs() == []
    assert {r.info.status for r in all_runs()} == {"FINISHED"}


def test_fit_after_partial_fit_restarts_the_count(chunks, client):
    autotrack.sklearn.autolog(log_models=False)
    clf = SGDClassifier(random_state=0)
    clf.partial_fit(*chunks[0], classes=[0, 1])
    first = training_run_for(clf)
    clf.fit(*chunks[1])
    assert client.get_run(first).info.status == "FINISHED"
    clf.partial_fit(*chunks[2])
    third = training_run_for(clf)
    assert third not in (first,) and [m.step for m in client.get_metric_history(third, "training_score")] == [0]
    assert len(all_runs()) == 3


def test_failing_partial_fit_ends_the_run_failed(chunks, client):
    autotrack.sklearn.autolog(log_models=False)
    clf = SGDClassifier(random_state=0)
    clf.partial_fit(*chunks[0], classes=[0, 1])
    run_id = training_run_for(clf)
    with pytest.raises(ValueError):
        clf.partial_fit(chunks[1][0][:, :2], chunks[1][1])  # wrong number of features
    assert client.get_run(run_id).info.status == "FAILED"
    assert incremental.open_runs() == []


def test_open_run_ends_finished_at_process_exit(tmp_path):
    code = textwrap.dedent("""
        import autotrack, autotrack.sklearn
        from sklearn.datasets import make_classification
        from sklearn.linear_model import SGDClassifier
        autotrack.sklearn.autolog()
        X, y = make_classification(n_samples=200, n_features=4, random_state=0)
        clf = SGDClassifier(random_state=0)
        for i in range(0, 200, 50):
            clf.partial_fit(X[i:i + 50], y[i:i + 50], classes=[0, 1])
        print("done")
    """)
    env = {k: v for k, v in os.environ.items() if k != "AUTOTRACK_AUTOLOG"}
    result = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    (run,) = all_runs()
    assert run.info.status == "FINISHED"
    from autotrack.tracking.client import TrackingClient

    client = TrackingClient()
    assert [m.step for m in client.get_metric_history(run.info.run_id, "training_accuracy_score")] == [0, 1, 2, 3]
    loaded = autotrack.sklearn.load_model(f"runs:/{run.info.run_id}/model")
    assert loaded.predict(np.zeros((1, 4))).shape == (1,)
    from autotrack.models import load_model

    assert load_model(f"runs:/{run.info.run_id}/model").metadata.signature is not None
