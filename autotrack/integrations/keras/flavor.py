"""The Keras model flavor: a Keras 3 model in its native ``.keras`` format (architecture, weights and
optimizer state in one file), on any backend.

``import`` of this module imports no Keras; functions import it when called. The generic loader
(:func:`autotrack.models.load_model`) gets a predictor whose ``predict`` returns numpy arrays (a dict
by output name for a model with several outputs).
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

FLAVOR_NAME = "keras"
MODEL_FILE = "model.keras"
#: inputs up to this many rows are predicted with one eager call (tracing ``predict`` costs more)
EAGER_ROWS = 256
#: the distributions that provide each Keras backend, in the order they are looked for
BACKEND_DISTRIBUTIONS = {
    "tensorflow": ("tensorflow", "tensorflow-cpu", "tensorflow-macos"),
    "jax": ("jax",),
    "torch": ("torch",),
    "numpy": (),
    "openvino": ("openvino",),
}


def backend_distribution() -> tuple[str, str | None]:
    """``(backend name, installed distribution providing it)`` for the current Keras backend."""
    import keras

    backend = keras.backend.backend()
    for dist in BACKEND_DISTRIBUTIONS.get(backend, ()):
        if installed_version(dist):
            return backend, dist
    return backend, None


class _Predictor:
    def __init__(self, model: Any):
        self.model = model

    def predict(self, data: Any) -> Any:
        from autotrack.integrations.keras import extract

        rows = _rows(data)
        if rows is not None and rows <= EAGER_ROWS:
            return extract.predict_eager(self.model, data)
        return extract.outputs_as_numpy(self.model, self.model.predict(extract.as_model_input(data), verbose=0))


def _rows(data: Any) -> int | None:
    first = next(iter(data.values()), None) if isinstance(data, dict) else data
    shape = getattr(first, "shape", None)
    return int(shape[0]) if shape is not None and len(shape) else None


def model_writer(keras_model: Any) -> FlavorWriter:
    """How a Keras model is written into a model folder (the ``.keras`` file plus its settings)."""
    import keras

    if not isinstance(keras_model, keras.Model):
        raise InvalidParameterError(
            f"keras_model of type {type(keras_model).__name__} is not supported; accepted: a keras.Model "
            "(Sequential, functional or subclassed; tf.keras.Model is the same class on TensorFlow >= 2.16)")
    backend, backend_dist = backend_distribution()

    def write(folder: Path) -> dict[str, Any]:
        keras_model.save(str(folder / MODEL_FILE))
        return {"model_file": MODEL_FILE}

    conf = {
        "library": "keras", "distribution": "keras", "extra": "keras",
        "library_version": installed_version("keras"), "save_format": "keras", "backend": backend,
        "backend_distribution": backend_dist,
        "backend_version": installed_version(backend_dist) if backend_dist else None,
        "model_class": f"{type(keras_model).__module__}.{type(keras_model).__qualname__}",
    }
    distributions = ["keras", "numpy"] + ([backend_dist] if backend_dist else [])
    return FlavorWriter(FLAVOR_NAME, __name__, write, distributions, conf, _Predictor(keras_model).predict)


def save_model(keras_model: Any, path: str | os.PathLike, signature: ModelSignature | None = None,
               input_example: Any = None, *, overwrite: bool = False) -> ModelInfo:
    """Save a Keras model as a model folder at ``path`` (the model in ``model.keras``).

    With an ``input_example`` and no ``signature``, the signature is inferred from the example and the
    model's output on it."""
    return save_model_folder(path, model_writer(keras_model), signature, input_example, overwrite)


def log_model(keras_model: Any, artifact_path: str = "model", signature: ModelSignature | None = None,
              input_example: Any = None) -> ModelInfo:
    """Log a Keras model to the active run (started if none); ``model_uri`` is ``runs:/<run_id>/<path>``."""
    return log_model_folder(artifact_path, model_writer(keras_model), signature, input_example)


def _read(folder: Path, conf: dict[str, Any], *, compile: bool = True, custom_objects: Any = None) -> Any:
    import keras

    return keras.saving.load_model(str(folder / conf.get("model_file", MODEL_FILE)),
                                   custom_objects=custom_objects, compile=compile)


def load_model(model_uri: str | os.PathLike, dst_path: str | None = None, *, compile: bool = True,
               custom_objects: Any = None) -> Any:
    """Load the Keras model saved at ``model_uri`` (a path or ``runs:/<run_id>/<path>``) as a
    ``keras.Model``; ``custom_objects`` as for ``keras.saving.load_model``."""
    folder, _, conf = load_flavor(model_uri, FLAVOR_NAME, dst_path)
    return _read(folder, conf, compile=compile, custom_objects=custom_objects)


def load_predictor(folder: Path, metadata: ModelMetadata) -> _Predictor:
    """Loader entry point used by :func:`autotrack.models.load_model` for this flavor."""
    return _Predictor(_read(folder, metadata.flavors[FLAVOR_NAME]))
