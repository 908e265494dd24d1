"""Sessions (the outermost call logs), run creation/ending, tags, and the common options."""

from __future__ import annotations

import threading
import warnings

import pytest

import autotrack
from autotrack.core import AutotrackWarning, armed, registry
from autotrack.core.session import RUN_TAG


def _runs():
    autotrack.flush()
    return autotrack.search_runs(experiment_ids=["0"], output_format="list")


def _befores(events):
    return [e[1].rsplit(".", 2)[-2] + "." + e[1].rsplit(".", 1)[-1] for e in events if e[0] == "before"]


def test_only_the_outermost_call_logs(fake_integration):
    autotrack.autolog()
    import fakeml

    fakeml.Pipeline([fakeml.Estimator(), fakeml.SubEstimator()]).fit([1])
    fakeml.SubEstimator().fit([2])  # super().fit inside
    fakeml.train({}, [3])  # a function that calls fit
    assert _befores(fake_integration.EVENTS) == ["Pipeline.fit", "SubEstimator.fit", "fakeml.train"]
    runs = _runs()
    assert len(runs) == 3
    assert sorted(r.data.params["target"] for r in runs) == ["Pipeline.fit", "SubEstimator.fit", "fakeml.train"]


def test_created_run_carries_tags_and_finishes(fake_integration):
    autotrack.autolog(extra_tags={"team": "vision", "n": 3})
    import fakeml

    fakeml.Estimator().fit([1])
    (run,) = _runs()
    assert run.info.status == "FINISHED"
    assert run.data.tags[RUN_TAG] == "fakeml"
    assert run.data.tags["team"] == "vision" and run.data.tags["n"] == "3"
    assert run.data.metrics["fitted"] == 1.0
    assert autotrack.active_run() is None


def test_logs_into_the_users_run_and_leaves_it_open(fake_integration):
    autotrack.autolog()
    import fakeml

    with autotrack.start_run() as run:
        fakeml.Estimator().fit([1])
        fakeml.Estimator().fit([2])
        assert autotrack.active_run().info.run_id == run.info.run_id
        assert autotrack.active_run().info.status == "RUNNING"
    (stored,) = _runs()
    assert stored.info.run_id == run.info.run_id
    assert stored.data.params["target"] == "Estimator.fit"
    assert RUN_TAG not in stored.data.tags  # autotrack did not create it


def test_exclusive_does_not_log_into_the_users_run(fake_integration):
    autotrack.autolog(exclusive=True)
    import fakeml

    with autotrack.start_run():
        fakeml.Estimator().fit([1])
    (stored,) = _runs()
    assert stored.data.params == {} and fake_integration.EVENTS == []
    fakeml.Estimator().fit([2])  # no active run: exclusive still creates its own
    assert len(_runs()) == 2


def test_hooks_without_runs_see_the_active_run(fake_integration):
    autotrack.autolog()
    import fakeml

    fakeml.Estimator().predict([1])
    assert fake_integration.EVENTS == [("plain", "predict", None)]
    assert _runs() == []
    with autotrack.start_run() as run:
        fakeml.Estimator().predict([1])
    assert fake_integration.EVENTS[-1] == ("plain", "predict", run.info.run_id)


def test_threads_fanned_out_by_a_session_create_no_runs(fake_integration):
    autotrack.autolog()
    import fakeml

    class Parallel(fakeml.Estimator):
        def fit(self, X, y=None, callbacks=None):
            workers = [threading.Thread(target=fakeml.Estimator().fit, args=([i],)) for i in range(3)]
            for w in workers:
                w.start()
            for w in workers:
                w.join()
            return self

    from autotrack.core import make_library_autolog  # noqa: F401 - patch the subclass like an integration would
    from autotrack.core import patching, state

    patching.patch(state("fakeml"), Parallel, "fit", fake_integration.FakeIntegration().on_fit)
    Parallel().fit([0])
    assert len(_runs()) == 1


# ------------------------------------------------------------------ options and precedence
def test_unknown_options_and_names_are_rejected_clearly(fake_site):
    with pytest.raises(TypeError, match=r"unknown option 'log_modles'.*accepted options: .*log_models"):
        autotrack.autolog(log_modles=False)
    with pytest.raises(TypeError, match=r"silent='yes' must be True or False"):
        autotrack.autolog(silent="yes")
    with pytest.raises(ValueError, match=r"exclude: unknown integration 'sklern'; accepted: .*sklearn"):
        autotrack.autolog(exclude=["sklern"])
    with pytest.raises(TypeError, match="extra_tags"):
        autotrack.autolog(extra_tags=["a"])


def test_library_options_override_global_whichever_comes_first(fake_site):
    from autotrack.core import make_library_autolog

    fake_autolog = make_library_autolog("fakeml")
    fake_autolog(log_models=False, log_every=5)
    autotrack.autolog(silent=True, log_models=True)
    config = armed()["fakeml"]
    assert config.log_models is False and config.silent is True and config.log_every == 5

    autotrack.autolog(log_datasets=False)
    fake_autolog(log_models=True)
    config = armed()["fakeml"]
    assert config.log_models is True and config.log_datasets is False and config.log_every == 1
    with pytest.raises(TypeError, match="unknown option 'log_evry'"):
        fake_autolog(log_evry=2)


def test_library_disable_wins_and_global_disable_turns_all_off(fake_integration):
    from autotrack.core import make_library_autolog

    make_library_autolog("fakeml")(disable=True)
    autotrack.autolog()
    assert "fakeml" not in armed()
    make_library_autolog("fakeml")()
    assert "fakeml" in armed()
    autotrack.autolog(disable=True)
    assert armed() == {}


def test_exclude(fake_integration):
    autotrack.autolog(exclude=["fakeml"])
    import fakeml

    assert "fakeml" not in armed()
    fakeml.Estimator().fit([1])
    assert _runs() == []


def test_environment_disabled_list_and_argument_precedence(fake_site, monkeypatch):
    from autotrack.core import make_library_autolog

    monkeypatch.setenv("AUTOTRACK_DISABLED_INTEGRATIONS", "fakeml")
    autotrack.autolog()
    assert "fakeml" not in armed()  # environment beats defaults
    make_library_autolog("fakeml")()
    assert "fakeml" in armed()  # an explicit argument beats the environment
    monkeypatch.setenv("AUTOTRACK_DISABLED_INTEGRATIONS", "*")
    autotrack.autolog(disable=True)
    autotrack.autolog()
    assert armed() == {}
    monkeypatch.setenv("AUTOTRACK_DISABLED_INTEGRATIONS", "nope")
    with pytest.raises(ValueError, match="AUTOTRACK_DISABLED_INTEGRATIONS: unknown integration 'nope'"):
        autotrack.autolog()


def test_autolog_value_parsing(fake_site):
    from autotrack.core.environment import ALL, parse_autolog_value

    assert parse_autolog_value("1") == parse_autolog_value("TRUE") == parse_autolog_value("all") == [ALL]
    assert parse_autolog_value("0") == parse_autolog_value("") == []
    assert parse_autolog_value("fakeml, scikit-learn") == ["fakeml", "sklearn"]
    # (a name announced but not built is refused: tests/core/test_kit_core_features.py)
    with pytest.raises(ValueError, match=r"AUTOTRACK_AUTOLOG: unknown integration 'skl'; accepted:"):
        parse_autolog_value("skl")


def _write_version(site, version):
    (site / "fakeml-1.2.0.dist-info" / "METADATA").write_text(
        f"Metadata-Version: 2.1\nName: fakeml\nVersion: {version}\n")


def test_unsupported_version_warns_once(fake_integration, fake_site):
    _write_version(fake_site, "3.0.0")
    autotrack.autolog()
    with pytest.warns(AutotrackWarning, match=r"supports fakeml>=1.0,<2, but fakeml 3.0.0 is installed"):
        import fakeml
    fakeml.Estimator().fit([1])
    assert len(_runs()) == 1  # still patched


def test_disable_for_unsupported_versions_skips(fake_integration, fake_site):
    _write_version(fake_site, "0.9")
    autotrack.autolog(disable_for_unsupported_versions=True)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        import fakeml
    fakeml.Estimator().fit([1])
    assert _runs() == [] and fake_integration.EVENTS == []


def test_supported_version_is_patched_without_warning(fake_integration):
    autotrack.autolog(disable_for_unsupported_versions=True)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        import fakeml
    fakeml.Estimator().fit([1])
    assert len(_runs()) == 1


def test_broken_apply_never_breaks_import_and_leaves_nothing_half_patched(fake_integration):
    fake_integration.FAIL_APPLY = True
    autotrack.autolog()
    with pytest.warns(AutotrackWarning, match="apply is broken"):
        import fakeml
    assert fakeml.Estimator().fit([1]).fitted
    assert _runs() == []
    from autotrack.core import patching

    # (other built-ins, e.g. sklearn when an earlier test module imported it, are patched as usual)
    assert [h for h in patching.live_handles() if h.integration == "fakeml"] == []


def test_registry_knows_builtins_and_entry_points(fake_site):
    assert {"sklearn", "xgboost", "keras", "pytorch", "fakeml"} <= set(registry.known_names())
    assert registry.canonical("TensorFlow") == "keras"
    assert registry.load("fakeml").name == "fakeml"
