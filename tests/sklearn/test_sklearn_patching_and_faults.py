"""Lazy per-submodule patching, no stray runs from workers, pickling of patched estimators, and
fault injection: the store and every extractor raising never change what fit returns."""

from __future__ import annotations

import os
import pickle
import subprocess
import sys
import textwrap
import warnings

import joblib
import numpy as np
import pytest
from sklearn.datasets import make_classification
from sklearn.ensemble import RandomForestClassifier
from sklearn.linear_model import LogisticRegression, SGDClassifier
from sklearn.multiclass import OneVsRestClassifier
from sklearn_helpers import all_runs, only_run

import autotrack
import autotrack.sklearn
from autotrack.core import AutotrackWarning
from autotrack.integrations.kit import datasets  # the dataset description moved into the integration kit
from autotrack.integrations.sklearn import (
    autolog as sk_autolog,
    incremental,
    logging_parts,
    plots,
    training_metrics,
)


@pytest.fixture(scope="module")
def data():
    return make_classification(n_samples=200, n_features=5, n_classes=3, n_informative=3, random_state=0)


def run_python(code: str, **env: str) -> subprocess.CompletedProcess:
    full = {k: v for k, v in os.environ.items() if k != "AUTOTRACK_AUTOLOG"}
    full.update(env)
    return subprocess.run([sys.executable, "-c", textwrap.dedent(code)], env=full, capture_output=True, text=True,
                          timeout=180)


def test_import_autotrack_sklearn_imports_no_sklearn():
    result = run_python("""
        import sys, autotrack, autotrack.sklearn
        autotrack.sklearn.autolog()
        print(sorted(m for m in sys.modules if m.split('.')[0] in ('sklearn', 'numpy', 'scipy')))
    """)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"


def test_patched_lazily_per_submodule():
    result = run_python("""
        import sys, autotrack
        autotrack.autolog()
        from sklearn.linear_model import LogisticRegression
        from autotrack.core import patching
        owners = {h.owner.__module__.split('._')[0] for h in patching.live_handles() if isinstance(h.owner, type)}
        print(sorted(owners))
        print('sklearn.ensemble' in sys.modules, 'sklearn.cluster' in sys.modules)
        import sklearn.cluster
        print(any(h.owner.__name__ == 'KMeans' for h in patching.live_handles()))
    """)
    assert result.returncode == 0, result.stderr
    owners, imported, kmeans = result.stdout.strip().splitlines()
    assert "sklearn.linear_model" in owners and "sklearn.cluster" not in owners
    assert imported == "False False"  # autotrack imported no other submodule on the user's behalf
    assert kmeans == "True"


def test_zero_code_autolog_from_environment(tmp_path):
    result = run_python("""
        from sklearn.datasets import make_classification
        from sklearn.tree import DecisionTreeClassifier
        X, y = make_classification(n_samples=80, n_features=4, random_state=0)
        DecisionTreeClassifier(max_depth=2).fit(X, y)
    """, AUTOTRACK_AUTOLOG="sklearn")
    assert result.returncode == 0, result.stderr
    run = only_run()
    assert run.data.params["max_depth"] == "2" and run.info.status == "FINISHED"


@pytest.mark.parametrize("model", [
    RandomForestClassifier(n_estimators=8, n_jobs=2, random_state=0),  # threads
    OneVsRestClassifier(LogisticRegression(), n_jobs=2),  # loky worker processes
], ids=["forest-threads", "one-vs-rest-processes"])
def test_parallel_inner_fits_create_no_runs(data, model):
    X, y = data
    autotrack.sklearn.autolog(log_models=False)
    model.fit(X, y)
    run = only_run()
    assert run.data.tags["estimator_name"] == type(model).__name__


def test_patched_estimators_and_methods_pickle(data):
    X, y = data
    autotrack.sklearn.autolog(log_models=False)
    model = LogisticRegression().fit(X, y)
    clone = pickle.loads(pickle.dumps(model))
    np.testing.assert_array_equal(clone.predict(X), model.predict(X))
    fit = pickle.loads(pickle.dumps(LogisticRegression(C=3.0).fit))
    assert fit.__self__.C == 3.0
    joblib.dump(model, os.devnull)
    assert len(all_runs()) == 1


def test_nested_meta_estimator_is_one_run(data):
    X, y = data
    autotrack.sklearn.autolog(log_models=False)
    OneVsRestClassifier(LogisticRegression(C=2.0)).fit(X, y)
    run = only_run()
    assert run.data.params["estimator__C"] == "2.0"


def unpatched_result(X, y):
    return LogisticRegression(max_iter=300).fit(X, y).coef_


EXTRACTORS = [
    (training_metrics, "compute"),
    (datasets, "describe"),
    (logging_parts, "estimator_params"),
    (logging_parts, "estimator_tags"),
    (logging_parts, "log_model_artifact"),
    (logging_parts, "log_dataset"),
    (logging_parts, "log_curves"),
    (sk_autolog, "fit_arguments"),
    (sk_autolog, "caller_variable_name"),
    (incremental, "end_open_runs"),
]


def _break(monkeypatch, owner, name):
    def broken(*args, **kwargs):
        raise RuntimeError(f"injected failure in {name}")

    monkeypatch.setattr(owner, name, broken)


@pytest.mark.parametrize("owner,name", EXTRACTORS, ids=[n for _, n in EXTRACTORS])
def test_extractor_failure_warns_and_fit_returns_as_unpatched(data, monkeypatch, owner, name):
    X, y = data
    expected = unpatched_result(X, y)
    monkeypatch.setenv("AUTOTRACK_STRICT", "0")
    autotrack.sklearn.autolog()
    _break(monkeypatch, owner, name)
    model = LogisticRegression(max_iter=300)
    with pytest.warns(AutotrackWarning, match=f"injected failure in {name}"):
        returned = model.fit(X, y)
    assert returned is model
    np.testing.assert_array_equal(model.coef_, expected)
    assert [r.info.status for r in all_runs()] == ["FINISHED"]


@pytest.mark.parametrize("owner,name", EXTRACTORS[:5], ids=[n for _, n in EXTRACTORS[:5]])
def test_extractor_failure_is_raised_under_strict(data, owner, name, monkeypatch):
    X, y = data
    autotrack.sklearn.autolog()
    _break(monkeypatch, owner, name)
    model = LogisticRegression(max_iter=300)
    with pytest.raises(RuntimeError, match=f"injected failure in {name}"):
        model.fit(X, y)
    assert hasattr(model, "coef_")  # the user's fit ran, once, before autotrack's error surfaced


def test_plot_failure_in_background_warns(data, monkeypatch):
    X, y = data
    monkeypatch.setenv("AUTOTRACK_STRICT", "0")
    autotrack.sklearn.autolog(log_models=False)
    _break(monkeypatch, plots, "curves")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        model = LogisticRegression(max_iter=300).fit(X, y)
        autotrack.sklearn.wait_for_artifacts()
    assert any("injected failure in curves" in str(w.message) for w in caught)
    assert hasattr(model, "coef_") and len(all_runs()) == 1


def test_after_fit_handler_errors_are_isolated(data, monkeypatch):
    X, y = data
    monkeypatch.setenv("AUTOTRACK_STRICT", "0")
    autotrack.sklearn.autolog(log_models=False)
    seen = []

    def broken(estimator, X, y, run_id, config):
        raise RuntimeError("injected handler failure")

    def recorder(estimator, X, y, run_id, config):
        seen.append((type(estimator).__name__, run_id, config.max_tuning_runs))

    sk_autolog.register_after_fit(broken)
    sk_autolog.register_after_fit(recorder)
    sk_autolog.register_after_fit(recorder)  # idempotent
    with pytest.warns(AutotrackWarning, match="injected handler failure"):
        model = LogisticRegression().fit(X, y)
    assert seen == [("LogisticRegression", sk_autolog.training_run_for(model), 5)]
    autotrack.sklearn.autolog(disable=True)
    assert broken not in sk_autolog.after_fit_handlers()


@pytest.mark.parametrize("method", ["create_run", "log_batch", "update_run_info"])
def test_store_failure_warns_and_fit_returns_as_unpatched(data, monkeypatch, method):
    X, y = data
    expected = unpatched_result(X, y)
    monkeypatch.setenv("AUTOTRACK_STRICT", "0")
    monkeypatch.setenv("AUTOTRACK_SYNC_LOGGING", "1")  # a failed write surfaces at the call, not in the background
    autotrack.sklearn.autolog()
    from autotrack.tracking.client import TrackingClient

    tracking = TrackingClient()
    monkeypatch.setattr(tracking._pipeline, "retry_delays", (0.0,))  # fail fast: no backoff in a test
    store = tracking.store

    def broken(*args, **kwargs):
        raise OSError(f"injected store failure in {method}")

    monkeypatch.setattr(store, method, broken)
    model = LogisticRegression(max_iter=300)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        returned = model.fit(X, y)
    assert returned is model
    np.testing.assert_array_equal(model.coef_, expected)
    assert any("injected store failure" in str(w.message) for w in caught)
    monkeypatch.undo()


def test_store_failure_under_strict_is_raised_after_the_fit(data, monkeypatch):
    X, y = data
    monkeypatch.setenv("AUTOTRACK_SYNC_LOGGING", "1")
    autotrack.sklearn.autolog(log_models=False)
    from autotrack.tracking.client import TrackingClient

    tracking = TrackingClient()
    monkeypatch.setattr(tracking._pipeline, "retry_delays", (0.0,))  # fail fast: no backoff in a test
    store = tracking.store

    def broken(*args, **kwargs):
        raise OSError("injected store failure")

    monkeypatch.setattr(store, "log_batch", broken)
    model = LogisticRegression(max_iter=300)
    with pytest.raises(OSError, match="injected store failure"):
        model.fit(X, y)
    assert hasattr(model, "coef_")
    monkeypatch.undo()


def test_user_exception_propagates_unchanged_and_run_fails(data):
    X, y = data
    autotrack.sklearn.autolog()
    error = None
    try:
        LogisticRegression(C=-1.0).fit(X, y)
    except ValueError as exc:
        error = exc
    assert error is not None and "C" in str(error)
    assert [r.info.status for r in all_runs()] == ["FAILED"]


def test_partial_fit_extractor_failure_keeps_training(data, monkeypatch):
    X, y = data
    monkeypatch.setenv("AUTOTRACK_STRICT", "0")
    autotrack.sklearn.autolog(log_models=False)
    _break(monkeypatch, incremental, "begin_call")
    clf = SGDClassifier(random_state=0)
    with pytest.warns(AutotrackWarning, match="begin_call"):
        assert clf.partial_fit(X, y, classes=[0, 1, 2]) is clf
    clf.partial_fit(X, y)
    assert hasattr(clf, "coef_") and all_runs() == []
