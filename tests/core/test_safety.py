"""The safety contract: autotrack never changes what the user's training does."""

from __future__ import annotations

import traceback
import warnings

import pytest

import autotrack
from autotrack.core import AutotrackWarning


def _runs():
    autotrack.flush()
    return autotrack.search_runs(experiment_ids=["0"], output_format="list")


@pytest.fixture
def lenient(monkeypatch):
    """Strict mode off: autotrack errors become warnings, as for users."""
    monkeypatch.setenv("AUTOTRACK_STRICT", "0")


def test_user_function_runs_exactly_once(fake_integration):
    autotrack.autolog()
    import fakeml

    fakeml.CALLS.clear()
    assert fakeml.Estimator().fit([1]).fitted
    assert [c[0] for c in fakeml.CALLS] == ["fit"]


def test_user_exception_is_the_same_object_with_the_same_traceback(fake_integration):
    autotrack.autolog()
    import fakeml

    error = ValueError("bad data")
    with pytest.raises(ValueError) as caught:
        fakeml.Estimator(fail=error).fit([1])
    assert caught.value is error
    innermost = traceback.extract_tb(caught.value.__traceback__)[-1]
    assert innermost.name == "fit" and innermost.filename.endswith("fakeml/__init__.py")
    assert error.__context__ is None and error.__cause__ is None
    assert [c[0] for c in fakeml.CALLS] == ["fit"]


@pytest.mark.usefixtures("lenient")
def test_error_before_the_call_still_calls_it_and_warns_once(fake_integration):
    fake_integration.FAIL_BEFORE = True
    autotrack.autolog()
    import fakeml

    with pytest.warns(AutotrackWarning, match="fakeml autologging failed.*before the call"):
        assert fakeml.Estimator().fit([1]).fitted
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a second failure of the same integration does not warn again
        assert fakeml.Estimator().fit([2]).fitted
    assert [c[0] for c in fakeml.CALLS] == ["fit", "fit"]
    # the run autotrack opened is still ended properly
    assert {r.info.status for r in _runs()} == {"FINISHED"}


@pytest.mark.usefixtures("lenient")
def test_error_after_the_call_still_returns_its_result(fake_integration):
    fake_integration.FAIL_AFTER = True
    autotrack.autolog()
    import fakeml

    model = fakeml.Estimator()
    with pytest.warns(AutotrackWarning, match="after the call"):
        assert fakeml.Estimator.fit(model, [1]) is model
    assert [c[0] for c in fakeml.CALLS] == ["fit"]
    (run,) = _runs()
    assert run.info.status == "FINISHED"


@pytest.mark.usefixtures("lenient")
def test_user_exception_wins_over_autotrack_errors(fake_integration):
    fake_integration.FAIL_BEFORE = True
    autotrack.autolog()
    import fakeml

    error = KeyError("user")
    with pytest.warns(AutotrackWarning), pytest.raises(KeyError) as caught:
        fakeml.Estimator(fail=error).fit([1])
    assert caught.value is error


def test_strict_mode_reraises_autotrack_errors(fake_integration):
    import fakeml  # noqa: F401 - import first, autolog after: the other ordering

    autotrack.autolog()
    fake_integration.FAIL_AFTER = True
    with pytest.raises(RuntimeError, match="autotrack bug after the call"):
        fakeml.Estimator().fit([1])
    fake_integration.FAIL_AFTER = False
    fake_integration.FAIL_BEFORE = True
    with pytest.raises(RuntimeError, match="autotrack bug before the call"):
        fakeml.Estimator().fit([1])
    # even then, no run is left open
    assert autotrack.active_run() is None
    assert {r.info.status for r in _runs()} <= {"FINISHED", "FAILED"}


def test_strict_mode_checks_arguments_reach_the_original_unchanged(fake_integration):
    fake_integration.MUTATE_ARGS = True
    autotrack.autolog()
    import fakeml

    with pytest.raises(AssertionError, match="changed positional argument 0"):
        fakeml.Estimator().fit([1])


def test_declared_argument_changes_pass_the_strict_check(fake_integration):
    autotrack.autolog()
    import fakeml

    user_callbacks = []
    fakeml.Estimator().fit([1], callbacks=user_callbacks)
    assert ("callback", 1) in fake_integration.EVENTS  # the injected callback reached the library
    assert user_callbacks == []  # the user's list was not mutated


@pytest.mark.usefixtures("lenient")
def test_only_exception_is_caught_from_autotrack_code(fake_integration):
    fake_integration.FAIL_BEFORE = KeyboardInterrupt()
    autotrack.autolog()
    import fakeml

    with pytest.raises(KeyboardInterrupt):
        fakeml.Estimator().fit([1])


@pytest.mark.parametrize("strict", ["0", "1"])
def test_injected_callbacks_cannot_raise_into_training(fake_integration, monkeypatch, strict):
    monkeypatch.setenv("AUTOTRACK_STRICT", strict)
    fake_integration.FAIL_CALLBACK = True
    autotrack.autolog()
    import fakeml

    with pytest.warns(AutotrackWarning, match="callback"):
        assert fakeml.Estimator().fit([1]).fitted
    assert ("callback", 1) in fake_integration.EVENTS


def test_guard_returns_default_and_guard_methods(monkeypatch):
    monkeypatch.setenv("AUTOTRACK_STRICT", "0")
    from autotrack.core import guard, guard_methods

    def broken(x):
        raise ValueError(x)

    with pytest.warns(AutotrackWarning):
        assert guard("demo-guard", broken, default=-1)(3) == -1

    @guard_methods("demo-guard-methods")
    class Callback:
        def on_epoch_end(self, epoch):
            raise RuntimeError("bug")

        def _private(self):
            raise RuntimeError("not wrapped")

    with pytest.warns(AutotrackWarning):
        assert Callback().on_epoch_end(1) is None
    with pytest.raises(RuntimeError):
        Callback()._private()


def test_user_failure_ends_run_failed_and_interrupt_killed(fake_integration):
    autotrack.autolog()
    import fakeml

    with pytest.raises(ValueError):
        fakeml.Estimator(fail=ValueError("x")).fit([1])
    with pytest.raises(KeyboardInterrupt):
        fakeml.Estimator(fail=KeyboardInterrupt()).fit([1])
    fakeml.Estimator().fit([1])
    assert autotrack.active_run() is None
    assert sorted(r.info.status for r in _runs()) == ["FAILED", "FINISHED", "KILLED"]


@pytest.mark.usefixtures("lenient")
def test_silent_suppresses_autotrack_warnings(fake_integration, caplog):
    fake_integration.FAIL_AFTER = True
    autotrack.autolog(silent=True)
    import fakeml

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert fakeml.Estimator().fit([1]).fitted
    assert not [r for r in caplog.records if r.name.startswith("autotrack") and r.levelno >= 30]
