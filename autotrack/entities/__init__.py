"""The neutral package: what tracking, stores, artifacts and the server share, importing nothing of autotrack.

- :mod:`~autotrack.entities.objects`: experiments, runs, metrics, params, tags, datasets (MLflow's shapes)
- :mod:`~autotrack.entities.validation`: key and value rules, errors naming field, value and what is accepted
- :mod:`~autotrack.entities.search`: the ``filter_string`` / ``order_by`` grammar and page tokens
- :mod:`~autotrack.entities.errors`: autotrack's exceptions and their MLflow error codes
- :mod:`~autotrack.entities.tags`: names of the run tags autotrack sets
- :mod:`~autotrack.entities.run_names`: readable names for unnamed runs

The data objects are importable from here (``from autotrack.entities import Run, Metric``); they load
on first use, so that importing ``autotrack.entities.tags`` stays as cheap as the startup hook needs.
"""

from __future__ import annotations

_OBJECTS = (
    "RunStatus", "LifecycleStage", "ViewType", "Metric", "Param", "RunTag", "Experiment", "RunInfo", "RunData", "Run",
    "Dataset", "InputTag", "DatasetInput", "RunInputs",
)
__all__ = list(_OBJECTS)


def __getattr__(name: str):
    if name in _OBJECTS:
        from autotrack.entities import objects

        return getattr(objects, name)
    raise AttributeError(f"module 'autotrack.entities' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_OBJECTS))
