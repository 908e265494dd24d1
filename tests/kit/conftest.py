"""Fixtures of the integration-kit tests: a non-local artifact root, and the artifact root kinds."""

from __future__ import annotations

import os
import sys

import pytest

sys.path.insert(0, os.path.dirname(__file__))

import memory_repository  # noqa: E402


@pytest.fixture
def memory_artifacts(monkeypatch):
    """New runs keep their artifacts in :mod:`memory_repository` (a registered ``memtest://`` scheme)."""
    root = memory_repository.install(monkeypatch)
    yield memory_repository
    memory_repository.FILES.clear()


@pytest.fixture(params=["local", "memtest"])
def artifact_root(request, monkeypatch):
    """Each test twice: artifacts in a local folder, and in the non-local test repository."""
    if request.param == "memtest":
        memory_repository.install(monkeypatch)
    return request.param
