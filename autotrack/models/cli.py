"""``autotrack models serve|predict``: score a model over HTTP or from the command line.

The model is addressed like everywhere else: a local path, ``file://...``, ``runs:/<run_id>/<path>``
or another artifact URI. This module imports only click; the server and pandas load when a command runs.
"""

from __future__ import annotations

import sys
from pathlib import Path

import click

_MODEL_URI = click.option("-m", "--model-uri", required=True, metavar="URI",
                          help="The model: a local path, file://..., runs:/<run_id>/<path> or another artifact URI.")


@click.group("models")
def models() -> None:
    """Serve models with MLflow's scoring protocol, or score a file with one."""


@models.command("serve")
@_MODEL_URI
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on (0.0.0.0 for every interface).")
@click.option("-p", "--port", default=5001, show_default=True, type=click.IntRange(0, 65535), help="Port to listen on.")
@click.option("-w", "--workers", default=1, show_default=True, type=click.IntRange(1, 512),
              help="Worker processes; each loads its own copy of the model and they share nothing.")
@click.option("--max-body-mb", default=64.0, show_default=True, type=click.FloatRange(min=0, min_open=True),
              help="Largest request body accepted; larger ones are answered 413.")
@click.option("--log-level", default="info", show_default=True,
              type=click.Choice(["critical", "error", "warning", "info", "debug"]))
def serve(model_uri: str, host: str, port: int, workers: int, max_body_mb: float, log_level: str) -> None:
    """Serve the model at URI: POST /invocations, GET /ping, /health, /version, /metadata."""
    import importlib.util

    missing = [m for m in ("starlette", "uvicorn") if importlib.util.find_spec(m) is None]
    if missing:
        raise click.ClickException(f"serving needs {' and '.join(missing)}, which is not installed; "
                                   "install it with: pip install 'autotrack[server]'")
    from autotrack.models.serving.server import serve as run_server

    run_server(model_uri, host, port, workers, int(max_body_mb * 1024 * 1024), log_level)


def _kind(path: Path, content_type: str | None) -> str:
    if content_type:
        return content_type
    suffix = path.suffix.lower()
    if suffix in (".json", ".csv"):
        return suffix[1:]
    raise click.BadParameter(f"cannot tell the format of {str(path)!r} from its extension; accepted: .json, .csv, "
                             "or give --content-type json|csv", param_hint="'-i' / '--input-path'")


@models.command("predict")
@_MODEL_URI
@click.option("-i", "--input-path", required=True, type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="Input file: JSON in the server's formats (dataframe_split, dataframe_records, instances, inputs) or CSV with a header.")
@click.option("-o", "--output-path", type=click.Path(dir_okay=False, path_type=Path),
              help="Write {\"predictions\": [...]} here instead of standard output.")
@click.option("-t", "--content-type", type=click.Choice(["json", "csv"]), help="Input format (default: from the extension).")
def predict(model_uri: str, input_path: Path, output_path: Path | None, content_type: str | None) -> None:
    """Score INPUT with the model at URI, exactly as POST /invocations would."""
    kind = _kind(input_path, content_type)
    from autotrack.models.serving.app import ScoringService
    from autotrack.models.serving.protocol import RequestError
    from autotrack.models.serving.server import load, resolve_model

    service = ScoringService(load(resolve_model(model_uri)), model_uri)
    try:
        answer = service.score(input_path.read_bytes(), kind)
    except RequestError as exc:
        raise click.ClickException(f"{input_path}: {exc.message}") from None
    if output_path is None:
        sys.stdout.buffer.write(answer + b"\n")
        sys.stdout.flush()
    else:
        output_path.write_bytes(answer + b"\n")
        click.echo(f"Wrote predictions for {input_path} to {output_path}", err=True)
