"""scikit-learn autologging on the kit writes the same artifacts, byte for byte where the content is
deterministic, with a local artifact root and with a non-local artifact repository (the
``memtest://`` test repository): nothing reaches into an artifact folder behind the repository."""

from __future__ import annotations

import posixpath

import numpy as np
import pytest

import autotrack
import autotrack.sklearn
from autotrack.tracking.client import TrackingClient

import memory_repository

# Files whose bytes hold a run id, a time, a uuid or timings: compared by presence only.
VOLATILE = {"model/MLmodel", "model/model.pkl", "cv_results.csv"}  # (fit and score times)


def _tree(client, run_id, path=""):
    files = {}
    for info in client.list_artifacts(run_id, path or None):
        if info.is_dir:
            files.update(_tree(client, run_id, info.path))
        else:
            files[info.path] = info
    return files


def _contents(client, run_id, tmp_path):
    out = {}
    for path in sorted(_tree(client, run_id)):
        local = client.download_artifacts(run_id, path, str(tmp_path / posixpath.dirname(path)))
        with open(local, "rb") as handle:
            out[path] = None if path in VOLATILE else handle.read()
    return out


def _train(tmp_path, name):
    from sklearn.datasets import make_classification
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import GridSearchCV

    autotrack.set_tracking_uri(f"sqlite:///{tmp_path}/{name}.db")
    X, y = make_classification(n_samples=120, n_features=4, random_state=0)
    autotrack.sklearn.autolog(log_plot_images=True, max_tuning_runs=1)
    model = LogisticRegression(max_iter=200).fit(X, y)
    search = GridSearchCV(LogisticRegression(max_iter=200), {"C": [0.5, 1.0]}, cv=2).fit(X, y)
    autotrack.flush()
    client = TrackingClient()
    runs = client.search_runs(["0"], "tags.`autotrack.autologging` = 'sklearn'", order_by=["start_time"])
    assert len(runs) == 3  # model, search, one child
    loaded = autotrack.sklearn.load_model(f"runs:/{runs[0].info.run_id}/model")
    np.testing.assert_array_equal(loaded.predict(X), model.predict(X))
    del search
    result = {}
    for run in runs:
        kind = "child" if "mlflow.parentRunId" in run.data.tags else run.data.tags["estimator_name"]
        result[kind] = (_contents(client, run.info.run_id, tmp_path / name / run.info.run_id), run.info.artifact_uri)
    autotrack.autolog(disable=True)
    return result


def test_sklearn_artifacts_are_identical_on_a_local_and_a_non_local_repository(tmp_path, monkeypatch):
    local = _train(tmp_path, "local")
    memory_repository.install(monkeypatch)
    remote = _train(tmp_path, "remote")
    assert all(uri.startswith("memtest://") for _files, uri in remote.values())
    assert not any(uri.startswith("memtest://") for _files, uri in local.values())
    for kind in local:
        assert local[kind][0] == remote[kind][0], kind
    files = set(local["LogisticRegression"][0])
    assert {"model/MLmodel", "datasets/train.json", "training_confusion_matrix.json",
            "training_confusion_matrix.png", "training_roc_curve.json"} <= files
    assert "cv_results.csv" in local["GridSearchCV"][0]
    assert memory_repository.WRITES  # the remote half really went through the test repository
