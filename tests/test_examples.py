"""Every script in examples/ runs as a smoke test, on the embedded default store in a fresh folder."""

from __future__ import annotations

import os
import pathlib
import subprocess
import sys

import pytest

import autotrack

EXAMPLES = sorted((pathlib.Path(__file__).parent.parent / "examples").glob("*.py"))


def run_example(path: pathlib.Path, cwd: pathlib.Path) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AUTOTRACK_")}
    env["MPLBACKEND"] = "Agg"
    return subprocess.run([sys.executable, str(path)], cwd=cwd, env=env, capture_output=True, text=True, timeout=300)


@pytest.mark.parametrize("path", EXAMPLES, ids=[p.stem for p in EXAMPLES])
def test_example_runs(path, tmp_path):
    proc = run_example(path, tmp_path)
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-4000:]
    assert proc.stdout.strip(), "an example prints what it did"


def _default_store(cwd: pathlib.Path) -> autotrack.TrackingClient:
    assert (cwd / "autotrack-runs" / "tracking.db").exists()
    return autotrack.TrackingClient(f"sqlite:///{cwd}/autotrack-runs/tracking.db")


def test_quickstart_records_three_runs_and_names_the_best(tmp_path):
    proc = run_example(EXAMPLES[[p.stem for p in EXAMPLES].index("quickstart")], tmp_path)
    assert proc.returncode == 0, proc.stderr
    client = _default_store(tmp_path)
    exp = client.get_experiment_by_name("quickstart")
    runs = client.search_runs([exp.experiment_id], order_by=["metrics.accuracy DESC"])
    assert sorted(r.data.params["max_depth"] for r in runs) == ["10", "15", "5"]
    assert all(r.info.status == "FINISHED" and 0.8 < r.data.metrics["accuracy"] <= 1.0 for r in runs)
    assert f"best run: {runs[0].info.run_id}" in proc.stdout


def test_feature_engineering_logs_the_transform(tmp_path):
    proc = run_example(EXAMPLES[[p.stem for p in EXAMPLES].index("feature_engineering")], tmp_path)
    assert proc.returncode == 0, proc.stderr
    client = _default_store(tmp_path)
    runs = client.search_runs([client.get_experiment_by_name("feature-engineering").experiment_id])
    assert sorted(r.data.params["feature_engineering"] for r in runs) == ["bmi * bp", "none"]
    assert {r.data.params["feature_engineering"]: r.data.params["n_features"] for r in runs} == {"bmi * bp": "11", "none": "10"}
