"""``autotrack import mlflow``: copy an MLflow tracking database into an autotrack store.

Registered with one line in ``autotrack/cli/__init__.py`` (``COMMANDS``). Imports only click at module level; the importer,
SQLAlchemy and rich load when the command runs.
"""

from __future__ import annotations

import time

import click


@click.group("import")
def import_group() -> None:
    """Copy experiments and runs from another tracking system into autotrack."""


@import_group.command("mlflow")
@click.option("--from", "source", required=True, metavar="URI",
              help="The MLflow tracking database: sqlite:///mlflow.db, postgresql://u:p@host/db, mysql+pymysql://u:p@host/db.")
@click.option("--to", "target", metavar="URI",
              help="The autotrack store to copy into [default: --tracking-uri, else AUTOTRACK_TRACKING_URI, else sqlite:///autotrack-runs/tracking.db].")
@click.option("--experiments", "-e", "experiments", multiple=True, metavar="NAME…",
              help="Copy only these experiments, by name (--experiments a b, or repeated) [default: all of them].")
@click.argument("more_experiments", nargs=-1, metavar="", required=False)
@click.option("--progress/--no-progress", default=None, help="Show a progress bar [default: when stderr is a terminal].")
@click.pass_context
def import_mlflow(ctx: click.Context, source: str, target: str | None, experiments: tuple[str, ...], more_experiments: tuple[str, ...], progress: bool | None) -> None:
    """Copy experiments, runs (ids kept), params, tags, full metric histories, datasets and artifact
    locations from an MLflow tracking database into an autotrack store.

    Resumable and idempotent: each run is copied in one transaction, and runs the target already
    holds are skipped, so running the same import again adds nothing. The MLflow database is only
    read. Artifacts are not copied: runs keep pointing at MLflow's artifact locations.
    """
    from autotrack.entities.uris import redact_uri
    from autotrack.stores import get_store
    from autotrack.stores.sql.mlflow_import import MlflowImporter
    from autotrack.tracking.client import resolve_tracking_uri

    if more_experiments and not experiments:
        raise click.UsageError(f"unexpected arguments {' '.join(more_experiments)!r}; experiment names follow --experiments")
    names = list(experiments) + list(more_experiments)
    # ctx.meta is shared by the command chain: the group's --tracking-uri is the default target, and an
    # error opening the target names it
    target_uri = ctx.meta["autotrack.tracking_uri"] = target or resolve_tracking_uri(ctx.meta.get("autotrack.tracking_uri"))
    store = get_store(target_uri)
    importer = MlflowImporter(source, store)
    started = time.perf_counter()
    try:
        plan = importer.plan(names or None)
        show = click.get_text_stream("stderr").isatty() if progress is None else progress
        if show:
            report = _run_with_progress(importer, plan)
        else:
            report = importer.run(plan)
    finally:
        importer.close()
    elapsed = time.perf_counter() - started
    rate = f", {report.metric_points / elapsed:,.0f} points/s" if report.metric_points and elapsed > 0 else ""
    click.echo(
        f"Imported {report.runs_imported} runs ({report.metric_points:,} metric points, {report.params} params, "
        f"{report.tags} tags, {report.dataset_inputs} dataset inputs) from {redact_uri(source)} into {redact_uri(store.uri)} "
        f"in {elapsed:.1f} s{rate}."
    )
    if report.runs_skipped:
        click.echo(f"Skipped {report.runs_skipped} runs already in the target (imported before).")
    if report.experiments_created:
        click.echo("Experiments created: " + ", ".join(report.experiments_created))
    if report.experiments_matched:
        click.echo("Experiments matched by name: " + ", ".join(report.experiments_matched))


def _run_with_progress(importer, plan):
    from rich.console import Console
    from rich.progress import BarColumn, Progress, TaskProgressColumn, TextColumn, TimeElapsedColumn, TimeRemainingColumn

    columns = (
        TextColumn("[bold]importing[/bold] {task.fields[runs]}/{task.fields[total_runs]} runs"),
        BarColumn(),
        TaskProgressColumn(),
        TextColumn("{task.completed:,.0f}/{task.total:,.0f} points"),
        TextColumn("{task.fields[rate]}"),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
    )
    started = time.perf_counter()
    with Progress(*columns, console=Console(stderr=True), transient=False) as bar:
        task = bar.add_task("import", total=max(plan.points, 1), runs=0, total_runs=len(plan.run_ids), rate="")
        done = {"points": 0, "runs": 0}

        def on_points(n: int) -> None:
            done["points"] += n
            elapsed = time.perf_counter() - started
            bar.update(task, advance=n, rate=f"{done['points'] / elapsed:,.0f} points/s" if elapsed > 0 else "")

        def on_run(_run_id: str) -> None:
            done["runs"] += 1
            bar.update(task, runs=done["runs"])

        report = importer.run(plan, on_points=on_points, on_run=on_run)
        bar.update(task, completed=max(plan.points, 1))
    return report
