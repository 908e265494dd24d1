"""scikit-learn API: one run per fit with the inner ``train``'s per-round metrics; inside a scikit-learn
Pipeline or search, part of that run like any scikit-learn estimator."""

from __future__ import annotations

import numpy as np
import pytest
import xgboost as xgb
from xgboost_helpers import all_runs, artifact_files, history, only_run

import autotrack
import autotrack.xgboost


def classifier(**params):
    return xgb.XGBClassifier(n_estimators=4, max_depth=2, random_state=0, n_jobs=1, **params)


@pytest.mark.parametrize("cls", [xgb.XGBClassifier, xgb.XGBRegressor, xgb.XGBRFClassifier, xgb.XGBRFRegressor])
def test_fit_is_one_run_with_the_inner_trains_metrics(binary_data, client, cls):
    autotrack.xgboost.autolog(log_models=False)
    X, y, X_val, y_val = binary_data
    model = cls(n_estimators=3, max_depth=2, random_state=0, n_jobs=1)
    model.fit(X, y, eval_set=[(X, y), (X_val, y_val)], verbose=False)
    run = only_run()
    assert run.data.tags["autotrack.autologging"] == "xgboost"
    assert run.data.tags["estimator_name"] == cls.__name__
    evals = model.evals_result()
    assert set(evals) == {"validation_0", "validation_1"}
    count = 0
    for data, metrics in evals.items():
        for metric, values in metrics.items():
            logged = history(client, run.info.run_id, f"{data}-{metric}")
            assert logged == [(i, pytest.approx(v)) for i, v in enumerate(values)]
            count += len(logged)
    rounds = len(next(iter(evals["validation_0"].values())))
    assert count == rounds * 2 * len(evals["validation_0"])
    # get_params() and the inner train's arguments
    params = run.data.params
    assert params["max_depth"] == "2" and params["n_estimators"] == "3"
    assert params["num_boost_round"] == str(model.get_num_boosting_rounds())


def test_ranker_fit(client):
    autotrack.xgboost.autolog(log_models=False)
    rng = np.random.default_rng(1)
    X = rng.normal(size=(60, 4))
    y = rng.integers(0, 3, size=60)
    qid = np.repeat(np.arange(6), 10)
    ranker = xgb.XGBRanker(n_estimators=3, eval_metric="ndcg@3", n_jobs=1)
    ranker.fit(X, y, qid=qid, eval_set=[(X, y)], eval_qid=[qid], verbose=False)
    run = only_run()
    assert run.data.tags["estimator_name"] == "XGBRanker"
    assert len(history(client, run.info.run_id, "validation_0-ndcg_at_3")) == 3


def test_sklearn_api_early_stopping(binary_data, client):
    autotrack.xgboost.autolog(log_models=False)
    X, y, X_val, y_val = binary_data
    model = xgb.XGBClassifier(n_estimators=200, learning_rate=0.9, max_depth=6, early_stopping_rounds=3,
                              eval_metric="logloss", n_jobs=1, random_state=0)
    model.fit(X, y, eval_set=[(X_val, y_val)], verbose=False)
    run = only_run()
    assert run.data.metrics["best_iteration"] == model.best_iteration
    rounds = len(model.evals_result()["validation_0"]["logloss"])
    assert run.data.metrics["stopped_iteration"] == rounds - 1
    assert history(client, run.info.run_id, "validation_0-logloss")[-1] == (
        rounds, pytest.approx(model.evals_result()["validation_0"]["logloss"][model.best_iteration]))


def test_user_callbacks_of_the_estimator_are_unchanged_and_called(binary_data):
    autotrack.xgboost.autolog(log_models=False)
    X, y, X_val, y_val = binary_data
    seen = []

    class Spy(xgb.callback.TrainingCallback):
        def after_iteration(self, model, epoch, evals_log):
            seen.append(epoch)
            return False

    callbacks = [Spy()]
    model = classifier(callbacks=callbacks)
    model.fit(X, y, eval_set=[(X_val, y_val)], verbose=False)
    assert len(callbacks) == 1 and model.callbacks is callbacks
    assert seen == [0, 1, 2, 3]
    assert "validation_0-logloss" in only_run().data.metrics


def test_model_is_logged_as_its_class_natively(binary_data, client):
    autotrack.xgboost.autolog()
    X, y, X_val, _ = binary_data
    model = classifier().fit(X, y)
    run = only_run()
    loaded = autotrack.xgboost.load_model(f"runs:/{run.info.run_id}/model")
    assert isinstance(loaded, xgb.XGBClassifier)
    np.testing.assert_array_equal(loaded.predict_proba(X_val), model.predict_proba(X_val))
    assert any(f.startswith("model/model.ubj") for f in artifact_files(client, run.info.run_id, "model"))


def test_datasets_train_and_eval(binary_data):
    autotrack.xgboost.autolog(log_models=False)
    X_train, y_train, X_val, y_val = binary_data
    classifier().fit(X_train, y_train, eval_set=[(X_val, y_val)], verbose=False)
    import json

    datasets = json.loads(only_run().data.tags["mlflow.datasets"])
    assert [(d["name"], d["context"]) for d in datasets] == [("X_train", "train"), ("validation_0", "eval")]


def test_pipeline_is_one_run_like_any_sklearn_estimator(binary_data):
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import StandardScaler

    autotrack.autolog(log_models=False)
    X, y, _, _ = binary_data
    Pipeline([("scale", StandardScaler()), ("xgb", classifier())]).fit(X, y)
    run = only_run()
    assert run.data.tags["estimator_name"] == "Pipeline"
    assert run.data.params["xgb__max_depth"] == "2"


def test_search_gives_a_parent_and_child_runs_and_no_strays(binary_data):
    from sklearn.model_selection import GridSearchCV

    autotrack.autolog(log_models=False)
    X, y, _, _ = binary_data
    GridSearchCV(classifier(), {"max_depth": [1, 2]}, cv=2).fit(X, y)
    runs = all_runs()
    parents = [r for r in runs if "mlflow.parentRunId" not in r.data.tags]
    children = [r for r in runs if "mlflow.parentRunId" in r.data.tags]
    assert len(parents) == 1 and parents[0].data.tags["estimator_name"] == "GridSearchCV"
    assert sorted(c.data.params["max_depth"] for c in children) == ["1", "2"]
    assert all(c.data.tags["mlflow.parentRunId"] == parents[0].info.run_id for c in children)


def test_post_training_metrics(binary_data):
    autotrack.autolog(log_models=False)
    from sklearn import metrics  # the function is looked up on the module after autolog() patched it

    X, y, X_val, y_val = binary_data
    model = classifier().fit(X, y)
    accuracy = metrics.accuracy_score(y_val, model.predict(X_val))
    score = model.score(X_val, y_val)
    autotrack.flush()
    metrics = only_run().data.metrics
    assert metrics["accuracy_score_X_val"] == pytest.approx(accuracy)
    assert metrics["XGBClassifier_score_X_val"] == pytest.approx(score)
