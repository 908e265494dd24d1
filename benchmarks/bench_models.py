"""Time ``log_model`` of a small scikit-learn model with a signature and an input example.

Target: at most 50 ms per call (median). When MLflow is importable, the same is timed through MLflow
in this process and the ratio printed. Everything is written under a temporary folder.

    python benchmarks/bench_models.py [--runs 20]
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from typing import Callable

TARGET_MS = 50.0


def _data():
    import pandas as pd
    from sklearn.ensemble import RandomForestRegressor

    X = pd.DataFrame({"age": [25, 30, 35, 40, 45], "salary": [50000, 60000, 70000, 80000, 90000]})
    y = pd.Series([52000.0, 61000.0, 73000.0, 79000.0, 95000.0], name="predicted_salary")
    return X, y, RandomForestRegressor(n_estimators=10, random_state=0).fit(X, y)


def _time(fn: Callable[[int], None], runs: int) -> list[float]:
    """Milliseconds per call; the first entry is the cold first call (caches empty), not in the median."""
    times = []
    for i in range(runs + 1):
        start = time.perf_counter()
        fn(i)
        times.append((time.perf_counter() - start) * 1000)
    return times


def bench_autotrack(root: str, runs: int) -> list[float]:
    """Median-able timings (ms) of autotrack.sklearn.log_model inside one run."""
    os.environ["AUTOTRACK_TRACKING_URI"] = f"sqlite:///{root}/autotrack.db"
    os.environ["AUTOTRACK_ARTIFACT_ROOT"] = f"{root}/autotrack-artifacts"
    import autotrack
    import autotrack.sklearn
    from autotrack.models.signature import infer_signature

    X, y, model = _data()
    signature = infer_signature(X, y)
    with autotrack.start_run():
        return _time(lambda i: autotrack.sklearn.log_model(model, f"model-{i}", signature=signature,
                                                           input_example=X.head(3)), runs)


def bench_mlflow(root: str, runs: int) -> list[float] | None:
    """The same through MLflow, or None when MLflow is not installed."""
    try:
        import mlflow
        import mlflow.sklearn
        from mlflow.models import infer_signature
    except ImportError:
        return None
    mlflow.set_tracking_uri(f"sqlite:///{root}/mlflow.db")
    X, y, model = _data()
    signature = infer_signature(X, y)
    # MLflow 3.x defaults to skops, which refuses tree models unless their types are listed as
    # trusted; cloudpickle is the format autotrack uses and MLflow's long-standing default.
    import inspect

    extra = {"serialization_format": "cloudpickle"} if "serialization_format" in inspect.signature(mlflow.sklearn.log_model).parameters else {}
    with mlflow.start_run():
        return _time(lambda i: mlflow.sklearn.log_model(model, name=f"model-{i}", signature=signature,
                                                        input_example=X.head(3), **extra), runs)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=20, help="timed calls per library (default 20)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-models-") as root:
        ours = bench_autotrack(root, args.runs)
        theirs = bench_mlflow(root, args.runs)
    rows = [("autotrack", ours)] + ([("mlflow", theirs)] if theirs is not None else [])
    print(f"log_model of a small scikit-learn model, signature + input example, {args.runs} calls")
    print(f"{'library':<10} {'median ms':>10} {'p90 ms':>10} {'min ms':>10} {'first call ms':>14}")
    for name, (first, *times) in rows:
        p90 = sorted(times)[int(0.9 * (len(times) - 1))]
        print(f"{name:<10} {statistics.median(times):>10.1f} {p90:>10.1f} {min(times):>10.1f} {first:>14.1f}")
    median = statistics.median(ours[1:])
    verdict = "meets" if median <= TARGET_MS else "MISSES"
    print(f"autotrack {verdict} the target of {TARGET_MS:.0f} ms (median {median:.1f} ms)")
    if theirs is None:
        print("mlflow: not installed, no comparison")
    else:
        print(f"mlflow / autotrack (median): {statistics.median(theirs[1:]) / median:.1f}x")


if __name__ == "__main__":
    main()
