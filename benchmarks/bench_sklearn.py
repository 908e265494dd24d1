"""scikit-learn autologging overhead: N ``LogisticRegression`` fits on 500x10, autotrack vs unpatched
(and MLflow's ``mlflow.sklearn.autolog`` when ``import mlflow`` works), SQLite store for both.

For each of ``log_models=False`` and ``log_models=True``:

- *added per fit* is the median of the patched fit times minus the median of the unpatched ones.
  Patched and unpatched fits alternate (autologging is paused through the integration's ``active``
  flag, which turns every patch into a pass-through), so machine load drifts hit both alike;
- *sweep* is the wall time of all patched fits plus the final flush (metrics, params, tags written
  to the store; background artifact files written), divided by the number of fits for "end to end".

With ``log_models=False`` the script also times the run lifecycle alone (the engine creating and
ending a run per fit, with the scikit-learn logging switched off), to show which part of the added
time is whose.

Targets (issue 5): added per fit <= 2 ms with ``log_models=False``; end to end <= 30 ms per fit with
``log_models=True``; the ``log_models=False`` sweep at most 5% of MLflow's. Exits 1 when a target is
missed.

    python benchmarks/bench_sklearn.py [--fits 200] [--mlflow-fits 20] [--skip-mlflow]
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import sys
import tempfile
import time
import warnings

TARGET_ADDED_MS = 2.0
TARGET_MODEL_MS = 30.0
TARGET_MLFLOW_RATIO = 0.05


def _data():
    from sklearn.datasets import make_classification

    return make_classification(n_samples=500, n_features=10, random_state=0)


def _fit_times(fits: int, toggle, X, y) -> tuple[list[float], list[float], float]:
    """``(unpatched times, patched times, patched total)`` of alternating fits, in seconds."""
    from sklearn.linear_model import LogisticRegression

    plain, patched = [], []
    total = 0.0
    for _ in range(fits):
        toggle(False)
        start = time.perf_counter()
        LogisticRegression().fit(X, y)
        plain.append(time.perf_counter() - start)
        toggle(True)
        start = time.perf_counter()
        LogisticRegression().fit(X, y)
        elapsed = time.perf_counter() - start
        patched.append(elapsed)
        total += elapsed
    return plain, patched, total


def run_autotrack(fits: int, log_models: bool, folder: str) -> dict[str, float]:
    os.environ["AUTOTRACK_TRACKING_URI"] = f"sqlite:///{folder}/autotrack.db"
    os.environ["AUTOTRACK_ARTIFACT_ROOT"] = os.path.join(folder, "artifacts")
    os.environ["AUTOTRACK_SPOOL_DIR"] = os.path.join(folder, "spool")
    import autotrack
    import autotrack.sklearn
    from autotrack.core import state

    X, y = _data()
    autotrack.set_tracking_uri(os.environ["AUTOTRACK_TRACKING_URI"])
    autotrack.sklearn.autolog(log_models=log_models, silent=False)
    integration = state("sklearn")

    def toggle(on: bool) -> None:
        integration.active = on

    _fit_times(5, toggle, X, y)  # warm-up: imports, first run, store tables
    autotrack.flush()
    autotrack.sklearn.wait_for_artifacts()
    plain, patched, total = _fit_times(fits, toggle, X, y)
    start = time.perf_counter()
    autotrack.flush()
    autotrack.sklearn.wait_for_artifacts()
    total += time.perf_counter() - start
    runs = autotrack.search_runs(output_format="list", max_results=100_000)
    assert len(runs) == fits + 5, f"expected {fits + 5} runs, found {len(runs)}"
    summary = _summary(plain, patched, total, fits)
    if not log_models:
        summary["engine_ms"] = _engine_floor(fits, toggle, X, y)
    autotrack.autolog(disable=True)
    return summary


def _engine_floor(fits: int, toggle, X, y) -> float:
    """Added ms per fit of the run lifecycle alone (create, end: the engine's and store's part),
    measured with the sklearn logging and the after-fit handlers switched off."""
    from autotrack.integrations.sklearn import autolog as sk_autolog, logging_parts

    original, handlers = logging_parts.log_training, list(sk_autolog._after_fit_handlers)
    logging_parts.log_training = lambda *args, **kwargs: None
    sk_autolog._after_fit_handlers.clear()
    try:
        plain, patched, _ = _fit_times(fits, toggle, X, y)
    finally:
        logging_parts.log_training = original
        sk_autolog._after_fit_handlers.extend(handlers)
    return (statistics.median(patched) - statistics.median(plain)) * 1e3


def run_mlflow(fits: int, log_models: bool, folder: str) -> dict[str, float] | None:
    try:
        import mlflow
        import mlflow.sklearn
    except ImportError:
        return None
    import logging

    logging.getLogger("mlflow").setLevel(logging.ERROR)
    mlflow.set_tracking_uri(f"sqlite:///{folder}/mlflow.db")
    mlflow.set_experiment("bench-sklearn")
    X, y = _data()
    on = {"value": None}

    def toggle(enable: bool) -> None:
        if on["value"] != enable:
            mlflow.sklearn.autolog(disable=not enable, log_models=log_models, silent=True)
            on["value"] = enable

    # MLflow has no cheap pause switch: enable/disable cost is paid outside the timed fits.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        _fit_times(2, toggle, X, y)
        plain, patched, total = _fit_times(fits, toggle, X, y)
    toggle(False)
    return _summary(plain, patched, total, fits)


def _summary(plain: list[float], patched: list[float], total: float, fits: int) -> dict[str, float]:
    unpatched_ms = statistics.median(plain) * 1e3
    patched_ms = statistics.median(patched) * 1e3
    return {"fits": fits, "unpatched_ms": unpatched_ms, "patched_ms": patched_ms,
            "added_ms": patched_ms - unpatched_ms, "sweep_s": total, "per_fit_e2e_ms": total / fits * 1e3}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--fits", type=int, default=200)
    parser.add_argument("--mlflow-fits", type=int, default=20,
                        help="fits timed for MLflow (it takes seconds per fit with log_models=True)")
    parser.add_argument("--skip-mlflow", action="store_true")
    parser.add_argument("--keep", action="store_true", help="keep the temporary folders")
    args = parser.parse_args(argv)
    import sklearn

    print(f"python {sys.version.split()[0]}, scikit-learn {sklearn.__version__}, "
          f"load average {os.getloadavg()[0]:.2f}, {os.cpu_count()} cpus")
    rows = []
    ok = True
    for log_models in (False, True):
        folder = tempfile.mkdtemp(prefix="bench-sklearn-")
        try:
            ours = run_autotrack(args.fits, log_models, folder)
            theirs = None if args.skip_mlflow else run_mlflow(args.mlflow_fits, log_models, folder)
        finally:
            if not args.keep:
                shutil.rmtree(folder, ignore_errors=True)
        rows.append((log_models, ours, theirs))
    print()
    print(f"| log_models | tool | fits | unpatched median ms | patched median ms | added ms/fit | "
          f"sweep incl. flush s | end-to-end ms/fit |")
    print("| --- | --- | --- | --- | --- | --- | --- | --- |")
    for log_models, ours, theirs in rows:
        for tool, r in (("autotrack", ours), ("mlflow", theirs)):
            if r is None:
                print(f"| {log_models} | {tool} | MLflow not installed | | | | | |")
                continue
            print(f"| {log_models} | {tool} | {r['fits']} | {r['unpatched_ms']:.2f} | {r['patched_ms']:.2f} | "
                  f"{r['added_ms']:.2f} | {r['sweep_s']:.2f} | {r['per_fit_e2e_ms']:.2f} |")
    print()
    (_, off, off_mlflow), (_, on, _) = rows
    print(f"log_models=False breakdown: run lifecycle alone (create + end, nothing logged) "
          f"{off['engine_ms']:.2f} ms/fit; sklearn logging on top {off['added_ms'] - off['engine_ms']:.2f} ms/fit")
    print()
    checks = [(f"log_models=False: added {off['added_ms']:.2f} ms/fit <= {TARGET_ADDED_MS} ms",
               off["added_ms"] <= TARGET_ADDED_MS),
              (f"log_models=True: {on['per_fit_e2e_ms']:.2f} ms/fit end to end <= {TARGET_MODEL_MS} ms",
               on["per_fit_e2e_ms"] <= TARGET_MODEL_MS)]
    if off_mlflow is not None:
        ratio = off["per_fit_e2e_ms"] / off_mlflow["per_fit_e2e_ms"]
        checks.append((f"log_models=False sweep per fit: {ratio:.1%} of MLflow's <= {TARGET_MLFLOW_RATIO:.0%}",
                       ratio <= TARGET_MLFLOW_RATIO))
    for text, passed in checks:
        print(("PASS " if passed else "MISS ") + text)
        ok = ok and passed
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
