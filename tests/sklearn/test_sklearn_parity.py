"""scikit-learn autologging parity with MLflow 3.17, each with the keys and values MLflow records for
the same script: estimator.html, sample_weight by position, a fit that raises, post-training metric
keys with metric_info.json and eval datasets, and a user's instance-level score."""

from __future__ import annotations

import json

import numpy as np
import pytest
from sklearn import metrics
from sklearn.datasets import load_diabetes, load_iris
from sklearn.linear_model import LogisticRegression, SGDRegressor

import autotrack
import autotrack.sklearn
from sklearn_helpers import only_run

# What MLflow 3.17 records for these scripts, stated exactly. The implementation is to be done on the
# integration kit's scikit-learn (issue 11, point 1, waits for issue 8's move); until then these are
# expected failures (not strict: one that starts passing does not break the suite).
pytestmark = pytest.mark.xfail(reason="issue 11 point 1: scikit-learn parity not implemented yet (after the kit move)", strict=False)


@pytest.fixture(autouse=True)
def autolog_on():
    autotrack.sklearn.autolog(log_models=False)
    yield
    autotrack.autolog(disable=True)


def _artifact_text(client, run_id, path):
    autotrack.flush()
    with open(client.download_artifacts(run_id, path), encoding="utf-8") as handle:
        return handle.read()


def _artifacts(client, run_id):
    autotrack.flush()
    return sorted(f.path for f in client.list_artifacts(run_id))


def test_estimator_html_for_every_autologged_fit(client):
    X, y = load_iris(return_X_y=True)
    model = LogisticRegression(max_iter=300).fit(X, y)
    run = only_run()
    assert "estimator.html" in _artifacts(client, run.info.run_id)
    html = _artifact_text(client, run.info.run_id, "estimator.html")
    assert html == model._repr_html_()  # the estimator's own HTML repr, as MLflow logs it
    assert "LogisticRegression" in html


def test_sample_weight_by_position_is_used_like_by_keyword(client):
    X, y = load_diabetes(return_X_y=True)
    weights = np.linspace(0.1, 2, len(y))
    with autotrack.start_run() as by_position:
        model = SGDRegressor(random_state=0, max_iter=50).fit(X, y, None, None, weights)  # fit(X, y, coef_init, intercept_init, sample_weight)
    with autotrack.start_run() as by_keyword:
        SGDRegressor(random_state=0, max_iter=50).fit(X, y, sample_weight=weights)
    positional = client.get_run(by_position.info.run_id).data.metrics
    keyword = client.get_run(by_keyword.info.run_id).data.metrics
    assert positional == keyword
    weighted_mse = metrics.mean_squared_error(y, model.predict(X), sample_weight=weights)
    assert positional["training_mean_squared_error"] == pytest.approx(weighted_mse)
    assert positional["training_mean_squared_error"] != pytest.approx(metrics.mean_squared_error(y, model.predict(X)))


def test_a_fit_that_raises_records_params_and_tags_and_fails(client):
    X, y = load_iris(return_X_y=True)
    with pytest.raises(ValueError):
        LogisticRegression(C=-1.0).fit(X, y)  # scikit-learn refuses C <= 0 inside fit
    run = only_run()
    assert run.info.status == "FAILED"
    assert run.data.params["C"] == "-1.0" and run.data.params["max_iter"] == "100"
    assert set(run.data.params) == set(LogisticRegression().get_params(deep=True))
    assert run.data.tags["estimator_name"] == "LogisticRegression"
    assert run.data.tags["estimator_class"] == "sklearn.linear_model._logistic.LogisticRegression"
    assert not any(k.startswith("training_") for k in run.data.metrics)


def test_post_training_metric_keys_are_mlflows(client):
    """The script of MLflow 3.17's own behaviour, keys and metric_info.json exactly as it writes them."""
    X, y = load_iris(return_X_y=True)
    X_test, y_test = X[::2], y[::2]
    m = LogisticRegression(max_iter=300).fit(X, y)
    run_id = only_run().info.run_id
    m.score(X_test, y_test)
    m.score(X_test, y_test)
    p = m.predict(X_test)
    metrics.accuracy_score(y_test, p)
    metrics.f1_score(y_test, p, average="macro")
    metrics.f1_score(y_test, p, average="micro")
    metrics.accuracy_score(y[:10], m.predict(X[:10]))
    other = X_test.copy()
    X_test = other + 0.0  # another object under the same name
    metrics.accuracy_score(y_test, m.predict(X_test))

    autotrack.flush()
    run = client.get_run(run_id)
    post = sorted(k for k in run.data.metrics if not k.startswith("training_"))
    assert post == [
        "LogisticRegression_score-2_X_test", "LogisticRegression_score_X_test", "accuracy_score-2_unknown_dataset",
        "accuracy_score-3_X_test-2", "accuracy_score_X_test", "f1_score-2_X_test", "f1_score_X_test",
    ]
    assert json.loads(_artifact_text(client, run_id, "metric_info.json")) == {
        "LogisticRegression_score-2_X_test": "LogisticRegression.score(X=X_test, y=y_test)",
        "LogisticRegression_score_X_test": "LogisticRegression.score(X=X_test, y=y_test)",
        "accuracy_score-2_unknown_dataset": "accuracy_score(y_true=<ndarray>, y_pred=<ndarray>)",
        "accuracy_score-3_X_test-2": "accuracy_score(y_true=y_test, y_pred=<ndarray>)",
        "accuracy_score_X_test": "accuracy_score(y_true=y_test, y_pred=p)",
        "f1_score-2_X_test": "f1_score(y_true=y_test, y_pred=p, average='micro')",
        "f1_score_X_test": "f1_score(y_true=y_test, y_pred=p, average='macro')",
    }
    # the evaluation datasets are recorded as datasets with context "eval" (the training data: "train")
    contexts = sorted({t.key: t.value for t in i.tags}["mlflow.data.context"] for i in run.inputs.dataset_inputs)
    assert contexts == ["eval", "eval", "train"]
    found = autotrack.search_runs(filter_string="datasets.context = 'eval'", output_format="list")
    assert [r.info.run_id for r in found] == [run_id]


def test_instance_level_score_override_is_respected(client):
    X, y = load_iris(return_X_y=True)
    model = LogisticRegression(max_iter=300)
    model.score = lambda X, y, sample_weight=None: 0.123  # the user's own scoring, on this instance
    model.fit(X, y)
    run = only_run()
    assert run.data.metrics["training_score"] == 0.123
    assert model.score(X, y) == 0.123
