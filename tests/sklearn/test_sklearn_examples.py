"""The scikit-learn autologging examples record what they print (checked in the store they wrote)."""

from __future__ import annotations

import os
import pathlib
import subprocess
import sys

import pytest

import autotrack

EXAMPLES = pathlib.Path(__file__).resolve().parents[2] / "examples"


def run_example(name: str, cwd: pathlib.Path) -> autotrack.TrackingClient:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AUTOTRACK_")}
    env["MPLBACKEND"] = "Agg"
    proc = subprocess.run([sys.executable, str(EXAMPLES / f"{name}.py")], cwd=cwd, env=env, capture_output=True,
                          text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-4000:]
    return autotrack.TrackingClient(f"sqlite:///{cwd}/autotrack-runs/tracking.db")


def runs_of(client: autotrack.TrackingClient, experiment: str) -> list:
    return client.search_runs([client.get_experiment_by_name(experiment).experiment_id])


def test_tuning_loop_three_runs_without_logging_code(tmp_path):
    source = (EXAMPLES / "sklearn_autolog_tuning.py").read_text()
    loop = source[source.index("for max_depth"):source.index("# ---- read back")]
    assert "log_" not in loop and "start_run" not in loop
    runs = runs_of(run_example("sklearn_autolog_tuning", tmp_path), "sklearn-autolog-tuning")
    assert sorted(int(r.data.params["max_depth"]) for r in runs) == [5, 10, 15]
    assert all(r.info.status == "FINISHED" and "training_roc_auc" in r.data.metrics for r in runs)


def test_incremental_example_one_run_plus_a_run_per_chunk(tmp_path):
    client = run_example("sklearn_autolog_incremental", tmp_path)
    runs = runs_of(client, "sklearn-autolog-incremental")
    assert len(runs) == 6
    assert {r.info.status for r in runs} == {"FINISHED"}  # the incremental run ended at process exit
    (online,) = [r for r in runs if "accuracy" not in r.data.metrics]
    steps = [m.step for m in client.get_metric_history(online.info.run_id, "training_accuracy_score")]
    assert steps == [0, 1, 2, 3, 4]


@pytest.mark.parametrize("name,experiment,count", [
    ("sklearn_autolog_datasets", "sklearn-autolog-datasets", 2),
    ("sklearn_autolog_feature_engineering", "sklearn-autolog-feature-engineering", 2),
])
def test_comparison_examples(tmp_path, name, experiment, count):
    runs = runs_of(run_example(name, tmp_path), experiment)
    assert len(runs) == count
    assert len({r.data.tags["mlflow.datasets"] for r in runs}) == count or name.endswith("engineering")
