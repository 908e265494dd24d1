"""``autotrack experiments list|create``."""

from __future__ import annotations

import click

from autotrack.cli import common


@click.group(cls=common.AutotrackGroup)
def experiments() -> None:
    """List and create experiments."""


@experiments.command("list", short_help="List experiments.")
@click.option("--all", "show_all", is_flag=True, help="Include deleted experiments.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
@common.tracking_uri_option()
def experiments_list(show_all: bool, as_json: bool) -> None:
    """List experiments: id, name, lifecycle stage and artifact location (active ones unless --all)."""
    from autotrack.entities import ViewType

    found = common.client().search_experiments(ViewType.ALL if show_all else ViewType.ACTIVE_ONLY)
    if as_json:
        common.echo_json([
            {"experiment_id": e.experiment_id, "name": e.name, "lifecycle_stage": e.lifecycle_stage,
             "artifact_location": e.artifact_location, "tags": e.tags,
             "creation_time": e.creation_time, "last_update_time": e.last_update_time}
            for e in found
        ])
        return
    click.echo(common.render(common.table(
        ["id", "name", "lifecycle", "artifact location"],
        [[e.experiment_id, e.name, e.lifecycle_stage, e.artifact_location] for e in found], fold=["artifact location"],
    )))


@experiments.command("create", short_help="Create an experiment and print its id.")
@click.argument("name")
@click.option("--artifact-location", metavar="URI", help="Where the experiment's artifacts go [default: under AUTOTRACK_ARTIFACT_ROOT].")
@common.tracking_uri_option()
def experiments_create(name: str, artifact_location: str | None) -> None:
    """Create the experiment NAME and print its id."""
    click.echo(common.client().create_experiment(name, artifact_location=artifact_location))
