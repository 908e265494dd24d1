"""The PyTorch model flavor: the whole module (``torch.save`` of the module; cloudpickle when the
standard pickler cannot store it, e.g. a class defined inside a function) plus its ``state_dict``.

Loading the whole module runs code from the file (pickle): load only models you trust. The
``state_dict`` file (tensors only, read with ``weights_only=True``) lets a user who has the class
rebuild the model without unpickling code: ``model.load_state_dict(load_state_dict(uri))``.

The signature's inputs are tensor specs of the input example (a tensor, an array, or a dict of them),
its outputs those of the module's output on it. The generic loader (``autotrack.models.load_model``)
runs the module in ``eval()`` mode under ``torch.no_grad()`` and returns numpy arrays.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from autotrack.exceptions import InvalidParameterError
from autotrack.models.loading import load_flavor
from autotrack.models.metadata import ModelInfo, ModelMetadata
from autotrack.models.requirements import installed_version
from autotrack.models.saving import FlavorWriter, log_model_folder, save_model_folder
from autotrack.models.signature import ModelSignature

FLAVOR_NAME = "pytorch"
MODEL_FILE = "model.pth"
STATE_DICT_FILE = "state_dict.pth"


def to_numpy(value: Any) -> Any:
    """Tensors (also inside dicts, lists and tuples) as numpy arrays; anything else unchanged."""
    if hasattr(value, "detach") and hasattr(value, "cpu") and hasattr(value, "numpy"):
        return value.detach().cpu().numpy()
    if isinstance(value, dict):
        return {k: to_numpy(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)) and value and all(hasattr(v, "detach") for v in value):
        return type(value)(to_numpy(v) for v in value)
    return value


class _Predictor:
    def __init__(self, model: Any):
        self.model = model

    def _tensor(self, data: Any, device: Any) -> Any:
        import numpy as np
        import torch

        if isinstance(data, torch.Tensor):
            return data.to(device)
        if hasattr(data, "to_numpy"):  # DataFrame / Series
            data = data.to_numpy()
        return torch.as_tensor(np.asarray(data), device=device)

    def predict(self, data: Any) -> Any:
        import torch

        model = self.model
        try:
            device = next(model.parameters()).device
        except (StopIteration, AttributeError):
            device = torch.device("cpu")
        if hasattr(model, "eval"):
            model.eval()
        with torch.no_grad():
            if isinstance(data, dict):
                output = model(**{k: self._tensor(v, device) for k, v in data.items()})
            else:
                output = model(self._tensor(data, device))
        return to_numpy(output)


def _writer(pytorch_model: Any) -> FlavorWriter:
    import torch

    if not isinstance(pytorch_model, torch.nn.Module):
        raise InvalidParameterError(
            f"pytorch_model of type {type(pytorch_model).__name__} is not supported; accepted: a "
            "torch.nn.Module (a LightningModule is one)")

    def write(folder: Path) -> dict[str, Any]:
        from autotrack.integrations.pytorch.checkpoints import not_logged

        pickle_module = "pickle"
        with not_logged():  # these files are the model folder, not checkpoints of the run
            try:
                torch.save(pytorch_model, folder / MODEL_FILE)
            except Exception:  # noqa: BLE001 - e.g. a class defined in a function or a lambda attribute
                import cloudpickle

                torch.save(pytorch_model, folder / MODEL_FILE, pickle_module=cloudpickle)
                pickle_module = "cloudpickle"
            torch.save(pytorch_model.state_dict(), folder / STATE_DICT_FILE)
        return {"model_file": MODEL_FILE, "state_dict_file": STATE_DICT_FILE, "pickle_module": pickle_module}

    cls = type(pytorch_model)
    conf = {
        "library": "torch", "distribution": "torch", "extra": "torch",
        "library_version": installed_version("torch"),
        "model_class": f"{cls.__module__}.{cls.__qualname__}",
    }
    return FlavorWriter(FLAVOR_NAME, __name__, write, ["torch", "numpy", "cloudpickle"], conf,
                        _Predictor(pytorch_model).predict)


def save_model(pytorch_model: Any, path: str | os.PathLike, signature: ModelSignature | None = None,
               input_example: Any = None, *, overwrite: bool = False) -> ModelInfo:
    """Save a ``torch.nn.Module`` as a model folder at ``path`` (whole module + ``state_dict``).

    ``input_example`` may be a tensor, a numpy array or a dict of them; without ``signature`` one is
    inferred from it and from the module's output on it.
    """
    return save_model_folder(path, _writer(pytorch_model), signature, to_numpy(input_example), overwrite)


def log_model(pytorch_model: Any, artifact_path: str, signature: ModelSignature | None = None,
              input_example: Any = None) -> ModelInfo:
    """Log a ``torch.nn.Module`` to the active run (started if none); ``model_uri`` is ``runs:/<run_id>/<path>``."""
    return log_model_folder(artifact_path, _writer(pytorch_model), signature, to_numpy(input_example))


def _read(folder: Path, conf: dict[str, Any], map_location: Any = None) -> Any:
    import torch

    path = folder / conf.get("model_file", MODEL_FILE)
    if conf.get("pickle_module") == "cloudpickle":
        import cloudpickle  # noqa: F401 - the file's references need it importable

    # weights_only=False: the whole module is a pickle of its class (see the module docstring)
    return torch.load(path, map_location=map_location, weights_only=False)


def load_model(model_uri: str | os.PathLike, dst_path: str | None = None, map_location: Any = None) -> Any:
    """Load the ``torch.nn.Module`` saved at ``model_uri`` (``map_location`` as for ``torch.load``)."""
    folder, _, conf = load_flavor(model_uri, FLAVOR_NAME, dst_path)
    return _read(folder, conf, map_location)


def load_state_dict(model_uri: str | os.PathLike, dst_path: str | None = None, map_location: Any = None) -> dict:
    """The saved model's ``state_dict`` (tensors only; no code is unpickled)."""
    import torch

    folder, _, conf = load_flavor(model_uri, FLAVOR_NAME, dst_path)
    return torch.load(folder / conf.get("state_dict_file", STATE_DICT_FILE), map_location=map_location,
                      weights_only=True)


def load_predictor(folder: Path, metadata: ModelMetadata) -> _Predictor:
    """Loader entry point used by :func:`autotrack.models.load_model` for this flavor."""
    return _Predictor(_read(folder, metadata.flavors[FLAVOR_NAME]))
