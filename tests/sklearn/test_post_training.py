"""Post-training metrics: model.score and sklearn.metrics calls on an autologged model's predictions
are logged to its (finished) training run as <metric>[-<call>]_<dataset>, with values equal to
sklearn's; objects holding patched metric functions still pickle."""

from __future__ import annotations

import gc
import pickle

import joblib
import numpy as np
import pytest
# Metric functions are looked up on the module at call time: a name imported before autolog() is unpatched.
from sklearn import metrics
from sklearn import model_selection as ms
from sklearn.cluster import KMeans
from sklearn.datasets import load_breast_cancer, load_iris, make_regression
from sklearn.linear_model import LinearRegression, LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.tree import DecisionTreeClassifier

import autotrack
import autotrack.sklearn
from autotrack.integrations.sklearn import post_training
from sklearn_helpers import only_run


@pytest.fixture(autouse=True)
def autolog_on():
    autotrack.sklearn.autolog(log_models=False)
    yield
    autotrack.autolog(disable=True)
    post_training.registry.clear()


@pytest.fixture(scope="module")
def binary():
    X, y = load_breast_cancer(return_X_y=True)
    return ms.train_test_split(X, y, test_size=0.3, random_state=0)


@pytest.fixture(scope="module")
def regression():
    X, y = make_regression(n_samples=200, n_features=5, noise=3.0, random_state=0)
    return ms.train_test_split(X, y, test_size=0.3, random_state=0)


def post_metrics(run):
    return {k: v for k, v in run.data.metrics.items() if not k.startswith("training_")}


def test_classifier_score_and_metric_functions(binary):
    X_train, X_test, y_train, y_test = binary
    model = make_pipeline(StandardScaler(), LogisticRegression(max_iter=500)).fit(X_train, y_train)
    run_before = only_run()
    assert run_before.info.status == "FINISHED"

    score = model.score(X_test, y_test)
    y_pred = model.predict(X_test)
    accuracy = metrics.accuracy_score(y_test, y_pred)
    f1 = metrics.f1_score(y_test, y_pred)
    precision = metrics.precision_score(y_true=y_test, y_pred=y_pred)
    proba = model.predict_proba(X_test)[:, 1]
    auc = metrics.roc_auc_score(y_test, proba)
    loss = metrics.log_loss(y_test, model.predict_proba(X_test))
    matrix = metrics.confusion_matrix(y_test, y_pred)  # not a number: not logged

    run = only_run()
    assert post_metrics(run) == {
        "Pipeline_score_X_test": pytest.approx(score),
        "accuracy_score_X_test": pytest.approx(accuracy),
        "f1_score_X_test": pytest.approx(f1),
        "precision_score_X_test": pytest.approx(precision),
        "roc_auc_score_X_test": pytest.approx(auc),
        "log_loss_X_test": pytest.approx(loss),
    }
    assert matrix.shape == (2, 2)
    # the late metrics did not reopen or re-time the finished run
    assert run.info.status == "FINISHED" and run.info.end_time == run_before.info.end_time


def test_regressor_metrics(regression):
    X_train, X_test, y_train, y_test = regression
    reg = LinearRegression().fit(X_train, y_train)
    predictions = reg.predict(X_test)
    mse = metrics.mean_squared_error(y_test, predictions)
    r2 = metrics.r2_score(y_test, predictions)
    mae = metrics.mean_absolute_error(y_test, predictions)
    train_r2 = reg.score(X_train, y_train)
    assert post_metrics(only_run()) == {
        "mean_squared_error_X_test": pytest.approx(mse),
        "r2_score_X_test": pytest.approx(r2),
        "mean_absolute_error_X_test": pytest.approx(mae),
        "LinearRegression_score_X_train": pytest.approx(train_r2),
    }


def test_another_object_under_the_same_name_gets_an_index(regression):
    X_train, X_test, y_train, y_test = regression
    reg = LinearRegression().fit(X_train, y_train)
    first = metrics.mean_squared_error(y_test, reg.predict(X_test))
    shifted = metrics.mean_squared_error(y_test, reg.predict(X_test) + 1.0)  # arithmetic result: not a prediction
    X_test = X_test[:30]  # another object under the same variable name
    other = metrics.mean_squared_error(y_test[:30], reg.predict(X_test))
    assert post_metrics(only_run()) == {
        "mean_squared_error_X_test": pytest.approx(first),
        "mean_squared_error_X_test-2": pytest.approx(other),
    }
    assert shifted != first


def test_call_index_for_the_same_metric_on_the_same_dataset(binary):
    X_train, X_test, y_train, y_test = binary
    model = DecisionTreeClassifier(random_state=0).fit(X_train, y_train)
    y_pred = model.predict(X_test)
    macro = metrics.f1_score(y_test, y_pred, average="macro")
    micro = metrics.f1_score(y_test, y_pred, average="micro")
    third = metrics.f1_score(y_test, model.predict(X_test), average="weighted")
    train = metrics.f1_score(y_train, model.predict(X_train))
    assert post_metrics(only_run()) == {
        "f1_score_X_test": pytest.approx(macro),
        "f1_score-2_X_test": pytest.approx(micro),
        "f1_score-3_X_test": pytest.approx(third),
        "f1_score_X_train": pytest.approx(train),
    }


def test_eval_dataset_fallback_names(regression):
    X_train, X_test, y_train, y_test = regression
    reg = LinearRegression().fit(X_train, y_train)
    first = metrics.r2_score(y_test[:40], reg.predict(X_test[:40]))
    second = metrics.r2_score(y_test[40:], reg.predict(X_test[40:]))
    score = reg.score(np.asarray(X_test[:10]), y_test[:10])
    assert post_metrics(only_run()) == {
        "r2_score_eval_dataset": pytest.approx(first),
        "r2_score_eval_dataset-2": pytest.approx(second),
        "LinearRegression_score_eval_dataset-3": pytest.approx(score),
    }


def test_variable_names_in_a_helper_function(binary):
    X_train, X_test, y_train, y_test = binary

    def evaluate(model, holdout, labels):
        return metrics.accuracy_score(labels, model.predict(holdout))

    model = DecisionTreeClassifier(random_state=0, max_depth=3).fit(X_train, y_train)
    value = evaluate(model, X_test, y_test)
    assert post_metrics(only_run()) == {"accuracy_score_holdout": pytest.approx(value)}


def test_clusterer_labels_and_metrics(binary):
    X_train, X_test, _, _ = binary
    km = KMeans(n_clusters=2, n_init=3, random_state=0).fit(X_train)
    labels = km.predict(X_test)
    silhouette = metrics.silhouette_score(X_test, labels)
    score = km.score(X_test)
    assert post_metrics(only_run()) == {
        "silhouette_score_X_test": pytest.approx(silhouette),
        "KMeans_score_X_test": pytest.approx(score),
    }


def test_untracked_predictions_are_not_logged(binary):
    X_train, X_test, y_train, y_test = binary
    autotrack.autolog(disable=True)
    unlogged = DecisionTreeClassifier(random_state=0).fit(X_train, y_train)
    autotrack.sklearn.autolog(log_models=False)
    logged = DecisionTreeClassifier(random_state=0, max_depth=2).fit(X_train, y_train)
    metrics.accuracy_score(y_test, unlogged.predict(X_test))  # model without a run
    metrics.accuracy_score(y_test, y_test)  # not a prediction at all
    unlogged.score(X_test, y_test)
    run = only_run()
    assert run.data.params["max_depth"] == "2"
    assert post_metrics(run) == {}
    metrics.accuracy_score(y_test, logged.predict(X_test))
    assert set(post_metrics(only_run())) == {"accuracy_score_X_test"}


def test_option_off_logs_nothing_after_training(binary):
    X_train, X_test, y_train, y_test = binary
    autotrack.sklearn.autolog(log_models=False, log_post_training_metrics=False)
    from autotrack.core import is_autotrack_wrapper

    assert not is_autotrack_wrapper(metrics.accuracy_score)
    model = DecisionTreeClassifier(random_state=0).fit(X_train, y_train)
    model.score(X_test, y_test)
    metrics.accuracy_score(y_test, model.predict(X_test))
    run = only_run()
    assert post_metrics(run) == {}
    assert "training_accuracy_score" in run.data.metrics


def test_search_evaluations_go_to_the_parent_run(binary):
    X_train, X_test, y_train, y_test = binary
    autotrack.sklearn.autolog(log_models=False, max_tuning_runs=0)
    search = ms.GridSearchCV(DecisionTreeClassifier(random_state=0), {"max_depth": [1, 2, 3]}, cv=3).fit(X_train, y_train)
    score = search.score(X_test, y_test)
    accuracy = metrics.accuracy_score(y_test, search.predict(X_test))
    assert post_metrics(only_run()) == {
        "GridSearchCV_score_X_test": pytest.approx(score),
        "accuracy_score_X_test": pytest.approx(accuracy),
        "best_cv_score": pytest.approx(search.best_score_),
    }


def test_internal_metric_calls_are_not_logged(binary):
    """score() calls predict and accuracy_score inside; a search scores its candidates: none of that is
    a user's evaluation."""
    X_train, X_test, y_train, y_test = binary
    model = DecisionTreeClassifier(random_state=0).fit(X_train, y_train)
    model.score(X_test, y_test)
    assert set(post_metrics(only_run())) == {"DecisionTreeClassifier_score_X_test"}


def test_predictions_are_tracked_weakly(binary):
    X_train, X_test, y_train, y_test = binary
    model = DecisionTreeClassifier(random_state=0).fit(X_train, y_train)
    before = len(post_training.registry.predictions)
    y_pred = model.predict(X_test)
    assert len(post_training.registry.predictions) == before + 1
    del y_pred
    gc.collect()
    assert len(post_training.registry.predictions) == before
    for _ in range(post_training.MAX_TRACKED_PREDICTIONS + 50):
        kept = model.predict(X_test[:5])  # noqa: F841 - the previous one dies at each rebinding
    assert len(post_training.registry.predictions) <= post_training.MAX_TRACKED_PREDICTIONS


def test_objects_holding_patched_metric_functions_pickle(binary, tmp_path):
    from autotrack.core import is_autotrack_wrapper

    X_train, X_test, y_train, y_test = binary
    assert is_autotrack_wrapper(metrics.accuracy_score)
    holder = {"metric": metrics.accuracy_score, "loss": metrics.log_loss}
    restored = pickle.loads(pickle.dumps(holder))
    assert restored["metric"]([1, 0, 1], [1, 1, 1]) == pytest.approx(2 / 3)
    # a scorer built on the patched function, inside a fitted search saved with joblib
    scorer = metrics.make_scorer(metrics.accuracy_score)
    search = ms.GridSearchCV(DecisionTreeClassifier(random_state=0), {"max_depth": [1, 2]}, cv=2, scoring=scorer)
    search.fit(X_train, y_train)
    joblib.dump(search, tmp_path / "search.joblib")
    loaded = joblib.load(tmp_path / "search.joblib")
    assert loaded.score(X_test, y_test) == pytest.approx(search.score(X_test, y_test))
    # the patched cross-validation functions pickle as well
    assert pickle.loads(pickle.dumps(ms.cross_validate)) is not None
    # and an autologged model itself
    model = DecisionTreeClassifier(random_state=0).fit(X_train, y_train)
    np.testing.assert_array_equal(pickle.loads(pickle.dumps(model)).predict(X_test), model.predict(X_test))


def test_iris_multiclass_roc_auc_on_predict_proba():
    X, y = load_iris(return_X_y=True)
    X_train, X_test, y_train, y_test = ms.train_test_split(X, y, random_state=0)
    model = LogisticRegression(max_iter=500).fit(X_train, y_train)
    probabilities = model.predict_proba(X_test)
    auc = metrics.roc_auc_score(y_test, probabilities, multi_class="ovr")
    assert post_metrics(only_run())["roc_auc_score_X_test"] == pytest.approx(auc)


def test_a_failing_metric_logger_still_returns_sklearns_value(binary, monkeypatch):
    from autotrack.core import AutotrackWarning

    def broken(*args, **kwargs):
        raise RuntimeError("late logging is broken")

    X_train, X_test, y_train, y_test = binary
    monkeypatch.setenv("AUTOTRACK_STRICT", "0")
    model = DecisionTreeClassifier(random_state=0).fit(X_train, y_train)
    monkeypatch.setattr(post_training, "log_late_metric", broken)
    y_pred = model.predict(X_test)
    with pytest.warns(AutotrackWarning, match="late logging is broken"):
        value = metrics.accuracy_score(y_test, y_pred)
    assert value == pytest.approx(float(np.mean(y_pred == y_test)))
    assert model.score(X_test, y_test) == pytest.approx(value)
    assert post_metrics(only_run()) == {}
