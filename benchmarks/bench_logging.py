"""Benchmark the tracking hot paths of issue 2 against their targets, and against MLflow when installed.

Workloads (each in a fresh temporary folder with a fresh SQLite file):

1. ``log_metric`` in a training loop: one metric per step, fluent API, one run. Reported: the loop's
   cost per call, and metrics/s end to end (loop + the final ``flush``). Targets: <= 5 us per call,
   >= 100,000 metrics/s. MLflow is timed with ``synchronous=False`` (its async logging, flushed with
   ``flush_async_logging``) and synchronously; both are far slower, so they use fewer steps
   (``--mlflow-async-steps``, ``--mlflow-sync-steps``) and the per-call figure is the loop time
   divided by the steps it ran. autotrack's synchronous mode (``AUTOTRACK_SYNC_LOGGING=1``) is timed
   on the same step count as MLflow's synchronous row.
2. ``search_runs`` over ``--runs`` runs with 10 metrics (m0..m9, uniform in [0, 1)) and 5 params
   each, the same values for both libraries: ``filter_string="metrics.m0 > 0.5"``,
   ``order_by=["metrics.m1 DESC"]``, ``output_format="list"``, ``max_results=100_000`` (the fluent
   default of both libraries, so every matching run, about half, comes back: autotrack in one page
   of up to 50,000, MLflow in its fluent pages of 10,000). One warm-up call, then the median of
   ``--repeat`` calls. Target: <= 10% of MLflow's time on the same data.
4. (issue 9) ``volume``: ``--volume`` (5,000,000) metrics logged in a subprocess as fast as the loop
   goes, then flushed: end-to-end metrics/s and the peak RSS it added (``ru_maxrss`` less the RSS
   before the loop), against the cap ``AUTOTRACK_BUFFER_MB`` (64) + 100 MB. MLflow's async logging
   on ``--mlflow-volume`` metrics for its peak RSS per metric.
5. (issue 9) ``exit``: a subprocess logs ``--exit-metrics`` (1,000,000) metrics and ends without
   flushing; the time from the loop's end to the process's end, and how many rows were stored
   (``AUTOTRACK_EXIT_FLUSH_TIMEOUT=30``). MLflow's async logging on ``--mlflow-exit-metrics``.
   Each row's "CPU" figure is the loop's own thread CPU time per call (``time.thread_time``), which
   does not count time the loop waited for a core on a shared machine.
3. ``import autotrack``: median wall time of ``python -c "import autotrack"`` minus that of
   ``python -c pass`` over ``--import-repeat`` interleaved subprocesses, plus the cumulative
   figure that ``python -X importtime`` reports for ``autotrack``. Target: <= 50 ms.

    python benchmarks/bench_logging.py [--steps 100000] [--runs 10000] [--skip-mlflow]

autotrack's workloads all run before MLflow is imported, so MLflow's modules do not sit in the heap
that autotrack's garbage collections walk.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime
import os
import platform
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

_REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
try:
    import autotrack  # noqa: F401  (installed, e.g. pip install -e .)
except ImportError:  # run from a checkout without installing
    sys.path.insert(0, _REPO)
    os.environ["PYTHONPATH"] = _REPO + os.pathsep + os.environ.get("PYTHONPATH", "")
    import autotrack  # noqa: F401

TARGET_US_PER_CALL = 1.0  # issue 9 (was 5 us in issue 2)
TARGET_METRICS_PER_S = 300_000  # issue 9 (was 100,000/s in issue 2)
TARGET_RSS_MARGIN_MB = 100  # issue 9: peak RSS for 5,000,000 metrics under AUTOTRACK_BUFFER_MB + this
TARGET_SEARCH_RATIO = 0.10
TARGET_IMPORT_MS = 50.0
N_METRICS, N_PARAMS = 10, 5
FILTER = "metrics.m0 > 0.5"
ORDER_BY = ["metrics.m1 DESC"]
MAX_RESULTS = 100_000
BASE_TS = 1_700_000_000_000


# ---------------------------------------------------------------------------- helpers
@contextlib.contextmanager
def _workdir(label: str, keep: bool):
    """A fresh temporary folder, made the working directory for the duration of one workload."""
    path = tempfile.mkdtemp(prefix=f"bench-{label}-")
    old = os.getcwd()
    os.chdir(path)
    try:
        yield path
    finally:
        os.chdir(old)
        if not keep:
            shutil.rmtree(path, ignore_errors=True)


def _progress(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def _dataset(n_runs: int, seed: int = 42) -> list[tuple[list[float], list[str]]]:
    """Per run: 10 metric values and 5 param values, the same for every library."""
    rng = random.Random(seed)
    return [
        ([rng.random() for _ in range(N_METRICS)], [str(rng.randint(0, 1000)) for _ in range(N_PARAMS)])
        for _ in range(n_runs)
    ]


def _expected_search(data) -> list[float]:
    """The m1 values the search must return, in order."""
    return sorted((m[1] for m, _ in data if m[0] > 0.5), reverse=True)


def _timed_search(search, repeat: int) -> tuple[float, list[float], list]:
    search()  # warm-up: SQLite page cache, compiled statements, lazy imports
    times = []
    result = None
    for _ in range(repeat):
        start = time.perf_counter()
        result = search()
        times.append(time.perf_counter() - start)
    return statistics.median(times), times, result


def _machine() -> dict[str, str]:
    cpu = platform.processor() or "unknown"
    try:
        with open("/proc/cpuinfo") as handle:
            for line in handle:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    try:
        load = " ".join(f"{x:.2f}" for x in os.getloadavg())
    except OSError:
        load = "n/a"
    return {
        "date": datetime.datetime.now().astimezone().strftime("%Y-%m-%d %H:%M %Z"),
        "cpu": f"{cpu}, {os.cpu_count()} logical CPUs (nproc {len(os.sched_getaffinity(0)) if hasattr(os, 'sched_getaffinity') else '?'})",
        "python": f"{platform.python_implementation()} {platform.python_version()}",
        "load": load,
    }


# ---------------------------------------------------------------------------- subprocess workloads (issue 9)
_VOLUME_AT = """
import os, resource, sys, time
import autotrack
def rss_mb():
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20
n = int(sys.argv[1])
run = autotrack.start_run()
autotrack.log_metric("warm", 0.0); autotrack.flush()
before = rss_mb()
log_metric = autotrack.log_metric
start = time.perf_counter(); cpu = time.thread_time()
for i in range(n):
    log_metric("loss", i * 0.5, step=i)
loop = time.perf_counter() - start; cpu = time.thread_time() - cpu
autotrack.flush()
total = time.perf_counter() - start
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
stored = len(autotrack.TrackingClient().get_metric_history(run.info.run_id, "loss"))
print(n, loop, total, cpu, before, peak, stored)
"""

_VOLUME_ML = """
import os, resource, sys, time
import mlflow
mlflow.set_tracking_uri("sqlite:///" + os.path.abspath("mlflow.db"))
def rss_mb():
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20
n = int(sys.argv[1])
run = mlflow.start_run()
mlflow.log_metric("warm", 0.0)
before = rss_mb()
start = time.perf_counter(); cpu = time.thread_time()
for i in range(n):
    mlflow.log_metric("loss", i * 0.5, step=i, synchronous=False)
loop = time.perf_counter() - start; cpu = time.thread_time() - cpu
mlflow.flush_async_logging()
total = time.perf_counter() - start
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
stored = len(mlflow.MlflowClient().get_metric_history(run.info.run_id, "loss"))
print(n, loop, total, cpu, before, peak, stored)
"""

_EXIT_AT = """
import sys, time
import autotrack
run = autotrack.start_run()
print(run.info.run_id, flush=True)
for i in range(int(sys.argv[1])):
    autotrack.log_metric("m", i, step=i)
print(time.time(), flush=True)
"""

_EXIT_ML = """
import os, sys, time
import mlflow
mlflow.set_tracking_uri("sqlite:///" + os.path.abspath("mlflow.db"))
run = mlflow.start_run()
print(run.info.run_id, flush=True)
for i in range(int(sys.argv[1])):
    mlflow.log_metric("m", i, step=i, synchronous=False)
print(time.time(), flush=True)
"""


def volume(code: str, n: int, keep: bool, label: str) -> dict:
    with _workdir(label, keep) as tmp:
        env = {**os.environ, "AUTOTRACK_TRACKING_URI": f"sqlite:///{tmp}/tracking.db", "AUTOTRACK_ARTIFACT_ROOT": f"{tmp}/artifacts",
               "AUTOTRACK_SPOOL_DIR": f"{tmp}/spool", "AUTOTRACK_EXIT_FLUSH_TIMEOUT": "600", "MLFLOW_ENABLE_ASYNC_LOGGING": "true"}
        out = subprocess.run([sys.executable, "-c", code, str(n)], env=env, capture_output=True, text=True, check=True).stdout.split()
    n_, loop, total, cpu, before, peak, stored = out[-7:]
    return {"n": int(n_), "loop_s": float(loop), "total_s": float(total), "cpu_us_per_call": float(cpu) / int(n_) * 1e6,
            "added_mb": float(peak) - float(before), "per_s": int(n_) / float(total), "stored": int(stored)}


def exit_time(code: str, n: int, keep: bool, label: str, count_sql: str) -> dict:
    import sqlite3

    with _workdir(label, keep) as tmp:
        env = {**os.environ, "AUTOTRACK_TRACKING_URI": f"sqlite:///{tmp}/tracking.db", "AUTOTRACK_ARTIFACT_ROOT": f"{tmp}/artifacts",
               "AUTOTRACK_SPOOL_DIR": f"{tmp}/spool", "AUTOTRACK_EXIT_FLUSH_TIMEOUT": "30"}
        proc = subprocess.Popen([sys.executable, "-c", code, str(n)], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        run_id = proc.stdout.readline().strip()
        loop_end = float(proc.stdout.readline())
        _, err = proc.communicate()
        exit_s = time.time() - loop_end
        db = os.path.join(tmp, "tracking.db" if "autotrack" in label else "mlflow.db")
        with sqlite3.connect(db) as conn:
            stored = conn.execute(count_sql, (run_id,)).fetchone()[0]
    return {"n": n, "exit_s": exit_s, "stored": stored, "returncode": proc.returncode, "stderr": err[-500:]}


# ---------------------------------------------------------------------------- autotrack
def at_log_loop(steps: int, keep: bool) -> dict:
    import autotrack
    from autotrack.tracking.client import TrackingClient

    with _workdir("autotrack-log", keep) as tmp:
        os.environ["AUTOTRACK_ARTIFACT_ROOT"] = os.path.join(tmp, "artifacts")
        autotrack.set_tracking_uri(f"sqlite:///{tmp}/tracking.db")
        run = autotrack.start_run()
        log_metric = autotrack.log_metric
        start = time.perf_counter()
        for step in range(steps):
            log_metric("loss", 1.0 / (step + 1), step=step)
        loop = time.perf_counter() - start
        autotrack.flush()
        total = time.perf_counter() - start
        stored = len(TrackingClient().get_metric_history(run.info.run_id, "loss"))
        autotrack.end_run()
        # the loop alone, with the writer idle, on this thread's CPU clock (not counting waits for a core)
        cpu_start = time.thread_time()
        for step in range(steps):
            log_metric("loss2", 1.0 / (step + 1), step=step)
        cpu = time.thread_time() - cpu_start if autotrack.active_run() else time.thread_time() - cpu_start
        autotrack.end_run()
    if stored != steps:
        raise AssertionError(f"autotrack stored {stored} of {steps} metrics")
    return {"steps": steps, "us_per_call": loop / steps * 1e6, "per_s": steps / total, "loop_s": loop, "flush_s": total - loop,
            "cpu_us_per_call": cpu / steps * 1e6}


def at_log_sync(steps: int, keep: bool) -> dict:
    import autotrack
    from autotrack.tracking.client import TrackingClient

    with _workdir("autotrack-sync", keep) as tmp:
        os.environ["AUTOTRACK_ARTIFACT_ROOT"] = os.path.join(tmp, "artifacts")
        # The pipeline of a store reads AUTOTRACK_SYNC_LOGGING when the store is first used.
        os.environ["AUTOTRACK_SYNC_LOGGING"] = "1"
        try:
            autotrack.set_tracking_uri(f"sqlite:///{tmp}/tracking.db")
            run = autotrack.start_run()
        finally:
            del os.environ["AUTOTRACK_SYNC_LOGGING"]
        start = time.perf_counter()
        for step in range(steps):
            autotrack.log_metric("loss", 1.0 / (step + 1), step=step)
        loop = time.perf_counter() - start
        stored = len(TrackingClient().get_metric_history(run.info.run_id, "loss"))
        autotrack.end_run()
    if stored != steps:
        raise AssertionError(f"autotrack (sync) stored {stored} of {steps} metrics")
    return {"steps": steps, "us_per_call": loop / steps * 1e6, "per_s": steps / loop}


def at_search(data, repeat: int, keep: bool) -> dict:
    import autotrack
    from autotrack.tracking.client import TrackingClient
    from autotrack.entities import Metric, Param

    with _workdir("autotrack-search", keep) as tmp:
        os.environ["AUTOTRACK_ARTIFACT_ROOT"] = os.path.join(tmp, "artifacts")
        autotrack.set_tracking_uri(f"sqlite:///{tmp}/tracking.db")
        client = TrackingClient()
        exp_id = client.create_experiment("bench-search")
        start = time.perf_counter()
        for i, (metrics, params) in enumerate(data):
            run_id = client.create_run(exp_id, start_time=BASE_TS + i).info.run_id
            client.log_batch(
                run_id,
                metrics=[Metric(f"m{k}", v, BASE_TS + i, 0) for k, v in enumerate(metrics)],
                params=[Param(f"p{k}", v) for k, v in enumerate(params)],
            )
            if i and i % 2000 == 0:
                _progress(f"autotrack: {i} runs created")
        client.flush()
        populate = time.perf_counter() - start
        _progress(f"autotrack: {len(data)} runs populated in {populate:.1f} s; searching")

        def search():
            return autotrack.search_runs(
                experiment_ids=[exp_id], filter_string=FILTER, order_by=ORDER_BY, output_format="list", max_results=MAX_RESULTS
            )

        median, times, runs = _timed_search(search, repeat)
    got = [r.data.metrics["m1"] for r in runs]
    if got != _expected_search(data):
        raise AssertionError(f"autotrack search returned {len(got)} runs, not the {len(_expected_search(data))} expected in order")
    return {"runs": len(data), "matched": len(got), "search_s": median, "times": times, "populate_s": populate, "m1": got}


def _python_ms(code: str, repeat: int, python: str = sys.executable) -> list[float]:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        subprocess.run([python, "-c", code], check=True, cwd=tempfile.gettempdir(), stdout=subprocess.DEVNULL)
        times.append((time.perf_counter() - start) * 1000)
    return times


def _importtime_ms(module: str, repeat: int) -> float:
    """Median cumulative ms that ``python -X importtime`` reports for ``module``."""
    values = []
    for _ in range(repeat):
        out = subprocess.run(
            [sys.executable, "-X", "importtime", "-c", f"import {module}"],
            check=True, cwd=tempfile.gettempdir(), capture_output=True, text=True,
        ).stderr
        for line in out.splitlines():
            parts = line.split("|")
            if len(parts) == 3 and parts[2].strip() == module:
                values.append(int(parts[1]) / 1000)
    return statistics.median(values) if values else float("nan")


def import_times(module: str, repeat: int, first_use: str | None = None) -> dict:
    """Median added wall ms of ``import module`` over ``python -c pass``, interleaved runs.

    With ``first_use`` (an attribute), also the ms added by ``import module; module.<first_use>``:
    autotrack resolves its public names lazily, so this is what the first fluent call pays.
    """
    base, with_module, with_use = [], [], []
    for _ in range(repeat):
        base += _python_ms("pass", 1)
        with_module += _python_ms(f"import {module}", 1)
        if first_use:
            with_use += _python_ms(f"import {module}; {module}.{first_use}", 1)
    return {
        "first_use_ms": statistics.median(with_use) - statistics.median(base) if with_use else None,
        "added_ms": statistics.median(with_module) - statistics.median(base),
        "base_ms": statistics.median(base),
        "importtime_ms": _importtime_ms(module, min(repeat, 5)),
        "repeat": repeat,
    }


# ---------------------------------------------------------------------------- MLflow
def _mlflow():
    """The mlflow module, quiet and offline, or None when it is not installed."""
    os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")
    os.environ.setdefault("DO_NOT_TRACK", "true")
    try:
        import mlflow
    except ImportError:
        return None
    import logging

    for name in ("mlflow", "alembic", "sqlalchemy"):
        logging.getLogger(name).setLevel(logging.ERROR)
    return mlflow


def _mlflow_setup(mlflow, tmp: str) -> str:
    mlflow.set_tracking_uri(f"sqlite:///{tmp}/mlflow.db")
    # The first use creates the schema (alembic migrations): done here, outside the timings.
    return mlflow.create_experiment("bench", artifact_location=os.path.join(tmp, "artifacts"))


def mlflow_log(mlflow, steps: int, synchronous: bool, keep: bool) -> dict:
    with _workdir("mlflow-log", keep) as tmp:
        exp_id = _mlflow_setup(mlflow, tmp)
        run = mlflow.start_run(experiment_id=exp_id)
        start = time.perf_counter()
        for step in range(steps):
            mlflow.log_metric("loss", 1.0 / (step + 1), step=step, synchronous=synchronous)
        loop = time.perf_counter() - start
        if not synchronous:
            mlflow.flush_async_logging()
        total = time.perf_counter() - start
        stored = len(mlflow.MlflowClient().get_metric_history(run.info.run_id, "loss"))
        mlflow.end_run()
    if stored != steps:
        raise AssertionError(f"MLflow stored {stored} of {steps} metrics")
    return {"steps": steps, "us_per_call": loop / steps * 1e6, "per_s": steps / total, "loop_s": loop, "flush_s": total - loop}


def mlflow_search(mlflow, data, repeat: int, keep: bool) -> dict:
    from mlflow.entities import Metric, Param

    with _workdir("mlflow-search", keep) as tmp:
        exp_id = _mlflow_setup(mlflow, tmp)
        client = mlflow.MlflowClient()
        start = time.perf_counter()
        for i, (metrics, params) in enumerate(data):
            run_id = client.create_run(exp_id, start_time=BASE_TS + i).info.run_id
            client.log_batch(
                run_id,
                metrics=[Metric(f"m{k}", v, BASE_TS + i, 0) for k, v in enumerate(metrics)],
                params=[Param(f"p{k}", v) for k, v in enumerate(params)],
            )
            if i and i % 1000 == 0:
                elapsed = time.perf_counter() - start
                _progress(f"MLflow: {i} runs created ({elapsed:.0f} s, about {elapsed / i * (len(data) - i):.0f} s to go)")
        populate = time.perf_counter() - start
        _progress(f"MLflow: {len(data)} runs populated in {populate:.1f} s; searching")

        def search():
            return mlflow.search_runs(
                experiment_ids=[exp_id], filter_string=FILTER, order_by=ORDER_BY, output_format="list", max_results=MAX_RESULTS
            )

        median, times, runs = _timed_search(search, repeat)
    got = [r.data.metrics["m1"] for r in runs]
    if got != _expected_search(data):
        raise AssertionError(f"MLflow search returned {len(got)} runs, not the {len(_expected_search(data))} expected in order")
    return {"runs": len(data), "matched": len(got), "search_s": median, "times": times, "populate_s": populate}


# ---------------------------------------------------------------------------- report
def _verdict(ok: bool | None) -> str:
    return "n/a" if ok is None else ("PASS" if ok else "FAIL")


def _table(rows: list[list[str]]) -> str:
    header = ["workload", "autotrack", "MLflow", "ratio (autotrack/MLflow)", "target", "result"]
    widths = [max(len(str(r[i])) for r in rows + [header]) for i in range(len(header))]
    line = lambda cells: "| " + " | ".join(str(c).ljust(w) for c, w in zip(cells, widths)) + " |"  # noqa: E731
    return "\n".join([line(header), "|" + "|".join("-" * (w + 2) for w in widths) + "|"] + [line(r) for r in rows])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--steps", type=int, default=100_000, help="log_metric steps for autotrack (default 100,000)")
    parser.add_argument("--mlflow-async-steps", type=int, default=10_000, help="steps for MLflow's async log_metric (default 10,000)")
    parser.add_argument("--mlflow-sync-steps", type=int, default=2_000, help="steps for synchronous log_metric, both libraries (default 2,000)")
    parser.add_argument("--runs", type=int, default=10_000, help="runs to populate for search_runs (default 10,000)")
    parser.add_argument("--mlflow-runs", type=int, default=None, help="runs to populate for MLflow's search (default: --runs); "
                        "when smaller, autotrack is also timed on that many runs for the ratio")
    parser.add_argument("--repeat", type=int, default=5, help="timed search_runs calls after one warm-up (median reported)")
    parser.add_argument("--import-repeat", type=int, default=15, help="subprocesses per import measurement (median reported)")
    parser.add_argument("--skip-mlflow", action="store_true", help="do not run the MLflow comparison even if it is installed")
    parser.add_argument("--volume", type=int, default=5_000_000, help="metrics for the volume/RSS workload (default 5,000,000)")
    parser.add_argument("--mlflow-volume", type=int, default=20_000, help="metrics for MLflow's volume/RSS workload (default 20,000)")
    parser.add_argument("--exit-metrics", type=int, default=1_000_000, help="unflushed metrics at exit (default 1,000,000)")
    parser.add_argument("--mlflow-exit-metrics", type=int, default=10_000, help="unflushed metrics at exit for MLflow (default 10,000)")
    parser.add_argument("--only", choices=("log", "search", "import", "volume", "exit"), action="append", help="run only these workloads (repeatable)")
    parser.add_argument("--keep", action="store_true", help="keep the temporary folders")
    args = parser.parse_args(argv)
    only = set(args.only or ("log", "search", "import", "volume", "exit"))
    mlflow_runs = args.mlflow_runs or args.runs

    machine = _machine()
    _progress(f"machine: {machine}")
    results: dict[str, dict] = {}

    # autotrack first, before MLflow is imported.
    if "log" in only:
        _progress(f"autotrack: log_metric x {args.steps:,}")
        results["at_log"] = at_log_loop(args.steps, args.keep)
        _progress(f"autotrack log: {results['at_log']}")
        _progress(f"autotrack: synchronous log_metric x {args.mlflow_sync_steps:,}")
        results["at_sync"] = at_log_sync(args.mlflow_sync_steps, args.keep)
    if "search" in only:
        data = _dataset(max(args.runs, mlflow_runs))
        _progress(f"autotrack: search_runs over {args.runs:,} runs")
        results["at_search"] = at_search(data[: args.runs], args.repeat, args.keep)
        if mlflow_runs != args.runs and not args.skip_mlflow:
            _progress(f"autotrack: search_runs over {mlflow_runs:,} runs (MLflow's count)")
            results["at_search_same"] = at_search(data[:mlflow_runs], args.repeat, args.keep)
    if "volume" in only:
        _progress(f"autotrack: {args.volume:,} metrics, peak RSS")
        results["at_volume"] = volume(_VOLUME_AT, args.volume, args.keep, "autotrack-volume")
        _progress(f"autotrack volume: {results['at_volume']}")
    if "exit" in only:
        _progress(f"autotrack: exit with {args.exit_metrics:,} unflushed metrics")
        results["at_exit"] = exit_time(_EXIT_AT, args.exit_metrics, args.keep, "autotrack-exit", "SELECT COUNT(*) FROM metrics WHERE run_uuid = ?")
        _progress(f"autotrack exit: { {k: v for k, v in results['at_exit'].items() if k != 'stderr'} }")
    if "import" in only:
        _progress("import autotrack")
        results["at_import"] = import_times("autotrack", args.import_repeat, first_use="log_metric")

    mlflow = None if args.skip_mlflow else _mlflow()
    mlflow_note = "skipped (--skip-mlflow)" if args.skip_mlflow else ("MLflow not installed" if mlflow is None else None)
    if mlflow is not None:
        machine["mlflow"] = mlflow.__version__
        if "log" in only:
            _progress(f"MLflow: async log_metric x {args.mlflow_async_steps:,}")
            results["ml_async"] = mlflow_log(mlflow, args.mlflow_async_steps, False, args.keep)
            _progress(f"MLflow: sync log_metric x {args.mlflow_sync_steps:,}")
            results["ml_sync"] = mlflow_log(mlflow, args.mlflow_sync_steps, True, args.keep)
        if "search" in only:
            _progress(f"MLflow: search_runs over {mlflow_runs:,} runs")
            results["ml_search"] = mlflow_search(mlflow, data[:mlflow_runs], args.repeat, args.keep)
        if "volume" in only:
            _progress(f"MLflow: {args.mlflow_volume:,} metrics (async), peak RSS")
            results["ml_volume"] = volume(_VOLUME_ML, args.mlflow_volume, args.keep, "mlflow-volume")
        if "exit" in only:
            _progress(f"MLflow: exit with {args.mlflow_exit_metrics:,} unflushed async metrics")
            results["ml_exit"] = exit_time(_EXIT_ML, args.mlflow_exit_metrics, args.keep, "mlflow-exit", "SELECT COUNT(*) FROM metrics WHERE run_uuid = ?")
        if "import" in only:
            _progress("import mlflow")
            results["ml_import"] = import_times("mlflow", max(3, args.import_repeat // 3))

    def ml(key: str, fmt) -> str:
        return mlflow_note or (fmt(results[key]) if key in results else "n/a")

    rows: list[list[str]] = []
    if "at_log" in results:
        a, s = results["at_log"], results["at_sync"]
        m, ms = results.get("ml_async"), results.get("ml_sync")
        rows.append([
            f"log_metric loop, us/call (autotrack {a['steps']:,} steps; MLflow async, {args.mlflow_async_steps:,} steps)",
            f"{a['us_per_call']:.2f} us", ml("ml_async", lambda r: f"{r['us_per_call']:.0f} us"),
            f"{a['us_per_call'] / m['us_per_call']:.4f}" if m else "n/a",
            f"<= {TARGET_US_PER_CALL:g} us", _verdict(a["us_per_call"] <= TARGET_US_PER_CALL),
        ])
        rows.append([
            f"log_metric loop, CPU us/call of the calling thread (time.thread_time, {a['steps']:,} steps, writer idle)",
            f"{a['cpu_us_per_call']:.2f} us", "-", "-", f"<= {TARGET_US_PER_CALL:g} us", _verdict(a["cpu_us_per_call"] <= TARGET_US_PER_CALL),
        ])
        rows.append([
            "log_metric end to end incl. final flush, metrics/s (same runs as above)",
            f"{a['per_s']:,.0f}/s (loop {a['loop_s']:.2f} s + flush {a['flush_s']:.2f} s)",
            ml("ml_async", lambda r: f"{r['per_s']:,.0f}/s (loop {r['loop_s']:.2f} s + flush {r['flush_s']:.2f} s)"),
            f"{a['per_s'] / m['per_s']:.0f}x faster" if m else "n/a",
            f">= {TARGET_METRICS_PER_S:,}/s", _verdict(a["per_s"] >= TARGET_METRICS_PER_S),
        ])
        rows.append([
            f"log_metric synchronous, us/call ({s['steps']:,} steps, scaled per call; autotrack AUTOTRACK_SYNC_LOGGING=1)",
            f"{s['us_per_call']:,.0f} us", ml("ml_sync", lambda r: f"{r['us_per_call']:,.0f} us"),
            f"{s['us_per_call'] / ms['us_per_call']:.3f}" if ms else "n/a", "(reference)", "-",
        ])
    if "at_search" in results:
        a = results["at_search"]
        m = results.get("ml_search")
        same = results.get("at_search_same", a)
        rows.append([
            f"search_runs, {a['runs']:,} runs, {a['matched']:,} matched, median of {args.repeat}",
            f"{a['search_s'] * 1000:.1f} ms", ml("ml_search", lambda r: f"{r['search_s'] * 1000:.0f} ms ({r['runs']:,} runs)"),
            f"{same['search_s'] / m['search_s']:.3f}" + (f" (both at {m['runs']:,} runs: {same['search_s'] * 1000:.1f} ms)" if same is not a else "") if m else "n/a",
            f"<= {TARGET_SEARCH_RATIO:.0%} of MLflow", _verdict(same["search_s"] / m["search_s"] <= TARGET_SEARCH_RATIO) if m else "n/a",
        ])
        rows.append([
            f"populate search data ({N_METRICS} metrics + {N_PARAMS} params per run), runs/s",
            f"{a['runs'] / a['populate_s']:,.0f}/s ({a['populate_s']:.1f} s)",
            ml("ml_search", lambda r: f"{r['runs'] / r['populate_s']:,.0f}/s ({r['populate_s']:.0f} s for {r['runs']:,})"),
            f"{(a['runs'] / a['populate_s']) / (m['runs'] / m['populate_s']):.0f}x faster" if m else "n/a", "(reference)", "-",
        ])
    if "at_volume" in results:
        a = results["at_volume"]
        m = results.get("ml_volume")
        cap = float(os.environ.get("AUTOTRACK_BUFFER_MB", 64))
        rows.append([
            f"{a['n']:,} metrics as fast as the loop goes, end to end incl. flush, metrics/s (MLflow async: {args.mlflow_volume:,})",
            f"{a['per_s']:,.0f}/s (loop {a['loop_s']:.1f} s, {a['cpu_us_per_call']:.2f} CPU us/call; total {a['total_s']:.1f} s; stored {a['stored']:,})",
            ml("ml_volume", lambda r: f"{r['per_s']:,.0f}/s (stored {r['stored']:,})"),
            f"{a['per_s'] / m['per_s']:.0f}x faster" if m else "n/a",
            f">= {TARGET_METRICS_PER_S:,}/s", _verdict(a["per_s"] >= TARGET_METRICS_PER_S and a["stored"] == a["n"]),
        ])
        rows.append([
            f"peak RSS added while logging {a['n']:,} metrics (MLflow: per metric x {a['n']:,})",
            f"{a['added_mb']:.0f} MB ({a['added_mb'] * 2**20 / a['n']:.0f} B/metric)",
            ml("ml_volume", lambda r: f"{r['added_mb']:.0f} MB for {r['n']:,} = {r['added_mb'] * 2**20 / r['n']:.0f} B/metric (~{r['added_mb'] / r['n'] * a['n'] / 1024:.1f} GB at {a['n']:,})"),
            "-", f"<= {cap:g} + {TARGET_RSS_MARGIN_MB} MB", _verdict(a["added_mb"] <= cap + TARGET_RSS_MARGIN_MB),
        ])
    if "at_exit" in results:
        a = results["at_exit"]
        rows.append([
            f"exit with {a['n']:,} unflushed metrics: seconds from the loop's end to the process's end, rows stored (MLflow async: {args.mlflow_exit_metrics:,})",
            f"{a['exit_s']:.1f} s, {a['stored']:,} stored (exit status {a['returncode']})",
            ml("ml_exit", lambda r: f"{r['exit_s']:.1f} s, {r['stored']:,} of {r['n']:,} stored"),
            "-", "<= 30 s (AUTOTRACK_EXIT_FLUSH_TIMEOUT), all stored", _verdict(a["exit_s"] <= 31 and a["stored"] == a["n"]),
        ])
    if "at_import" in results:
        a = results["at_import"]
        rows.append([
            f"import, ms added to `python -c pass` ({a['base_ms']:.0f} ms), median of {a['repeat']}",
            f"{a['added_ms']:.1f} ms (-X importtime {a['importtime_ms']:.1f} ms)",
            ml("ml_import", lambda r: f"{r['added_ms']:,.0f} ms (-X importtime {r['importtime_ms']:,.0f} ms, median of {r['repeat']})"),
            f"{a['added_ms'] / results['ml_import']['added_ms']:.3f}" if "ml_import" in results else "n/a",
            f"<= {TARGET_IMPORT_MS:g} ms", _verdict(max(a["added_ms"], a["importtime_ms"]) <= TARGET_IMPORT_MS),
        ])
        rows.append([
            "import + first fluent name (`import autotrack; autotrack.log_metric`: loads tracking, SQLAlchemy), ms added",
            f"{a['first_use_ms']:.0f} ms", ml("ml_import", lambda r: f"{r['added_ms']:,.0f} ms (import mlflow)"),
            f"{a['first_use_ms'] / results['ml_import']['added_ms']:.3f}" if "ml_import" in results else "n/a", "(reference)", "-",
        ])

    print()
    print(f"date: {machine['date']}; cpu: {machine['cpu']}; {machine['python']}; MLflow: {machine.get('mlflow', mlflow_note)}; "
          f"load average (1/5/15 min) at start: {machine['load']}, at end: {_machine()['load']}")
    print(_table(rows))
    return 0 if all(r[-1] != "FAIL" for r in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
