"""The XGBoost model flavor: a ``Booster`` or scikit-learn-API model in XGBoost's own format (not pickle).

The model's class is recorded, so ``load_model`` gives back an ``XGBClassifier`` for an
``XGBClassifier`` and a ``Booster`` for a ``Booster``.
"""

from __future__ import annotations

import importlib
import os
from pathlib import Path
from typing import Any

from autotrack.exceptions import InvalidParameterError
from autotrack.models.loading import load_flavor
from autotrack.models.metadata import ModelInfo, ModelMetadata
from autotrack.models.requirements import installed_version
from autotrack.models.saving import FlavorWriter, log_model_folder, save_model_folder
from autotrack.models.signature import ModelSignature

FLAVOR_NAME = "xgboost"
MODEL_FORMATS = ("ubj", "json")


class _Predictor:
    def __init__(self, model: Any):
        self.model = model

    def predict(self, data: Any) -> Any:
        import xgboost

        if isinstance(self.model, xgboost.Booster):
            return self.model.predict(data if isinstance(data, xgboost.DMatrix) else xgboost.DMatrix(data))
        return self.model.predict(data)


def model_writer(xgb_model: Any, model_format: str = "ubj") -> FlavorWriter:
    """The flavor writer of ``xgb_model`` in ``model_format`` (``ubj`` or ``json``), for autologging and ``save_model``."""
    import xgboost

    if not isinstance(xgb_model, (xgboost.Booster, xgboost.XGBModel)):
        raise InvalidParameterError(
            f"xgb_model of type {type(xgb_model).__name__} is not supported; accepted: xgboost.Booster or an "
            "xgboost scikit-learn model (XGBClassifier, XGBRegressor, XGBRanker, ...)")
    if model_format not in MODEL_FORMATS:
        raise InvalidParameterError(
            f"model_format={model_format!r} is not supported; accepted: {', '.join(MODEL_FORMATS)}")
    model_file = f"model.{model_format}"

    def write(folder: Path) -> dict[str, Any]:
        xgb_model.save_model(str(folder / model_file))
        return {"model_file": model_file}

    cls = type(xgb_model)
    conf = {
        "library": "xgboost", "distribution": "xgboost", "extra": "xgboost",
        "library_version": installed_version("xgboost"), "model_format": model_format,
        "model_class": f"{cls.__module__}.{cls.__qualname__}",
    }
    return FlavorWriter(FLAVOR_NAME, __name__, write, ["xgboost", "pandas"], conf, _Predictor(xgb_model).predict)


def save_model(xgb_model: Any, path: str | os.PathLike, signature: ModelSignature | None = None,
               input_example: Any = None, *, model_format: str = "ubj", overwrite: bool = False) -> ModelInfo:
    """Save an XGBoost model (``Booster`` or ``XGBModel``) in its native ``model_format`` (ubj or json) at ``path``."""
    return save_model_folder(path, model_writer(xgb_model, model_format), signature, input_example, overwrite)


def log_model(xgb_model: Any, artifact_path: str, signature: ModelSignature | None = None,
              input_example: Any = None, *, model_format: str = "ubj") -> ModelInfo:
    """Log an XGBoost model to the active run (started if none); ``model_uri`` is ``runs:/<run_id>/<path>``."""
    return log_model_folder(artifact_path, model_writer(xgb_model, model_format), signature, input_example)


def _read(folder: Path, conf: dict[str, Any]) -> Any:
    import xgboost

    module_name, _, class_name = conf.get("model_class", "xgboost.core.Booster").rpartition(".")
    if not module_name.startswith("xgboost"):  # never instantiate an arbitrary class named in a file
        raise InvalidParameterError(f"model_class={conf['model_class']!r} is not an xgboost class")
    cls = getattr(importlib.import_module(module_name), class_name)
    path = str(folder / conf["model_file"])
    if issubclass(cls, xgboost.Booster):
        return xgboost.Booster(model_file=path)
    model = cls()
    model.load_model(path)
    return model


def load_model(model_uri: str | os.PathLike, dst_path: str | None = None) -> Any:
    """Load the XGBoost model saved at ``model_uri`` as its original class (Booster, XGBClassifier, ...)."""
    folder, _, conf = load_flavor(model_uri, FLAVOR_NAME, dst_path)
    return _read(folder, conf)


def load_predictor(folder: Path, metadata: ModelMetadata) -> _Predictor:
    """Loader entry point used by :func:`autotrack.models.load_model` for this flavor."""
    return _Predictor(_read(folder, metadata.flavors[FLAVOR_NAME]))
