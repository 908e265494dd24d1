"""Fixtures for the patching engine: a fake target library written to a temporary folder, with an
integration registered through the ``autotrack.integrations`` entry point, and a check after every
test that ``autolog(disable=True)`` leaves no autotrack wrapper anywhere."""

from __future__ import annotations

import importlib
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

# The fake target library. It imports nothing but the stdlib and records every call it receives.
FAKEML = '''
CALLS = []
__version__ = "1.2.0"


class Estimator:
    def __init__(self, fail=None):
        self.fail = fail
        self.fitted = False

    def fit(self, X, y=None, callbacks=None):
        CALLS.append(("fit", type(self).__name__, X))
        if self.fail is not None:
            raise self.fail
        for callback in callbacks or ():
            callback(self, 1)
        self.fitted = True
        return self

    def predict(self, X):
        CALLS.append(("predict", X))
        return [0 for _ in X]

    @classmethod
    def create(cls, **kwargs):
        CALLS.append(("create", cls.__name__))
        return cls(**kwargs)

    @staticmethod
    def describe(x):
        CALLS.append(("describe", x))
        return "described-" + str(x)

    @property
    def transform(self):
        # A method served through a property, as some libraries do.
        return self._transform

    def _transform(self, X):
        CALLS.append(("transform", X))
        return X


class SubEstimator(Estimator):
    def fit(self, X, y=None, callbacks=None):
        CALLS.append(("subfit", X))
        return super().fit(X, y, callbacks)


class Pipeline:
    def __init__(self, steps):
        self.steps = steps

    def fit(self, X, y=None):
        CALLS.append(("pipeline", X))
        for step in self.steps:
            step.fit(X)
        return self


def train(params, data):
    CALLS.append(("train", data))
    return Estimator().fit(data)
'''

# The integration, in its own distribution, found through the entry point group. It must not import
# fakeml at module level. Module globals let tests break it on purpose.
FAKEML_AUTOTRACK = '''
import autotrack
from autotrack.core import Integration

FAIL_BEFORE = False
FAIL_AFTER = False
FAIL_APPLY = False
FAIL_CALLBACK = False
MUTATE_ARGS = False
EVENTS = []


class FakeIntegration(Integration):
    name = "fakeml"
    distribution = "fakeml"
    supports = ">=1.0,<2"
    triggers = ("fakeml",)
    settings = {"log_every": 1}

    def apply(self, patcher, module):
        if FAIL_APPLY:
            patcher.patch(module.Estimator, "fit", self.on_fit)
            raise RuntimeError("apply is broken")
        patcher.patch(module.Estimator, "fit", self.on_fit)
        patcher.patch(module.SubEstimator, "fit", self.on_fit)
        patcher.patch(module.Pipeline, "fit", self.on_fit)
        patcher.patch(module, "train", self.on_fit)
        patcher.patch(module.Estimator, "create", self.on_plain, creates_run=False)
        patcher.patch(module.Estimator, "describe", self.on_plain, creates_run=False)
        patcher.patch(module.Estimator, "transform", self.on_plain, creates_run=False)
        patcher.patch(module.Estimator, "predict", self.on_plain, creates_run=False)
        self.callback = patcher.guard(self._callback, default="guarded")

    def _callback(self, model, step):
        EVENTS.append(("callback", step))
        if FAIL_CALLBACK:
            raise ValueError("callback is broken")

    def on_fit(self, call):
        EVENTS.append(("before", call.target, call.run_id))
        if FAIL_BEFORE:
            raise FAIL_BEFORE if isinstance(FAIL_BEFORE, BaseException) else RuntimeError("autotrack bug before the call")
        autotrack.log_params({"target": call.target.rsplit(".", 2)[-2] + "." + call.target.rsplit(".", 1)[-1]})
        if MUTATE_ARGS and call.args:
            # A bug: replacing the user's argument without declaring it through set_arg().
            call.args = (list(call.args[0]) + ["sneaky"],) + call.args[1:]
        elif "callbacks" in call.kwargs or call.target.endswith("Estimator.fit"):
            call.set_kwarg("callbacks", list(call.kwargs.get("callbacks") or ()) + [self.callback])
        result = yield
        EVENTS.append(("after", call.target, call.run_id))
        if FAIL_AFTER:
            raise FAIL_AFTER if isinstance(FAIL_AFTER, BaseException) else RuntimeError("autotrack bug after the call")
        autotrack.log_metrics({"fitted": 1.0})

    def on_plain(self, call):
        EVENTS.append(("plain", call.target.rsplit(".", 1)[-1], call.run_id))
        result = yield
'''


def write_fake_site(root: Path, version: str = "1.2.0", integration: str = FAKEML_AUTOTRACK) -> Path:
    """Write fakeml, its dist-info (for the version check) and fakeml_autotrack with its entry point."""
    site = root / "fake_site"
    (site / "fakeml").mkdir(parents=True, exist_ok=True)
    (site / "fakeml" / "__init__.py").write_text(textwrap.dedent(FAKEML))
    (site / "fakeml" / "extra.py").write_text("VALUE = 1\n")
    meta = site / f"fakeml-{version}.dist-info"
    meta.mkdir(exist_ok=True)
    (meta / "METADATA").write_text(f"Metadata-Version: 2.1\nName: fakeml\nVersion: {version}\n")
    (site / "fakeml_autotrack.py").write_text(textwrap.dedent(integration))
    ep = site / "fakeml_autotrack-0.1.dist-info"
    ep.mkdir(exist_ok=True)
    (ep / "METADATA").write_text("Metadata-Version: 2.1\nName: fakeml-autotrack\nVersion: 0.1\n")
    (ep / "entry_points.txt").write_text("[autotrack.integrations]\nfakeml = fakeml_autotrack:FakeIntegration\n")
    return site


def _purge_fake_modules() -> None:
    for name in list(sys.modules):
        if name.split(".")[0] in ("fakeml", "fakeml_autotrack"):
            del sys.modules[name]


@pytest.fixture
def fake_site(tmp_path, monkeypatch):
    """The fake library on sys.path (not yet imported) and the registry re-read."""
    from autotrack.core import registry

    site = write_fake_site(tmp_path)
    monkeypatch.syspath_prepend(str(site))
    importlib.invalidate_caches()
    _purge_fake_modules()
    registry.reset()
    yield site
    import autotrack

    autotrack.autolog(disable=True)
    _purge_fake_modules()
    registry.reset()


@pytest.fixture
def fake_integration(fake_site):
    """The fake integration's module (to flip its failure switches and read its events)."""
    import fakeml_autotrack

    return fakeml_autotrack


@pytest.fixture(autouse=True)
def no_autotrack_wrapper_left():
    """After every test: ``autolog(disable=True)`` must leave no autotrack wrapper and no live handle."""
    yield
    import autotrack
    from autotrack.core import patching

    autotrack.autolog(disable=True)
    assert patching.live_handles() == []
    assert patching.leftover_wrappers() == []
    # Belt and braces: scan every fake-library module still loaded, class by class.
    for name, module in list(sys.modules.items()):
        if name.split(".")[0] != "fakeml":
            continue
        for value in vars(module).values():
            holders = [value] + ([*vars(value).values()] if isinstance(value, type) else [])
            for item in holders:
                assert not patching.is_autotrack_wrapper(item), f"autotrack wrapper left in {name}: {item!r}"


def run_python(code: str, *, env: dict[str, str] | None = None, python: str = sys.executable,
               cwd: Path | None = None, timeout: float = 120) -> subprocess.CompletedProcess:
    """Run ``code`` in a fresh interpreter; ``env`` is added to a copy of this process's environment."""
    full_env = {k: v for k, v in os.environ.items() if k not in ("AUTOTRACK_AUTOLOG", "AUTOTRACK_DISABLED_INTEGRATIONS")}
    full_env.update(env or {})
    return subprocess.run([python, "-c", textwrap.dedent(code)], env=full_env, cwd=cwd, capture_output=True,
                          text=True, timeout=timeout)
