"""The engine features the integration kit brings: ``patch(..., nested="join")``, ``supports`` as a
mapping of distributions, ``Integration.validate_settings``, injected callbacks that cannot raise
into training, and integrations that are announced but absent (never silently accepted).

All on the fake library of ``tests/core/conftest.py``, with integrations written for each test."""

from __future__ import annotations

import importlib
import sys
import warnings

import pytest

import autotrack
from autotrack.core import AutotrackWarning, registry

def _core_helpers():
    # tests/core/conftest.py by path: "conftest" in sys.modules is whichever suite's was loaded last.
    import importlib.util
    from pathlib import Path

    spec = importlib.util.spec_from_file_location("_core_conftest_helpers", Path(__file__).with_name("conftest.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


_helpers = _core_helpers()
_purge_fake_modules, run_python, write_fake_site = _helpers._purge_fake_modules, _helpers.run_python, _helpers.write_fake_site

# An integration of the fake library built on the kit: Pipeline.fit opens the run; Estimator.fit
# joins it when nested (nested="join"), injects a callback and logs metrics through the kit.
JOINING = '''
from autotrack.core import Integration
from autotrack.integrations.kit import callbacks, metrics, params

EVENTS = []
FAIL_CALLBACK = False


class JoiningIntegration(Integration):
    name = "fakeml"
    distribution = "fakeml"
    supports = SUPPORTS
    triggers = ("fakeml",)
    settings = {"every": 1, "verbose": False}

    @classmethod
    def validate_settings(cls, settings):
        if "every" in settings and (not isinstance(settings["every"], int) or settings["every"] < 1):
            raise ValueError(f"option every={settings['every']!r} must be an integer >= 1")
        return super().validate_settings(settings)

    def apply(self, patcher, module):
        patcher.patch(module.Pipeline, "fit", self.on_pipeline)
        patcher.patch(module.Estimator, "fit", self.on_fit, nested="join")

    def on_pipeline(self, call):
        call.session.state["steps"] = 0
        params.log_params(call.run_id, {"pipeline": {"steps": len(call.instance.steps)}}, integration=self.name)
        yield
        metrics.log_metrics(call.run_id, {"steps_fitted": call.session.state["steps"]}, integration=self.name)

    def on_fit(self, call):
        EVENTS.append(("fit", call.joined, call.run_id))
        if call.joined:
            call.session.state["steps"] += 1

        def on_step(model, step):
            EVENTS.append(("callback", step))
            if FAIL_CALLBACK:
                raise ValueError("autotrack callback is broken")

        callbacks.add_callback(call, on_step)
        yield
        metrics.log_metrics(call.run_id, {"fit_done": 1.0, "joined": float(call.joined)}, integration=self.name)
'''


def _site(tmp_path, monkeypatch, supports='">=1.0,<2"', extra_dists=()):
    source = JOINING.replace("SUPPORTS", supports)
    site = write_fake_site(tmp_path, integration=source)
    (site / "fakeml_autotrack-0.1.dist-info" / "entry_points.txt").write_text(
        "[autotrack.integrations]\nfakeml = fakeml_autotrack:JoiningIntegration\n")
    for name, version in extra_dists:
        meta = site / f"{name.replace('-', '_')}-{version}.dist-info"
        meta.mkdir()
        (meta / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n")
    monkeypatch.syspath_prepend(str(site))
    importlib.invalidate_caches()
    _purge_fake_modules()
    registry.reset()
    return site


@pytest.fixture
def joining(tmp_path, monkeypatch):
    _site(tmp_path, monkeypatch)
    import fakeml_autotrack

    yield fakeml_autotrack
    autotrack.autolog(disable=True)
    _purge_fake_modules()
    registry.reset()


def _runs():
    return autotrack.search_runs(search_all_experiments=True, output_format="list")


def test_nested_join_runs_the_inner_hook_in_the_outer_run(joining):
    autotrack.autolog()
    import fakeml

    fakeml.Pipeline([fakeml.Estimator(), fakeml.Estimator()]).fit([1, 2])
    runs = _runs()
    assert len(runs) == 1  # the joined calls created no run of their own
    run = runs[0]
    assert run.info.status == "FINISHED"
    assert run.data.params == {"pipeline.steps": "2"}
    assert run.data.metrics == {"steps_fitted": 2.0, "fit_done": 1.0, "joined": 1.0}
    fits = [e for e in joining.EVENTS if e[0] == "fit"]
    assert fits == [("fit", True, run.info.run_id), ("fit", True, run.info.run_id)]


def test_a_joining_patch_called_alone_is_an_outermost_call(joining):
    autotrack.autolog()
    import fakeml

    fakeml.Estimator().fit([1])
    (run,) = _runs()
    assert run.data.metrics == {"fit_done": 1.0, "joined": 0.0}
    assert joining.EVENTS[0] == ("fit", False, run.info.run_id)


def test_nested_mode_is_validated(fake_site):
    from autotrack.core import patching

    state = patching.IntegrationState("x", autotrack.core.AutologConfig({}))
    with pytest.raises(ValueError, match=r"patch\(nested='inside'\): accepted values: 'pass', 'join'"):
        patching.patch(state, object(), "x", lambda call: (yield), nested="inside")


def test_injected_callback_that_raises_does_not_stop_training(joining):
    joining.FAIL_CALLBACK = True
    autotrack.autolog()
    import fakeml

    user_callbacks = []

    def users(model, step):
        user_callbacks.append(step)

    mine = [users]
    with pytest.warns(AutotrackWarning, match="autotrack callback is broken"):
        model = fakeml.Estimator().fit([1], callbacks=mine)
    assert model.fitted  # training went on past the broken callback
    assert user_callbacks == [1]  # the user's callback ran
    assert mine == [users]  # the user's list object was not mutated
    (run,) = _runs()
    assert run.info.status == "FINISHED" and run.data.metrics["fit_done"] == 1.0


def test_callback_is_added_to_a_positional_tuple_without_mutating_it(joining):
    autotrack.autolog()
    import fakeml

    def users(model, step):
        pass

    mine = (users,)
    fakeml.Estimator().fit([1], None, mine)
    assert mine == (users,)
    assert ("callback", 1) in joining.EVENTS


def test_supports_mapping_checks_each_installed_distribution(tmp_path, monkeypatch):
    _site(tmp_path, monkeypatch, supports='{"fakeml": ">=1.0,<2", "fakeml-extra": ">=5", "not-installed": ">=9"}',
          extra_dists=[("fakeml-extra", "4.1")])
    try:
        autotrack.autolog()
        with pytest.warns(AutotrackWarning, match=r"supports fakeml-extra>=5, but fakeml-extra 4.1 is installed") as seen:
            import fakeml
        assert not any("not-installed" in str(w.message) for w in seen)  # absent: not checked
        fakeml.Estimator().fit([1])
        assert len(_runs()) == 1  # outside the range: warned, still patched
        autotrack.autolog(disable_for_unsupported_versions=True)
        fakeml.Estimator().fit([1])
        assert len(_runs()) == 1  # skipped now
    finally:
        autotrack.autolog(disable=True)
        _purge_fake_modules()
        registry.reset()


def test_supports_mapping_within_range_is_silent(tmp_path, monkeypatch):
    _site(tmp_path, monkeypatch, supports='{"fakeml": ">=1.0,<2", "fakeml-extra": ">=5"}',
          extra_dists=[("fakeml-extra", "5.2")])
    try:
        autotrack.autolog()
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            import fakeml
        fakeml.Estimator().fit([1])
        assert len(_runs()) == 1
    finally:
        autotrack.autolog(disable=True)
        _purge_fake_modules()
        registry.reset()


def test_malformed_supports_is_refused_naming_the_entry():
    from autotrack.core import Integration

    class Bad(Integration):
        name = "bad"
        triggers = ("bad",)
        supports = {"keras": 3}

    with pytest.raises(TypeError, match=r"'supports' entry 'keras': 3 must map a distribution name"):
        Bad.check_definition()

    class BadSpec(Integration):
        name = "bad"
        triggers = ("bad",)
        supports = {"keras": "at least 3"}

    with pytest.raises(TypeError, match="not a PEP 440 specifier"):
        BadSpec.check_definition()


def test_validate_settings_is_called_by_autolog(joining):
    from autotrack.core import make_library_autolog

    fake_autolog = make_library_autolog("fakeml")
    with pytest.raises(ValueError, match=r"autotrack.fakeml.autolog\(\): option every=0 must be an integer >= 1"):
        fake_autolog(every=0)
    # the default validation (True/False for a bool default) still applies to the other settings
    with pytest.raises(TypeError, match=r"autotrack.fakeml.autolog\(\): option verbose='yes' must be True or False"):
        fake_autolog(verbose="yes")
    fake_autolog(every=2)
    assert autotrack.core.armed()["fakeml"]["every"] == 2


# ------------------------------------------------------------- announced but absent integrations
@pytest.fixture
def announced(monkeypatch):
    """A built-in name whose module is not in this build (as keras was before its issue landed)."""
    monkeypatch.setitem(registry.BUILTINS, "absentml", "autotrack.integrations.absentml.autolog:AbsentIntegration")
    monkeypatch.setitem(registry.LIBRARY_MODULES, "absentml", ("json.tool",))
    registry.reset()
    yield "absentml"
    autotrack.autolog(disable=True)
    registry.reset()


def test_an_announced_absent_integration_is_refused_by_name(announced):
    from autotrack.core.environment import parse_autolog_value

    assert not registry.is_available("absentml") and "absentml" in registry.unavailable_builtins()
    with pytest.raises(ValueError, match=r"AUTOTRACK_AUTOLOG: integration 'absentml' is not available in this "
                                         r"version of autotrack .*available integrations: .*sklearn"):
        parse_autolog_value("sklearn, absentml")
    # naming it to leave it off stays fine
    assert registry.validate_names("exclude", "absentml") == ["absentml"]


def test_autolog_warns_once_when_the_library_of_an_absent_integration_is_imported(announced, monkeypatch):
    monkeypatch.delitem(sys.modules, "json.tool", raising=False)
    engine = sys.modules["autotrack.core.autolog"]
    monkeypatch.setattr(engine, "_absent_warned", set())
    autotrack.autolog()
    with pytest.warns(AutotrackWarning, match=r"json.tool was imported with autologging on, but the 'absentml' "
                                              r"integration is not available"):
        importlib.import_module("json.tool")
    del sys.modules["json.tool"]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        importlib.import_module("json.tool")  # once per process


def test_a_builtin_becomes_available_when_its_module_lands(announced, tmp_path, monkeypatch):
    package = tmp_path / "landing" / "autotrack_absent_landing"
    package.mkdir(parents=True)
    (package / "__init__.py").write_text("")
    (package / "autolog.py").write_text(
        "from autotrack.core import Integration\n"
        "class AbsentIntegration(Integration):\n"
        "    name = 'absentml'\n    triggers = ('json.tool',)\n"
        "    def apply(self, patcher, module):\n        pass\n")
    monkeypatch.syspath_prepend(str(tmp_path / "landing"))
    importlib.invalidate_caches()
    monkeypatch.setitem(registry.BUILTINS, "absentml", "autotrack_absent_landing.autolog:AbsentIntegration")
    registry.reset()
    from autotrack.core.environment import parse_autolog_value

    assert registry.is_available("absentml")
    assert parse_autolog_value("absentml") == ["absentml"]


def test_cli_run_and_attribute_say_an_absent_integration_is_not_available(tmp_path):
    # Checked in a fresh interpreter against the real registry: whichever built-ins this build lacks.
    result = run_python("""
        import autotrack
        from autotrack.core import registry
        from click.testing import CliRunner
        from autotrack.core.cli_run import run_command
        absent = registry.unavailable_builtins()
        print("ABSENT", absent)
        for name in absent:
            out = CliRunner().invoke(run_command, ["-i", name, "--", "true"])
            assert out.exit_code == 2 and "is not available in this version" in out.output, out.output
            if name in ("keras", "pytorch"):
                try:
                    getattr(autotrack, name)
                except AttributeError as exc:
                    assert "is not available in this version" in str(exc), exc
                else:
                    raise AssertionError(name)
        print("OK")
    """)
    assert result.returncode == 0, result.stderr
    assert "OK" in result.stdout
