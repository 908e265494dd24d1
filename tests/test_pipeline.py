"""The logging pipeline: background batching, exit drain, multi-process SQLite, failures kept and retried."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import textwrap
import threading
import time
import warnings

import pytest

import autotrack
from autotrack.exceptions import InvalidParameterError, StoreConnectionError
from autotrack.stores import get_store
from autotrack.entities.errors import AutotrackWarning
from autotrack.tracking.pipeline import METRIC, PARAM, LoggingPipeline

PY = sys.executable


def _run_py(code: str, env: dict, timeout: float = 120) -> subprocess.CompletedProcess:
    return subprocess.run([PY, "-c", textwrap.dedent(code)], env={**os.environ, **env}, capture_output=True, text=True, timeout=timeout)


def test_exit_without_flush_keeps_everything(tmp_path):
    uri = f"sqlite:///{tmp_path}/exit.db"
    proc = _run_py(
        """
        import autotrack
        run = autotrack.start_run()
        print(run.info.run_id)
        for i in range(10_000):
            autotrack.log_metric("loss", i * 0.5, step=i)
        # no flush, no end_run: interpreter exit must drain the buffer
        """,
        {"AUTOTRACK_TRACKING_URI": uri},
    )
    assert proc.returncode == 0, proc.stderr
    run_id = proc.stdout.strip()
    history = autotrack.TrackingClient(uri).get_metric_history(run_id, "loss")
    assert len(history) == 10_000 and [m.step for m in history] == list(range(10_000))
    assert autotrack.TrackingClient(uri).get_run(run_id).info.status == "FINISHED"


def test_four_processes_into_one_sqlite_file(tmp_path):
    uri = f"sqlite:///{tmp_path}/shared.db"
    code = """
        import autotrack, sys
        with autotrack.start_run(run_name=sys.argv[1]) as run:
            for i in range(5_000):
                autotrack.log_metric("m", float(i), step=i)
                if i % 1000 == 0:
                    autotrack.flush()  # interleave writes with the other processes
        print(run.info.run_id)
    """
    env = {**os.environ, "AUTOTRACK_TRACKING_URI": uri}
    procs = [subprocess.Popen([PY, "-c", textwrap.dedent(code), f"p{i}"], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for i in range(4)]
    outs = [p.communicate(timeout=180) for p in procs]
    assert all(p.returncode == 0 for p in procs), [o[1] for o in outs]
    client = autotrack.TrackingClient(uri)
    run_ids = [o[0].strip() for o in outs]
    assert len(set(run_ids)) == 4
    for run_id in run_ids:
        history = client.get_metric_history(run_id, "m")
        assert len(history) == 5_000 and sorted(m.value for m in history) == [float(i) for i in range(5_000)]


def test_run_creation_and_end_are_queued_in_order_and_retries_write_nothing_twice(autotrack_env):
    from autotrack.entities import RunTag
    from autotrack.tracking.pipeline import CREATE, END

    store = get_store(autotrack.get_tracking_uri())
    flaky = FlakyStore(store, failures=1)  # the first log_batch fails, after the run was created
    pipeline = LoggingPipeline(flaky, retry_delays=(0.01, 0.01))
    run_id = "ab" * 16
    create = {"user_id": "u", "start_time": 5, "tags": [RunTag("t", "1")], "run_name": "queued"}
    pipeline.add_many([(CREATE, run_id, "0", create, 0, 0)] + [(METRIC, run_id, "m", float(i), 1, i) for i in range(10)] + [(END, run_id, "FINISHED", None, 99, 0)])
    pipeline.flush()
    run = store.get_run(run_id)
    assert (run.info.run_name, run.info.status, run.info.end_time, run.data.tags["t"]) == ("queued", "FINISHED", 99, "1")
    assert [m.step for m in store.get_metric_history(run_id, "m")] == list(range(10))  # no duplicates


def test_start_and_end_run_cost_the_caller_no_store_round_trip(autotrack_env, monkeypatch):
    store = get_store(autotrack.get_tracking_uri())
    autotrack.TrackingClient()._experiment_location("0")  # the experiment lookup is cached per store
    calls = []
    for name in ("create_run", "update_run_info", "log_batch", "get_run", "get_experiment"):
        original = getattr(store, name)
        monkeypatch.setattr(store, name, lambda *a, _o=original, _n=name, **k: (calls.append((_n, threading.current_thread().name)), _o(*a, **k))[1])
    with autotrack.start_run() as run:
        autotrack.log_metric("m", 1.0)
    assert all(thread == "autotrack-logging" for _, thread in calls), calls
    autotrack.flush()
    assert [n for n, _ in calls if n in ("create_run", "log_batch", "update_run_info")] == ["create_run", "log_batch", "update_run_info"]
    assert store.get_run(run.info.run_id).info.status == "FINISHED"


class FlakyStore:
    """The real store, but log_batch fails the first ``failures`` calls like an unreachable database."""

    def __init__(self, store, failures):
        self.store, self.failures, self.calls = store, failures, 0
        self.uri = store.uri

    def create_run(self, **kwargs):
        return self.store.create_run(**kwargs)

    def update_run_info(self, run_id, **kwargs):
        return self.store.update_run_info(run_id, **kwargs)

    def log_batch(self, run_id, metrics=(), params=(), tags=()):
        self.calls += 1
        if self.calls <= self.failures:
            raise ConnectionError("database went away")
        return self.store.log_batch(run_id, metrics=metrics, params=params, tags=tags)


def _running_run(params: dict | None = None):
    """The store, and a RUNNING run in it (made through the fluent API, then reopened at the store),
    for tests that drive a LoggingPipeline of their own."""
    store = get_store(autotrack.get_tracking_uri())
    with autotrack.start_run() as run:
        if params:
            autotrack.log_params(params)
    autotrack.flush()
    store.update_run_info(run.info.run_id, status="RUNNING")
    return store, run


def test_failing_store_retries_then_writes(autotrack_env):
    store, run = _running_run()
    flaky = FlakyStore(store, failures=2)
    pipeline = LoggingPipeline(flaky, retry_delays=(0.01, 0.01, 0.01))
    for i in range(100):
        pipeline.add((METRIC, run.info.run_id, "m", float(i), 1, i))
    pipeline.flush()
    assert flaky.calls == 3
    assert len(store.get_metric_history(run.info.run_id, "m")) == 100


def test_store_down_loop_keeps_running_one_warning_records_spooled_and_replayed(autotrack_env, monkeypatch):
    monkeypatch.setenv("AUTOTRACK_STRICT", "0")
    store, run = _running_run()
    flaky = FlakyStore(store, failures=10_000)
    pipeline = LoggingPipeline(flaky, retry_delays=(0.01, 0.01), interval=0.01)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        for i in range(3_000):  # the loop never sees an exception
            pipeline.add((METRIC, run.info.run_id, "m", float(i), 1, i))
            if i % 1000 == 0:
                time.sleep(0.05)
        pipeline.flush()
    ours = [w for w in caught if "autotrack could not write" in str(w.message)]
    assert len(ours) == 1, [str(w.message) for w in caught]
    assert "kept in" in str(ours[0].message) and "records of run" in str(ours[0].message)
    spooled = os.listdir(autotrack_env / "spool")
    assert spooled and store.get_metric_history(run.info.run_id, "m") == []
    flaky.failures = 0  # the database is back: the next cycle replays the spool
    pipeline.flush()
    history = store.get_metric_history(run.info.run_id, "m")
    assert sorted(m.step for m in history) == list(range(3_000))
    assert os.listdir(autotrack_env / "spool") == []


def test_bad_record_does_not_lose_good_ones(autotrack_env):
    store, run = _running_run({"p": "a"})
    pipeline = LoggingPipeline(store)
    pipeline.add_many([(METRIC, run.info.run_id, "m", 1.0, 1, 0), (PARAM, run.info.run_id, "p", "b", 0, 0), (PARAM, run.info.run_id, "q", "ok", 0, 0)])
    with pytest.warns(AutotrackWarning, match="rejected records.*param 'p'"):
        with pytest.raises(InvalidParameterError, match="'p'"):  # strict mode re-raises at flush
            pipeline.flush()
    data = store.get_run(run.info.run_id).data
    assert data.metrics == {"m": 1.0} and data.params == {"p": "a", "q": "ok"}


def test_sync_logging_writes_on_the_call(autotrack_env, monkeypatch):
    monkeypatch.setenv("AUTOTRACK_SYNC_LOGGING", "1")
    store = get_store(autotrack.get_tracking_uri())
    with autotrack.start_run() as run:
        autotrack.log_metric("m", 3.0)
        assert store.get_run(run.info.run_id).data.metrics == {"m": 3.0}  # straight from the store, no flush


def test_reads_flush_first():
    with autotrack.start_run() as run:
        for i in range(50):
            autotrack.log_metric("m", float(i), step=i)
        assert len(autotrack.TrackingClient().get_metric_history(run.info.run_id, "m")) == 50
        autotrack.log_param("p", 1)
        assert autotrack.get_run(run.info.run_id).data.params == {"p": "1"}


def test_exit_with_store_down_is_bounded_and_spools(tmp_path):
    uri = f"sqlite:///{tmp_path}/down.db"
    spool = tmp_path / "spool"
    start = time.monotonic()
    proc = _run_py(
        """
        import autotrack
        from autotrack.tracking import client
        run = autotrack.start_run()
        print(run.info.run_id, flush=True)
        store = client._states[autotrack.get_tracking_uri()].store
        def down(*a, **k):
            raise ConnectionError("database went away")
        store.log_batch = down
        for i in range(500):
            autotrack.log_metric("m", float(i), step=i)
        """,
        {"AUTOTRACK_TRACKING_URI": uri, "AUTOTRACK_SPOOL_DIR": str(spool), "AUTOTRACK_EXIT_FLUSH_TIMEOUT": "2", "AUTOTRACK_STRICT": "0"},
    )
    elapsed = time.monotonic() - start
    run_id = proc.stdout.split()[0]
    assert elapsed < 60, elapsed
    assert "could not write" in proc.stderr and str(spool) in proc.stderr
    assert os.listdir(spool)
    # A later process on the same store writes what was kept.
    client = autotrack.TrackingClient(uri)
    client._pipeline.spool_dir = str(spool)
    client.flush()
    assert sorted(m.step for m in client.get_metric_history(run_id, "m")) == list(range(500))
    assert client.get_run(run_id).info.status == "FINISHED"  # the run's queued end was kept and replayed too


def _silent_server():
    """A TCP socket that accepts connections and never answers (a hung database)."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(16)
    return sock


@pytest.mark.parametrize("scheme", ["mysql+pymysql://root@127.0.0.1:{port}/test", "postgresql://postgres@127.0.0.1:{port}/test"])
def test_unreachable_database_fails_fast_with_clear_error(scheme, monkeypatch):
    monkeypatch.setenv("AUTOTRACK_CONNECT_TIMEOUT", "2")
    sock = _silent_server()
    try:
        uri = scheme.format(port=sock.getsockname()[1])
        start = time.monotonic()
        with pytest.raises(StoreConnectionError, match=r"Could not connect to the tracking database .*127\.0\.0\.1.*connect timeout 2 s"):
            get_store(uri)
        assert time.monotonic() - start < 15
    finally:
        sock.close()
    free = socket.socket()
    free.bind(("127.0.0.1", 0))
    port = free.getsockname()[1]
    free.close()  # nothing listens there now: connection refused
    with pytest.raises(StoreConnectionError, match="Could not connect"):
        get_store(scheme.format(port=port))
