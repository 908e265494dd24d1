"""Models: log a trained model into a run by id, with a flavor, a signature and an input example.

:func:`log_model` saves the model folder (the flavor's :class:`~autotrack.models.saving.FlavorWriter`,
``MLmodel`` metadata, requirements, input example, signature) into a private staging folder on the
caller's thread -- serialising captures the model as it is *now*, so training may go on changing
it -- and then uploads the folder through the tracking client into ``<artifact_path>/`` of the run.
With ``background=True`` the upload runs on the background artifact writer (reads of the run's
artifacts, ``load_model("runs:/...")`` included, wait for it; ``autotrack.flush()`` drains it), so a
slow or remote artifact store costs the training loop nothing. Keep ``background=False`` where the
model must be loadable by a plain path as soon as the call returns.

The autolog options are honoured when ``config`` is given: ``log_input_examples=False`` drops the
example, ``log_model_signatures=False`` drops the signature and its inference.
"""

from __future__ import annotations

from typing import Any

from autotrack.core import safety

TYPE_CHECKING = False
if TYPE_CHECKING:  # pragma: no cover
    from collections.abc import Callable

    from autotrack.core import AutologConfig
    from autotrack.models.saving import FlavorWriter

__all__ = ["MODEL_PATH", "infer_signature", "log_model"]

MODEL_PATH = "model"


def infer_signature(predict: Callable[[Any], Any] | None, sample: Any) -> Any:
    """A :class:`~autotrack.models.ModelSignature` from ``sample`` and ``predict(sample)`` (inputs
    only when ``predict`` is None); None when the data has no schema autotrack can describe (sparse
    input, text documents...) or ``predict`` fails on it -- a model is still logged without one."""
    import warnings

    from autotrack.models.signature import infer_signature as infer

    if sample is None:
        return None
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            output = predict(sample) if predict is not None else None
        return infer(sample, output)
    except Exception as exc:  # noqa: BLE001 - no describable schema: logged without a signature
        if "logging" in __import__("sys").modules:
            import logging

            logging.getLogger("autotrack").debug("no signature inferred: %s", exc)
        return None


def log_model(run_id: str, writer: FlavorWriter, *, artifact_path: str = MODEL_PATH, signature: Any = None,
              input_example: Any = None, infer_signature_from_example: bool = True, background: bool = False,
              integration: str = "", config: AutologConfig | Any = None, client: Any = None) -> str:
    """Save the model that ``writer`` describes and log it as ``<artifact_path>/`` of ``run_id``;
    return its URI ``runs:/<run_id>/<artifact_path>``.

    Without ``signature`` and with an ``input_example``, the signature is inferred from the example
    and the writer's ``predict`` (unless ``infer_signature_from_example`` is False). See the module
    docstring for ``background`` and how ``config`` is honoured.
    """
    import shutil
    import tempfile
    from pathlib import Path

    from autotrack.models.saving import check_artifact_path, save_model_folder

    if client is None:
        from autotrack.tracking.client import TrackingClient

        client = TrackingClient()
    artifact_path = check_artifact_path(artifact_path)
    if config is not None:
        if not config.get("log_input_examples", True):
            input_example = None
        if not config.get("log_model_signatures", True):
            signature, infer_signature_from_example = None, False
    staging = Path(tempfile.mkdtemp(prefix="autotrack-model-"))
    local = staging / "model"
    try:
        save_model_folder(local, writer, signature, input_example, run_id=run_id, artifact_path=artifact_path,
                          infer_signature_from_example=infer_signature_from_example)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    if not background:
        try:
            client.log_artifacts(run_id, str(local), artifact_path)
        finally:
            shutil.rmtree(staging, ignore_errors=True)
        return f"runs:/{run_id}/{artifact_path}"
    repo = client.artifact_repository(run_id)  # resolved now; the upload may come after the run ended

    def upload() -> None:
        try:
            repo.log_artifacts(str(local), artifact_path)
        finally:
            shutil.rmtree(staging, ignore_errors=True)

    from autotrack.tracking import artifact_writer

    silent = bool(config and config.get("silent"))
    artifact_writer.submit(upload, lambda exc: safety.report(integration or "autotrack", f"uploading {artifact_path}",
                                                             exc, silent=silent, allow_raise=False),
                           _size(local), run_id)
    return f"runs:/{run_id}/{artifact_path}"


def _size(folder: Any) -> int:
    try:
        return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file())
    except OSError:
        return 0
