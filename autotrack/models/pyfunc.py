"""The python-function flavor: any Python object with a ``predict`` method, stored with cloudpickle.

Either subclass :class:`PythonModel` (``predict(context, model_input)``, as in MLflow) or hand over any
object with ``predict(model_input)``, or a plain function of the input. ``load_model`` returns the
generic model, whose ``predict`` enforces the signature; ``unwrap_python_model()`` gives the object back.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from autotrack.exceptions import InvalidParameterError
from autotrack.models.loading import load_model as _load_generic
from autotrack.models.metadata import PYFUNC_FLAVOR, ModelInfo, ModelMetadata
from autotrack.models.pyfunc_model import PyFuncModel
from autotrack.models.requirements import installed_version
from autotrack.models.saving import FlavorWriter, log_model_folder, save_model_folder
from autotrack.models.signature import ModelSignature

MODEL_FILE = "python_model.pkl"


@dataclass
class PythonModelContext:
    """What :meth:`PythonModel.load_context` and ``predict`` receive: named artifacts (local paths)."""

    artifacts: dict[str, str] = field(default_factory=dict)


class PythonModel:
    """Base class for custom models: override ``predict(context, model_input)``; ``load_context`` is optional."""

    def load_context(self, context: PythonModelContext) -> None:
        """Called once after loading, before the first ``predict``."""

    def predict(self, context: PythonModelContext, model_input: Any) -> Any:
        """Return predictions for ``model_input`` (already checked against the signature)."""
        raise NotImplementedError("subclasses of PythonModel implement predict(context, model_input)")


def _takes_params(function: Any) -> bool:
    import inspect

    try:
        parameters = inspect.signature(function).parameters
    except (TypeError, ValueError):
        return False
    return "params" in parameters or any(p.kind is p.VAR_KEYWORD for p in parameters.values())


def _predict_function(python_model: Any):
    """A one-argument predict function for any accepted python model (``params=`` too where the model takes them)."""
    if isinstance(python_model, PythonModel):
        context = PythonModelContext()
        python_model.load_context(context)
        if _takes_params(python_model.predict):
            return lambda data, params=None: python_model.predict(context, data, params=params)
        return lambda data: python_model.predict(context, data)
    if callable(getattr(python_model, "predict", None)):
        return python_model.predict
    if callable(python_model):
        return python_model
    raise InvalidParameterError(
        f"python_model of type {type(python_model).__name__} has no predict method; accepted: a PythonModel "
        "subclass, an object with predict(model_input), or a function of the input")


class _Predictor:
    def __init__(self, model: Any):
        self.model = model
        self.predict = _predict_function(model)
        self.accepts_params = _takes_params(self.predict)


def model_writer(python_model: Any) -> FlavorWriter:
    """The :class:`FlavorWriter` storing ``python_model`` with cloudpickle (what ``save_model`` uses;
    integrations hand it to ``autotrack.integrations.kit.models.log_model``)."""
    predict = _predict_function(python_model)  # validates before anything is written

    def write(folder: Path) -> dict[str, Any]:
        import cloudpickle

        with open(folder / MODEL_FILE, "wb") as f:
            cloudpickle.dump(python_model, f)
        return {"model_file": MODEL_FILE}

    conf = {"library": "cloudpickle", "distribution": "cloudpickle", "library_version": installed_version("cloudpickle")}
    return FlavorWriter(PYFUNC_FLAVOR, __name__, write, ["cloudpickle", "pandas"], conf, predict)


_writer = model_writer


def save_model(python_model: Any, path: str | os.PathLike, signature: ModelSignature | None = None,
               input_example: Any = None, *, overwrite: bool = False) -> ModelInfo:
    """Save ``python_model`` (an object with ``predict``) as a model folder at ``path``."""
    return save_model_folder(path, _writer(python_model), signature, input_example, overwrite)


def log_model(python_model: Any, artifact_path: str, signature: ModelSignature | None = None,
              input_example: Any = None) -> ModelInfo:
    """Log ``python_model`` to the active run under ``artifact_path``; ``model_uri`` is ``runs:/<run_id>/<path>``."""
    return log_model_folder(artifact_path, _writer(python_model), signature, input_example)


def load_model(model_uri: str | os.PathLike, dst_path: str | None = None) -> PyFuncModel:
    """Load any autotrack model as the generic model (its ``predict`` enforces the signature)."""
    return _load_generic(model_uri, dst_path)


def load_predictor(folder: Path, metadata: ModelMetadata) -> _Predictor:
    """Loader entry point used by :func:`autotrack.models.load_model` for this flavor."""
    import cloudpickle

    conf = metadata.flavors[PYFUNC_FLAVOR]
    with open(folder / conf.get("model_file", MODEL_FILE), "rb") as f:
        return _Predictor(cloudpickle.load(f))


__all__ = ["PythonModel", "PythonModelContext", "save_model", "log_model", "load_model"]
