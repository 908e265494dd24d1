"""Fault injection: a failing store or a failing autotrack callback never changes the trained model."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import xgboost as xgb

import autotrack
import autotrack.xgboost
from autotrack.core import AutotrackWarning
from autotrack.integrations.xgboost.callback import EvalRecorder

PARAMS = {"objective": "binary:logistic", "eval_metric": "logloss", "max_depth": 3, "subsample": 0.8, "seed": 11,
          "nthread": 1}
ROUNDS = 8


def train_native(binary_data):
    X, y, X_val, y_val = binary_data
    dtrain, dval = xgb.DMatrix(X, label=y), xgb.DMatrix(X_val, label=y_val)
    booster = xgb.train(PARAMS, dtrain, ROUNDS, evals=[(dtrain, "train"), (dval, "val")], verbose_eval=False)
    return booster.num_boosted_rounds(), booster.predict(xgb.DMatrix(X_val))


def train_sklearn_api(binary_data):
    X, y, X_val, y_val = binary_data
    model = xgb.XGBClassifier(n_estimators=ROUNDS, max_depth=3, subsample=0.8, random_state=11, n_jobs=1)
    model.fit(X, y, eval_set=[(X_val, y_val)], verbose=False)
    return model.get_booster().num_boosted_rounds(), model.predict_proba(X_val)


TRAININGS = [train_native, train_sklearn_api]


@pytest.fixture
def broken_store(monkeypatch):
    """Every batch write of the test's store raises (written on the caller's thread, no retries)."""
    monkeypatch.setenv("AUTOTRACK_SYNC_LOGGING", "1")
    from autotrack.tracking.client import TrackingClient

    tracking = TrackingClient()
    monkeypatch.setattr(tracking._pipeline, "retry_delays", (0.0,))

    def broken(*args, **kwargs):
        raise OSError("injected store failure")

    monkeypatch.setattr(tracking.store, "log_batch", broken)
    yield
    monkeypatch.undo()


@pytest.mark.parametrize("train", TRAININGS, ids=lambda f: f.__name__)
def test_store_failure_leaves_the_model_identical(binary_data, monkeypatch, broken_store, train):
    expected_rounds, expected = train(binary_data)  # not autologged
    monkeypatch.setenv("AUTOTRACK_STRICT", "0")
    autotrack.xgboost.autolog(log_models=False)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        rounds, predictions = train(binary_data)
    assert rounds == expected_rounds
    np.testing.assert_array_equal(predictions, expected)
    assert any("injected store failure" in str(w.message) for w in caught)


@pytest.mark.parametrize("train", TRAININGS, ids=lambda f: f.__name__)
def test_callback_failure_leaves_the_model_identical_even_under_strict(binary_data, monkeypatch, train):
    expected_rounds, expected = train(binary_data)
    autotrack.xgboost.autolog(log_models=False)
    calls = []

    def broken(self, iteration, evals_log):
        calls.append(iteration)
        raise RuntimeError("injected callback failure")

    monkeypatch.setattr(EvalRecorder, "record", broken)
    # AUTOTRACK_STRICT=1 is on: an injected callback still never raises into training, it warns
    with pytest.warns(AutotrackWarning, match="injected callback failure"):
        rounds, predictions = train(binary_data)
    assert rounds == expected_rounds  # training was not stopped
    np.testing.assert_array_equal(predictions, expected)
    assert calls == [0]  # after its first failure the callback stays quiet for that training


def test_autologged_model_equals_unpatched_model(binary_data):
    expected_rounds, expected = train_native(binary_data)
    autotrack.xgboost.autolog()
    rounds, predictions = train_native(binary_data)
    assert rounds == expected_rounds
    np.testing.assert_array_equal(predictions, expected)


def test_user_error_propagates_unchanged_and_run_fails(binary_data):
    autotrack.xgboost.autolog()
    X, y, _, _ = binary_data
    with pytest.raises(xgb.core.XGBoostError) as raised:
        xgb.train({"objective": "no:such-objective"}, xgb.DMatrix(X, label=y), 2)
    from xgboost_helpers import only_run

    assert only_run().info.status == "FAILED"
    assert "no:such-objective" in str(raised.value)
