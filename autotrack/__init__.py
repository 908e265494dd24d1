"""autotrack: autologging and experiment tracking for machine learning.

``import autotrack`` is cheap: it imports no ML library, no numpy and no SQLAlchemy. Public names are
resolved on first use (PEP 562), so ``autotrack.log_metric`` loads only the tracking modules.
"""

from __future__ import annotations

import importlib

__version__ = "0.1.0"

# public name -> module that defines it
_FLUENT = "autotrack.tracking.fluent"
_LAZY_ATTRS: dict[str, str] = {
    name: _FLUENT
    for name in (
        "set_tracking_uri", "get_tracking_uri", "get_artifact_uri", "set_experiment", "create_experiment",
        "get_experiment", "get_experiment_by_name", "search_experiments", "delete_experiment",
        "start_run", "end_run", "active_run", "last_active_run", "get_run", "search_runs",
        "log_param", "log_params", "log_metric", "log_metrics", "set_tag", "set_tags", "delete_tag",
        "log_artifact", "log_artifacts", "log_dict", "log_text", "log_figure", "flush", "ActiveRun",
        "delete_run",
        # MLflow names (issue 11)
        "log_table", "log_image", "set_experiment_tag", "set_experiment_tags", "get_parent_run", "log_input", "log_inputs",
    )
}
_LAZY_ATTRS.update({
    "TrackingClient": "autotrack.tracking.client",
    "MlflowClient": "autotrack.tracking.client",
    "RunStatus": "autotrack.entities",
    "ViewType": "autotrack.entities",
    "AutotrackException": "autotrack.exceptions",
    "MlflowException": "autotrack.exceptions",
})
# submodules reachable as attributes: autotrack.sklearn, autotrack.models, ...
_LAZY_SUBMODULES = {"data", "sklearn", "xgboost", "models", "types", "pyfunc", "tracking", "exceptions", "stores", "artifacts", "core", "integrations", "keras", "tensorflow", "pytorch", "torch"}

__all__ = sorted(_LAZY_ATTRS) + ["autolog", "__version__"]


def __getattr__(name: str):
    module = _LAZY_ATTRS.get(name)
    if module is not None:
        value = getattr(importlib.import_module(module), name)
        globals()[name] = value
        return value
    if name == "autolog":
        from autotrack.core import autolog

        globals()["autolog"] = autolog
        return autolog
    if name in _LAZY_SUBMODULES:
        try:
            return importlib.import_module(f"autotrack.{name}")
        except ModuleNotFoundError as exc:
            if exc.name != f"autotrack.{name}":
                raise  # the module exists but something it imports is missing: say so
            # hasattr() must see False, and the message says why (integrations still to come)
            from autotrack.core import registry

            canonical = registry.canonical(name)
            if canonical in registry.BUILTINS:
                reason = registry.unavailable_message(canonical, f"autotrack.{name}")
            else:
                reason = f"autotrack.{name} is not part of this version"
            raise AttributeError(f"module 'autotrack' has no attribute {name!r}: {reason}") from None
    raise AttributeError(f"module 'autotrack' has no attribute {name!r}")


def __dir__():
    return sorted(set(globals()) | set(__all__) | _LAZY_SUBMODULES)
