"""The ``autotrack`` command line.

Every command reads the store named by ``--tracking-uri`` (on the group or on the command), else
``AUTOTRACK_TRACKING_URI``, else the embedded ``sqlite:///autotrack-runs/tracking.db``. Tables are drawn
with rich (imported when a command prints one) to the terminal's width; ``--json`` prints JSON
instead. Errors print one ``Error: ...`` line to stderr and exit 1.

Adding a command group: write it in its own module (a click command or group, built with the helpers of
``autotrack.cli.common``: ``tracking_uri_option``, ``client``, ``RUN_ID`` for run-id arguments, which
accepts a unique prefix) and add one line to ``COMMANDS`` below. A module is imported only when its
command runs or help lists it; one that cannot be imported is left out of the CLI.

This package imports only click and autotrack's tracking modules: never pandas, numpy or an ML library.
"""

from __future__ import annotations

import importlib

import click

from autotrack import __version__
from autotrack.cli.common import AutotrackGroup, tracking_uri_option

# command name -> "module:attribute" of a click command, and its one-line summary for `autotrack --help`.
# The one registration point: one line per command group.
COMMANDS: dict[str, tuple[str, str]] = {
    "experiments": ("autotrack.cli.experiments:experiments", "List and create experiments."),
    "runs": ("autotrack.cli.runs:runs", "List, show and compare runs."),
    "run": ("autotrack.core.cli_run:run_command", "Run a command with autologging on (autotrack run -- python train.py)."),
    "models": ("autotrack.models.cli:models", "Serve a model (MLflow's scoring protocol), or score a file."),  # serving
    "import": ("autotrack.cli.import_mlflow:import_group", "Copy experiments and runs from MLflow (autotrack import mlflow --from URI)."),
}


class _LazyGroup(AutotrackGroup):
    """The top-level group: its subcommands are named in ``COMMANDS`` and imported on first use."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(set(super().list_commands(ctx)) | {n for n in COMMANDS if self._load(n) is not None})

    def get_command(self, ctx: click.Context, name: str):
        return super().get_command(ctx, name) or self._load(name)

    def _load(self, name: str):
        entry = COMMANDS.get(name)
        if entry is None:
            return None
        target, summary = entry
        module_name, _, attribute = target.partition(":")
        try:
            command = getattr(importlib.import_module(module_name), attribute)
        except ImportError:
            return None  # a command whose module is not part of this version (or cannot load) is left out
        if summary:
            command.short_help = summary  # click would cut the docstring's first sentence at 45 characters
        return command


@click.group(cls=_LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, "--version", prog_name="autotrack", message="%(prog)s %(version)s")
@tracking_uri_option(envvar="AUTOTRACK_TRACKING_URI")
def main() -> None:
    """autotrack: look at the experiments and runs in a tracking store."""


__all__ = ["COMMANDS", "main"]
