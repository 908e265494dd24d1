"""Subprocess tests: import orderings, the .pth start-up hook from a real wheel install, `autotrack run`,
worker processes, and that nothing imports a target library on autotrack's behalf."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import sysconfig
import textwrap
from pathlib import Path

import pytest

from conftest import run_python, write_fake_site

REPO = Path(__file__).resolve().parents[2]
TARGET_LIBS = ("sklearn", "xgboost", "tensorflow", "keras", "torch", "numpy", "pandas", "fakeml")

# Prints, as JSON: whether fakeml.Estimator.fit is patched, and the runs recorded (status, tag).
REPORT = """
import json, sys
import autotrack
autotrack.flush()
patched = type(sys.modules["fakeml"].Estimator.__dict__["fit"]).__name__ == "AutotrackFunctionWrapper"
runs = autotrack.search_runs(experiment_ids=["0"], output_format="list")
print("REPORT" + json.dumps({"patched": patched,
      "runs": sorted([r.info.status, r.data.tags.get("autotrack.autologging")] for r in runs)}))
"""


def _report(result: subprocess.CompletedProcess) -> dict:
    assert result.returncode == 0, result.stderr
    line = [l for l in result.stdout.splitlines() if l.startswith("REPORT")][-1]
    return json.loads(line[len("REPORT"):])


@pytest.fixture
def sub_env(tmp_path):
    site = write_fake_site(tmp_path)
    return {
        "PYTHONPATH": os.pathsep.join([str(site), str(Path(__file__).parent)]),
        "AUTOTRACK_TRACKING_URI": f"sqlite:///{tmp_path}/sub.db",
        "AUTOTRACK_ARTIFACT_ROOT": str(tmp_path / "artifacts"),
        "AUTOTRACK_SPOOL_DIR": str(tmp_path / "spool"),
        "AUTOTRACK_STRICT": "1",
    }


ORDERINGS = {
    "import then autolog": ("import fakeml; import autotrack; autotrack.autolog()", True),
    "autolog then import": ("import autotrack; autotrack.autolog(); import fakeml", True),
    "autolog twice": ("import autotrack; autotrack.autolog(); import fakeml; autotrack.autolog()", True),
    "disable then enable": ("import autotrack; autotrack.autolog(); import fakeml; "
                            "autotrack.autolog(disable=True); autotrack.autolog()", True),
    "disable before import": ("import autotrack; autotrack.autolog(); autotrack.autolog(disable=True); import fakeml",
                              False),
    "enable after disable before import": ("import autotrack; autotrack.autolog(disable=True); autotrack.autolog(); "
                                           "import fakeml", True),
}


@pytest.mark.parametrize("ordering", sorted(ORDERINGS))
def test_import_orderings(ordering, sub_env):
    setup, expect_patched = ORDERINGS[ordering]
    code = setup + "\nimport fakeml\nfakeml.Estimator().fit([1])\nfakeml.Pipeline([fakeml.Estimator()]).fit([2])\n" + REPORT
    report = _report(run_python(code, env=sub_env))
    assert report["patched"] is expect_patched
    assert report["runs"] == ([["FINISHED", "fakeml"]] * 2 if expect_patched else [])


def test_broken_integration_never_breaks_import(sub_env, tmp_path):
    # An integration whose apply raises, in a lenient (user) setting and in strict mode.
    code = """
    import fakeml_autotrack, autotrack
    fakeml_autotrack.FAIL_APPLY = True
    autotrack.autolog()
    import fakeml
    import fakeml.extra
    assert fakeml.Estimator().fit([1]).fitted
    print("IMPORT-OK")
    """
    for strict in ("0", "1"):
        result = run_python(code, env={**sub_env, "AUTOTRACK_STRICT": strict})
        assert result.returncode == 0, result.stderr
        assert "IMPORT-OK" in result.stdout and "apply is broken" in result.stderr


def test_broken_integration_module_never_breaks_autolog_or_import(tmp_path):
    site = write_fake_site(tmp_path, integration="raise ImportError('integration module is broken')\n")
    code = """
    import autotrack
    autotrack.autolog()
    import fakeml
    print("IMPORT-OK", type(fakeml.Estimator.__dict__["fit"]).__name__)
    """
    result = run_python(code, env={"PYTHONPATH": str(site), "AUTOTRACK_STRICT": "0"})
    assert result.returncode == 0, result.stderr
    assert "IMPORT-OK function" in result.stdout and "integration module is broken" in result.stderr


def test_autolog_imports_no_target_library_and_nothing_heavy():
    code = """
    import sys, autotrack
    autotrack.autolog()
    heavy = ("sklearn", "xgboost", "tensorflow", "keras", "torch", "numpy", "pandas", "sqlalchemy", "wrapt")
    print(sorted(m for m in sys.modules if m.split(".")[0] in heavy))
    """
    result = run_python(code)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"


def test_every_integration_module_imports_no_target_library(tmp_path):
    # Every built-in present in this build, plus a third party registered by entry point.
    site = write_fake_site(tmp_path)
    code = f"""
    import sys
    from autotrack.core import registry
    present = registry.available()
    assert "fakeml" in present, present
    for name in present:
        cls = registry.load(name)
        assert cls is not None and cls.name == name, name
    print(sorted(m for m in sys.modules if m.split(".")[0] in {TARGET_LIBS!r}))
    """
    result = run_python(code, env={"PYTHONPATH": str(site)})
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"


def test_import_autotrack_auto(sub_env):
    code = "import autotrack.auto\nimport fakeml\nfakeml.Estimator().fit([1])\n" + REPORT
    assert _report(run_python(code, env=sub_env)) == {"patched": True, "runs": [["FINISHED", "fakeml"]]}
    bad = run_python("import autotrack.auto", env={**sub_env, "AUTOTRACK_AUTOLOG": "nosuchlib"})
    assert bad.returncode != 0 and "AUTOTRACK_AUTOLOG: unknown integration 'nosuchlib'" in bad.stderr


# ------------------------------------------------------------------ the .pth path, from a real wheel install
@pytest.fixture(scope="module")
def installed_venv(tmp_path_factory):
    """A fresh virtual environment with autotrack installed from a freshly built wheel (not editable).

    Runtime dependencies are borrowed from the test interpreter's site-packages through a plain path
    line, so nothing is downloaded; the editable install there is not activated (its .pth is not read).
    """
    root = tmp_path_factory.mktemp("wheel_install")
    wheels = root / "wheels"
    build = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(wheels), str(REPO)],
                           capture_output=True, text=True, timeout=600)
    if build.returncode != 0:
        pytest.skip(f"cannot build the wheel here: {build.stderr[-500:]}")
    venv = root / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True, timeout=120)
    python = venv / "bin" / "python"
    (wheel,) = wheels.glob("autotrack-*.whl")
    subprocess.run([sys.executable, "-m", "pip", "--python", str(python), "install", "--no-deps", "-q", str(wheel)],
                   check=True, timeout=600, capture_output=True)
    purelib = subprocess.run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                             capture_output=True, text=True, check=True).stdout.strip()
    assert (Path(purelib) / "autotrack-autolog.pth").exists(), "the wheel did not install the .pth file"
    # every site-packages folder the test interpreter sees (its own, and any a path line of its adds)
    borrowed = [sysconfig.get_paths()["purelib"]] + [p for p in sys.path if p.endswith("site-packages") and os.path.isdir(p)]
    Path(purelib, "zz_test_deps.pth").write_text("\n".join(dict.fromkeys(borrowed)) + "\n")
    return python


def test_pth_with_variable_unset_loads_nothing(installed_venv, sub_env):
    code = f"""
    import sys
    print(sorted(m for m in sys.modules if m.split(".")[0] in {("autotrack",) + TARGET_LIBS!r}))
    """
    result = run_python(code, python=str(installed_venv), env=sub_env)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"


def test_pth_with_variable_set_patches_on_import(installed_venv, sub_env):
    check = "import autotrack, sys; assert autotrack.__file__.startswith(sys.prefix), autotrack.__file__\n"
    code = check + "import fakeml\nfakeml.Estimator().fit([1])\n" + REPORT
    for value in ("1", "true", "all", "fakeml", "fakeml,sklearn"):
        report = _report(run_python(code, python=str(installed_venv), env={**sub_env, "AUTOTRACK_AUTOLOG": value}))
        assert report["patched"] is True, value
    off = _report(run_python(code, python=str(installed_venv),
                             env={**sub_env, "AUTOTRACK_AUTOLOG": "1", "AUTOTRACK_DISABLED_INTEGRATIONS": "fakeml"}))
    assert off["patched"] is False


def test_pth_with_a_bad_value_reports_and_runs_the_program(installed_venv, sub_env):
    result = run_python("print('PROGRAM-RAN')", python=str(installed_venv),
                        env={**sub_env, "AUTOTRACK_AUTOLOG": "skleran"})
    assert result.returncode == 0
    assert "PROGRAM-RAN" in result.stdout
    assert "AUTOTRACK_AUTOLOG: unknown integration 'skleran'" in result.stderr


def test_environment_then_arguments_precedence(installed_venv, sub_env):
    # Environment turns fakeml on; the program's own autolog() arguments then reconfigure it.
    code = """
    import autotrack, fakeml
    from autotrack.core import armed
    assert armed()["fakeml"].log_models is True
    autotrack.autolog(log_models=False, extra_tags={"from": "code"})
    assert armed()["fakeml"].log_models is False
    fakeml.Estimator().fit([1])
    autotrack.flush()
    (run,) = autotrack.search_runs(experiment_ids=["0"], output_format="list")
    print("TAG", run.data.tags["from"])
    """
    result = run_python(code, python=str(installed_venv), env={**sub_env, "AUTOTRACK_AUTOLOG": "fakeml"})
    assert result.returncode == 0, result.stderr
    assert "TAG code" in result.stdout


def test_autotrack_run_command(installed_venv, sub_env, tmp_path):
    script = tmp_path / "train.py"
    script.write_text("import fakeml\nfakeml.Estimator().fit([1])\n" + textwrap.dedent(REPORT))
    result = run_python(
        "import sys; from autotrack.core.cli_run import run_command; "
        f"run_command([\"-i\", \"fakeml\", \"--experiment-name\", \"cli\", \"--\", {str(installed_venv)!r}, {str(script)!r}], "
        "prog_name='autotrack run')",
        python=str(installed_venv), env=sub_env)
    assert result.returncode == 0, result.stderr
    assert "is not installed" not in result.stderr
    # the run went to the experiment named on the command line
    code = """
    import autotrack
    exp = autotrack.get_experiment_by_name("cli")
    runs = autotrack.search_runs(experiment_ids=[exp.experiment_id], output_format="list")
    print("RUNS", [r.data.tags["autotrack.autologging"] for r in runs])
    """
    check = run_python(code, env=sub_env)
    assert "RUNS ['fakeml']" in check.stdout, check.stderr
    failing = run_python(
        "from autotrack.core.cli_run import run_command; "
        f"run_command(['--', {str(installed_venv)!r}, '-c', 'raise SystemExit(7)'], prog_name='autotrack run')",
        python=str(installed_venv), env=sub_env)
    assert failing.returncode == 7


def test_worker_processes_create_no_stray_runs(installed_venv, sub_env, tmp_path):
    pytest.importorskip("joblib")
    script = tmp_path / "workers.py"
    script.write_text(textwrap.dedent("""
    import multiprocessing
    import joblib
    import fakeml

    def fit_one(i):
        return fakeml.Estimator().fit([i]).fitted

    if __name__ == "__main__":
        with multiprocessing.get_context("spawn").Pool(2) as pool:
            assert pool.map(fit_one, [1, 2]) == [True, True]
        assert joblib.Parallel(n_jobs=2, backend="loky")(joblib.delayed(fit_one)(i) for i in range(2)) == [True, True]
        fakeml.Estimator().fit([0])   # the parent's own call logs
    """) + textwrap.dedent(REPORT))
    result = subprocess.run([str(installed_venv), str(script)], capture_output=True, text=True, timeout=300,
                            env={**os.environ, **sub_env, "AUTOTRACK_AUTOLOG": "1"}, cwd=tmp_path)
    assert _report(result)["runs"] == [["FINISHED", "fakeml"]]
