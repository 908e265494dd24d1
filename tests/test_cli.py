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


WIDTH = 100  # every test runs the CLI at this terminal width, so tables are laid out the same everywhere


def run_cli(*args: str, env: dict[str, str] | None = None, width: int = WIDTH):
    env = {"COLUMNS": str(width), **(env or {})}
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


def table_header(output: str) -> list[str]:
    return cells(output.splitlines()[0])


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

    out = ok("experiments", "list", width=250)  # wide enough for the tmp path on one line
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
    out = ok("experiments", "list", "--all", width=250)  # the tmp-path artifact location on one line
    assert cells(line_of(out, experiment_id))[:3] == [experiment_id, "old", "deleted"]


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
    """The run names in the order of the table's rows (rows start with an 8-character id prefix)."""
    by_prefix = {run_id[:8]: name for name, run_id in ids.items()}
    return [by_prefix[line.split()[0]] for line in output.splitlines() if line.split() and line.split()[0] in by_prefix]


def test_runs_list_table(three_runs):
    experiment_id, ids = three_runs
    out = ok("runs", "list", "--experiment", "exp")
    assert table_header(out) == ["run id", "name", "status", "start time", "accuracy", "loss"]
    run = autotrack.TrackingClient().get_run(ids["b"])
    start = datetime.fromtimestamp(run.info.start_time / 1000).strftime("%Y-%m-%d %H:%M:%S")
    assert cells(line_of(out, ids["b"][:8])) == [ids["b"][:8], "b", "FINISHED", start, "0.9", "0.12"]
    # newest first by default
    assert _row_order(out, ids) == ["c", "b", "a"]
    # the experiment by id gives the same runs; --metric picks the columns
    out = ok("runs", "list", "--experiment", experiment_id, "--metric", "loss")
    assert table_header(out) == ["run id", "name", "status", "start time", "loss"]
    assert cells(line_of(out, ids["a"][:8]))[-1] == "0.31"


def test_runs_list_numbers_to_four_significant_digits():
    run_id = log_run("r", metrics={"acc": 0.96666666666, "tiny": 1.234567e-7, "big": 123456789.0, "n": float("nan"), "i": float("-inf")})
    out = ok("runs", "list", "--columns", "metrics.acc,metrics.tiny,metrics.big,metrics.n,metrics.i", width=200)
    assert cells(line_of(out, run_id[:8]))[-5:] == ["0.9667", "1.235e-07", "1.235e+08", "nan", "-inf"]
    # --json keeps the exact values
    assert json.loads(ok("runs", "list", "--json"))[0]["data"]["metrics"]["acc"] == 0.96666666666


def test_runs_list_columns_option(three_runs):
    experiment_id, ids = three_runs
    tagged = log_run("d", params={"max_depth": 7}, metrics={"accuracy": 0.6}, tags={"team": "vision"}, experiment_id=experiment_id)
    out = ok("runs", "list", "-e", "exp", "--columns", "params.max_depth,metrics.accuracy,tags.team,attributes.user_id", width=200)
    assert table_header(out) == ["run id", "name", "status", "start time", "params.max_depth", "metrics.accuracy", "tags.team", "attributes.user_id"]
    user = autotrack.TrackingClient().get_run(ids["a"]).info.user_id
    assert cells(line_of(out, tagged[:8]))[4:] == ["7", "0.6", "vision", user]
    assert cells(line_of(out, ids["b"][:8]))[4:] == ["10", "0.9", "-", user]
    # a key may be quoted with backticks; a key without a kind is a metric
    log_run("odd", metrics={"val loss": 1.5}, experiment_id=experiment_id)
    out = ok("runs", "list", "-e", "exp", "--columns", "metrics.`val loss`,loss", width=200)
    assert table_header(out)[-2:] == ["metrics.val loss", "metrics.loss"]
    assert cells(line_of(out, ids["a"][:8]))[-2:] == ["-", "0.31"]
    assert "unknown attribute 'colour'" in fails("runs", "list", "--columns", "attributes.colour")


def test_runs_list_fits_the_terminal_width(three_runs):
    _, ids = three_runs
    keys = {f"metric_number_{i}": i / 7 for i in range(12)}
    experiment_id = autotrack.get_experiment_by_name("exp").experiment_id
    wide = log_run("wide", metrics=keys, experiment_id=experiment_id)
    for width in (60, 80, 100, 140):
        out = ok("runs", "list", "-e", "exp", "--columns", ",".join(keys), width=width)
        assert max(len(line) for line in out.splitlines()) <= width, (width, out)
        assert wide[:8] in out and "wide" in out
        assert "left out to fit" in out  # twelve metric columns never fit: the note names them
    hidden_note = ok("runs", "list", "-e", "exp", "--columns", ",".join(keys), width=80).split("(", 1)[1]
    assert "metric_number_11" in hidden_note


def test_runs_list_child_runs_as_a_tree():
    with autotrack.start_run(run_name="search") as parent:
        for name in ("cand-1", "cand-2"):
            with autotrack.start_run(run_name=name, nested=True):
                autotrack.log_metric("score", 0.5)
    alone = log_run("alone")
    out = ok("runs", "list")
    names = [cells(line)[1] for line in out.splitlines()[2:] if line.strip()]
    assert names[:2] == ["alone", "search"]
    assert names[2:] in (["├─ cand-1", "└─ cand-2"], ["├─ cand-2", "└─ cand-1"])
    assert parent.info.run_id[:8] in out and alone[:8] in out
    # --flat lists them in search order without tree marks
    flat = [cells(line)[1] for line in ok("runs", "list", "--flat").splitlines()[2:] if line.strip()]
    assert sorted(flat) == ["alone", "cand-1", "cand-2", "search"]


def test_runs_list_empty_store_says_so(tmp_path):
    uri = f"sqlite:///{tmp_path}/never-used/tracking.db"
    out = ok("runs", "list", "--tracking-uri", uri)
    assert out.startswith(f"No runs yet: nothing has been logged to {uri}.")
    assert not (tmp_path / "never-used").exists()  # listing does not create a store
    assert ok("runs", "list", "--tracking-uri", uri, "--json") == "[]\n"
    # an existing store without runs, and a filter that matches nothing
    autotrack.create_experiment("exp")
    assert ok("runs", "list", "-e", "exp").startswith("No runs yet in experiment 'exp'.")
    log_run("r", metrics={"acc": 0.5})
    assert ok("runs", "list", "--filter", "metrics.acc > 1").startswith("No runs match the filter 'metrics.acc > 1'")


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


def test_runs_list_all_experiments_has_experiment_column_by_name(three_runs):
    experiment_id, ids = three_runs
    default_run = log_run("in-default", metrics={"accuracy": 0.5})
    out = ok("runs", "list")
    assert table_header(out)[:3] == ["run id", "experiment", "name"]
    assert cells(line_of(out, default_run[:8]))[:3] == [default_run[:8], "Default", "in-default"]
    assert cells(line_of(out, ids["a"][:8]))[:3] == [ids["a"][:8], "exp", "a"]


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


def test_runs_show_lists_the_datasets():
    import pandas as pd

    import autotrack.data

    train = autotrack.data.from_pandas(pd.DataFrame({"a": [1, 2]}), name="train", source="data/train.csv")
    with autotrack.start_run() as run:
        autotrack.log_input(train, context="training")
    out = ok("runs", "show", run.info.run_id, width=120)
    assert "Datasets (1)" in out
    assert cells(line_of(out, "train")) == ["train", train.digest, "training", '{"uri": "data/train.csv"}']


def test_runs_show_run_without_anything():
    with autotrack.start_run() as run:
        pass
    out = ok("runs", "show", run.info.run_id)
    assert "Params (0)" in out and "Metrics (0)" in out and "Datasets (0)" in out and "Artifacts (0 files)" in out


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
    assert env_run[:8] in ok("runs", "list")
    # on the group, on the subcommand, and the subcommand's value over the group's
    assert "only-in-other" in ok("--tracking-uri", other, "experiments", "list")
    assert "only-in-other" in ok("experiments", "list", "--tracking-uri", other)
    env_uri = os.environ["AUTOTRACK_TRACKING_URI"]
    assert "only-in-other" in ok("--tracking-uri", env_uri, "experiments", "list", "--tracking-uri", other)
    assert env_run[:8] not in ok("--tracking-uri", other, "runs", "list")
    # the environment variable is read when no option is given
    assert "only-in-other" in ok("experiments", "list", env={"AUTOTRACK_TRACKING_URI": other})


# ---------------------------------------------------------------------- errors
def test_error_unknown_run_id():
    missing = uuid.uuid4().hex
    assert missing in fails("runs", "show", missing)
    assert missing in fails("runs", "compare", log_run("exists"), missing)


def test_error_malformed_run_id():
    assert "Invalid run id 'abc': give a run id (32 characters 0-9, a-f) or a unique prefix of at least 6" in fails("runs", "show", "abc")
    assert "Invalid run id 'not-hex-at-all'" in fails("runs", "show", "not-hex-at-all")


def test_error_bad_filter_and_order_by():
    log_run("r", metrics={"accuracy": 1.0})
    message = fails("runs", "list", "--filter", "metrics.accuracy >> 1")
    assert "Invalid filter 'metrics.accuracy >> 1'" in message and ">=" in message
    assert "sideways" in fails("runs", "list", "--order-by", "metrics.accuracy sideways")


def test_error_unknown_experiment():
    log_run("r")
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


# ---------------------------------------------------------------------- command registration
def test_commands_are_registered_in_one_table_and_loaded_on_use(monkeypatch):
    module = types.ModuleType("autotrack_test_fake_cli")

    @click.command()
    def hello():
        """A command of another module, with a long first sentence that click would cut at 45 characters."""
        click.echo("hello from a registered module")

    module.hello = hello
    monkeypatch.setitem(sys.modules, "autotrack_test_fake_cli", module)
    monkeypatch.setitem(cli.COMMANDS, "hello", ("autotrack_test_fake_cli:hello", "Say hello (registered with one line)."))
    assert ok("hello") == "hello from a registered module\n"
    assert "Say hello (registered with one line)." in ok("--help")
    # a module that cannot be imported is left out, and the rest of the CLI works
    monkeypatch.setitem(cli.COMMANDS, "broken", ("autotrack_no_such_module:cmd", "Never shown."))
    out = ok("--help")
    assert "broken" not in out and "experiments" in out and "runs" in out


def test_help_texts_say_only_what_exists():
    top = ok("--help")
    # the `run` command's summary is whole, not cut by click at 45 characters
    assert "Run a command with autologging on (autotrack run -- python train.py)." in " ".join(top.split())
    for args in ([], ["runs"], ["runs", "list"], ["runs", "show"], ["runs", "compare"], ["experiments"], ["experiments", "list"]):
        text = ok(*args, "--help")
        assert "http://" not in text and "https://" not in text and "http(s)" not in text, args
        if "Commands:" in text:  # no summary cut short with "..."
            assert not any(line.rstrip().endswith("...") for line in text.split("Commands:")[1].splitlines()), text


# ---------------------------------------------------------------------- run-id prefixes
def _run_with_id(run_id: str, name: str, metrics: dict[str, list[float]] | None = None) -> str:
    """A finished run with a chosen id, written through the store (the client picks ids itself)."""
    from autotrack.stores import get_store
    from autotrack.entities import Metric

    store = get_store(os.environ["AUTOTRACK_TRACKING_URI"])
    store.create_run(experiment_id="0", user_id="tester", start_time=1_700_000_000_000, run_name=name, run_id=run_id)
    batch = [Metric(key, value, 1_700_000_000_000 + step, step) for key, values in (metrics or {}).items() for step, value in enumerate(values)]
    if batch:
        store.log_batch(run_id, metrics=batch)
    store.update_run_info(run_id, "FINISHED", 1_700_000_001_000)
    return run_id


def test_run_id_prefix_accepted_by_show_and_compare():
    first = _run_with_id("abcdef" + "0" * 26, "first")
    second = _run_with_id("abcdef1" + "1" * 25, "second")
    other = _run_with_id("123456" + "2" * 26, "other")
    assert cells(line_of(ok("runs", "show", "123456"), "run id")) == ["run id", other]
    assert cells(line_of(ok("runs", "show", "ABCDEF0"), "run id")) == ["run id", first]  # ids are hex: case does not matter
    assert cells(line_of(ok("runs", "show", "abcdef1"), "name")) == ["name", "second"]
    out = ok("runs", "compare", "abcdef0", "123456")
    assert line_of(out, "name").split() == ["name", "first", "other"]
    assert json.loads(ok("runs", "show", "abcdef1", "--json"))["info"]["run_id"] == second


def test_ambiguous_run_id_prefix_lists_the_candidates():
    first = _run_with_id("abcdef" + "0" * 26, "first")
    second = _run_with_id("abcdef" + "1" * 26, "second")
    message = fails("runs", "show", "abcdef")
    assert message == (f"Error: Run id prefix 'abcdef' is ambiguous: it matches {first} (first), {second} (second). "
                       "Give more characters.\n") or message == (
        f"Error: Run id prefix 'abcdef' is ambiguous: it matches {second} (second), {first} (first). Give more characters.\n")
    assert "is ambiguous" in fails("runs", "compare", "abcdef", first)
    assert fails("runs", "show", "fedcba") == "Error: No run id starts with 'fedcba'.\n"
    assert "at least 6" in fails("runs", "show", "abcde")  # 5 characters are too few, as the error says


def test_runs_list_short_ids_grow_until_they_differ():
    first = _run_with_id("abcdef12" + "0" * 24, "first")
    second = _run_with_id("abcdef12" + "1" * 24, "second")
    out = ok("runs", "list")
    assert cells(line_of(out, first[:9]))[:2] == [first[:9], "first"]
    assert cells(line_of(out, second[:9]))[:2] == [second[:9], "second"]


# ---------------------------------------------------------------------- runs show --metric
def test_runs_show_metric_chart_with_min_max_last():
    run_id = _run_with_id("c0ffee" + "0" * 26, "curve", metrics={"loss": [1 / (step + 1) for step in range(50)] + [0.5]})
    out = ok("runs", "show", "c0ffee", "--metric", "loss", width=80)
    lines = out.splitlines()
    assert lines[0] == f"loss of run {run_id} (curve)"
    assert lines[-1].split("   ") == ["min 0.02 (step 49)", "max 1 (step 0)", "last 0.5 (step 50)", "51 points"]
    plot = lines[1:11]
    assert all(len(line) <= 80 for line in lines)
    assert plot[0].split("│")[0].strip() == "1" and plot[-1].split("│")[0].strip() == "0.02"
    assert plot[0].split("│")[1].startswith("█")  # the first step is the maximum
    assert lines[11].lstrip().startswith("└") and lines[12].split() == ["step", "0", "50"]
    history = json.loads(ok("runs", "show", "c0ffee", "--metric", "loss", "--json"))
    assert [p["step"] for p in history] == list(range(51)) and history[-1]["value"] == 0.5
    assert "has no metric 'acc'; its metrics: loss." in fails("runs", "show", "c0ffee", "--metric", "acc")


def test_runs_show_metric_chart_with_non_finite_values():
    _run_with_id("c0ffee" + "1" * 26, "odd", metrics={"m": [2.0, float("nan"), float("inf"), 1.0]})
    last = ok("runs", "show", "c0ffee1", "--metric", "m").splitlines()[-1]
    assert last.split("   ") == ["min 1 (step 3)", "max 2 (step 0)", "last 1 (step 3)", "4 points", "2 not finite (not drawn)"]


# ---------------------------------------------------------------------- snapshots at a fixed width
SNAPSHOTS = Path(__file__).parent / "snapshots" / "cli"


def _snapshot(name: str, output: str) -> None:
    """Compare with tests/snapshots/cli/<name>.txt; AUTOTRACK_UPDATE_SNAPSHOTS=1 rewrites the file."""
    path = SNAPSHOTS / f"{name}.txt"
    if os.environ.get("AUTOTRACK_UPDATE_SNAPSHOTS") == "1" or not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(output)
        if os.environ.get("CI") == "true" and os.environ.get("AUTOTRACK_UPDATE_SNAPSHOTS") != "1":
            pytest.fail(f"snapshot {path} was missing")
    assert output == path.read_text(), f"output differs from {path}; rerun with AUTOTRACK_UPDATE_SNAPSHOTS=1 if intended"


def _snapshot_store():
    """Fixed ids, names, times and values: a search with two child runs, a failed run, a NaN metric."""
    from autotrack.stores import get_store
    from autotrack.entities import Metric, Param, RunTag

    store = get_store(os.environ["AUTOTRACK_TRACKING_URI"])
    experiment_id = store.create_experiment("snapshots")
    t0 = 1_700_000_000_000
    specs = [  # id, name, parent, status, params, metrics
        ("aaaaaaaa" + "0" * 24, "grid-search", None, "FINISHED", {"cv": "3"}, {"best_cv_score": 0.9666666}),
        ("bbbbbbbb" + "0" * 24, "candidate-1", "aaaaaaaa" + "0" * 24, "FINISHED", {"C": "0.1"}, {"mean_test_score": 0.95, "std_test_score": 0.0123456}),
        ("cccccccc" + "0" * 24, "candidate-2", "aaaaaaaa" + "0" * 24, "FINISHED", {"C": "1.0"}, {"mean_test_score": 0.9666666, "std_test_score": 0.0098765}),
        ("dddddddd" + "0" * 24, "diverged", None, "FAILED", {"C": "100"}, {"mean_test_score": float("nan"), "loss": 123456.789}),
    ]
    for i, (run_id, name, parent, status, params, metrics) in enumerate(specs):
        tags = [RunTag("mlflow.parentRunId", parent)] if parent else []
        store.create_run(experiment_id=experiment_id, user_id="tester", start_time=t0 - i * 60_000, tags=tags, run_name=name, run_id=run_id)
        store.log_batch(run_id, metrics=[Metric(k, v, t0, 0) for k, v in metrics.items()], params=[Param(k, v) for k, v in params.items()])
        store.update_run_info(run_id, status, t0 + 5_000)
    return experiment_id


def _fixed_times(output: str) -> str:
    # start times print in the machine's local zone; the snapshot holds a placeholder of the same width
    return re.sub(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d", "YYYY-MM-DD hh:mm:ss", output)


def test_snapshot_runs_list():
    _snapshot_store()
    _snapshot("runs_list_w100", _fixed_times(ok("runs", "list", "-e", "snapshots", width=100)))
    _snapshot("runs_list_w60", _fixed_times(ok("runs", "list", "-e", "snapshots", width=60)))
    _snapshot("runs_list_columns_w100", _fixed_times(ok(
        "runs", "list", "-e", "snapshots", "--columns", "params.C,metrics.mean_test_score,attributes.duration", width=100)))


def test_snapshot_runs_compare_and_empty_store(tmp_path):
    _snapshot_store()
    _snapshot("runs_compare_w100", ok("runs", "compare", "bbbbbbbb", "cccccccc", "dddddddd", width=100))
    out = ok("runs", "list", "--tracking-uri", "sqlite:///nowhere/tracking.db", width=100)
    _snapshot("runs_list_no_store_w100", out)


def test_snapshot_runs_show_metric():
    _run_with_id("c0ffee" + "2" * 26, "curve", metrics={"loss": [round(2.0 * 0.9 ** step, 6) for step in range(40)]})
    _snapshot("runs_show_metric_w72", ok("runs", "show", "c0ffee2", "--metric", "loss", width=72))


def test_no_lock_file_left_beside_the_database(tmp_path):
    uri = f"sqlite:///{tmp_path}/store/tracking.db"
    autotrack.TrackingClient(uri).create_experiment("made")  # creates and migrates the database
    assert "made" in ok("experiments", "list", "--tracking-uri", uri)
    left = sorted(p.name for p in (tmp_path / "store").iterdir())
    assert [name for name in left if not name.startswith("tracking.db")] == []
    assert set(left) <= {"tracking.db", "tracking.db-wal", "tracking.db-shm"}, left
