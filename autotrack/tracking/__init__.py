"""Tracking: the logging pipeline, the spool, the shutdown sequence, the client and the fluent API."""

from __future__ import annotations


def reset() -> None:
    """Return tracking to its state at import, for tests and notebooks.

    Open runs are ended FINISHED, everything queued is written (within ``AUTOTRACK_EXIT_FLUSH_TIMEOUT``,
    the rest spooled), the stores are closed, and the tracking URI, active experiment and cached
    clients are forgotten, so that environment variables set since are read again.
    """
    from autotrack.tracking.fluent import _reset

    _reset()


def __getattr__(name: str):
    # ``from autotrack.tracking import MlflowClient`` (MLflow's ``mlflow.tracking.MlflowClient``), loaded on use
    if name in ("MlflowClient", "TrackingClient"):
        from autotrack.tracking import client

        return getattr(client, name)
    raise AttributeError(f"module 'autotrack.tracking' has no attribute {name!r}")
