"""Shared fixtures: every test gets its own SQLite store, artifact root and spool under tmp_path,
strict mode on, and a clean fluent state; ``store_uri`` runs a test on SQLite, PostgreSQL and MariaDB."""

from __future__ import annotations

import os
import sys

import pytest

sys.path.insert(0, os.path.dirname(__file__))

from databases import create_database  # noqa: E402

os.environ["AUTOTRACK_STRICT"] = "1"


def _reset_autotrack_state() -> None:
    import autotrack.tracking

    autotrack.tracking.reset()


@pytest.fixture(autouse=True)
def autotrack_env(tmp_path, monkeypatch):
    """Isolate each test: its own tracking DB, artifact root and spool folder; strict mode."""
    monkeypatch.setenv("AUTOTRACK_TRACKING_URI", f"sqlite:///{tmp_path}/tracking.db")
    monkeypatch.setenv("AUTOTRACK_ARTIFACT_ROOT", str(tmp_path / "artifacts"))
    monkeypatch.setenv("AUTOTRACK_SPOOL_DIR", str(tmp_path / "spool"))
    monkeypatch.setenv("AUTOTRACK_STRICT", "1")
    for name in ("AUTOTRACK_EXPERIMENT_NAME", "AUTOTRACK_EXPERIMENT_ID", "AUTOTRACK_SYNC_LOGGING", "AUTOTRACK_AUTOLOG"):
        monkeypatch.delenv(name, raising=False)
    _reset_autotrack_state()
    yield tmp_path
    _reset_autotrack_state()


@pytest.fixture(params=["sqlite", "postgresql", "mysql"])
def store_uri(request, tmp_path, monkeypatch):
    """A fresh, empty tracking database on each backend; also made the default tracking URI."""
    if request.param == "sqlite":
        uri = f"sqlite:///{tmp_path}/store.db"
        drop = None
    else:
        uri, drop = create_database(request.param)
    monkeypatch.setenv("AUTOTRACK_TRACKING_URI", uri)
    yield uri
    _reset_autotrack_state()
    if drop:
        drop()


@pytest.fixture
def store(store_uri):
    from autotrack.stores import get_store

    return get_store(store_uri)
