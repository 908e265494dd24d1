"""``autotrack runs list|show|compare``: the runs of a store as tables, trees and metric charts.

Wherever a command takes a run id it also takes a unique prefix of at least 6 characters
(``common.resolve_run_id``), and ``runs list`` prints the shortest prefix that tells its runs apart.
"""

from __future__ import annotations

import re
import textwrap
from collections.abc import Sequence
from typing import Any

import click

from autotrack.cli import common
from autotrack.cli.chart import metric_chart

METRIC_COLUMNS = 4  # latest metrics shown by ``runs list`` unless --metric or --columns is given
PARENT_TAG = "mlflow.parentRunId"
_ORDER_METRIC = re.compile(r"^\s*metrics\.(?:`([^`]+)`|\"([^\"]+)\"|(\S+))", re.IGNORECASE)
_COLUMN_KINDS = ("metrics", "params", "tags", "attributes")
_ATTRIBUTE_COLUMNS = {  # attributes.<name> in --columns
    "run_id": lambda r: r.info.run_id, "run_name": lambda r: r.info.run_name, "status": lambda r: r.info.status,
    "user_id": lambda r: r.info.user_id, "experiment_id": lambda r: r.info.experiment_id,
    "start_time": lambda r: common.format_time(r.info.start_time), "end_time": lambda r: common.format_time(r.info.end_time),
    "duration": lambda r: common.format_duration(r.info.start_time, r.info.end_time),
    "lifecycle_stage": lambda r: r.info.lifecycle_stage, "artifact_uri": lambda r: r.info.artifact_uri,
}


@click.group(cls=common.AutotrackGroup)
def runs() -> None:
    """List, show and compare runs."""


def resolve_experiment(client, id_or_name: str):
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


# ---------------------------------------------------------------------- runs list
def parse_columns(text: str) -> list[tuple[str, str]]:
    """``--columns params.lr,metrics.acc,tags.team,attributes.user_id`` as ``[(kind, key), ...]``.

    A key without a prefix is a metric, as in the default columns. Keys may be quoted with backticks
    (``metrics.`val loss```), which is also how a key holding a comma is written.
    """
    from autotrack.entities.errors import InvalidParameterError

    out: list[tuple[str, str]] = []
    for item in re.findall(r"(?:[^,`]|`[^`]*`)+", text):
        item = item.strip()
        if not item:
            continue
        kind, dot, key = item.partition(".")
        if not dot or kind not in _COLUMN_KINDS + ("metric", "param", "tag", "attribute", "attr"):
            kind, key = "metrics", item
        kind = {"metric": "metrics", "param": "params", "tag": "tags", "attribute": "attributes", "attr": "attributes"}.get(kind, kind)
        key = key.strip()
        if key.startswith("`") and key.endswith("`") and len(key) >= 2:
            key = key[1:-1]
        if not key:
            raise InvalidParameterError(f"Invalid --columns item {item!r}: give <kind>.<key>, kind one of {', '.join(_COLUMN_KINDS)}.")
        if kind == "attributes" and key not in _ATTRIBUTE_COLUMNS:
            raise InvalidParameterError(
                f"Invalid --columns item {item!r}: unknown attribute {key!r}; accepted: {', '.join(sorted(_ATTRIBUTE_COLUMNS))}."
            )
        out.append((kind, key))
    if not out:
        raise InvalidParameterError(f"Invalid --columns {text!r}: give a comma list such as params.lr,metrics.accuracy.")
    return out


def default_columns(found: Sequence, order_by: Sequence[str], chosen_metrics: Sequence[str]) -> list[tuple[str, str]]:
    """--metric keys, else the ordered-by metrics then the metrics most runs have (at most ``METRIC_COLUMNS``)."""
    if chosen_metrics:
        return [("metrics", k) for k in chosen_metrics]
    keys: list[str] = []
    for clause in order_by:
        match = _ORDER_METRIC.match(clause)
        if match:
            key = next(g for g in match.groups() if g is not None)
            if key not in keys:
                keys.append(key)
    counts: dict[str, int] = {}
    for run in found:
        for key in run.data.metrics:
            counts[key] = counts.get(key, 0) + 1
    for key in sorted(counts, key=lambda k: (-counts[k], k)):
        if len(keys) >= METRIC_COLUMNS:
            break
        if key not in keys:
            keys.append(key)
    return [("metrics", k) for k in keys]


def column_value(run, kind: str, key: str) -> Any:
    if kind == "attributes":
        return _ATTRIBUTE_COLUMNS[key](run)
    return getattr(run.data, kind).get(key)


def as_tree(found: Sequence) -> list[tuple[Any, str]]:
    """The runs in their listed order, each child run right under its parent: ``[(run, tree prefix), ...]``.

    A run whose parent is not among ``found`` is shown at the top level.
    """
    listed = {r.info.run_id for r in found}
    children: dict[str, list] = {}
    roots = []
    for run in found:
        parent = run.data.tags.get(PARENT_TAG)
        if parent in listed and parent != run.info.run_id:
            children.setdefault(parent, []).append(run)
        else:
            roots.append(run)
    out: list[tuple[Any, str]] = []
    seen: set[str] = set()

    def walk(run, lead: str, branch: str) -> None:
        if run.info.run_id in seen:  # a cycle of parent tags cannot loop forever
            return
        seen.add(run.info.run_id)
        out.append((run, lead + branch))
        kids = children.get(run.info.run_id, [])
        below = lead + ("" if not branch else ("   " if branch == "└─ " else "│  "))
        for i, kid in enumerate(kids):
            walk(kid, below, "└─ " if i == len(kids) - 1 else "├─ ")

    for root in roots:
        walk(root, "", "")
    for run in found:  # whatever a cycle left out
        if run.info.run_id not in seen:
            walk(run, "", "")
    return out


def fit_columns(headers: list[str], rows: list[list[str]], optional: list[int], width: int) -> list[int]:
    """The indexes of the columns to keep so that the table fits ``width``: optional ones go, last first."""
    gap = 3
    widths = [max([len(h)] + [len(r[i]) for r in rows]) for i, h in enumerate(headers)]
    keep = list(range(len(headers)))
    for index in reversed(optional):
        if sum(widths[i] for i in keep) + gap * (len(keep) - 1) <= width:
            break
        keep.remove(index)
    return keep


@runs.command("list", short_help="List runs, child runs under their parent.")
@click.option("--experiment", "-e", "experiment_refs", multiple=True, metavar="ID_OR_NAME",
              help="Experiment id or name (repeatable) [default: every active experiment].")
@click.option("--filter", "filter_string", default="", metavar="STR",
              help="Search filter, e.g. \"metrics.accuracy > 0.9 and params.max_depth = '5'\".")
@click.option("--order-by", multiple=True, metavar="STR",
              help="Sort key, e.g. 'metrics.accuracy DESC' (repeatable) [default: start time, newest first].")
@click.option("--max-results", default=100, show_default=True, type=click.IntRange(1, 100_000), help="At most this many runs.")
@click.option("--columns", "columns_text", metavar="LIST",
              help="Columns after the start time, e.g. params.lr,metrics.accuracy,tags.team,attributes.duration.")
@click.option("--metric", "metrics", multiple=True, metavar="KEY", help="Metric to show as a column (repeatable) [default: a few].")
@click.option("--flat", is_flag=True, help="List child runs in search order instead of under their parent run.")
@click.option("--all", "show_all", is_flag=True, help="Include deleted runs.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON (every metric, param and tag) instead of a table.")
@common.tracking_uri_option()
def runs_list(experiment_refs: tuple[str, ...], filter_string: str, order_by: tuple[str, ...], max_results: int,
              columns_text: str | None, metrics: tuple[str, ...], flat: bool, show_all: bool, as_json: bool) -> None:
    """List runs: id prefix, name, status, start time and latest metrics, child runs under their parent.

    The table fits the terminal's width (columns that do not fit are left out and named); numbers are
    shown to 4 significant digits (--json gives them exactly). The filter and sort keys use MLflow's
    search grammar: metrics.<key>, params.<key>, tags.<key>, attributes such as status, run_name,
    start_time.
    """
    from autotrack.entities import ViewType

    uri = common.tracking_uri()
    missing = common.missing_sqlite_file(uri)
    if missing is not None:  # a listing does not create the store
        if as_json:
            click.echo("[]")
        else:
            click.echo(f"No runs yet: nothing has been logged to {uri}. Run a training script (for example "
                       "python examples/quickstart.py), or give the store with --tracking-uri.")
        return
    client = common.client()
    columns = parse_columns(columns_text) if columns_text else None
    if experiment_refs:
        chosen = [resolve_experiment(client, ref) for ref in experiment_refs]
    else:
        chosen = client.search_experiments(ViewType.ACTIVE_ONLY)
    names = {e.experiment_id: e.name for e in chosen}
    experiment_ids = list(dict.fromkeys(e.experiment_id for e in chosen))
    found = client.search_runs(
        experiment_ids, filter_string, ViewType.ALL if show_all else ViewType.ACTIVE_ONLY, max_results, list(order_by) or None,
    )
    if as_json:
        common.echo_json([r.to_dictionary() for r in found])
        return
    if not found:
        where = ", ".join(f"'{names[i]}'" for i in experiment_ids) or "none"
        if filter_string:
            click.echo(f"No runs match the filter {filter_string!r} in experiment {where}.")
        else:
            click.echo(f"No runs yet in experiment {where}. Start one with autotrack.start_run(), or autologging a fit.")
        return
    columns = columns or default_columns(found, order_by, metrics)
    several = len({r.info.experiment_id for r in found}) > 1  # the experiment column only when it tells runs apart
    headers = ["run id"] + (["experiment"] if several else []) + ["name", "status", "start time"]
    headers += [key if kind == "metrics" and not columns_text else f"{kind}.{key}" for kind, key in columns]
    ordered = [(r, "") for r in found] if flat else as_tree(found)
    short = common.short_ids([r.info.run_id for r in found])
    rows = []
    for run, prefix in ordered:
        row = [short[run.info.run_id]] + ([names.get(run.info.experiment_id, run.info.experiment_id)] if several else [])
        row += [prefix + (run.info.run_name or ""), run.info.status, common.format_time(run.info.start_time)]
        row += [column_value(run, kind, key) for kind, key in columns]
        rows.append([common.cell(v) for v in row])
    first_value = len(headers) - len(columns)
    width = common.terminal_width()
    optional = ([1] if several else []) + [first_value - 1] + list(range(first_value + 1, len(headers)))
    keep = fit_columns(headers, rows, optional, width)
    hidden = [headers[i] for i in range(len(headers)) if i not in keep]
    numeric = {headers[i] for i in range(first_value, len(headers)) if all(_numeric(r[i]) for r in rows)}
    click.echo(common.render(common.table(
        [headers[i] for i in keep], [[r[i] for i in keep] for r in rows],
        styles=common.STATUS_STYLES, right=[h for h in numeric if h in {headers[i] for i in keep}],
    ), width=width))
    notes = []
    if hidden:
        notes.append(f"({len(hidden)} column{'s' if len(hidden) > 1 else ''} left out to fit {width} characters: "
                     f"{', '.join(hidden)}; choose with --columns)")
    if getattr(found, "token", None):
        notes.append(f"(first {len(found)} runs shown; more match: raise --max-results)")
    for note in notes:
        click.echo(textwrap.fill(note, width=max(width, 20), break_on_hyphens=False))


def _numeric(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return text == "-"
    return True


# ---------------------------------------------------------------------- runs show
def walk_artifacts(client, run_id: str, path: str | None = None) -> list:
    """Every artifact of the run, folders before their contents, depth first."""
    out = []
    for info in client.list_artifacts(run_id, path):
        out.append(info)
        if info.is_dir:
            out.extend(walk_artifacts(client, run_id, info.path))
    return out


def run_json(run, artifacts=None) -> dict[str, Any]:
    out = run.to_dictionary()
    if artifacts is not None:
        out["artifacts"] = [{"path": f.path, "is_dir": f.is_dir, "file_size": f.file_size} for f in artifacts]
    return out


@runs.command("show", short_help="Show one run, or the history of one of its metrics.")
@click.argument("run_id")
@click.option("--metric", "metric_key", metavar="KEY", help="Draw this metric's history as a chart, with its min, max and last value.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of text.")
@common.tracking_uri_option()
def runs_show(run_id: str, metric_key: str | None, as_json: bool) -> None:
    """Show one run: its info, params, latest metrics, tags, datasets and artifacts (recursively, with sizes).

    RUN_ID is a run id or a unique prefix of at least 6 characters.
    """
    client = common.client()
    run_id = common.resolve_run_id(client, run_id)
    run = client.get_run(run_id)
    if metric_key is not None:
        _show_metric(client, run, metric_key, as_json)
        return
    artifacts = walk_artifacts(client, run_id)
    if as_json:
        common.echo_json(run_json(run, artifacts))
        return
    info, data = run.info, run.data
    from autotrack.entities.errors import AutotrackException

    try:
        experiment = f"{info.experiment_id} ({client.get_experiment(info.experiment_id).name})"
    except AutotrackException:  # the experiment's name is only context here; its id is enough
        experiment = info.experiment_id
    fields = [
        ("run id", info.run_id), ("name", info.run_name), ("experiment", experiment), ("status", info.status),
        ("lifecycle", info.lifecycle_stage), ("user", info.user_id), ("start time", common.format_time(info.start_time)),
        ("end time", common.format_time(info.end_time)), ("duration", common.format_duration(info.start_time, info.end_time)),
        ("artifact uri", info.artifact_uri),
    ]  # printed as plain lines: a long value wraps at the terminal's edge, it is never cut
    if data.tags.get(PARENT_TAG):
        fields.insert(3, ("parent run", data.tags[PARENT_TAG]))
    width = max(len(k) for k, _ in fields)
    blocks: list[Any] = ["\n".join(f"{k.ljust(width)}  {common.cell(v)}" for k, v in fields)]

    def section(title: str, headers: list[str], rows: list[list[Any]]) -> None:
        blocks.append(f"\n{title} ({len(rows)})")
        if rows:
            blocks.append(common.table(headers, rows, number=common.format_exact, fold=["value"]))

    section("Params", ["key", "value"], [[k, data.params[k]] for k in sorted(data.params)])
    section("Metrics", ["key", "latest value"], [[k, data.metrics[k]] for k in sorted(data.metrics)])
    section("Tags", ["key", "value"], [[k, data.tags[k]] for k in sorted(data.tags)])
    inputs = getattr(getattr(run, "inputs", None), "dataset_inputs", None) or []
    section("Datasets", ["name", "digest", "context", "source"], [
        [i.dataset.name, i.dataset.digest, {t.key: t.value for t in i.tags}.get("mlflow.data.context", "-"), i.dataset.source]
        for i in inputs
    ])
    files = [f for f in artifacts if not f.is_dir]
    blocks.append(f"\nArtifacts ({len(files)} file{'' if len(files) == 1 else 's'})")
    if artifacts:
        blocks.append(common.table(
            ["path", "size"], [[f.path + ("/" if f.is_dir else ""), "" if f.is_dir else common.format_size(f.file_size)] for f in artifacts],
        ))
    from rich.text import Text

    click.echo(common.render(*(Text(b) if isinstance(b, str) else b for b in blocks)))


def _show_metric(client, run, key: str, as_json: bool) -> None:
    from autotrack.entities.errors import ResourceNotFoundError

    history = sorted(client.get_metric_history(run.info.run_id, key), key=lambda m: (m.step, m.timestamp))
    if not history:
        known = ", ".join(sorted(run.data.metrics)) or "none"
        raise ResourceNotFoundError(f"Run {run.info.run_id} has no metric {key!r}; its metrics: {known}.")
    if as_json:
        common.echo_json([{"step": m.step, "value": m.value, "timestamp": m.timestamp} for m in history])
        return
    click.echo(f"{key} of run {run.info.run_id} ({run.info.run_name})")
    click.echo(metric_chart([m.step for m in history], [m.value for m in history], width=common.terminal_width()))


# ---------------------------------------------------------------------- runs compare
DIFF_MARK = "*"


@runs.command("compare", short_help="Compare runs side by side.")
@click.argument("run_ids", nargs=-1, required=True, metavar="RUN_ID RUN_ID...")
@click.option("--diff-only", is_flag=True, help="Show only the params and metrics that differ.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
@common.tracking_uri_option()
def runs_compare(run_ids: tuple[str, ...], diff_only: bool, as_json: bool) -> None:
    """Compare runs side by side: params and latest metrics, one column per run.

    Each RUN_ID is a run id or a unique prefix of at least 6 characters. Rows whose values differ
    between the runs (a value missing from a run counts as different) start with '*'; '-' marks a
    value the run did not log.
    """
    from autotrack.entities.errors import InvalidParameterError

    if len(run_ids) < 2:
        raise InvalidParameterError(f"runs compare needs at least two run ids; got {len(run_ids)}: {' '.join(run_ids)}.")
    client = common.client()
    resolved = [common.resolve_run_id(client, r) for r in run_ids]
    found = [client.get_run(r) for r in resolved]
    sections = {
        "params": sorted(set().union(*(r.data.params for r in found))),
        "metrics": sorted(set().union(*(r.data.metrics for r in found))),
    }

    def values(kind: str, key: str) -> list[Any]:
        return [getattr(r.data, kind).get(key) for r in found]

    def differs(vals: list[Any]) -> bool:
        return len({common.cell(v, common.format_exact) for v in vals}) > 1 or (None in vals and len(vals) > 1)

    if as_json:
        common.echo_json({
            "runs": [{"run_id": r.info.run_id, "run_name": r.info.run_name} for r in found],
            **{kind: {key: dict(zip(resolved, values(kind, key))) for key in keys} for kind, keys in sections.items()},
            "differences": [f"{kind}.{key}" for kind, keys in sections.items() for key in keys if differs(values(kind, key))],
        })
        return
    short = common.short_ids(resolved)
    headers = ["", "run", *(short[r] for r in resolved)]
    rows: list[list[Any]] = [["", "name", *(r.info.run_name for r in found)], ["", "status", *(r.info.status for r in found)]]
    for kind, keys in sections.items():
        shown = [(key, values(kind, key)) for key in keys]
        if diff_only:
            shown = [(k, v) for k, v in shown if differs(v)]
        rows.append(["", f"[{kind}]", *([""] * len(found))])
        for key, vals in shown:
            rows.append([DIFF_MARK if differs(vals) else "", key, *vals])
    click.echo(common.render(common.table(headers, rows, number=common.format_exact)))
    click.echo(f"\n{DIFF_MARK} = values differ between runs; - = not logged in that run. Columns are run id prefixes.")

