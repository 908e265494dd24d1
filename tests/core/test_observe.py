"""Observers: the light patch for per-step calls (no session, no run lookup, no generator)."""

from __future__ import annotations

import pytest

from autotrack.core import is_autotrack_wrapper, patching, session
from autotrack.core.integration import COMMON_OPTIONS, AutologConfig


def _state(name="demo"):
    return patching.IntegrationState(name, AutologConfig({**COMMON_OPTIONS}))


def test_an_observer_sees_each_successful_call_and_reverts(fake_site):
    import fakeml

    seen = []
    state = _state()
    est = fakeml.Estimator()
    original = fakeml.Estimator.__dict__["fit"]
    patching.observe(state, fakeml.Estimator, "fit",
                     lambda instance, args, kwargs, result: seen.append((instance, args, kwargs, result,
                                                                         session.active())))
    assert patching.observe(state, fakeml.Estimator, "fit", lambda *a: None) is None  # once per integration
    assert est.fit([1], y=2) is est
    assert seen == [(est, ([1],), {"y": 2}, est, False)]  # no session is opened for an observer
    boom = ValueError("user error")
    with pytest.raises(ValueError) as caught:
        fakeml.Estimator(fail=boom).fit([2])
    assert caught.value is boom and len(seen) == 1  # failed calls are not observed, the error is theirs
    state.active = False
    est.fit([3])
    assert len(seen) == 1  # a paused integration observes nothing
    patching.revert(state)
    assert fakeml.Estimator.__dict__["fit"] is original and not is_autotrack_wrapper(fakeml.Estimator.fit)


def test_an_observer_error_is_autotracks_and_the_result_still_returns(fake_site, monkeypatch):
    import fakeml

    def broken(*args):
        raise RuntimeError("observer bug")

    state = _state()
    patching.observe(state, fakeml.Estimator, "fit", broken)
    est = fakeml.Estimator()
    with pytest.raises(RuntimeError, match="observer bug"):  # strict mode (the suite's) re-raises it
        est.fit([1])
    monkeypatch.setenv("AUTOTRACK_STRICT", "0")
    from autotrack.core import AutotrackWarning

    with pytest.warns(AutotrackWarning, match="observer bug"):
        assert est.fit([1]) is est
    patching.revert(state)
