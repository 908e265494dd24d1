"""scikit-learn autologging of one training: params, tags, training metrics (checked against
sklearn.metrics computed directly), dataset, curves, model; pipelines; options; no stray runs."""

from __future__ import annotations

import json
import os

import numpy as np
import pandas as pd
import pytest
from sklearn import metrics as skm
from sklearn.cluster import KMeans
from sklearn.compose import ColumnTransformer
from sklearn.datasets import load_iris, make_classification, make_regression
from sklearn.decomposition import PCA
from sklearn.ensemble import RandomForestClassifier
from sklearn.linear_model import LinearRegression, LogisticRegression, Ridge
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import PolynomialFeatures, StandardScaler
from sklearn.svm import SVC
from sklearn_helpers import all_runs, only_run

import autotrack
import autotrack.sklearn
from autotrack.integrations.sklearn.autolog import training_run_for

CLASSIFIER_KEYS = {"training_accuracy_score", "training_precision_score", "training_recall_score",
                   "training_f1_score", "training_log_loss", "training_roc_auc", "training_score"}
REGRESSOR_KEYS = {"training_mean_squared_error", "training_root_mean_squared_error",
                  "training_mean_absolute_error", "training_r2_score", "training_score"}


@pytest.fixture(scope="module")
def binary():
    return make_classification(n_samples=300, n_features=6, random_state=0)


@pytest.fixture(scope="module")
def iris():
    return load_iris(return_X_y=True)


def expected_classifier_metrics(model, X, y, *, sample_weight=None, average="weighted", pos_label=1):
    pred, proba = model.predict(X), model.predict_proba(X)
    kw = {"average": average, "sample_weight": sample_weight}
    if average == "binary":
        kw["pos_label"] = pos_label
    score = proba[:, 1] if proba.shape[1] == 2 else proba
    auc_kw = {} if proba.shape[1] == 2 else {"multi_class": "ovo", "average": "weighted"}
    expected = {
        "training_accuracy_score": skm.accuracy_score(y, pred, sample_weight=sample_weight),
        "training_precision_score": skm.precision_score(y, pred, zero_division=0, **kw),
        "training_recall_score": skm.recall_score(y, pred, zero_division=0, **kw),
        "training_f1_score": skm.f1_score(y, pred, zero_division=0, **kw),
        "training_log_loss": skm.log_loss(y, proba, sample_weight=sample_weight),
        "training_score": model.score(X, y, sample_weight=sample_weight),
    }
    if proba.shape[1] == 2 or sample_weight is None:  # sklearn refuses weighted one-vs-one AUC: not logged
        expected["training_roc_auc"] = skm.roc_auc_score(y, score, sample_weight=sample_weight, **auc_kw)
    return expected


def assert_metrics(actual, expected):
    # the checks below call sklearn.metrics on the model's predictions, which post-training autologging
    # records too (as <metric>_<dataset>): only the training_* metrics are this test's business
    actual = {k: v for k, v in actual.items() if k.startswith("training_")}
    assert set(actual) == set(expected), (sorted(actual), sorted(expected))
    for key, value in expected.items():
        assert actual[key] == pytest.approx(value, rel=1e-9, abs=1e-12), key


def training(metrics):
    return {k: v for k, v in metrics.items() if k.startswith("training_")}


def read_json(client, run_id, path, tmp_path):
    local = client.download_artifacts(run_id, path, str(tmp_path / "dl"))
    with open(local) as handle:
        return json.load(handle)


def test_binary_classifier_run(binary, client, tmp_path):
    X_train, y_train = binary
    autotrack.sklearn.autolog()
    model = LogisticRegression(C=0.5, max_iter=200)
    returned = model.fit(X_train, y_train)
    assert returned is model
    run = only_run()
    assert run.info.status == "FINISHED"
    assert training_run_for(model) == run.info.run_id
    # params: every get_params(deep=True) entry, as str
    assert run.data.params == {k: str(v) for k, v in model.get_params(deep=True).items()}
    tags = run.data.tags
    assert tags["estimator_name"] == "LogisticRegression"
    assert tags["estimator_class"] == "sklearn.linear_model._logistic.LogisticRegression"
    assert tags["autotrack.autologging"] == "sklearn"
    assert_metrics(run.data.metrics, expected_classifier_metrics(model, X_train, y_train))
    # dataset: tag summary now, JSON description once the background writer is done
    summary = json.loads(tags["mlflow.datasets"])
    assert summary == [{"name": "X_train", "digest": summary[0]["digest"], "context": "train"}]
    autotrack.flush()  # waits for the background artifact files too
    dataset = read_json(client, run.info.run_id, "datasets/train.json", tmp_path)
    assert dataset["name"] == "X_train" and dataset["context"] == "train"
    assert dataset["shape"] == [300, 6] and dataset["digest"] == summary[0]["digest"]
    assert dataset["targets"]["shape"] == [300]
    # curves and matrix as JSON, no PNG by default
    names = {f.path for f in client.list_artifacts(run.info.run_id)}
    assert {"training_confusion_matrix.json", "training_roc_curve.json",
            "training_precision_recall_curve.json", "model", "datasets"} <= names
    assert not any(n.endswith(".png") for n in names)
    cm = read_json(client, run.info.run_id, "training_confusion_matrix.json", tmp_path)
    assert cm["labels"] == [0, 1]
    assert cm["matrix"] == skm.confusion_matrix(y_train, model.predict(X_train)).tolist()
    roc = read_json(client, run.info.run_id, "training_roc_curve.json", tmp_path)
    (curve,) = roc["curves"]
    assert curve["label"] == 1
    assert curve["auc"] == pytest.approx(run.data.metrics["training_roc_auc"])
    fpr, tpr, _ = skm.roc_curve(y_train, model.predict_proba(X_train)[:, 1], drop_intermediate=False)
    assert np.interp(0.3, curve["fpr"], curve["tpr"]) == pytest.approx(np.interp(0.3, fpr, tpr), abs=0.02)
    pr = read_json(client, run.info.run_id, "training_precision_recall_curve.json", tmp_path)
    assert pr["curves"][0]["average_precision"] == pytest.approx(
        skm.average_precision_score(y_train, model.predict_proba(X_train)[:, 1]))
    # the model loads and predicts the same
    loaded = autotrack.sklearn.load_model(f"runs:/{run.info.run_id}/model")
    np.testing.assert_array_equal(loaded.predict(X_train), model.predict(X_train))


def test_multiclass_with_dataframe_and_sample_weight(iris, client, tmp_path):
    X, y = iris
    frame = pd.DataFrame(X, columns=["sepal_l", "sepal_w", "petal_l", "petal_w"])
    weights = np.linspace(0.5, 2.0, len(y))
    autotrack.sklearn.autolog(log_models=True, log_input_examples=True)
    model = RandomForestClassifier(n_estimators=10, max_depth=3, random_state=0)
    model.fit(frame, y, sample_weight=weights)
    run = only_run()
    assert_metrics(run.data.metrics, expected_classifier_metrics(model, frame, y, sample_weight=weights))
    autotrack.sklearn.wait_for_artifacts()
    dataset = read_json(client, run.info.run_id, "datasets/train.json", tmp_path)
    assert [c["name"] for c in dataset["columns"]] == ["sepal_l", "sepal_w", "petal_l", "petal_w"]
    assert dataset["name"] == "frame"
    roc = read_json(client, run.info.run_id, "training_roc_curve.json", tmp_path)
    assert [c["label"] for c in roc["curves"]] == [0, 1, 2]  # one-vs-rest per class
    from autotrack.models import load_model

    pyfunc = load_model(f"runs:/{run.info.run_id}/model")
    assert [c.name for c in pyfunc.metadata.signature.inputs.inputs] == list(frame.columns)
    np.testing.assert_array_equal(np.asarray(pyfunc.predict(frame)).ravel(), model.predict(frame))
    assert "input_example.json" in {f.path.split("/")[-1] for f in client.list_artifacts(run.info.run_id, "model")}


def test_string_labels_and_pos_label(binary):
    X, y = binary
    labels = np.where(y == 1, "spam", "ham")
    autotrack.sklearn.autolog(pos_label="spam", log_models=False)
    model = LogisticRegression().fit(X, labels)
    expected = expected_classifier_metrics(model, X, labels, average="binary", pos_label="spam")
    expected["training_roc_auc"] = skm.roc_auc_score(labels == "spam", model.predict_proba(X)[:, 1])
    assert_metrics(only_run().data.metrics, expected)


def test_regressor_run(client):
    X, y = make_regression(n_samples=200, n_features=4, noise=5.0, random_state=1)
    autotrack.sklearn.autolog()
    model = Ridge(alpha=2.0).fit(X, y)
    run = only_run()
    pred = model.predict(X)
    assert_metrics(run.data.metrics, {
        "training_mean_squared_error": skm.mean_squared_error(y, pred),
        "training_root_mean_squared_error": skm.root_mean_squared_error(y, pred),
        "training_mean_absolute_error": skm.mean_absolute_error(y, pred),
        "training_r2_score": skm.r2_score(y, pred),
        "training_score": model.score(X, y),
    })
    assert run.data.params["alpha"] == "2.0"
    loaded = autotrack.sklearn.load_model(f"runs:/{run.info.run_id}/model")
    np.testing.assert_allclose(loaded.predict(X), pred)


def test_multioutput_regressor_matches_sklearn():
    X, y = make_regression(n_samples=120, n_features=3, n_targets=2, random_state=2)
    weights = np.arange(1, 121, dtype=float)
    autotrack.sklearn.autolog(log_models=False)
    model = LinearRegression().fit(X, y, sample_weight=weights)
    pred = model.predict(X)
    kw = {"sample_weight": weights}
    assert_metrics(only_run().data.metrics, {
        "training_mean_squared_error": skm.mean_squared_error(y, pred, **kw),
        "training_root_mean_squared_error": skm.root_mean_squared_error(y, pred, **kw),
        "training_mean_absolute_error": skm.mean_absolute_error(y, pred, **kw),
        "training_r2_score": skm.r2_score(y, pred, **kw),
        "training_score": model.score(X, y, **kw),
    })


def test_clusterer_fit_predict_is_one_run(binary):
    X, _ = binary
    autotrack.sklearn.autolog()
    model = KMeans(n_clusters=3, n_init=2, random_state=0)
    labels = model.fit_predict(X)  # fit_predict calls fit: one run, not two
    np.testing.assert_array_equal(labels, model.labels_)
    run = only_run()
    assert run.data.tags["estimator_name"] == "KMeans"
    assert training(run.data.metrics) == {"training_score": pytest.approx(model.score(X))}
    assert autotrack.sklearn.load_model(f"runs:/{run.info.run_id}/model").predict(X[:5]).tolist() == labels[:5].tolist()


def test_transformer_fit_transform(binary):
    X, _ = binary
    autotrack.sklearn.autolog()
    model = PCA(n_components=2)
    Xt = model.fit_transform(X)
    run = only_run()
    assert run.data.params["n_components"] == "2"
    assert training(run.data.metrics) == {"training_score": pytest.approx(model.score(X))}
    loaded = autotrack.sklearn.load_model(f"runs:/{run.info.run_id}/model")
    np.testing.assert_allclose(loaded.transform(X), Xt)


def test_preprocessing_alone_gets_no_run(binary):
    X, _ = binary
    autotrack.sklearn.autolog()
    StandardScaler().fit_transform(X)
    ColumnTransformer([("scale", StandardScaler(), [0, 1])]).fit(X)
    assert all_runs() == []


def test_pipeline_is_one_run_with_nested_params(client):
    X, y = make_classification(n_samples=200, n_features=4, random_state=3)
    frame = pd.DataFrame(X, columns=list("abcd"))
    autotrack.sklearn.autolog()
    pipe = Pipeline([
        ("features", ColumnTransformer([("poly", PolynomialFeatures(2), ["a", "b"]),
                                        ("scale", StandardScaler(), ["c", "d"])])),
        ("clf", LogisticRegression(C=3.0, max_iter=500)),
    ])
    pipe.fit(frame, y)
    run = only_run()  # step fits are not separate runs
    params = run.data.params
    assert params["clf__C"] == "3.0"
    assert params["features__poly__degree"] == "2"
    assert set(params) == set(pipe.get_params(deep=True))
    assert run.data.tags["estimator_name"] == "Pipeline"
    assert_metrics(run.data.metrics, expected_classifier_metrics(pipe, frame, y))
    loaded = autotrack.sklearn.load_model(f"runs:/{run.info.run_id}/model")
    assert isinstance(loaded, Pipeline)
    np.testing.assert_array_equal(loaded.predict(frame), pipe.predict(frame))


def test_user_run_is_used_and_left_open(binary):
    X, y = binary
    autotrack.sklearn.autolog(log_models=False)
    with autotrack.start_run() as run:
        LogisticRegression().fit(X, y)
        assert autotrack.active_run().info.run_id == run.info.run_id
        autotrack.log_metric("accuracy", 0.5)
    stored = only_run()
    assert stored.info.run_id == run.info.run_id
    assert "training_accuracy_score" in stored.data.metrics and "accuracy" in stored.data.metrics


def test_tutorial_hyperparameter_loop_one_run_each(binary):
    X, y = binary
    autotrack.autolog()
    for depth in (5, 10, 15):
        RandomForestClassifier(n_estimators=5, max_depth=depth, random_state=0).fit(X, y)
    runs = all_runs()
    assert sorted(r.data.params["max_depth"] for r in runs) == ["10", "15", "5"]
    assert all(r.info.status == "FINISHED" for r in runs)


def test_two_fits_in_one_user_run_keep_the_first_params(binary):
    X, y = binary
    autotrack.sklearn.autolog(log_models=False)
    with autotrack.start_run():
        LogisticRegression(C=1.0).fit(X, y)
        LogisticRegression(C=2.0).fit(X, y)  # params are write-once: no error, first value kept
    assert only_run().data.params["C"] == "1.0"


def test_options_validated_up_front():
    with pytest.raises(TypeError, match="log_plot_images='yes'"):
        autotrack.sklearn.autolog(log_plot_images="yes")
    with pytest.raises(TypeError, match="log_post_training_metrics"):
        autotrack.sklearn.autolog(log_post_training_metrics=1)
    with pytest.raises(ValueError, match="max_tuning_runs=-1"):
        autotrack.sklearn.autolog(max_tuning_runs=-1)
    with pytest.raises(ValueError, match="max_tuning_runs"):
        autotrack.sklearn.autolog(max_tuning_runs=2.5)
    with pytest.raises(TypeError, match="pos_label"):
        autotrack.sklearn.autolog(pos_label=[1])
    with pytest.raises(TypeError, match="unknown option 'log_everything'"):
        autotrack.sklearn.autolog(log_everything=True)
    autotrack.sklearn.autolog(max_tuning_runs=None, pos_label=1, log_plot_images=True, log_post_training_metrics=False)
    config = autotrack.core.armed()["sklearn"]
    assert (config.max_tuning_runs, config.pos_label, config.log_plot_images, config.log_post_training_metrics) \
        == (None, 1, True, False)


def test_common_options_log_models_datasets_signatures_extra_tags(binary, client):
    X, y = binary
    autotrack.sklearn.autolog(log_models=False, log_datasets=False, extra_tags={"team": "fraud"})
    LogisticRegression().fit(X, y)
    run = only_run()
    assert run.data.tags["team"] == "fraud"
    assert "mlflow.datasets" not in run.data.tags
    autotrack.sklearn.wait_for_artifacts()
    names = {f.path for f in client.list_artifacts(run.info.run_id)}
    assert "model" not in names and "datasets" not in names


def test_no_signature_option():
    X, y = make_classification(n_samples=50, n_features=4, random_state=0)
    autotrack.sklearn.autolog(log_model_signatures=False)
    LogisticRegression().fit(X, y)
    from autotrack.models import load_model

    assert load_model(f"runs:/{only_run().info.run_id}/model").metadata.signature is None


def test_plot_images_rendered_off_thread(binary, client):
    X, y = binary
    autotrack.sklearn.autolog(log_plot_images=True, log_models=False)
    LogisticRegression().fit(X, y)
    autotrack.sklearn.wait_for_artifacts()
    run_id = only_run().info.run_id
    names = {f.path for f in client.list_artifacts(run_id)}
    for base in ("training_confusion_matrix", "training_roc_curve", "training_precision_recall_curve"):
        assert f"{base}.png" in names and f"{base}.json" in names
    local = client.download_artifacts(run_id, "training_roc_curve.png")
    with open(local, "rb") as handle:
        assert handle.read(8) == b"\x89PNG\r\n\x1a\n"


def test_exclusive_skips_user_runs(binary):
    X, y = binary
    autotrack.sklearn.autolog(exclusive=True)
    with autotrack.start_run():
        LogisticRegression().fit(X, y)
    run = only_run()
    assert "training_accuracy_score" not in run.data.metrics


def test_disable_restores_every_method(binary):
    autotrack.sklearn.autolog()
    from autotrack.core import patching

    assert any(h.owner is LogisticRegression and h.attribute == "fit" for h in patching.live_handles())
    autotrack.sklearn.autolog(disable=True)
    assert patching.live_handles() == []
    assert "fit" in vars(LogisticRegression) and not patching.is_autotrack_wrapper(vars(LogisticRegression)["fit"])
    assert "fit_transform" not in vars(PCA) or not patching.is_autotrack_wrapper(vars(PCA)["fit_transform"])
    LogisticRegression().fit(*binary)
    assert all_runs() == []


def test_svc_without_probability_has_no_probability_metrics(binary):
    X, y = binary
    autotrack.sklearn.autolog(log_models=False)
    model = SVC().fit(X, y)
    metrics = only_run().data.metrics
    assert "training_log_loss" not in metrics and "training_roc_auc" not in metrics
    assert metrics["training_accuracy_score"] == pytest.approx(skm.accuracy_score(y, model.predict(X)))


def test_artifacts_of_many_fits_land_in_their_own_runs(binary, client):
    X, y = binary
    autotrack.sklearn.autolog(log_models=False)
    models = [LogisticRegression(C=c).fit(X, y) for c in (0.1, 1.0, 10.0)]
    autotrack.sklearn.wait_for_artifacts()
    for model in models:
        run_id = training_run_for(model)
        assert os.path.basename(client.download_artifacts(run_id, "datasets/train.json")) == "train.json"


@pytest.mark.parametrize("keep_example", [True, False])
def test_model_carries_an_input_example_unless_turned_off(iris, client, keep_example):
    X, y = iris
    autotrack.sklearn.autolog(**({} if keep_example else {"log_input_examples": False}))
    LogisticRegression(max_iter=300).fit(X, y)
    run = only_run()
    files = {f.path.split("/")[-1] for f in client.list_artifacts(run.info.run_id, "model")}
    assert "MLmodel" in files
    assert any(name.startswith("input_example") for name in files) == keep_example
