"""Pinned requirements of a flavor's library and everything it depends on, read in-process.

Reads installed distributions' metadata with :mod:`importlib.metadata` (no ``pip`` subprocess) and
caches the result per distribution: what is installed does not change while a process runs models.
"""

from __future__ import annotations

import re
from functools import lru_cache
from importlib import metadata
from typing import Iterable

_NAME = re.compile(r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)")


def _canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _applies(marker: str) -> bool:
    """Whether a Requires-Dist marker holds here; dependencies behind an ``extra`` are left out."""
    if not marker:
        return True
    if "extra" in marker:
        return False
    try:
        from packaging.markers import Marker
    except ImportError:  # without packaging, an installed dependency counts as needed
        return True
    try:
        return Marker(marker).evaluate()
    except Exception:
        return True


@lru_cache(maxsize=None)
def _direct(dist_name: str) -> tuple[tuple[str, str], ...]:
    """``(name, version)`` of the installed distribution and its installed direct dependencies."""
    try:
        dist = metadata.distribution(dist_name)
    except metadata.PackageNotFoundError:
        return ()
    deps = []
    for spec in dist.requires or ():
        requirement, _, marker = spec.partition(";")
        match = _NAME.match(requirement)
        if match and _applies(marker.strip()):
            deps.append(match.group(1))
    return ((dist.metadata["Name"], dist.version),) + tuple((d, "") for d in deps)


@lru_cache(maxsize=None)
def pinned_requirements(dist_name: str) -> tuple[str, ...]:
    """``name==version`` for ``dist_name`` and, recursively, its installed dependencies (sorted)."""
    seen: dict[str, str] = {}
    todo = [dist_name]
    while todo:
        name = todo.pop()
        if _canonical(name) in seen:
            continue
        entries = _direct(name)
        if not entries:
            continue  # not installed here: nothing to pin
        (real_name, version), deps = entries[0], entries[1:]
        seen[_canonical(real_name)] = f"{real_name}=={version}"
        todo.extend(d for d, _ in deps)
    return tuple(sorted(seen.values(), key=str.lower))


def requirements_for(dist_names: Iterable[str]) -> list[str]:
    """Pinned requirements of autotrack plus each of ``dist_names`` and their dependencies, deduplicated."""
    lines: dict[str, str] = {}
    for name in ("autotrack", *dist_names):
        for line in pinned_requirements(name):
            lines.setdefault(_canonical(line.split("==")[0]), line)
    return sorted(lines.values(), key=str.lower)


def installed_version(dist_name: str) -> str | None:
    """The installed version of ``dist_name``, or None."""
    entries = _direct(dist_name)
    return entries[0][1] if entries else None
