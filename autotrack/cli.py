"""The ``autotrack`` command line: list and create experiments, list, show and compare runs.

Every command reads the store named by ``--tracking-uri`` (on the group or on the command), else
``AUTOTRACK_TRACKING_URI``, else the embedded ``sqlite:///autotrack-runs/tracking.db``. Output is plain
aligned text, or JSON with ``--json``. Errors print one ``Error: ...`` line to stderr and exit 1.

This module imports only click and autotrack's tracking modules: never pandas, numpy or an ML library.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

import click

from autotrack import __version__

_URI_KEY = "autotrack.tracking_uri"
_METRIC_COLUMNS = 4  # latest metrics shown by ``runs list`` unless --metric is given
_ORDER_METRIC = re.compile(r"^\s*metrics\.(?:`([^`]+)`|\"([^\"]+)\"|(\S+))", re.IGNORECASE)


# ---------------------------------------------------------------------- output helpers
def format_table(headers: Sequence[str], rows: Iterable[Sequence[Any]], prefixes: Sequence[str] | None = None) -> str:
    """Rows as left-aligned columns two spaces apart, under a header and a dashed rule.

    ``prefixes``, when given, holds one string per row written before it (e.g. a difference marker);
    the header and rule get blanks of the same width.
    """
    rows = [[_cell(v) for v in row] for row in rows]
    widths = [len(h) for h in headers]
    for row in rows:
        for i, value in enumerate(row):
            widths[i] = max(widths[i], len(value))
    pad = " " * max((len(p) for p in prefixes), default=0) if prefixes else ""

    def line(values: Sequence[str], prefix: str = pad) -> str:
        return (prefix + "  ".join(v.ljust(w) for v, w in zip(values, widths))).rstrip()

    out = [line(list(headers)), line(["-" * w for w in widths])]
    for i, row in enumerate(rows):
        out.append(line(row, prefixes[i] if prefixes else ""))
    return "\n".join(out)


def _cell(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return format_number(value)
    # one row per record: a multi-line tag (e.g. a note) is shown with visible \n
    return str(value).replace("\r", "\\r").replace("\n", "\\n")


def format_number(value: float) -> str:
    """A metric value exactly as stored (shortest repr): ``0.9``, ``1e-05``, ``nan``, ``inf``."""
    return repr(float(value))


def format_time(ms: int | None) -> str:
    """Epoch milliseconds as local ``YYYY-MM-DD HH:MM:SS``; ``-`` when unset."""
    if ms is None:
        return "-"
    return datetime.fromtimestamp(ms / 1000).strftime("%Y-%m-%d %H:%M:%S")


def format_size(size: int | None) -> str:
    if size is None:
        return "-"
    if size < 1024:
        return f"{size} B"
    for unit in ("KiB", "MiB", "GiB", "TiB"):
        size /= 1024
        if size < 1024 or unit == "TiB":
            return f"{size:.1f} {unit}"
    raise AssertionError("unreachable")


def _format_duration(start: int | None, end: int | None) -> str:
    if start is None or end is None:
        return "-"
    seconds = max(0, end - start) / 1000
    if seconds < 60:
        return f"{seconds:.1f}s"
    minutes, secs = divmod(int(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h {minutes:02d}m {secs:02d}s" if hours else f"{minutes}m {secs:02d}s"


def _json_value(value: Any) -> Any:
    """NaN and infinities as strings, so the output is strict JSON that ``jq`` reads."""
    if isinstance(value, float) and not math.isfinite(value):
        return "NaN" if math.isnan(value) else ("Infinity" if value > 0 else "-Infinity")
    if isinstance(value, dict):
        return {k: _json_value(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_json_value(v) for v in value]
    return value


def _echo_json(value: Any) -> None:
    click.echo(json.dumps(_json_value(value), indent=2, sort_keys=False))


def _run_json(run, artifacts=None) -> dict[str, Any]:
    out = run.to_dictionary()
    if artifacts is not None:
        out["artifacts"] = [{"path": f.path, "is_dir": f.is_dir, "file_size": f.file_size} for f in artifacts]
    return out


# ---------------------------------------------------------------------- store access and errors
def _store_tracking_uri(ctx: click.Context, _param: click.Parameter, value: str | None) -> None:
    # ctx.meta is shared by the whole command chain, so a subcommand's --tracking-uri (parsed after
    # the group's) overrides the group's value and the environment variable.
    if value:
        ctx.meta[_URI_KEY] = value


def _tracking_uri_option(envvar: str | None):
    return click.option(
        "--tracking-uri", metavar="URI", envvar=envvar, expose_value=False, callback=_store_tracking_uri,
        help="Tracking store: sqlite:///path, mysql+pymysql://..., postgresql://..., http(s)://... "
        "[default: $AUTOTRACK_TRACKING_URI, else sqlite:///autotrack-runs/tracking.db]",
    )


def _client():
    from autotrack.tracking.client import TrackingClient, resolve_tracking_uri

    ctx = click.get_current_context()
    # resolved before the store is opened, so that an error opening it can name the URI
    uri = ctx.meta[_URI_KEY] = resolve_tracking_uri(ctx.meta.get(_URI_KEY))
    return TrackingClient(uri)


def _one_line(message: str) -> str:
    return " ".join(str(message).split())


def _error_message(exc: BaseException, uri: str | None) -> str | None:
    """The one-line message for an error the user can act on; ``None`` for a bug (shown as a traceback)."""
    from autotrack.entities.errors import AutotrackException

    if isinstance(exc, AutotrackException):
        return _one_line(exc.message)
    where = f"tracking store {_redact(uri)}" if uri else "tracking store"
    if isinstance(exc, OSError):
        return _one_line(f"cannot open the {where}: {exc}")
    if type(exc).__module__.startswith("sqlalchemy"):
        orig = getattr(exc, "orig", None)
        return _one_line(f"could not read the {where}: {orig or exc}")
    return None


def _redact(uri: str) -> str:
    """``scheme://user:****@host`` so that passwords never reach the terminal."""
    return re.sub(r"(://[^:/@]+:)[^@/]*@", r"\1****@", uri)


class _Group(click.Group):
    """A click group that turns autotrack's errors into one ``Error: ...`` line and exit status 1."""

    def invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        except (click.exceptions.ClickException, click.exceptions.Exit, click.exceptions.Abort, BrokenPipeError):
            raise
        except Exception as exc:
            message = _error_message(exc, ctx.meta.get(_URI_KEY))
            if message is None:
                raise
            raise click.ClickException(message) from None


# ---------------------------------------------------------------------- commands
@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, "--version", prog_name="autotrack", message="%(prog)s %(version)s")
@_tracking_uri_option(envvar="AUTOTRACK_TRACKING_URI")
def main() -> None:
    """autotrack: look at experiments and runs recorded by autotrack (or MLflow-compatible code)."""


@main.group(cls=_Group)
def experiments() -> None:
    """List and create experiments."""


@experiments.command("list")
@click.option("--all", "show_all", is_flag=True, help="Include deleted experiments.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
@_tracking_uri_option(envvar=None)
def experiments_list(show_all: bool, as_json: bool) -> None:
    """List experiments: id, name, lifecycle stage and artifact location (active ones unless --all)."""
    from autotrack.entities import ViewType

    found = _client().search_experiments(ViewType.ALL if show_all else ViewType.ACTIVE_ONLY)
    if as_json:
        _echo_json([
            {"experiment_id": e.experiment_id, "name": e.name, "lifecycle_stage": e.lifecycle_stage,
             "artifact_location": e.artifact_location, "tags": e.tags,
             "creation_time": e.creation_time, "last_update_time": e.last_update_time}
            for e in found
        ])
        return
    click.echo(format_table(
        ["id", "name", "lifecycle", "artifact location"],
        [[e.experiment_id, e.name, e.lifecycle_stage, e.artifact_location] for e in found],
    ))


@experiments.command("create")
@click.argument("name")
@click.option("--artifact-location", metavar="URI", help="Where the experiment's artifacts go [default: under AUTOTRACK_ARTIFACT_ROOT].")
@_tracking_uri_option(envvar=None)
def experiments_create(name: str, artifact_location: str | None) -> None:
    """Create the experiment NAME and print its id."""
    click.echo(_client().create_experiment(name, artifact_location=artifact_location))


@main.group(cls=_Group)
def runs() -> None:
    """List, show and compare runs."""


def _resolve_experiment(client, id_or_name: str):
    """The experiment with this id, else with this name; an error naming the value otherwise."""
    from autotrack.entities.errors import InvalidParameterError, ResourceNotFoundError

    if id_or_name.isdigit():
        try:
            return client.get_experiment(id_or_name)
        except ResourceNotFoundError:
            pass
    experiment = client.get_experiment_by_name(id_or_name)
    if experiment is None:
        raise InvalidParameterError(
            f"No experiment with id or name {id_or_name!r}; run 'autotrack experiments list' to see the accepted ones."
        )
    return experiment


def _metric_columns(found: Sequence, order_by: Sequence[str], chosen: Sequence[str]) -> list[str]:
    """Metrics shown by ``runs list``: --metric keys, else ordered-by metrics then the most common ones."""
    if chosen:
        return list(chosen)
    columns: list[str] = []
    for clause in order_by:
        match = _ORDER_METRIC.match(clause)
        if match:
            key = next(g for g in match.groups() if g is not None)
            if key not in columns:
                columns.append(key)
    counts: dict[str, int] = {}
    for run in found:
        for key in run.data.metrics:
            counts[key] = counts.get(key, 0) + 1
    for key in sorted(counts, key=lambda k: (-counts[k], k)):
        if len(columns) >= _METRIC_COLUMNS:
            break
        if key not in columns:
            columns.append(key)
    return columns


@runs.command("list")
@click.option("--experiment", "-e", "experiment_refs", multiple=True, metavar="ID_OR_NAME",
              help="Experiment id or name (repeatable) [default: every active experiment].")
@click.option("--filter", "filter_string", default="", metavar="STR",
              help="Search filter, e.g. \"metrics.accuracy > 0.9 and params.max_depth = '5'\".")
@click.option("--order-by", multiple=True, metavar="STR",
              help="Sort key, e.g. 'metrics.accuracy DESC' (repeatable) [default: start time, newest first].")
@click.option("--max-results", default=100, show_default=True, type=click.IntRange(1, 100_000), help="At most this many runs.")
@click.option("--metric", "metrics", multiple=True, metavar="KEY", help="Metric to show as a column (repeatable) [default: a few].")
@click.option("--all", "show_all", is_flag=True, help="Include deleted runs.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON (every metric, param and tag) instead of a table.")
@_tracking_uri_option(envvar=None)
def runs_list(experiment_refs: tuple[str, ...], filter_string: str, order_by: tuple[str, ...], max_results: int,
              metrics: tuple[str, ...], show_all: bool, as_json: bool) -> None:
    """List runs with their id, name, status, start time and latest metrics.

    The filter and sort keys use MLflow's search grammar: metrics.<key>, params.<key>, tags.<key>,
    attributes such as status, run_name, start_time.
    """
    from autotrack.entities import ViewType

    client = _client()
    if experiment_refs:
        chosen = [_resolve_experiment(client, ref) for ref in experiment_refs]
    else:
        chosen = client.search_experiments(ViewType.ACTIVE_ONLY)
    experiment_ids = list(dict.fromkeys(e.experiment_id for e in chosen))
    found = client.search_runs(
        experiment_ids, filter_string, ViewType.ALL if show_all else ViewType.ACTIVE_ONLY, max_results, list(order_by) or None,
    )
    if as_json:
        _echo_json([_run_json(r) for r in found])
        return
    columns = _metric_columns(found, order_by, metrics)
    headers = ["run id", "name", "status", "start time"]
    if len(experiment_ids) > 1:
        headers.insert(1, "experiment")
    rows = []
    for run in found:
        row = [run.info.run_id, run.info.run_name, run.info.status, format_time(run.info.start_time)]
        if len(experiment_ids) > 1:
            row.insert(1, run.info.experiment_id)
        rows.append(row + [run.data.metrics.get(key) for key in columns])
    click.echo(format_table(headers + columns, rows))
    if getattr(found, "token", None):
        click.echo(f"(first {len(found)} runs shown; more match: raise --max-results)")


def _walk_artifacts(client, run_id: str, path: str | None = None) -> list:
    """Every artifact of the run, folders before their contents, depth first."""
    out = []
    for info in client.list_artifacts(run_id, path):
        out.append(info)
        if info.is_dir:
            out.extend(_walk_artifacts(client, run_id, info.path))
    return out


def _get_runs(client, run_ids: Sequence[str]) -> list:
    return [client.get_run(run_id) for run_id in run_ids]


@runs.command("show")
@click.argument("run_id")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of text.")
@_tracking_uri_option(envvar=None)
def runs_show(run_id: str, as_json: bool) -> None:
    """Show one run: its info, params, latest metrics, tags and artifacts (recursively, with sizes)."""
    client = _client()
    run = client.get_run(run_id)
    artifacts = _walk_artifacts(client, run_id)
    if as_json:
        _echo_json(_run_json(run, artifacts))
        return
    info, data = run.info, run.data
    from autotrack.entities.errors import AutotrackException

    try:
        experiment = f"{info.experiment_id} ({client.get_experiment(info.experiment_id).name})"
    except AutotrackException:  # the experiment's name is only context here; its id is enough
        experiment = info.experiment_id
    fields = [
        ("run id", info.run_id), ("name", info.run_name), ("experiment", experiment), ("status", info.status),
        ("lifecycle", info.lifecycle_stage), ("user", info.user_id), ("start time", format_time(info.start_time)),
        ("end time", format_time(info.end_time)), ("duration", _format_duration(info.start_time, info.end_time)),
        ("artifact uri", info.artifact_uri),
    ]
    width = max(len(k) for k, _ in fields)
    lines = [f"{k.ljust(width)}  {_cell(v)}" for k, v in fields]

    def section(title: str, headers: list[str], rows: list[list[Any]]) -> None:
        lines.extend(["", f"{title} ({len(rows)})"])
        if rows:
            lines.append(format_table(headers, rows))

    section("Params", ["key", "value"], [[k, data.params[k]] for k in sorted(data.params)])
    section("Metrics", ["key", "latest value"], [[k, data.metrics[k]] for k in sorted(data.metrics)])
    section("Tags", ["key", "value"], [[k, data.tags[k]] for k in sorted(data.tags)])
    files = [f for f in artifacts if not f.is_dir]
    lines.extend(["", f"Artifacts ({len(files)} file{'' if len(files) == 1 else 's'})"])
    if artifacts:
        lines.append(format_table(
            ["path", "size"], [[f.path + ("/" if f.is_dir else ""), "" if f.is_dir else format_size(f.file_size)] for f in artifacts],
        ))
    click.echo("\n".join(lines))


DIFF_MARK = "*"


@runs.command("compare")
@click.argument("run_ids", nargs=-1, required=True, metavar="RUN_ID RUN_ID...")
@click.option("--diff-only", is_flag=True, help="Show only the params and metrics that differ.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
@_tracking_uri_option(envvar=None)
def runs_compare(run_ids: tuple[str, ...], diff_only: bool, as_json: bool) -> None:
    """Compare runs side by side: params and latest metrics, one column per run.

    Rows whose values differ between the runs (a value missing from a run counts as different)
    start with '*'; '-' marks a value the run did not log.
    """
    from autotrack.entities.errors import InvalidParameterError

    if len(run_ids) < 2:
        raise InvalidParameterError(f"runs compare needs at least two run ids; got {len(run_ids)}: {' '.join(run_ids)}.")
    found = _get_runs(_client(), run_ids)
    sections = {
        "params": sorted(set().union(*(r.data.params for r in found))),
        "metrics": sorted(set().union(*(r.data.metrics for r in found))),
    }

    def values(kind: str, key: str) -> list[Any]:
        return [getattr(r.data, kind).get(key) for r in found]

    def differs(vals: list[Any]) -> bool:
        return len({_cell(v) for v in vals}) > 1 or (None in vals and len(vals) > 1)

    if as_json:
        _echo_json({
            "runs": [{"run_id": r.info.run_id, "run_name": r.info.run_name} for r in found],
            **{kind: {key: dict(zip(run_ids, values(kind, key))) for key in keys} for kind, keys in sections.items()},
            "differences": [f"{kind}.{key}" for kind, keys in sections.items() for key in keys if differs(values(kind, key))],
        })
        return
    headers = ["run", *(r.info.run_id[:8] for r in found)]
    rows: list[list[Any]] = [["name", *(r.info.run_name for r in found)], ["status", *(r.info.status for r in found)]]
    prefixes = ["  ", "  "]
    for kind, keys in sections.items():
        shown = [(key, values(kind, key)) for key in keys]
        if diff_only:
            shown = [(k, v) for k, v in shown if differs(v)]
        rows.append([f"[{kind}]", *([""] * len(found))])
        prefixes.append("  ")
        for key, vals in shown:
            rows.append([key, *vals])
            prefixes.append(f"{DIFF_MARK} " if differs(vals) else "  ")
    click.echo(format_table(headers, rows, prefixes))
    click.echo(f"\n{DIFF_MARK} = values differ between runs; - = not logged in that run. Columns are run ids (first 8 characters).")


try:  # the patching engine's `autotrack run -- python train.py`; absent until autotrack.core.cli_run lands
    from autotrack.core.cli_run import run_command
except ImportError:
    pass
else:
    main.add_command(run_command, "run")

from autotrack.models.cli import models as _models_group  # noqa: E402  (serving: `autotrack models serve|predict`)

main.add_command(_models_group)

if __name__ == "__main__":  # pragma: no cover
    main()
