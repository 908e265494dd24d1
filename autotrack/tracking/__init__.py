"""Tracking: entities, validation, the logging pipeline, the client and the fluent API."""


def __getattr__(name: str):
    # ``from autotrack.tracking import MlflowClient`` (MLflow's ``mlflow.tracking.MlflowClient``), loaded on use
    if name in ("MlflowClient", "TrackingClient"):
        from autotrack.tracking import client

        return getattr(client, name)
    raise AttributeError(f"module 'autotrack.tracking' has no attribute {name!r}")
