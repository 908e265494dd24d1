"""Patching-engine benchmarks (issue 3). Prints a table; compares to MLflow when it is importable.

    python benchmarks/bench_patching.py [--runs 15]

Targets:
  * a patched call whose integration is disabled at run time costs <= 1 us more than unpatched;
  * ``python -c "import autotrack; autotrack.autolog()"`` adds <= 60 ms to interpreter start;
  * with AUTOTRACK_AUTOLOG unset, the .pth line adds <= 1 ms to every Python start-up.
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import site
import statistics
import subprocess
import sys
import tempfile
import time
import timeit
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
PTH = REPO / "autotrack-autolog.pth"
ML_LIBS = ("sklearn", "xgboost", "tensorflow", "torch")


def _per_call_ns(fn, number: int = 200_000, repeat: int = 7) -> float:
    return min(timeit.repeat(fn, number=number, repeat=repeat)) / number * 1e9


def bench_call_overhead() -> list[tuple[str, str, str]]:
    from autotrack.core import patching
    from autotrack.core.integration import COMMON_OPTIONS, AutologConfig

    class Model:
        def fit(self, x):
            return x

    def noop_hook(call):
        yield

    model = Model()
    plain = _per_call_ns(lambda: model.fit(1))
    state = patching.IntegrationState("bench", AutologConfig({**COMMON_OPTIONS}))
    patching.patch(state, Model, "fit", noop_hook, creates_run=False)
    try:
        state.active = False
        disabled = _per_call_ns(lambda: model.fit(1))
        state.active = True
        enabled = _per_call_ns(lambda: model.fit(1), number=50_000)
    finally:
        patching.revert(state)
    return [
        ("unpatched method call", f"{plain:.0f} ns", ""),
        ("patched, integration disabled at run time", f"+{disabled - plain:.0f} ns",
         "target <= 1000 ns: " + ("met" if disabled - plain <= 1000 else "MISSED")),
        ("patched, enabled, no-op hook, no run", f"+{(enabled - plain) / 1000:.1f} us", "informational"),
    ]


def _startup_ms(code: str, runs: int, env: dict[str, str] | None = None) -> float:
    full_env = {k: v for k, v in os.environ.items() if not k.startswith("AUTOTRACK_")}
    full_env.update(env or {})
    samples = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run([sys.executable, "-c", code], env=full_env, check=True, capture_output=True)
        samples.append((time.perf_counter() - start) * 1000)
    return statistics.median(samples)


def bench_startup(runs: int) -> list[tuple[str, str, str]]:
    present = [lib for lib in ML_LIBS if importlib.util.find_spec(lib) is not None]
    base = _startup_ms("pass", runs)
    ours = _startup_ms("import autotrack; autotrack.autolog()", runs)
    rows = [
        ("python -c pass", f"{base:.1f} ms", "baseline"),
        ('python -c "import autotrack; autotrack.autolog()"', f"+{ours - base:.1f} ms",
         "target <= 60 ms: " + ("met" if ours - base <= 60 else "MISSED")
         + f"; installed: {', '.join(present) or 'none'}"),
    ]
    from autotrack.core.cli_run import _startup_hook_installed

    if _startup_hook_installed():
        env_on = _startup_ms("pass", runs, {"AUTOTRACK_AUTOLOG": "1"})
        rows.append(("python -c pass, AUTOTRACK_AUTOLOG=1", f"+{env_on - base:.1f} ms", "informational"))
    else:
        rows.append(("python -c pass, AUTOTRACK_AUTOLOG=1", "n/a",
                     "autotrack-autolog.pth not installed in this environment (reinstall autotrack)"))
    if importlib.util.find_spec("mlflow") is not None:
        theirs = _startup_ms("import mlflow; mlflow.autolog()", max(3, runs // 3))
        rows.append(('MLflow: python -c "import mlflow; mlflow.autolog()"', f"+{theirs - base:.1f} ms",
                     f"autotrack is {max(theirs - base, 1e-9) / max(ours - base, 1e-9):.0f}x less"))
    else:
        rows.append(("MLflow", "n/a", "mlflow is not installed here; not compared"))
    return rows


def bench_pth_line() -> list[tuple[str, str, str]]:
    """Cost of site processing our .pth with AUTOTRACK_AUTOLOG unset: read the file, exec the line."""
    os.environ.pop("AUTOTRACK_AUTOLOG", None)
    line = PTH.read_text().strip()
    code = compile(line, str(PTH), "exec")
    per_exec = _per_call_ns(lambda: exec(code, {}), number=100_000)
    with tempfile.TemporaryDirectory() as tmp:
        Path(tmp, PTH.name).write_text(PTH.read_text())
        samples = []
        for _ in range(2000):
            start = time.perf_counter()
            site.addpackage(tmp, PTH.name, set())  # exactly what site.py does for each .pth file
            samples.append(time.perf_counter() - start)
    whole = statistics.median(samples) * 1e6
    return [
        (".pth line, AUTOTRACK_AUTOLOG unset (exec only)", f"{per_exec / 1000:.2f} us", ""),
        (".pth file processed by site.addpackage", f"{whole:.1f} us",
         "target <= 1000 us: " + ("met" if whole <= 1000 else "MISSED")),
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=15, help="interpreter starts per start-up measurement")
    args = parser.parse_args()
    rows = bench_call_overhead() + bench_pth_line() + bench_startup(args.runs)
    width = max(len(r[0]) for r in rows)
    print(f"{'measurement':<{width}}  {'value':>12}  notes")
    print("-" * (width + 40))
    for name, value, note in rows:
        print(f"{name:<{width}}  {value:>12}  {note}")
    print(f"\npython {sys.version.split()[0]} on {sys.platform}; {os.cpu_count()} CPUs")


if __name__ == "__main__":
    main()
