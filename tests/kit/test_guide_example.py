"""The worked example of docs/writing-an-integration.md runs as written: its library and its
integration are read from the page, installed with an entry point, and the run is read back."""

from __future__ import annotations

import importlib
import json
import re
import sys
from pathlib import Path

import pytest

import autotrack
from autotrack.core import registry

GUIDE = Path(__file__).resolve().parents[2] / "docs" / "writing-an-integration.md"


def _blocks() -> dict[str, str]:
    text = GUIDE.read_text()
    return {name: body for name, body in re.findall(r"```python (\S+)\n(.*?)```", text, re.S)}


def test_the_example_integration_is_about_sixty_lines():
    lines = _blocks()["tinyfit_autotrack.py"].strip().splitlines()
    assert 40 <= len(lines) <= 65


@pytest.fixture
def tinyfit_site(tmp_path, monkeypatch):
    blocks = _blocks()
    site = tmp_path / "site"
    site.mkdir()
    (site / "tinyfit.py").write_text(blocks["tinyfit.py"])
    (site / "tinyfit_autotrack.py").write_text(blocks["tinyfit_autotrack.py"])
    meta = site / "tinyfit-1.4.0.dist-info"
    meta.mkdir()
    (meta / "METADATA").write_text("Metadata-Version: 2.1\nName: tinyfit\nVersion: 1.4.0\n")
    ep = site / "tinyfit_autotrack-0.1.dist-info"
    ep.mkdir()
    (ep / "METADATA").write_text("Metadata-Version: 2.1\nName: tinyfit-autotrack\nVersion: 0.1\n")
    (ep / "entry_points.txt").write_text("[autotrack.integrations]\ntinyfit = tinyfit_autotrack:TinyfitIntegration\n")
    monkeypatch.syspath_prepend(str(site))
    importlib.invalidate_caches()
    registry.reset()
    yield site
    autotrack.autolog(disable=True)
    for name in ("tinyfit", "tinyfit_autotrack"):
        sys.modules.pop(name, None)
    registry.reset()


def test_the_worked_example_logs_what_the_guide_says(tinyfit_site, tmp_path):
    from autotrack.core import make_library_autolog
    from autotrack.tracking.client import TrackingClient

    tinyfit_autolog = make_library_autolog("tinyfit")
    with pytest.raises(ValueError, match=r"autotrack.tinyfit.autolog\(\): option log_every_n_epochs=0 must be"):
        tinyfit_autolog(log_every_n_epochs=0)
    tinyfit_autolog(log_every_n_epochs=2)
    import tinyfit

    X_train = [[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]]
    users = []
    model = tinyfit.Model(lr=0.5).fit(X_train, [1, 2, 3], epochs=4, callbacks=users)
    assert model.weight == 2.0 and users == []
    run = autotrack.last_active_run()
    assert run.info.status == "FINISHED"
    assert run.data.params == {"lr": "0.5", "layers": "(8, 4)", "epochs": "4"}
    assert run.data.tags["autotrack.autologging"] == "tinyfit"
    assert json.loads(run.data.tags["mlflow.datasets"])[0]["name"] == "X_train"
    client = TrackingClient()
    history = client.get_metric_history(run.info.run_id, "loss")
    assert [(m.step, m.value) for m in history] == [(0, 1.0), (2, 1.0 / 3)]
    loaded = autotrack.models.load_model(f"runs:/{run.info.run_id}/model")
    assert loaded.metadata.flavors  # the model folder loads back
    assert {f.path for f in client.list_artifacts(run.info.run_id)} >= {"model", "datasets"}
