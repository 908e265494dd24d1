"""Runs as whole processes: exit statuses, AUTOTRACK_AUTOLOG=pytorch, and two-process DDP."""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

SCRIPTS = Path(__file__).parent / "scripts"
HAS_SHUTDOWN = importlib.util.find_spec("autotrack.tracking.shutdown") is not None


def run_script(tmp_path, *args, env_extra=None, timeout=180):
    env = {k: v for k, v in os.environ.items() if not k.startswith("AUTOTRACK_")}
    env.update({"AUTOTRACK_TRACKING_URI": f"sqlite:///{tmp_path}/runs.db",
                "AUTOTRACK_ARTIFACT_ROOT": str(tmp_path / "artifacts"), **(env_extra or {})})
    return subprocess.run([sys.executable, *args], cwd=tmp_path, env=env, capture_output=True, text=True,
                          timeout=timeout)


def only_run(tmp_path):
    from autotrack.tracking.client import TrackingClient

    client = TrackingClient(f"sqlite:///{tmp_path}/runs.db")
    runs = client.search_runs(["0"])
    assert len(runs) == 1, [r.info.run_id for r in runs]
    return client, runs[0]


@pytest.mark.parametrize("mode, status, returncode", [
    ("ok", "FINISHED", 0),
    pytest.param("raise", "FAILED", 1, marks=pytest.mark.skipif(
        not HAS_SHUTDOWN, reason="FAILED at exit comes with the shutdown sequence of issue 9")),
    pytest.param("sigterm", "KILLED", -15, marks=pytest.mark.xfail(
        reason="issue 14 open: on SIGTERM the losses still buffered by the PyTorch integration are not "
               "written (its flush hook runs after the shutdown sequence closed the pipeline)", strict=False)),
])
def test_the_run_a_plain_loop_started_ends_with_the_processes_fate(tmp_path, mode, status, returncode):
    proc = run_script(tmp_path, str(SCRIPTS / "plain_loop.py"), mode, str(tmp_path / "losses.json"))
    assert proc.returncode == returncode, proc.stderr[-3000:]
    client, run = only_run(tmp_path)
    assert run.info.status == status
    values = json.loads((tmp_path / "losses.json").read_text())
    history = client.get_metric_history(run.info.run_id, "loss")
    assert [(m.step, m.value) for m in history] == list(enumerate(values))


def test_autotrack_autolog_pytorch_in_the_environment_records_with_no_code_at_all(tmp_path):
    proc = run_script(tmp_path, str(SCRIPTS / "plain_loop.py"), "env", str(tmp_path / "losses.json"),
                      env_extra={"AUTOTRACK_AUTOLOG": "pytorch"})
    assert proc.returncode == 0, proc.stderr[-3000:]
    client, run = only_run(tmp_path)
    assert run.data.tags["autotrack.autologging"] == "pytorch" and run.info.status == "FINISHED"
    values = json.loads((tmp_path / "losses.json").read_text())
    assert [m.value for m in client.get_metric_history(run.info.run_id, "loss")] == values


def test_ddp_with_two_cpu_processes_gives_one_run_without_duplicates(tmp_path):
    proc = run_script(tmp_path, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node=2",
                      str(SCRIPTS / "ddp_loop.py"), str(tmp_path), env_extra={"OMP_NUM_THREADS": "1"}, timeout=300)
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-4000:]
    client, run = only_run(tmp_path)
    history = client.get_metric_history(run.info.run_id, "loss")
    rank0 = json.loads((tmp_path / "losses-0.json").read_text())
    assert [(m.step, m.value) for m in history] == list(enumerate(rank0))  # rank 0's, each step once
    assert run.data.params["optimizer_name"] == "SGD" and run.data.params["total_params"] == "4"
    names = [os.path.basename(a.path) for a in client.list_artifacts(run.info.run_id, "checkpoints")]
    assert names == ["rank0.pt"]
