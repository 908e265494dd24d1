"""Scoring-server throughput: single-row ``dataframe_records`` requests from concurrent client processes.

One 20-tree random forest is saved once with MLflow (``mlflow.sklearn.save_model``, cloudpickle) and
once with autotrack (``autotrack.sklearn.save_model``); ``autotrack models serve`` serves both folders
(autotrack reads MLflow's format) and ``mlflow models serve --env-manager local`` serves MLflow's, each
with the same number of uvicorn workers. Each client process keeps one HTTP/1.1 connection open
(``http.client``, the lightest client in the standard library, so the clients take as little CPU from
the servers as possible) and sends requests back to back for ``--seconds``; requests/s counts
successful answers, latencies are per request. The CPU time the server processes use per request is
printed too: on a machine busy with other work, requests/s and latencies follow the scheduler as much
as the server, while CPU per request does not.

    python benchmarks/bench_serving.py [--clients 4] [--workers 1] [--seconds 20] [--rounds 5] [--trees 20]
"""

from __future__ import annotations

import argparse
import http.client
import json
import multiprocessing as mp
import os
import platform
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_ready(port: int, proc: subprocess.Popen, timeout: float = 180.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited with status {proc.returncode}")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/ping", timeout=2) as r:
                if r.status == 200:
                    return
        except OSError:
            time.sleep(0.3)
    raise RuntimeError(f"server on port {port} not ready after {timeout} s")


def client(port: int, body: bytes, seconds: float, ready, go, out) -> None:
    """Once ``go`` is set, send ``body`` back to back for ``seconds``; put (latencies, errors) on ``out``."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    headers = {"Content-Type": "application/json"}
    conn.request("POST", "/invocations", body, headers)  # connect and warm up before the clock starts
    conn.getresponse().read()
    latencies, errors = [], 0
    ready.put(True)
    go.wait()
    end = time.perf_counter() + seconds
    while True:
        t0 = time.perf_counter()
        if t0 > end:
            break
        conn.request("POST", "/invocations", body, headers)
        response = conn.getresponse()
        payload = response.read()
        t1 = time.perf_counter()
        if response.status == 200 and payload.startswith(b'{"predictions"'):
            latencies.append(t1 - t0)
        else:
            errors += 1
    conn.close()
    out.put((latencies, errors))


def load_test(port: int, body: bytes, clients: int, seconds: float) -> dict:
    """``clients`` processes hammering ``port`` at once for ``seconds``."""
    ctx = mp.get_context("spawn")
    ready, go, out = ctx.Queue(), ctx.Event(), ctx.Queue()
    procs = [ctx.Process(target=client, args=(port, body, seconds, ready, go, out)) for _ in range(clients)]
    for p in procs:
        p.start()
    for _ in procs:
        ready.get(timeout=120)
    go.set()
    results = [out.get(timeout=seconds + 120) for _ in procs]
    for p in procs:
        p.join()
    latencies = [x for lat, _ in results for x in lat]
    return {"requests": len(latencies), "errors": sum(e for _, e in results), "latencies": latencies}


def percentile(sorted_latencies: list[float], q: float) -> float:
    """The q-quantile of sorted latencies in seconds, in milliseconds."""
    n = len(sorted_latencies)
    return sorted_latencies[min(n - 1, int(q * n))] * 1000 if n else float("nan")


def serve(cmd: list[str], port: int, env: dict) -> subprocess.Popen:
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        wait_ready(port, proc)
    except Exception:
        proc.kill()
        raise RuntimeError(f"{' '.join(cmd)} failed to start: {proc.stderr.read()[-2000:]}") from None
    return proc


def cpu_seconds(proc: subprocess.Popen) -> float:
    """CPU time (user + system) used so far by the server and its worker processes."""
    import psutil

    try:
        root = psutil.Process(proc.pid)
        total = 0.0
        for p in [root, *root.children(recursive=True)]:
            try:
                t = p.cpu_times()
                total += t.user + t.system
            except psutil.NoSuchProcess:
                pass
        return total
    except psutil.NoSuchProcess:
        return 0.0


def stop(proc: subprocess.Popen) -> None:
    proc.terminate()
    try:
        proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def http_impl() -> str:
    """What uvicorn's ``http="auto"`` picks here (both servers run on the same uvicorn)."""
    try:
        import httptools  # noqa: F401

        return "httptools"
    except ImportError:
        return "h11 (httptools is not installed)"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--workers", type=int, default=1, help="uvicorn workers, the same for both servers")
    parser.add_argument("--seconds", type=float, default=20.0, help="measured seconds per server, all turns together")
    parser.add_argument("--trees", type=int, default=20)
    parser.add_argument("--rounds", type=int, default=5, help="turns per server, interleaved")
    parser.add_argument("--no-mlflow", action="store_true", help="measure autotrack only")
    args = parser.parse_args()

    load_before = " ".join(f"{x:.1f}" for x in os.getloadavg())
    import numpy as np
    import pandas as pd
    from sklearn.ensemble import RandomForestClassifier

    import autotrack.sklearn

    rng = np.random.default_rng(0)
    columns = [f"f{i}" for i in range(8)]
    X = pd.DataFrame(rng.normal(size=(1000, len(columns))), columns=columns)
    y = (X["f0"] + X["f1"] > 0).astype(int)
    model = RandomForestClassifier(n_estimators=args.trees, random_state=0).fit(X, y)
    row = {c: float(X[c].iloc[0]) for c in columns}
    body = json.dumps({"dataframe_records": [row]}).encode()

    tmp = tempfile.mkdtemp(prefix="bench-serving-")
    at_folder, mlflow_folder = os.path.join(tmp, "autotrack-model"), os.path.join(tmp, "mlflow-model")
    autotrack.sklearn.save_model(model, at_folder, input_example=X.iloc[:5])
    have_mlflow = False
    if not args.no_mlflow:
        try:
            import mlflow.sklearn
            from mlflow.models import infer_signature

            mlflow.sklearn.save_model(model, mlflow_folder, serialization_format="cloudpickle",
                                      signature=infer_signature(X, model.predict(X)))
            have_mlflow = True
        except ImportError:
            print("mlflow is not installed: measuring autotrack only")

    env = {k: v for k, v in os.environ.items() if not k.startswith(("AUTOTRACK_", "MLFLOW_"))}
    servers = [("autotrack (its own model folder)",
                [sys.executable, "-m", "autotrack.cli", "models", "serve", "-m", at_folder, "--log-level", "warning"])]
    if have_mlflow:
        servers.append(("autotrack (MLflow's model folder)",
                        [sys.executable, "-m", "autotrack.cli", "models", "serve", "-m", mlflow_folder, "--log-level", "warning"]))
        servers.append(("mlflow models serve --env-manager local",
                        [sys.executable, "-m", "mlflow", "models", "serve", "-m", mlflow_folder, "--env-manager", "local"]))
    # All servers run at once (an idle one costs nothing) and are measured in turns, `--rounds` times
    # each, so that a change in the machine's load during the run hits every server alike.
    started = []
    totals = {name: {"requests": 0, "errors": 0, "latencies": []} for name, _ in servers}
    try:
        for name, cmd in servers:
            port = free_port()
            started.append((name, port, serve(cmd + ["--workers", str(args.workers), "--port", str(port)], port, env)))
        for _ in range(args.rounds):
            for name, port, _proc in started:
                cpu_before = cpu_seconds(_proc)
                result = load_test(port, body, args.clients, args.seconds / args.rounds)
                totals[name]["cpu"] = totals[name].get("cpu", 0.0) + cpu_seconds(_proc) - cpu_before
                totals[name]["requests"] += result["requests"]
                totals[name]["errors"] += result["errors"]
                totals[name]["latencies"].extend(result["latencies"])
    finally:
        for _name, _port, proc in started:
            stop(proc)
        shutil.rmtree(tmp, ignore_errors=True)

    print(f"\nScoring server, single-row dataframe_records, {args.trees}-tree random forest, "
          f"{args.clients} client processes, {args.workers} uvicorn worker(s) per server, "
          f"{args.seconds:.0f} s each in {args.rounds} turns")
    print(f"machine: {platform.machine()}, {os.cpu_count()} CPUs, Python {platform.python_version()}, "
          f"{platform.system()} {platform.release()}, load average before: {load_before}")
    print(f"HTTP implementation in uvicorn: {http_impl()}")
    header = (f"{'server':<42} {'requests/s':>11} {'p50 ms':>8} {'p99 ms':>8} {'errors':>7} "
              f"{'server CPU ms/request':>22}")
    print(header)
    print("-" * len(header))
    rps, cpu = {}, {}
    for name, t in totals.items():
        lat = sorted(t["latencies"])
        rps[name] = t["requests"] / args.seconds
        cpu[name] = t.get("cpu", 0.0) / max(t["requests"], 1) * 1000
        print(f"{name:<42} {rps[name]:>11.0f} {percentile(lat, 0.50):>8.2f} {percentile(lat, 0.99):>8.2f} "
              f"{t['errors']:>7} {cpu[name]:>22.2f}")
    if have_mlflow:
        base = servers[-1][0]
        for name, _ in servers[:-1]:
            print(f"{name}: {rps[name] / rps[base]:.2f}x MLflow's requests/s (target: at least 3x); "
                  f"{cpu[base] / cpu[name]:.2f}x fewer server CPU seconds per request")

if __name__ == "__main__":
    main()
