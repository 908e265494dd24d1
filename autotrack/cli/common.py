"""What every ``autotrack`` command shares: the store option, errors, run-id prefixes, output helpers.

rich is imported only inside the functions that draw, so ``autotrack --help`` stays quick.
"""

from __future__ import annotations

import io
import json
import math
import os
import re
import shutil
import sys
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

import click

URI_KEY = "autotrack.tracking_uri"
MIN_PREFIX = 6  # the shortest run-id prefix accepted, as git accepts short hashes
DEFAULT_WIDTH = 100  # when the output is not a terminal and $COLUMNS is unset
_HEX_PREFIX = re.compile(r"[0-9a-f]+")


# ---------------------------------------------------------------------- formatting values
def format_number(value: float, digits: int = 4) -> str:
    """A float to ``digits`` significant digits: ``0.9667``, ``1e-05``, ``1.235e+05``, ``nan``, ``inf``."""
    return f"{float(value):.{digits}g}"


def format_exact(value: float) -> str:
    """A float exactly as stored (shortest repr): ``0.9``, ``1e-05``, ``nan``, ``inf``."""
    return repr(float(value))


def cell(value: Any, number=format_number) -> str:
    """One table cell: ``-`` for a missing value, floats through ``number``, newlines made visible."""
    if value is None:
        return "-"
    if isinstance(value, float):
        return number(value)
    return str(value).replace("\r", "\\r").replace("\n", "\\n")


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


def format_duration(start: int | None, end: int | None) -> str:
    if start is None or end is None:
        return "-"
    seconds = max(0, end - start) / 1000
    if seconds < 60:
        return f"{seconds:.1f}s"
    minutes, secs = divmod(int(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h {minutes:02d}m {secs:02d}s" if hours else f"{minutes}m {secs:02d}s"


def json_value(value: Any) -> Any:
    """NaN and infinities as strings, so the output is strict JSON that ``jq`` reads."""
    if isinstance(value, float) and not math.isfinite(value):
        return "NaN" if math.isnan(value) else ("Infinity" if value > 0 else "-Infinity")
    if isinstance(value, dict):
        return {k: json_value(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [json_value(v) for v in value]
    return value


def echo_json(value: Any) -> None:
    click.echo(json.dumps(json_value(value), indent=2, sort_keys=False))


# ---------------------------------------------------------------------- drawing with rich
def terminal_width() -> int:
    """``$COLUMNS``, else the terminal's width, else ``DEFAULT_WIDTH`` (output to a pipe or a file)."""
    columns = os.environ.get("COLUMNS", "")
    if columns.isdigit() and int(columns) > 0:
        return int(columns)
    try:
        return os.get_terminal_size(sys.stdout.fileno()).columns
    except (OSError, ValueError, AttributeError):
        return DEFAULT_WIDTH


def render(*renderables: Any, width: int | None = None) -> str:
    """What rich draws for ``renderables`` at ``width`` columns, as text (styled only on a terminal)."""
    from rich.console import Console

    on_terminal = sys.stdout.isatty() and "NO_COLOR" not in os.environ
    console = Console(
        width=width or terminal_width(), file=io.StringIO(), force_terminal=on_terminal,
        color_system="auto" if on_terminal else None, highlight=False, emoji=False, soft_wrap=False,
    )
    for renderable in renderables:
        console.print(renderable)
    return "\n".join(line.rstrip() for line in console.file.getvalue().splitlines())


def table(headers: Sequence[str], rows: Iterable[Sequence[Any]], *, number=format_number, styles: dict[str, str] | None = None,
          right: Sequence[str] = (), fold: Sequence[str] = ()):
    """A rich table without borders: a header, a rule under it, columns three spaces apart.

    Cells are one line each; when the terminal is narrower than the table, rich narrows the widest
    columns (never below 10 characters or the column's own width) and ends their cells with an
    ellipsis, except in the ``fold`` columns, whose cells wrap instead (values that must be read
    whole, such as paths). ``styles`` maps a cell text to a style (e.g. a status to its colour);
    ``right`` names the right-aligned columns.
    """
    from rich import box
    from rich.table import Table
    from rich.text import Text

    texts = [[cell(v, number) for v in row] for row in rows]
    out = Table(box=box.SIMPLE_HEAD, pad_edge=False, show_edge=False, padding=(0, 1), header_style="bold")
    for i, header in enumerate(headers):
        natural = max([len(header)] + [len(row[i]) for row in texts])
        folds = header in fold
        out.add_column(header, no_wrap=not folds, overflow="fold" if folds else "ellipsis", min_width=min(natural, 10),
                       justify="right" if header in right else "left")
    for row in texts:
        out.add_row(*(Text(t, style=(styles or {}).get(t, "")) for t in row))
    return out


STATUS_STYLES = {"FINISHED": "green", "FAILED": "red", "KILLED": "magenta", "RUNNING": "yellow", "SCHEDULED": "cyan"}


# ---------------------------------------------------------------------- store access and errors
def _store_tracking_uri(ctx: click.Context, _param: click.Parameter, value: str | None) -> None:
    # ctx.meta is shared by the whole command chain, so a subcommand's --tracking-uri (parsed after
    # the group's) overrides the group's value and the environment variable.
    if value:
        ctx.meta[URI_KEY] = value


def tracking_uri_option(envvar: str | None = None):
    """The ``--tracking-uri`` option; put it on every command that opens the store."""
    return click.option(
        "--tracking-uri", metavar="URI", envvar=envvar, expose_value=False, callback=_store_tracking_uri,
        help="Tracking store: sqlite:///path, mysql+pymysql://..., postgresql://... "
        "[default: $AUTOTRACK_TRACKING_URI, else sqlite:///autotrack-runs/tracking.db]",
    )


def tracking_uri() -> str:
    """The URI the current command reads: the option, else the environment, else the embedded default."""
    from autotrack.tracking.client import resolve_tracking_uri

    ctx = click.get_current_context()
    uri = ctx.meta[URI_KEY] = resolve_tracking_uri(ctx.meta.get(URI_KEY))
    return uri


def missing_sqlite_file(uri: str) -> str | None:
    """The path of an SQLite store that does not exist yet (a read need not create it), else ``None``."""
    if not uri.startswith("sqlite:///"):
        return None
    path = uri[len("sqlite:///"):].split("?", 1)[0]
    if path in ("", ":memory:"):
        return None
    return None if os.path.exists(path) else path


def client():
    """The tracking client of the current command (its store is opened, and created, on first use)."""
    from autotrack.tracking.client import TrackingClient

    return TrackingClient(tracking_uri())


def one_line(message: str) -> str:
    return " ".join(str(message).split())


def redact(uri: str) -> str:
    """``scheme://user:****@host`` so that passwords never reach the terminal."""
    return re.sub(r"(://[^:/@]+:)[^@/]*@", r"\1****@", uri)


def error_message(exc: BaseException, uri: str | None) -> str | None:
    """The one-line message for an error the user can act on; ``None`` for a bug (shown as a traceback)."""
    from autotrack.entities.errors import AutotrackException

    if isinstance(exc, AutotrackException):
        return one_line(exc.message)
    where = f"tracking store {redact(uri)}" if uri else "tracking store"
    if isinstance(exc, OSError):
        return one_line(f"cannot open the {where}: {exc}")
    if type(exc).__module__.startswith("sqlalchemy"):
        orig = getattr(exc, "orig", None)
        return one_line(f"could not read the {where}: {orig or exc}")
    return None


class AutotrackGroup(click.Group):
    """A click group that turns autotrack's errors into one ``Error: ...`` line and exit status 1."""

    def invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        except (click.exceptions.ClickException, click.exceptions.Exit, click.exceptions.Abort, BrokenPipeError):
            raise
        except Exception as exc:
            message = error_message(exc, ctx.meta.get(URI_KEY))
            if message is None:
                raise
            raise click.ClickException(message) from None


# ---------------------------------------------------------------------- run ids and prefixes
def resolve_run_id(tracking_client, ref: str) -> str:
    """The run id that ``ref`` names: a whole run id, or a prefix of at least 6 characters that one run has.

    An unknown id is left to the caller's ``get_run`` (which names it); a prefix no run has, or that
    several runs have, is an error that says so and lists the candidates.
    """
    from autotrack.entities.errors import InvalidParameterError, ResourceNotFoundError
    from autotrack.entities import ViewType

    text = ref.strip().lower()
    if len(text) == 32 and _HEX_PREFIX.fullmatch(text):
        return text
    if len(text) < MIN_PREFIX or len(text) > 32 or not _HEX_PREFIX.fullmatch(text):
        raise InvalidParameterError(
            f"Invalid run id {ref!r}: give a run id (32 characters 0-9, a-f) or a unique prefix of at least "
            f"{MIN_PREFIX} of its characters."
        )
    experiment_ids = [e.experiment_id for e in tracking_client.search_experiments(ViewType.ALL)]
    found = tracking_client.search_runs(experiment_ids, f"attributes.run_id LIKE '{text}%'", ViewType.ALL, max_results=10)
    if not found:
        raise ResourceNotFoundError(f"No run id starts with {ref!r}.")
    if len(found) > 1:
        listed = ", ".join(f"{r.info.run_id} ({r.info.run_name})" for r in found)
        more = " and more" if getattr(found, "token", None) else ""
        raise InvalidParameterError(
            f"Run id prefix {ref!r} is ambiguous: it matches {listed}{more}. Give more characters."
        )
    return found[0].info.run_id


def short_ids(run_ids: Sequence[str], minimum: int = 8) -> dict[str, str]:
    """Each run id cut to the shortest length (``minimum`` or more) at which the given ids stay distinct."""
    length = minimum
    while length < 32 and len({r[:length] for r in run_ids}) < len(set(run_ids)):
        length += 1
    return {r: r[:length] for r in run_ids}
