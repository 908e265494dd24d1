"""The ``autotrack`` CLI, run against runs logged with the fluent API into the test's own SQLite store.

Every assertion reads the printed output for the exact values that were logged.
"""

from __future__ import annotations

import importlib
import json
import os
import re
import subprocess
import sys
import types
import uuid
from datetime import datetime
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

import autotrack
from autotrack import cli


def _runner() -> CliRunner:
    try:  # click < 8.2 mixes stderr into stdout unless told not to
        return CliRunner(mix_stderr=False)
    except TypeError:
        return CliRunner()


def run_cli(*args: str, env: dict[str, str] | None = None):
    return _runner().invoke(cli.main, list(args), env=env, catch_exceptions=False)


def ok(*args: str, **kw) -> str:
    result = run_cli(*args, **kw)
    assert result.exit_code == 0, (result.exit_code, result.stdout, result.stderr)
    return result.stdout


def fails(*args: str, **kw) -> str:
    """Run a command that must fail the CLI way: exit 1, one ``Error: ...`` line on stderr, no traceback."""
    result = run_cli(*args, **kw)
    assert result.exit_code == 1, (result.exit_code, result.stdout, result.stderr)
    assert result.stderr.startswith("Error: "), result.stderr
    assert result.stderr.count("\n") == 1, result.stderr
    assert "Traceback" not in result.stderr
    return result.stderr


def log_run(name, params=None, metrics=None, tags=None, experiment_id=None, artifacts=None) -> str:
    """Log one finished run; ``metrics`` values may be lists (logged as steps 0, 1, ...)."""
    with autotrack.start_run(run_name=name, experiment_id=experiment_id) as run:
        if params:
            autotrack.log_params(params)
        for key, values in (metrics or {}).items():
            for step, value in enumerate(values if isinstance(values, list) else [values]):
                autotrack.log_metric(key, value, step=step)
        if tags:
            autotrack.set_tags(tags)
        for path, text in (artifacts or {}).items():
            autotrack.log_text(text, path)
    autotrack.flush()
    return run.info.run_id


def line_of(output: str, first_cell: str) -> str:
    """The one line whose first cell (after a ``*`` difference marker) is ``first_cell``."""
    lines = [line for line in output.splitlines() if line.strip() and cells(line.lstrip("* "))[0] == first_cell]
    assert len(lines) == 1, (first_cell, output)
    return lines[0]


def cells(line: str) -> list[str]:
    return re.split(r"\s{2,}", line.strip())


# ---------------------------------------------------------------------- version and entry point
def test_version():
    assert ok("--version") == f"autotrack {autotrack.__version__}\n"


def test_version_from_installed_entry_point():
    script = Path(sys.executable).parent / ("autotrack.exe" if os.name == "nt" else "autotrack")
    assert script.exists(), f"entry point script {script} is missing: install the project (pip install -e .)"
    done = subprocess.run([str(script), "--version"], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout == f"autotrack {autotrack.__version__}\n"


def test_help_lists_commands():
    out = ok("--help")
    assert "experiments" in out and "runs" in out and "--tracking-uri" in out
    assert "Compare runs side by side" in ok("runs", "compare", "--help")


def test_cli_imports_no_heavy_library(tmp_path):
    code = (
        "import sys\n"
        "from autotrack.cli import main\n"
        "for args in (['experiments', 'list'], ['runs', 'list']):\n"
        "    main(args, standalone_mode=False)\n"
        "heavy = sorted(m for m in ('numpy', 'pandas', 'sklearn', 'torch', 'tensorflow', 'xgboost') if m in sys.modules)\n"
        "assert not heavy, heavy\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "Default" in done.stdout


# ---------------------------------------------------------------------- experiments
def test_experiments_create_and_list(tmp_path):
    location = str(tmp_path / "exp-a-artifacts")
    experiment_id = ok("experiments", "create", "exp-a", "--artifact-location", location).strip()
    assert experiment_id.isdigit() and experiment_id != "0"
    assert autotrack.TrackingClient().get_experiment(experiment_id).name == "exp-a"

    out = ok("experiments", "list")
    assert cells(out.splitlines()[0]) == ["id", "name", "lifecycle", "artifact location"]
    assert cells(line_of(out, experiment_id)) == [experiment_id, "exp-a", "active", location]
    default = autotrack.TrackingClient().get_experiment("0")
    assert cells(line_of(out, "0")) == ["0", "Default", "active", default.artifact_location]

    listed = json.loads(ok("experiments", "list", "--json"))
    assert {e["experiment_id"]: e["name"] for e in listed} == {"0": "Default", experiment_id: "exp-a"}
    assert [e["artifact_location"] for e in listed if e["name"] == "exp-a"] == [location]


def test_experiments_list_all_shows_deleted():
    experiment_id = ok("experiments", "create", "old").strip()
    autotrack.TrackingClient().delete_experiment(experiment_id)
    assert "old" not in ok("experiments", "list")
    assert cells(line_of(ok("experiments", "list", "--all"), experiment_id))[:3] == [experiment_id, "old", "deleted"]


# ---------------------------------------------------------------------- runs list
@pytest.fixture
def three_runs():
    """Runs a, b, c with accuracy 0.7, 0.9, 0.8 in experiment 'exp'; returns (experiment id, {name: run id})."""
    experiment_id = autotrack.create_experiment("exp")
    ids = {
        name: log_run(name, params={"max_depth": depth, "group": group}, metrics={"accuracy": acc, "loss": loss}, experiment_id=experiment_id)
        for name, depth, group, acc, loss in (("a", 5, "x", 0.7, 0.31), ("b", 10, "y", 0.9, 0.12), ("c", 15, "x", 0.8, 0.25))
    }
    return experiment_id, ids


def _row_order(output: str, ids: dict[str, str]) -> list[str]:
    by_id = {run_id: name for name, run_id in ids.items()}
    return [by_id[line.split()[0]] for line in output.splitlines() if line.split() and line.split()[0] in by_id]


def test_runs_list_table(three_runs):
    experiment_id, ids = three_runs
    out = ok("runs", "list", "--experiment", "exp")
    assert cells(out.splitlines()[0]) == ["run id", "name", "status", "start time", "accuracy", "loss"]
    run = autotrack.TrackingClient().get_run(ids["b"])
    start = datetime.fromtimestamp(run.info.start_time / 1000).strftime("%Y-%m-%d %H:%M:%S")
    assert cells(line_of(out, ids["b"])) == [ids["b"], "b", "FINISHED", start, "0.9", "0.12"]
    # newest first by default
    assert _row_order(out, ids) == ["c", "b", "a"]
    # the experiment by id gives the same runs; --metric picks the columns
    out = ok("runs", "list", "--experiment", experiment_id, "--metric", "loss")
    assert cells(out.splitlines()[0]) == ["run id", "name", "status", "start time", "loss"]
    assert cells(line_of(out, ids["a"]))[-1] == "0.31"


def test_runs_list_filter_and_order_by(three_runs):
    _, ids = three_runs
    out = ok("runs", "list", "-e", "exp", "--filter", "metrics.accuracy > 0.75", "--order-by", "metrics.accuracy DESC")
    assert _row_order(out, ids) == ["b", "c"]
    out = ok("runs", "list", "-e", "exp", "--order-by", "metrics.accuracy ASC")
    assert _row_order(out, ids) == ["a", "c", "b"]
    # repeatable: by group, then by accuracy within a group
    out = ok("runs", "list", "-e", "exp", "--order-by", "params.group", "--order-by", "metrics.accuracy DESC")
    assert _row_order(out, ids) == ["c", "a", "b"]
    out = ok("runs", "list", "-e", "exp", "--filter", "params.max_depth = '10'")
    assert _row_order(out, ids) == ["b"]


def test_runs_list_max_results_and_json(three_runs):
    _, ids = three_runs
    out = ok("runs", "list", "-e", "exp", "--order-by", "metrics.accuracy DESC", "--max-results", "1")
    assert _row_order(out, ids) == ["b"]
    assert "more match" in out
    listed = json.loads(ok("runs", "list", "-e", "exp", "--order-by", "metrics.loss ASC", "--json"))
    assert [r["info"]["run_id"] for r in listed] == [ids["b"], ids["c"], ids["a"]]
    assert listed[0]["data"]["params"] == {"max_depth": "10", "group": "y"}
    assert listed[0]["data"]["metrics"] == {"accuracy": 0.9, "loss": 0.12}


def test_runs_list_all_experiments_has_experiment_column(three_runs):
    experiment_id, ids = three_runs
    default_run = log_run("in-default", metrics={"accuracy": 0.5})
    out = ok("runs", "list")
    assert cells(out.splitlines()[0])[:3] == ["run id", "experiment", "name"]
    assert cells(line_of(out, default_run))[:3] == [default_run, "0", "in-default"]
    assert cells(line_of(out, ids["a"]))[:3] == [ids["a"], experiment_id, "a"]


# ---------------------------------------------------------------------- runs show
def test_runs_show(tmp_path):
    run_id = log_run(
        "show-me",
        params={"lr": 0.01, "optimizer": "adam"},
        metrics={"accuracy": [0.25, 0.875], "loss": float("nan")},
        tags={"team": "vision", "note": "two\nlines"},
        artifacts={"notes/summary.txt": "hello", "model/weights.txt": "x" * 2048, "readme.txt": ""},
    )
    out = ok("runs", "show", run_id)
    assert cells(line_of(out, "run id")) == ["run id", run_id]
    assert cells(line_of(out, "name")) == ["name", "show-me"]
    assert cells(line_of(out, "status")) == ["status", "FINISHED"]
    assert cells(line_of(out, "experiment")) == ["experiment", "0 (Default)"]
    # params and latest metrics (0.875 is the last accuracy logged; 0.25 is history, not shown)
    assert cells(line_of(out, "optimizer")) == ["optimizer", "adam"]
    assert cells(line_of(out, "lr")) == ["lr", "0.01"]
    assert cells(line_of(out, "accuracy")) == ["accuracy", "0.875"]
    assert "0.25" not in out
    assert cells(line_of(out, "loss")) == ["loss", "nan"]
    # every tag, sorted, the system ones included; newlines stay on one row
    tag_keys = [cells(line)[0] for line in out.split("Tags (")[1].split("\n\n")[0].splitlines()[3:]]
    assert tag_keys == sorted(autotrack.TrackingClient().get_run(run_id).data.tags)
    assert {"team", "note", "mlflow.runName", "mlflow.user"} <= set(tag_keys)
    assert cells(line_of(out, "note")) == ["note", "two\\nlines"]
    # artifacts, recursively, with sizes
    assert "Artifacts (3 files)" in out
    assert cells(line_of(out, "notes/summary.txt")) == ["notes/summary.txt", "5 B"]
    assert cells(line_of(out, "model/weights.txt")) == ["model/weights.txt", "2.0 KiB"]
    assert cells(line_of(out, "readme.txt")) == ["readme.txt", "0 B"]
    assert cells(line_of(out, "model/")) == ["model/"]

    shown = json.loads(ok("runs", "show", run_id, "--json"))
    assert shown["info"]["run_id"] == run_id and shown["info"]["run_name"] == "show-me"
    assert shown["data"]["params"] == {"lr": "0.01", "optimizer": "adam"}
    assert shown["data"]["metrics"] == {"accuracy": 0.875, "loss": "NaN"}
    assert shown["data"]["tags"]["team"] == "vision"
    sizes = {a["path"]: a["file_size"] for a in shown["artifacts"] if not a["is_dir"]}
    assert sizes == {"notes/summary.txt": 5, "model/weights.txt": 2048, "readme.txt": 0}


def test_runs_show_run_without_anything():
    with autotrack.start_run() as run:
        pass
    out = ok("runs", "show", run.info.run_id)
    assert "Params (0)" in out and "Metrics (0)" in out and "Artifacts (0 files)" in out


# ---------------------------------------------------------------------- runs compare
def test_runs_compare_marks_differences():
    first = log_run("first", params={"lr": 0.1, "depth": 5}, metrics={"accuracy": 0.8, "loss": 0.3})
    second = log_run("second", params={"lr": 0.1, "depth": 10}, metrics={"accuracy": 0.8, "f1": 0.7})
    out = ok("runs", "compare", first, second)
    assert cells(out.splitlines()[0]) == ["run", first[:8], second[:8]]
    assert line_of(out, "name").split() == ["name", "first", "second"]
    # differing rows start with '*', equal rows with blanks
    assert line_of(out, "depth").split() == ["*", "depth", "5", "10"]
    assert line_of(out, "lr").startswith("  ") and line_of(out, "lr").split() == ["lr", "0.1", "0.1"]
    assert line_of(out, "accuracy").split() == ["accuracy", "0.8", "0.8"]
    assert line_of(out, "accuracy").startswith("  ")
    # a metric one run lacks counts as a difference and shows '-'
    assert line_of(out, "loss").split() == ["*", "loss", "0.3", "-"]
    assert line_of(out, "f1").split() == ["*", "f1", "-", "0.7"]
    assert "* = values differ between runs" in out

    diff_only = ok("runs", "compare", "--diff-only", first, second)
    assert "depth" in diff_only and "loss" in diff_only
    assert " lr " not in diff_only and "accuracy" not in diff_only

    compared = json.loads(ok("runs", "compare", "--json", first, second))
    assert compared["params"]["depth"] == {first: "5", second: "10"}
    assert compared["metrics"]["f1"] == {first: None, second: 0.7}
    assert sorted(compared["differences"]) == ["metrics.f1", "metrics.loss", "params.depth"]


def test_runs_compare_three_runs():
    ids = [log_run(f"r{i}", params={"seed": 1, "depth": d}) for i, d in enumerate((3, 3, 4))]
    out = ok("runs", "compare", *ids)
    assert line_of(out, "depth").split() == ["*", "depth", "3", "3", "4"]
    assert line_of(out, "seed").split() == ["seed", "1", "1", "1"]


# ---------------------------------------------------------------------- tracking URI
def test_tracking_uri_option_overrides_environment(tmp_path):
    env_run = log_run("in-env-store")
    other = f"sqlite:///{tmp_path}/other.db"
    autotrack.TrackingClient(other).create_experiment("only-in-other")

    assert "only-in-other" not in ok("experiments", "list")
    assert env_run in ok("runs", "list")
    # on the group, on the subcommand, and the subcommand's value over the group's
    assert "only-in-other" in ok("--tracking-uri", other, "experiments", "list")
    assert "only-in-other" in ok("experiments", "list", "--tracking-uri", other)
    env_uri = os.environ["AUTOTRACK_TRACKING_URI"]
    assert "only-in-other" in ok("--tracking-uri", env_uri, "experiments", "list", "--tracking-uri", other)
    assert env_run not in ok("--tracking-uri", other, "runs", "list")
    # the environment variable is read when no option is given
    assert "only-in-other" in ok("experiments", "list", env={"AUTOTRACK_TRACKING_URI": other})


# ---------------------------------------------------------------------- errors
def test_error_unknown_run_id():
    missing = uuid.uuid4().hex
    assert missing in fails("runs", "show", missing)
    assert missing in fails("runs", "compare", log_run("exists"), missing)


def test_error_malformed_run_id():
    assert "Invalid run_id 'abc'" in fails("runs", "show", "abc")


def test_error_bad_filter_and_order_by():
    log_run("r", metrics={"accuracy": 1.0})
    message = fails("runs", "list", "--filter", "metrics.accuracy >> 1")
    assert "Invalid filter 'metrics.accuracy >> 1'" in message and ">=" in message
    assert "sideways" in fails("runs", "list", "--order-by", "metrics.accuracy sideways")


def test_error_unknown_experiment():
    message = fails("runs", "list", "--experiment", "nope")
    assert "No experiment with id or name 'nope'" in message and "autotrack experiments list" in message
    assert "'12345'" in fails("runs", "list", "--experiment", "12345")


def test_error_duplicate_experiment_name():
    ok("experiments", "create", "twice")
    assert "twice" in fails("experiments", "create", "twice")


def test_error_compare_needs_two_runs():
    assert "at least two run ids" in fails("runs", "compare", log_run("alone"))


def test_error_unsupported_scheme():
    message = fails("--tracking-uri", "foo://somewhere", "experiments", "list")
    assert "Unsupported tracking URI scheme 'foo'" in message and "sqlite://" in message and "postgresql://" in message


def test_error_unreachable_database():
    pytest.importorskip("psycopg")
    message = fails("runs", "list", "--tracking-uri", "postgresql://someone:s3cret@127.0.0.1:1/db")
    assert "Could not connect to the tracking database" in message and "127.0.0.1:1" in message
    assert "s3cret" not in message


def test_error_sqlite_path_that_cannot_be_opened(tmp_path):
    (tmp_path / "a-file").write_text("not a folder")
    uri = f"sqlite:///{tmp_path}/a-file/tracking.db"
    message = fails("experiments", "list", "--tracking-uri", uri)
    assert message.startswith(f"Error: cannot open the tracking store {uri}:")


def test_error_file_that_is_not_a_database(tmp_path):
    (tmp_path / "junk.db").write_bytes(b"this is not sqlite" * 100)
    message = fails("experiments", "list", "--tracking-uri", f"sqlite:///{tmp_path}/junk.db")
    assert "junk.db" in message


# ---------------------------------------------------------------------- `autotrack run` registration
def test_run_command_registered_only_when_its_module_imports(monkeypatch):
    @click.command()
    def fake_run_command():
        """Run a script with autologging."""
        click.echo("fake run")

    try:
        fake = types.ModuleType("autotrack.core.cli_run")
        fake.run_command = fake_run_command
        monkeypatch.setitem(sys.modules, "autotrack.core.cli_run", fake)
        reloaded = importlib.reload(cli)
        assert reloaded.main.commands["run"] is fake_run_command
        assert _runner().invoke(reloaded.main, ["run"]).stdout == "fake run\n"

        monkeypatch.setitem(sys.modules, "autotrack.core.cli_run", None)  # import now raises ImportError
        reloaded = importlib.reload(cli)
        assert "run" not in reloaded.main.commands
        assert "experiments" in reloaded.main.commands
    finally:
        monkeypatch.undo()
        importlib.reload(cli)
