"""Write a model folder (model files, metadata, input example, requirements) and log it to a run.

Every flavor describes itself with a :class:`FlavorWriter`; :func:`save_model_folder` and
:func:`log_model_folder` do the rest the same way for all of them.
"""

from __future__ import annotations

import os
import platform
import shutil
import tempfile
import warnings
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any, Callable, Sequence

import autotrack
from autotrack.exceptions import InvalidParameterError, ResourceExistsError
from autotrack.models.metadata import PYFUNC_FLAVOR, ModelInfo, ModelMetadata
from autotrack.models.signature import ModelSignature

REQUIREMENTS_FILE = "requirements.txt"


@dataclass
class FlavorWriter:
    """How one flavor writes a model.

    ``write(folder)`` stores the model files and returns settings for the flavor's metadata entry;
    ``predict`` (optional) runs the model on an input example to infer the output schema.
    """

    flavor: str
    loader_module: str
    write: Callable[[Path], dict[str, Any]]
    distributions: Sequence[str]
    conf: dict[str, Any] = field(default_factory=dict)
    predict: Callable[[Any], Any] | None = None


def _prepare_folder(path: str | os.PathLike, overwrite: bool) -> tuple[Path, Path]:
    """``(target, staging)``: the model is written into ``staging``, then moved to ``target``.

    When an existing model is overwritten, staging is a new sibling folder, so a failed save leaves
    the old model as it was.
    """
    folder = Path(path)
    if folder.exists():
        if not folder.is_dir():
            raise ResourceExistsError(f"path={str(path)!r} is an existing file; save the model to a folder path")
        if any(folder.iterdir()):
            if not overwrite:
                raise ResourceExistsError(
                    f"path={str(path)!r} already exists and is not empty; choose a new path or pass overwrite=True")
            return folder, Path(tempfile.mkdtemp(prefix=f".{folder.name}-", dir=folder.parent))
    folder.mkdir(parents=True, exist_ok=True)
    return folder, folder


def _publish(target: Path, staging: Path) -> None:
    """Replace ``target`` with the fully written ``staging`` folder (no-op when they are the same)."""
    if staging != target:
        shutil.rmtree(target)
        staging.rename(target)


def _check_signature(signature: Any) -> None:
    if signature is not None and not isinstance(signature, ModelSignature):
        raise InvalidParameterError(
            f"signature must be a ModelSignature or None; got {type(signature).__name__}. "
            "Use autotrack.models.infer_signature(X, y) or ModelSignature(inputs=Schema([...]))")


def _signature_from_example(writer: FlavorWriter, example: Any) -> ModelSignature:
    """Inputs from the example; outputs from the model's prediction on it, when it predicts."""
    from autotrack.models.enforcement import enforce_schema
    from autotrack.models.schema_inference import infer_schema

    inputs = infer_schema(example, "input_example")
    outputs = None
    if writer.predict is not None:
        try:
            outputs = infer_schema(writer.predict(enforce_schema(example, inputs)), "model output")
        except Exception as exc:  # the model may not accept the example as given; inputs still help
            warnings.warn(f"Could not infer the model's output schema from the input example: {exc}",
                          UserWarning, stacklevel=4)
    return ModelSignature(inputs, outputs)


def _check_example_matches(signature: ModelSignature, example: Any) -> None:
    from autotrack.models.enforcement import enforce_schema

    try:
        enforce_schema(example, signature.inputs)
    except InvalidParameterError as exc:
        warnings.warn(f"The input example does not match the signature's inputs: {exc}", UserWarning, stacklevel=4)


def _folder_size(folder: Path) -> int:
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file())


def save_model_folder(
    path: str | os.PathLike,
    writer: FlavorWriter,
    signature: ModelSignature | None = None,
    input_example: Any = None,
    overwrite: bool = False,
    run_id: str | None = None,
    artifact_path: str | None = None,
    infer_signature_from_example: bool = True,
) -> ModelInfo:
    """Write the model folder at ``path``; returns the model's info (``model_uri`` is the folder's path).

    With an input example and no signature, the signature is inferred from the example and the
    model's output on it, unless ``infer_signature_from_example`` is False (autolog's
    ``log_model_signatures=False``)."""
    from autotrack.models.input_example import save_input_example
    from autotrack.models.requirements import requirements_for

    _check_signature(signature)
    target, folder = _prepare_folder(path, overwrite)
    try:
        conf = {**writer.conf, **writer.write(folder)}
        example_info = None
        if input_example is not None:
            example_info = save_input_example(input_example, folder)
            if signature is None and infer_signature_from_example:
                signature = _signature_from_example(writer, input_example)
            elif signature is not None:
                _check_example_matches(signature, input_example)
        (folder / REQUIREMENTS_FILE).write_text("\n".join(requirements_for(writer.distributions)) + "\n")
        metadata = ModelMetadata(signature=signature, saved_input_example_info=example_info, run_id=run_id,
                                 artifact_path=artifact_path, requirements_file=REQUIREMENTS_FILE,
                                 autotrack_version=autotrack.__version__)
        metadata.add_flavor(writer.flavor, **conf)
        # every model also gets the generic python_function entry that autotrack.models.load_model reads
        pyfunc = metadata.flavors.setdefault(PYFUNC_FLAVOR, {})
        pyfunc.update(loader_module=writer.loader_module, flavor=writer.flavor, python_version=platform.python_version())
        metadata.model_size_bytes = _folder_size(folder)
        metadata.save(folder)
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)  # never leave a half-written model behind
        raise
    _publish(target, folder)
    return ModelInfo.from_metadata(str(target.resolve()), metadata)


def check_artifact_path(artifact_path: Any) -> str:
    """``artifact_path`` as a clean relative POSIX path, or an error naming it."""
    if not isinstance(artifact_path, str) or not artifact_path.strip("/"):
        raise InvalidParameterError(
            f"artifact_path={artifact_path!r} must be a non-empty relative path such as 'model'")
    parts = PurePosixPath(artifact_path.replace("\\", "/")).parts
    if artifact_path.startswith("/") or ".." in parts:
        raise InvalidParameterError(
            f"artifact_path={artifact_path!r} must stay inside the run's artifacts: no leading '/' and no '..'")
    return "/".join(p for p in parts if p not in ("", "."))


def log_model_folder(
    artifact_path: str,
    writer: FlavorWriter,
    signature: ModelSignature | None = None,
    input_example: Any = None,
) -> ModelInfo:
    """Save the model and log it to the active run (one is started if none is active)."""
    artifact_path = check_artifact_path(artifact_path)
    _check_signature(signature)
    run = autotrack.active_run() or autotrack.start_run()
    run_id = run.info.run_id
    with tempfile.TemporaryDirectory(prefix="autotrack-model-") as tmp:
        local = Path(tmp) / "model"
        info = save_model_folder(local, writer, signature, input_example, run_id=run_id, artifact_path=artifact_path)
        autotrack.log_artifacts(str(local), artifact_path)
    return ModelInfo.from_metadata(f"runs:/{run_id}/{artifact_path}", info.metadata)
