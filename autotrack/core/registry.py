"""Which integrations exist: a dict of built-ins plus the ``autotrack.integrations`` entry points.

Nothing here imports an integration module until it is asked for by name, and no integration module
imports its target library, so loading the registry costs a few small imports.
"""

from __future__ import annotations

import importlib
import os
import sys
import threading

from autotrack.core.integration import Integration

ENTRY_POINT_GROUP = "autotrack.integrations"

#: built-in integrations: name -> "module:Class". The module may not exist yet in a given build
#: (integrations land issue by issue); such an entry is skipped quietly.
BUILTINS: dict[str, str] = {
    "sklearn": "autotrack.integrations.sklearn.autolog:SklearnIntegration",
    "xgboost": "autotrack.integrations.xgboost.autolog:XGBoostIntegration",
    "keras": "autotrack.integrations.keras.autolog:KerasIntegration",
    "pytorch": "autotrack.integrations.pytorch.autolog:PyTorchIntegration",
}
#: other accepted spellings -> canonical name
ALIASES: dict[str, str] = {"tensorflow": "keras", "tf": "keras", "torch": "pytorch", "scikit-learn": "sklearn"}
#: the library modules of each built-in: while a built-in is not available in this build, importing
#: one of these with autologging on warns once that it is not logged (see :func:`unavailable_message`).
#: Once the integration module exists, its own ``triggers`` apply and this entry is not used.
LIBRARY_MODULES: dict[str, tuple[str, ...]] = {
    "sklearn": ("sklearn",),
    "xgboost": ("xgboost",),
    "keras": ("keras", "tensorflow"),
    "pytorch": ("torch",),
}

_lock = threading.Lock()
_entry_points: dict[str, str] | None = None
_loaded: dict[str, type[Integration] | None] = {}


def _third_party() -> dict[str, str]:
    """Entry points of the group, read once per process (scanning metadata costs milliseconds)."""
    global _entry_points
    with _lock:
        if _entry_points is None:
            found: dict[str, str] = {}
            for ep_name, value in scan_entry_points(ENTRY_POINT_GROUP):
                # A built-in name cannot be taken over by a third party: the built-in wins.
                if ep_name not in BUILTINS and ep_name not in ALIASES:
                    found.setdefault(ep_name, value)
            _entry_points = found
        return _entry_points


def scan_entry_points(group: str) -> list[tuple[str, str]]:
    """``(name, "module:attr")`` of the entry points in ``group`` of distributions found on ``sys.path``.

    ``importlib.metadata`` answers the same question but costs ~15-25 ms to import (email, zipfile,
    csv...), a third of autolog()'s start-up budget. Installed metadata is plain files, so this reads
    ``*.dist-info/entry_points.txt`` (and ``*.egg-info``) directly; like importlib.metadata, the
    first distribution of a given name on ``sys.path`` wins. Zipped eggs are not looked into.
    """
    header = f"[{group}]"
    seen: set[str] = set()
    result: list[tuple[str, str]] = []
    for entry in sys.path:
        try:
            names = os.listdir(entry or ".")
        except OSError:
            continue
        for meta in names:
            if not meta.endswith((".dist-info", ".egg-info")):
                continue
            dist = meta.rsplit(".", 1)[0].split("-", 1)[0].lower().replace("-", "_").replace(".", "_")
            if dist in seen:
                continue
            seen.add(dist)
            try:
                with open(os.path.join(entry or ".", meta, "entry_points.txt"), encoding="utf-8") as handle:
                    text = handle.read()
            except OSError:
                continue
            if header not in text:
                continue
            in_group = False
            for line in text.splitlines():
                line = line.strip()
                if line.startswith("["):
                    in_group = line == header
                elif in_group and "=" in line and not line.startswith(("#", ";")):
                    key, _, value = line.partition("=")
                    result.append((key.strip(), value.split("[", 1)[0].strip()))
    return result


def reset() -> None:
    """Forget cached entry points and loaded classes (for tests that install integrations)."""
    global _entry_points
    with _lock:
        _entry_points = None
        _loaded.clear()


def canonical(name: str) -> str:
    """The canonical integration name for ``name`` (lower-cased, aliases resolved); not validated."""
    key = name.strip().lower()
    return ALIASES.get(key, key)


def known_names() -> list[str]:
    """All integration names: built-ins (available or not) and registered third parties."""
    return sorted(set(BUILTINS) | set(_third_party()))


def is_available(name: str) -> bool:
    """Whether the integration ``name`` (canonical) exists in this build: a built-in whose defining
    module is present, or a registered third party. Decided by the files present, so a built-in
    becomes available the moment its module lands, without a list to edit."""
    target = BUILTINS.get(name)
    if target is None:
        return name in _third_party()
    if name in _loaded:
        return _loaded[name] is not None
    import importlib.util

    try:
        return importlib.util.find_spec(target.partition(":")[0]) is not None
    except ModuleNotFoundError:
        return False


def unavailable_message(name: str, what: str | None = None) -> str:
    """The sentence said when the announced built-in ``name`` is asked for but absent from this build."""
    subject = what or f"the {name!r} integration"
    return (f"{subject} is not available in this version of autotrack ({_version()}): {name} autologging is "
            f"announced but not built yet; available integrations: {', '.join(available()) or 'none'}")


def _version() -> str:
    import autotrack

    return autotrack.__version__


def validate_names(field: str, names: object, *, available_only: bool = False) -> list[str]:
    """Canonical names for ``names``; ``ValueError`` naming ``field``, the bad value and the accepted names.

    With ``available_only`` (names that *enable* integrations: ``AUTOTRACK_AUTOLOG``,
    ``autotrack run -i``) an announced built-in that this build lacks is an error too, saying so."""
    if isinstance(names, str):
        items = [part for part in names.split(",")]
    elif isinstance(names, (list, tuple, set, frozenset)):
        items = list(names)
    else:
        raise TypeError(f"{field}={names!r} must be a list of integration names or a comma-separated string")
    known = set(known_names())
    result: list[str] = []
    for item in items:
        if not isinstance(item, str):
            raise TypeError(f"{field}: {item!r} is not an integration name (str)")
        if not item.strip():
            continue
        name = canonical(item)
        if name not in known:
            accepted = ", ".join(sorted(known | set(ALIASES)))
            raise ValueError(f"{field}: unknown integration {item!r}; accepted: {accepted}")
        if available_only and not is_available(name):
            raise ValueError(f"{field}: {unavailable_message(name, f'integration {item.strip()!r}')}")
        if name not in result:
            result.append(name)
    return result


def _import_target(name: str, target: str) -> type[Integration] | None:
    module_name, _, attr = target.partition(":")
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        # Only the integration module itself (or its package) being absent means "not built yet";
        # a missing import *inside* it is a real defect and propagates.
        if name in BUILTINS and exc.name and module_name.startswith(exc.name):
            # Expected, not an error: say so only to a program that already uses logging, rather than
            # paying for `import logging` on every autolog().
            if "logging" in sys.modules:
                from autotrack.core.safety import _log

                _log().debug("built-in integration %r is not available in this build (%s)", name, exc)
            return None
        raise
    cls = module
    for part in attr.split("."):
        cls = getattr(cls, part)
    if not (isinstance(cls, type) and issubclass(cls, Integration)):
        raise TypeError(f"integration {name!r} ({target}) is not a subclass of autotrack.core.Integration")
    cls.check_definition()
    if canonical(cls.name) != name:
        raise TypeError(f"integration registered as {name!r} ({target}) declares name={cls.name!r}")
    return cls


def load(name: str) -> type[Integration] | None:
    """The integration class for canonical ``name``, or None if it is a built-in not present in this build.

    Raises ``KeyError`` for an unknown name and whatever importing a broken integration raises.
    """
    if name in _loaded:
        return _loaded[name]
    target = BUILTINS.get(name) or _third_party().get(name)
    if target is None:
        raise KeyError(name)
    cls = _import_target(name, target)
    _loaded[name] = cls
    return cls


def available() -> list[str]:
    """Names of integrations whose defining module is present (built-ins that exist, third parties)."""
    return [name for name in known_names() if is_available(name)]


def unavailable_builtins() -> list[str]:
    """Built-in integrations announced but absent from this build."""
    return [name for name in sorted(BUILTINS) if not is_available(name)]

