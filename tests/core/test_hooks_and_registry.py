"""The import watcher and the entry-point scan."""

from __future__ import annotations

import importlib
import importlib.metadata
import sys

import pytest

from autotrack.core import hooks, registry


def test_watcher_runs_subscribers_after_import_and_never_raises(fake_site):
    seen, errors = [], []
    key = object()

    def broken(module):
        raise RuntimeError("hook bug")

    hooks.subscribe(key, "fakeml.extra", lambda m: seen.append(m.VALUE), lambda n, e: errors.append((n, str(e))))
    hooks.subscribe(key, "fakeml.extra", broken, lambda n, e: errors.append((n, str(e))))
    try:
        import fakeml.extra  # the module body ran before our subscriber saw it

        assert seen == [1]
        assert errors == [("fakeml.extra", "hook bug")]
        # the real loader is put back on the module
        assert type(fakeml.extra.__loader__).__name__ != "_NotifyingLoader"
        assert type(fakeml.extra.__spec__.loader).__name__ != "_NotifyingLoader"
        # imported again after being dropped: the subscribers run for the new module object
        del sys.modules["fakeml.extra"]
        importlib.import_module("fakeml.extra")
        assert seen == [1, 1]
        # already imported: a new subscriber runs at once
        hooks.subscribe(key, "fakeml.extra", lambda m: seen.append("now"), lambda n, e: None)
        assert seen[-1] == "now"
    finally:
        hooks.unsubscribe(key)
    assert "fakeml.extra" not in hooks.watched()


def test_watcher_ignores_modules_that_do_not_exist():
    key = object()
    hooks.subscribe(key, "no_such_module_for_autotrack", lambda m: None, lambda n, e: None)
    try:
        with pytest.raises(ModuleNotFoundError):
            importlib.import_module("no_such_module_for_autotrack")
    finally:
        hooks.unsubscribe(key)


def test_entry_point_scan_agrees_with_importlib_metadata(fake_site):
    ours = sorted(registry.scan_entry_points(registry.ENTRY_POINT_GROUP))
    theirs = sorted((ep.name, ep.value) for ep in importlib.metadata.entry_points(group=registry.ENTRY_POINT_GROUP))
    assert ("fakeml", "fakeml_autotrack:FakeIntegration") in ours
    assert ours == theirs
    scripts = sorted(registry.scan_entry_points("console_scripts"))
    assert scripts == sorted((ep.name, ep.value) for ep in importlib.metadata.entry_points(group="console_scripts"))


def test_missing_builtin_module_is_skipped_quietly():
    for name in registry.BUILTINS:
        if name not in registry.available():
            assert registry.load(name) is None


def test_third_party_cannot_take_a_builtin_name(tmp_path, monkeypatch):
    dist = tmp_path / "evil-1.0.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: evil\nVersion: 1.0\n")
    (dist / "entry_points.txt").write_text("[autotrack.integrations]\nsklearn = evil:Integration\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    registry.reset()
    try:
        assert registry.BUILTINS["sklearn"] != "evil:Integration"
        assert "sklearn" not in registry._third_party()
    finally:
        registry.reset()


def test_make_library_autolog_for_a_missing_builtin_raises_clearly():
    from autotrack.core import make_library_autolog

    missing = [name for name in registry.BUILTINS if name not in registry.available()]
    if not missing:
        pytest.skip("every built-in integration is present")
    with pytest.raises(RuntimeError, match=f"the {missing[0]!r} integration is not available"):
        make_library_autolog(missing[0])()
    with pytest.raises(ValueError, match="unknown integration 'nope'"):
        make_library_autolog("nope")
