"""Artifacts: no writing through planted symlinks, no copying link targets from outside the root on
download, bad paths refused up front with autotrack's error (nothing half copied)."""

from __future__ import annotations

import os

import pytest

import autotrack
from autotrack.artifacts import get_artifact_repository
from autotrack.exceptions import InvalidParameterError


def _run_folder(run) -> str:
    return autotrack.TrackingClient().artifact_repository(run.info.run_id).local_path("")


def test_log_artifact_does_not_write_through_a_planted_file_symlink(tmp_path):
    """Reproduced: log_artifact into a run folder holding a planted symlink overwrote a file outside the root."""
    victim = tmp_path / "victim.txt"
    victim.write_text("precious")
    source = tmp_path / "src" / "model.txt"
    source.parent.mkdir()
    source.write_text("new model")
    with autotrack.start_run() as run:
        folder = _run_folder(run)
        os.makedirs(folder, exist_ok=True)
        os.symlink(victim, os.path.join(folder, "model.txt"))
        autotrack.log_artifact(str(source))
        os.makedirs(os.path.join(folder, "sub"), exist_ok=True)
        os.symlink(victim, os.path.join(folder, "sub", "model.txt"))
        autotrack.log_artifacts(str(source.parent), "sub")
    assert victim.read_text() == "precious"
    assert not os.path.islink(os.path.join(folder, "model.txt"))
    assert open(os.path.join(folder, "model.txt")).read() == "new model"
    assert open(os.path.join(folder, "sub", "model.txt")).read() == "new model"


def test_download_never_copies_a_link_target_from_outside_the_root(tmp_path):
    """Reproduced: downloading a folder copied a symlinked file from outside the root."""
    secret = tmp_path / "secret.txt"
    secret.write_text("do not leak")
    (tmp_path / "a").mkdir()
    (tmp_path / "a" / "ok.txt").write_text("ok")
    with autotrack.start_run() as run:
        autotrack.log_artifacts(str(tmp_path / "a"), "data")
    folder = _run_folder(run)
    os.symlink(secret, os.path.join(folder, "data", "leak.txt"))
    dst = tmp_path / "out"
    with pytest.raises(InvalidParameterError, match="outside the run's artifact folder"):
        autotrack.TrackingClient().download_artifacts(run.info.run_id, "data", str(dst))
    assert not (dst / "data" / "leak.txt").exists()
    os.remove(os.path.join(folder, "data", "leak.txt"))
    os.symlink(os.path.join(folder, "data", "ok.txt"), os.path.join(folder, "data", "inside.txt"))
    out = autotrack.TrackingClient().download_artifacts(run.info.run_id, "data", str(dst))
    assert open(os.path.join(out, "inside.txt")).read() == "ok"


@pytest.mark.parametrize("bad", ["a\x00b", "x" * 300, "/".join(["d"] * 2000), "d/" * 100 + "f"])
def test_bad_artifact_paths_are_refused_up_front(tmp_path, bad):
    source = tmp_path / "f.txt"
    source.write_text("x")
    with autotrack.start_run():
        with pytest.raises(InvalidParameterError):
            autotrack.log_artifact(str(source), bad)
        with pytest.raises(InvalidParameterError):
            autotrack.log_text("x", bad + "/t.txt")


def test_deep_trees_and_dangling_links_in_a_source_folder(tmp_path):
    """Reproduced: 2,000-level folders raised RecursionError, a dangling link shutil.Error after a partial copy."""
    deep = tmp_path / "deep"
    path = deep
    for _ in range(80):
        path = path / "d"
    path.mkdir(parents=True)
    (path / "f.txt").write_text("x")
    dangling = tmp_path / "dangling"
    dangling.mkdir()
    (dangling / "a.txt").write_text("a")
    os.symlink(tmp_path / "nowhere", dangling / "b.txt")
    with autotrack.start_run() as run:
        with pytest.raises(InvalidParameterError, match="levels deep"):
            autotrack.log_artifacts(str(deep), "deep")
        with pytest.raises(InvalidParameterError, match="link to nothing"):
            autotrack.log_artifacts(str(dangling), "dangling")
    assert autotrack.TrackingClient().list_artifacts(run.info.run_id) == []  # nothing half copied


def test_repository_rejects_nul_in_names(tmp_path):
    repo = get_artifact_repository(str(tmp_path / "root"))
    with pytest.raises(InvalidParameterError, match="NUL"):
        repo.list_artifacts("a\x00")


def test_a_read_only_store_opens_for_reading(tmp_path):
    """Reproduced: a read-only store could not be opened (a *.migrate-lock was created beside the
    database). A tmpfs the test mounts, filled, then remounted read-only."""
    import subprocess
    import sys

    folder = tmp_path / "ro"
    folder.mkdir()
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=16m", "tmpfs", str(folder)], capture_output=True, text=True)
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here (needs root): {mounted.stderr.strip()}")
    try:
        env = {**os.environ, "AUTOTRACK_TRACKING_URI": f"sqlite:///{folder}/t.db", "AUTOTRACK_ARTIFACT_ROOT": str(folder / "artifacts"),
               "AUTOTRACK_SPOOL_DIR": str(tmp_path / "spool")}
        write = "import autotrack\nwith autotrack.start_run(run_name='r') as run:\n    autotrack.log_metric('m', 1.0)\nprint(run.info.run_id)"
        run_id = subprocess.run([sys.executable, "-c", write], env=env, capture_output=True, text=True, check=True).stdout.split()[0]
        before = sorted(os.listdir(folder))
        subprocess.run(["mount", "-o", "remount,ro", str(folder)], check=True)
        read = (f"import autotrack\nc = autotrack.TrackingClient()\nr = c.get_run({run_id!r})\n"
                "print(r.info.status, r.data.metrics['m'], len(autotrack.search_runs(output_format='list')))")
        proc = subprocess.run([sys.executable, "-c", read], env=env, capture_output=True, text=True, timeout=120)
        assert proc.returncode == 0, proc.stderr
        assert proc.stdout.split() == ["FINISHED", "1.0", "1"]
        assert sorted(os.listdir(folder)) == before  # reading wrote nothing (no lock file, no -wal/-shm)
    finally:
        subprocess.run(["umount", "-l", str(folder)], capture_output=True)
