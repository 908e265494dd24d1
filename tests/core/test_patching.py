"""Patching mechanics on wrapt: callable kinds, handles, revert newest first, idempotence, pickling."""

from __future__ import annotations

import pickle
import types

import pytest

import autotrack
from autotrack.core import is_autotrack_wrapper, patching
from autotrack.core.integration import AutologConfig, COMMON_OPTIONS


def _state(name="demo"):
    return patching.IntegrationState(name, AutologConfig({**COMMON_OPTIONS}))


def _recording_hook(log):
    def hook(call):
        log.append(("before", call.target.rsplit(".", 1)[-1], call.instance))
        result = yield
        log.append(("after", result))

    return hook


def test_every_callable_kind_is_patched_and_reverted(fake_site):
    import fakeml

    log = []
    state = _state()
    est = fakeml.Estimator()
    originals = {name: fakeml.Estimator.__dict__[name] for name in ("fit", "create", "describe", "transform")}
    for name in originals:
        patching.patch(state, fakeml.Estimator, name, _recording_hook(log), creates_run=False)
    patching.patch(state, fakeml, "train", _recording_hook(log), creates_run=False)

    assert est.fit([1]) is est
    assert isinstance(fakeml.Estimator.create(), fakeml.Estimator)
    assert est.describe(2) == fakeml.Estimator.describe(2) == "described-2"
    assert est.transform([3]) == [3]
    assert fakeml.train({}, [4]).fitted
    kinds = [entry[1] for entry in log if entry[0] == "before"]
    assert kinds == ["fit", "create", "describe", "describe", "transform", "train"]
    # classmethod: the class is the instance; staticmethod: none
    assert log[2][2] is fakeml.Estimator and log[4][2] is None

    patching.revert(state)
    for name, original in originals.items():
        assert fakeml.Estimator.__dict__[name] is original
    assert not is_autotrack_wrapper(fakeml.train)
    assert patching.live_handles() == []


def test_sklearn_available_if_descriptor():
    pytest.importorskip("sklearn")
    from sklearn.utils._available_if import available_if

    class Model:
        ok = True

        @available_if(lambda self: self.ok)
        def predict_proba(self, X):
            return [0.5 for _ in X]

    log = []
    state = _state()
    patching.patch(state, Model, "predict_proba", _recording_hook(log), creates_run=False)
    try:
        model = Model()
        assert model.predict_proba([1, 2]) == [0.5, 0.5]
        assert log[0][:2] == ("before", "predict_proba")
        Model.ok = False
        assert not hasattr(model, "predict_proba")  # the descriptor's availability check still works
    finally:
        patching.revert(state)
    assert type(Model.__dict__["predict_proba"]).__name__ == "_AvailableIfDescriptor"


def test_revert_is_newest_first_across_stacked_patches(fake_site):
    import fakeml

    order = []
    first, second = _state("first"), _state("second")

    def hook(tag):
        def h(call):
            order.append(tag)
            yield

        return h

    original = fakeml.Estimator.__dict__["predict"]
    patching.patch(first, fakeml.Estimator, "predict", hook("first"), creates_run=False)
    patching.patch(second, fakeml.Estimator, "predict", hook("second"), creates_run=False)
    fakeml.Estimator().predict([1])
    # the outer (newest) wrapper runs, the inner one sees a session and passes through
    assert order == ["second"]
    patching.revert(first)  # buried below "second": spliced out, second stays in place
    assert is_autotrack_wrapper(fakeml.Estimator.__dict__["predict"])
    assert fakeml.Estimator.__dict__["predict"].__wrapped__ is original
    patching.revert(second)
    assert fakeml.Estimator.__dict__["predict"] is original


def test_patching_twice_for_one_integration_is_a_no_op(fake_site):
    import fakeml

    state = _state()
    assert patching.patch(state, fakeml.Estimator, "fit", _recording_hook([])) is not None
    assert patching.patch(state, fakeml.Estimator, "fit", _recording_hook([])) is None
    assert len(state.handles) == 1
    patching.revert(state)


def test_revert_tolerates_a_third_party_replacing_the_attribute(fake_site):
    import fakeml

    state = _state()
    patching.patch(state, fakeml.Estimator, "predict", _recording_hook([]), creates_run=False)

    def replaced(self, X):
        return "theirs"

    fakeml.Estimator.predict = replaced
    patching.revert(state)  # no error: the patch is already gone
    assert fakeml.Estimator.__dict__["predict"] is replaced


def test_patch_on_a_subclass_that_inherits_the_method_is_removed_cleanly(fake_site):
    import fakeml

    class Child(fakeml.Estimator):
        pass

    state = _state()
    patching.patch(state, Child, "predict", _recording_hook([]), creates_run=False)
    assert "predict" in vars(Child)
    patching.revert(state)
    assert "predict" not in vars(Child)  # no shadowing copy left behind


def test_autolog_twice_is_idempotent(fake_integration):
    autotrack.autolog()
    autotrack.autolog()
    import fakeml

    assert len([h for h in patching.live_handles() if h.attribute == "fit" and h.owner is fakeml.Estimator]) == 1
    fakeml.Estimator().fit([1])
    assert [e[0] for e in fake_integration.EVENTS if e[0] in ("before", "after")] == ["before", "after"]


def test_disable_removes_every_wrapper(fake_integration):
    autotrack.autolog()
    import fakeml

    assert is_autotrack_wrapper(fakeml.Estimator.__dict__["fit"])
    autotrack.autolog(disable=True)
    assert not is_autotrack_wrapper(fakeml.Estimator.__dict__["fit"])
    assert patching.leftover_wrappers() == []


def test_patched_bound_methods_pickle(fake_integration):
    autotrack.autolog()
    import fakeml

    est = fakeml.Estimator()
    for method in (est.fit, fakeml.Estimator.create, est.describe, fakeml.train):
        restored = pickle.loads(pickle.dumps(method))
        assert getattr(restored, "__name__", None) == method.__name__
    restored_fit = pickle.loads(pickle.dumps(est.fit))
    assert restored_fit([9]).fitted  # a working method of a copy of the estimator
    cloudpickle = pytest.importorskip("cloudpickle")
    assert cloudpickle.loads(cloudpickle.dumps(est.fit))([10]).fitted


def test_patched_bound_method_goes_through_joblib_processes(fake_integration):
    joblib = pytest.importorskip("joblib")
    autotrack.autolog()
    import fakeml

    est = fakeml.Estimator()
    # loky pickles the bound method into worker processes
    results = joblib.Parallel(n_jobs=2, backend="loky")(joblib.delayed(est.describe)(i) for i in range(2))
    assert results == ["described-0", "described-1"]


def test_enabled_flag_makes_a_patch_a_pass_through(fake_integration):
    autotrack.autolog()
    import fakeml

    from autotrack.core import state

    state("fakeml").active = False
    fakeml.Estimator().fit([1])
    assert fake_integration.EVENTS == []
    assert autotrack.active_run() is None


def test_wrapper_is_transparent(fake_integration):
    autotrack.autolog()
    import fakeml

    est = fakeml.Estimator()
    assert est.fit.__name__ == "fit" and est.fit.__doc__ == fakeml.Estimator.fit.__doc__
    assert isinstance(fakeml.train, types.FunctionType) or callable(fakeml.train)
    assert fakeml.Estimator.fit.__wrapped__.__qualname__ == "Estimator.fit"


def test_autolog_config_pickles_and_stays_read_only():
    import pickle

    config = AutologConfig({**COMMON_OPTIONS, "log_models": False})
    copy = pickle.loads(pickle.dumps(config))
    assert dict(copy) == dict(config) and copy.log_models is False and copy.silent is False
    with pytest.raises(AttributeError, match="read-only"):
        copy.log_models = True
