"""The scikit-learn model flavor: estimators stored with cloudpickle (default) or pickle.

Loading a pickle runs code from the file: load only models you trust.
"""

from __future__ import annotations

import os
import pickle
from pathlib import Path
from typing import Any

from autotrack.exceptions import InvalidParameterError
from autotrack.models.loading import load_flavor
from autotrack.models.metadata import ModelInfo, ModelMetadata
from autotrack.models.requirements import installed_version
from autotrack.models.saving import FlavorWriter, log_model_folder, save_model_folder
from autotrack.models.signature import ModelSignature

FLAVOR_NAME = "sklearn"
MODEL_FILE = "model.pkl"
SERIALIZATION_FORMATS = ("cloudpickle", "pickle")
PREDICT_METHODS = ("predict", "predict_proba", "predict_log_proba", "decision_function", "transform")


class _Predictor:
    def __init__(self, model: Any, method: str):
        self.model = model
        self.method = method

    def predict(self, data: Any) -> Any:
        method = getattr(self.model, self.method, None)
        if method is None:
            raise InvalidParameterError(
                f"{type(self.model).__name__} has no {self.method}() method; save the model with "
                f"pyfunc_predict_fn set to one it has, among: {', '.join(PREDICT_METHODS)}")
        return method(data)


def model_writer(sk_model: Any, serialization_format: str = "cloudpickle", pyfunc_predict_fn: str = "predict") -> FlavorWriter:
    """The :class:`FlavorWriter` that stores ``sk_model`` (what :func:`save_model` and autologging use);
    raises for a format or predict method not accepted, or an object that is no estimator."""
    if serialization_format not in SERIALIZATION_FORMATS:
        raise InvalidParameterError(
            f"serialization_format={serialization_format!r} is not supported; accepted: {', '.join(SERIALIZATION_FORMATS)}")
    if pyfunc_predict_fn not in PREDICT_METHODS:
        raise InvalidParameterError(
            f"pyfunc_predict_fn={pyfunc_predict_fn!r} is not supported; accepted: {', '.join(PREDICT_METHODS)}")
    if type(sk_model).__module__.split(".")[0] != "sklearn" and not hasattr(sk_model, "get_params"):
        raise InvalidParameterError(
            f"sk_model of type {type(sk_model).__name__} is not a scikit-learn estimator (no get_params); "
            "use autotrack.pyfunc.save_model for other Python objects")
    predict = getattr(sk_model, pyfunc_predict_fn, None)

    def write(folder: Path) -> dict[str, Any]:
        with open(folder / MODEL_FILE, "wb") as f:
            if serialization_format == "cloudpickle":
                import cloudpickle

                cloudpickle.dump(sk_model, f)
            else:
                pickle.dump(sk_model, f, protocol=pickle.HIGHEST_PROTOCOL)
        return {"model_file": MODEL_FILE}

    conf = {
        "library": "sklearn", "distribution": "scikit-learn", "extra": "sklearn",
        "library_version": installed_version("scikit-learn"),
        "serialization_format": serialization_format, "pyfunc_predict_fn": pyfunc_predict_fn,
        "model_class": f"{type(sk_model).__module__}.{type(sk_model).__qualname__}",
    }
    dists = ["scikit-learn", "pandas"] + (["cloudpickle"] if serialization_format == "cloudpickle" else [])
    return FlavorWriter(FLAVOR_NAME, __name__, write, dists, conf, predict)


def save_model(sk_model: Any, path: str | os.PathLike, signature: ModelSignature | None = None,
               input_example: Any = None, *, serialization_format: str = "cloudpickle",
               pyfunc_predict_fn: str = "predict", overwrite: bool = False) -> ModelInfo:
    """Save a scikit-learn estimator as a model folder at ``path``.

    Without ``signature``, one is inferred from ``input_example`` and the model's prediction on it.
    ``pyfunc_predict_fn`` is the method the generic loader's ``predict`` calls.
    """
    return save_model_folder(path, model_writer(sk_model, serialization_format, pyfunc_predict_fn),
                             signature, input_example, overwrite)


def log_model(sk_model: Any, artifact_path: str, signature: ModelSignature | None = None,
              input_example: Any = None, *, serialization_format: str = "cloudpickle",
              pyfunc_predict_fn: str = "predict") -> ModelInfo:
    """Log a scikit-learn estimator to the active run (started if none); ``model_uri`` is ``runs:/<run_id>/<path>``."""
    return log_model_folder(artifact_path, model_writer(sk_model, serialization_format, pyfunc_predict_fn),
                            signature, input_example)


def _read(folder: Path, conf: dict[str, Any]) -> Any:
    path = folder / conf.get("model_file", MODEL_FILE)
    with open(path, "rb") as f:
        if conf.get("serialization_format") == "cloudpickle":
            import cloudpickle  # noqa: F401  (its pickles may need it importable)
        return pickle.load(f)


def load_model(model_uri: str | os.PathLike, dst_path: str | None = None) -> Any:
    """Load the scikit-learn estimator saved at ``model_uri`` (path, ``runs:/...`` or artifact URI)."""
    folder, _, conf = load_flavor(model_uri, FLAVOR_NAME, dst_path)
    return _read(folder, conf)


def load_predictor(folder: Path, metadata: ModelMetadata) -> _Predictor:
    """Loader entry point used by :func:`autotrack.models.load_model` for this flavor."""
    conf = metadata.flavors[FLAVOR_NAME]
    return _Predictor(_read(folder, conf), conf.get("pyfunc_predict_fn", "predict"))
