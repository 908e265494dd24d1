"""Read model folders written by MLflow (its ``MLmodel`` file is YAML) as autotrack metadata.

Only flavors autotrack can load without MLflow are translated: ``sklearn`` (pickle, cloudpickle or
skops files) and ``xgboost`` (XGBoost's own files). Their entries are rewritten into the settings
autotrack's flavors read, and the ``python_function`` entry points at autotrack's loader, so
:func:`autotrack.models.load_model` and the scoring server treat the folder like one of ours. Other
MLflow flavors give a :class:`ModelFormatError` naming the ones that are readable.

To read another MLflow flavor, add a function to :data:`TRANSLATORS`: it takes the MLflow flavor entry
and returns ``(autotrack flavor entry, loader module)``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Callable

from autotrack.models.errors import ModelFormatError

# MLflow's python_function loader modules for flavors we translate -> the flavor entry they load
_SKLEARN_DIST = {"library": "sklearn", "distribution": "scikit-learn", "extra": "sklearn"}
_XGBOOST_DIST = {"library": "xgboost", "distribution": "xgboost", "extra": "xgboost"}


def _sklearn(conf: dict[str, Any], pyfunc: dict[str, Any]) -> tuple[dict[str, Any], str]:
    serialization = conf.get("serialization_format", "cloudpickle")
    out = dict(_SKLEARN_DIST, library_version=conf.get("sklearn_version"), serialization_format=serialization,
               model_file=conf.get("pickled_model", "model.pkl"),
               pyfunc_predict_fn=pyfunc.get("predict_fn") or "predict")
    if serialization == "skops":
        out["skops_trusted_types"] = list(conf.get("skops_trusted_types") or [])
        return out, __name__  # autotrack's sklearn flavor writes no skops files; this module reads them
    return out, "autotrack.integrations.sklearn.flavor"


def _xgboost(conf: dict[str, Any], pyfunc: dict[str, Any]) -> tuple[dict[str, Any], str]:
    out = dict(_XGBOOST_DIST, library_version=conf.get("xgb_version"), model_format=conf.get("model_format", "xgb"),
               model_class=conf.get("model_class", "xgboost.core.Booster"), model_file=conf.get("data", "model.xgb"))
    return out, "autotrack.integrations.xgboost.flavor"


TRANSLATORS: dict[str, Callable[[dict[str, Any], dict[str, Any]], tuple[dict[str, Any], str]]] = {
    "sklearn": _sklearn,
    "xgboost": _xgboost,
}


def is_mlflow_metadata(d: Any) -> bool:
    """True for the parsed ``MLmodel`` file of an MLflow model (it records ``mlflow_version``)."""
    return isinstance(d, dict) and "mlflow_version" in d and "format_version" not in d


def parse_yaml(text: str, path: Path) -> Any:
    """The YAML document in ``text``; :class:`ModelFormatError` when PyYAML is missing or the file is damaged."""
    try:
        import yaml
    except ImportError:
        raise ModelFormatError(
            f"{str(path)!r} is YAML (an MLflow model); reading it needs PyYAML: pip install pyyaml") from None
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise ModelFormatError(f"{str(path)!r} is neither JSON nor valid YAML ({exc}); the model folder is damaged") from None


def translate(d: dict[str, Any], folder: Path) -> dict[str, Any]:
    """The MLflow metadata ``d`` as the dict :meth:`ModelMetadata.load` reads (flavors rewritten)."""
    flavors = d.get("flavors") or {}
    pyfunc = flavors.get("python_function") or {}
    readable = [name for name in flavors if name in TRANSLATORS]
    if not readable:
        has = ", ".join(sorted(flavors)) or "none"
        raise ModelFormatError(
            f"The MLflow model at {str(folder)!r} has flavors {has}; autotrack reads MLflow models of the "
            f"flavors {', '.join(TRANSLATORS)}. Load this one with mlflow, or log it again with autotrack")
    name = readable[0]
    conf, loader = TRANSLATORS[name](flavors[name], pyfunc)
    out = dict(d)
    out["format_version"] = 1
    out["autotrack_version"] = f"(MLflow {d.get('mlflow_version')})"
    out["flavors"] = {
        name: conf,
        "python_function": {"loader_module": loader, "flavor": name, "python_version": pyfunc.get("python_version")},
    }
    info = d.get("saved_input_example_info")
    if isinstance(info, dict) and info.get("type") == "ndarray" and str(info.get("artifact_path", "")).endswith(".json"):
        out["saved_input_example_info"] = dict(info, type="ndarray_json")  # MLflow keeps arrays as JSON {"inputs": ...}
    return out


# ------------------------------------------------------------------ loader for skops-serialized sklearn models
class _SkopsPredictor:
    def __init__(self, model: Any, method: str):
        self.model = model
        self.predict = getattr(model, method)


def load_predictor(folder: Path, metadata: Any) -> _SkopsPredictor:
    """Loader entry point for MLflow scikit-learn models stored with skops.

    Only the types MLflow recorded as trusted when it saved the model (``skops_trusted_types``) are
    accepted besides skops' own safe list.
    """
    conf = metadata.flavors["sklearn"]
    try:
        import skops.io
    except ImportError:
        raise ModelFormatError(
            "This MLflow scikit-learn model is stored with skops, which is not installed; install it with: "
            "pip install skops") from None
    model = skops.io.load(folder / conf["model_file"], trusted=conf.get("skops_trusted_types") or None)
    method = conf.get("pyfunc_predict_fn", "predict")
    if not callable(getattr(model, method, None)):
        raise ModelFormatError(f"The MLflow model's predict_fn {method!r} is not a method of {type(model).__name__}")
    return _SkopsPredictor(model, method)
