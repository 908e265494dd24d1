"""Benchmark: ``autotrack import mlflow`` of a large MLflow SQLite database, against MLflow's own client.

Builds an MLflow tracking database of ``--runs`` runs x ``--metrics`` metric keys x ``--steps`` steps
(default 1,000 x 10 x 1,000 = 10,000,000 metric points, plus 5 params and 2 tags per run): the
schema is made by MLflow itself (``MlflowClient.create_experiment``, which runs MLflow's migrations),
the rows are inserted with direct SQL into that schema (MLflow's client would take hours).

Then it times, each in a fresh process as a user runs it:

1. ``autotrack import mlflow --from sqlite:///mlflow.db --to sqlite:///autotrack.db`` (target: 200,000
   points/s or more);
2. the same command again (idempotent: it must add nothing);
3. MLflow's equivalent for a sample of ``--mlflow-runs`` runs: copying them with ``MlflowClient``
   (``get_metric_history`` per key, ``log_batch`` of 1,000) into a second MLflow database.

Prints a table; exit status 1 when the import rate is under the target or the second import wrote rows.

    python benchmarks/bench_import_mlflow.py [--runs 1000 --metrics 10 --steps 1000 --mlflow-runs 5]
"""

from __future__ import annotations

import argparse
import os
import platform
import random
import sqlite3
import subprocess
import sys
import tempfile
import textwrap
import time
import uuid

TARGET_POINTS_PER_S = 200_000
_ENV = {**os.environ, "MLFLOW_DISABLE_TELEMETRY": "true", "DO_NOT_TRACK": "1", "AUTOTRACK_TRACKING_URI": ""}


def _run(args: list[str], **kw) -> tuple[float, str]:
    start = time.perf_counter()
    result = subprocess.run(args, capture_output=True, text=True, env=_ENV, **kw)
    elapsed = time.perf_counter() - start
    if result.returncode != 0:
        sys.exit(f"failed: {' '.join(args)}\n{result.stdout}\n{result.stderr}")
    return elapsed, result.stdout


def build_source(path: str, runs: int, metrics: int, steps: int) -> tuple[float, float]:
    """Make the MLflow database; return (seconds for MLflow's schema, seconds for the rows)."""
    schema_s, out = _run([sys.executable, "-c", textwrap.dedent("""
        import sys
        from mlflow import MlflowClient
        print(MlflowClient(tracking_uri=sys.argv[1]).create_experiment("bench", artifact_location="/mlflow/artifacts/bench"))
    """), f"sqlite:///{path}"])
    experiment_id = int(out.strip())
    start = time.perf_counter()
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA journal_mode=OFF")
    conn.execute("PRAGMA synchronous=OFF")
    rng = random.Random(0)
    keys = [f"metric_{k}" for k in range(metrics)]
    base = 1_700_000_000_000
    with conn:
        run_ids = [uuid.UUID(int=rng.getrandbits(128), version=4).hex for _ in range(runs)]
        conn.executemany(
            "INSERT INTO runs (run_uuid, name, source_type, source_name, entry_point_name, user_id, status, start_time, end_time,"
            " source_version, lifecycle_stage, artifact_uri, experiment_id) VALUES (?, ?, 'LOCAL', '', '', 'bench', 'FINISHED', ?, ?, '', 'active', ?, ?)",
            [(r, f"run-{i}", base + i * 10_000, base + i * 10_000 + 9_000, f"/mlflow/artifacts/bench/{r}/artifacts", experiment_id) for i, r in enumerate(run_ids)],
        )
        conn.executemany("INSERT INTO tags (key, value, run_uuid) VALUES (?, ?, ?)",
                         [(k, v, r) for i, r in enumerate(run_ids) for k, v in (("mlflow.runName", f"run-{i}"), ("mlflow.user", "bench"))])
        conn.executemany("INSERT INTO params (key, value, run_uuid) VALUES (?, ?, ?)",
                         [(f"param_{p}", str(rng.random()), r) for r in run_ids for p in range(5)])
        latest = []
        for i, r in enumerate(run_ids):
            ts = base + i * 10_000
            rows = [(k, rng.random(), ts + s, s, 0, r) for k in keys for s in range(steps)]
            conn.executemany("INSERT INTO metrics (key, value, timestamp, step, is_nan, run_uuid) VALUES (?, ?, ?, ?, ?, ?)", rows)
            latest += [row for row in rows if row[3] == steps - 1]
        conn.executemany("INSERT INTO latest_metrics (key, value, timestamp, step, is_nan, run_uuid) VALUES (?, ?, ?, ?, ?, ?)", latest)
    conn.close()
    return schema_s, time.perf_counter() - start


def mlflow_copy(source: str, dest: str, sample: int) -> tuple[float, int]:
    """Copy ``sample`` runs with MLflow's client; return (seconds, points copied)."""
    _, out = _run([sys.executable, "-c", textwrap.dedent("""
        import sys, time
        from mlflow import MlflowClient
        from mlflow.entities import Metric, Param, RunTag
        src, dst = MlflowClient(tracking_uri=sys.argv[1]), MlflowClient(tracking_uri=sys.argv[2])
        exp = src.get_experiment_by_name("bench")
        runs = src.search_runs([exp.experiment_id], max_results=int(sys.argv[3]))
        eid = dst.create_experiment("bench")
        start, points = time.perf_counter(), 0
        for run in runs:
            new = dst.create_run(eid, start_time=run.info.start_time, tags=run.data.tags)
            dst.log_batch(new.info.run_id, params=[Param(k, v) for k, v in run.data.params.items()])
            for key in run.data.metrics:
                history = src.get_metric_history(run.info.run_id, key)
                for i in range(0, len(history), 1000):
                    dst.log_batch(new.info.run_id, metrics=history[i:i + 1000])
                points += len(history)
            dst.set_terminated(new.info.run_id, run.info.status, run.info.end_time)
        print(time.perf_counter() - start, points)
    """), source, dest, str(sample)])
    seconds, points = out.split()
    return float(seconds), int(points)


def _count(path: str, table: str) -> int:
    conn = sqlite3.connect(path)
    try:
        return conn.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0]
    finally:
        conn.close()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=1000)
    parser.add_argument("--metrics", type=int, default=10)
    parser.add_argument("--steps", type=int, default=1000)
    parser.add_argument("--mlflow-runs", type=int, default=5, help="runs MLflow's client copies (its rate is per point)")
    parser.add_argument("--workdir", help="keep the databases here [default: a temporary folder]")
    args = parser.parse_args()
    points = args.runs * args.metrics * args.steps
    workdir = args.workdir or tempfile.mkdtemp(prefix="bench-import-")
    os.makedirs(workdir, exist_ok=True)
    source, target = os.path.join(workdir, "mlflow.db"), os.path.join(workdir, "autotrack.db")
    for path in (source, target, os.path.join(workdir, "mlflow-copy.db")):
        for suffix in ("", "-wal", "-shm", ".migrate-lock"):
            if os.path.exists(path + suffix):
                os.remove(path + suffix)
    print(f"building {args.runs:,} runs x {args.metrics} metrics x {args.steps:,} steps = {points:,} points in {source}", flush=True)
    schema_s, rows_s = build_source(source, args.runs, args.metrics, args.steps)
    print(f"  MLflow schema {schema_s:.1f} s, rows {rows_s:.1f} s", flush=True)

    command = [sys.executable, "-c", "from autotrack.cli import main; main()", "import", "mlflow", "--no-progress",
               "--from", f"sqlite:///{source}", "--to", f"sqlite:///{target}"]
    first_s, first_out = _run(command)
    imported = _count(target, "metrics")
    second_s, second_out = _run(command)
    after = _count(target, "metrics")
    mlflow_s, mlflow_points = mlflow_copy(f"sqlite:///{source}", f"sqlite:///{os.path.join(workdir, 'mlflow-copy.db')}", args.mlflow_runs)

    rate = imported / first_s
    mlflow_rate = mlflow_points / mlflow_s
    rows = [
        ("autotrack import mlflow (new process, end to end)", f"{imported:,}", f"{first_s:.1f}", f"{rate:,.0f}"),
        ("same command again (idempotent: adds nothing)", f"{after - imported:,}", f"{second_s:.1f}", "–"),
        (f"MLflow client copy of {args.mlflow_runs} runs (get_metric_history + log_batch)", f"{mlflow_points:,}", f"{mlflow_s:.1f}", f"{mlflow_rate:,.0f}"),
    ]
    print(f"\nmachine: {platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, Python {platform.python_version()}; "
          f"load average {os.getloadavg()[0]:.1f}")
    print("| workload | points | seconds | points/s |\n|---|---|---|---|")
    for row in rows:
        print("| " + " | ".join(row) + " |")
    print(f"\nautotrack / MLflow: {rate / mlflow_rate:,.0f}x; target >= {TARGET_POINTS_PER_S:,} points/s: "
          f"{'PASS' if rate >= TARGET_POINTS_PER_S else 'FAIL'}")
    print("first import said: " + first_out.strip().splitlines()[0])
    print("second import said: " + second_out.strip().splitlines()[0])
    ok = imported == points and after == imported and rate >= TARGET_POINTS_PER_S
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
