"""Post-import hooks that never raise into the user's ``import``; stdlib only.

``import wrapt`` costs ~50 ms (it pulls in asyncio), too much for ``autolog()`` and interpreter
start-up, so watching imports is done here with a small ``sys.meta_path`` finder in the style of
PEP 369 (and of wrapt's own importer); wrapt itself is imported only when a patch is installed.

Each watched module gets its subscribers run right after the module body executes. The subscriber
list changes with every ``autolog()``; each subscriber runs inside its own guard, so a broken
integration can never fail ``import sklearn``.
"""

from __future__ import annotations

import sys
import threading
from types import ModuleType

TYPE_CHECKING = False  # typing costs ms at import; annotations are strings here anyway
if TYPE_CHECKING:  # pragma: no cover
    from collections.abc import Callable
    from typing import Any

    Callback = Callable[[ModuleType], None]
    OnError = Callable[[str, BaseException], None]

_lock = threading.RLock()
_subscribers: dict[str, list[tuple[object, Callback, OnError]]] = {}


def _dispatch(module: ModuleType) -> None:
    name = module.__name__
    with _lock:
        subscribers = list(_subscribers.get(name, ()))
    # Outside the lock: a subscriber may import further watched modules (possibly from a thread).
    for _key, callback, on_error in subscribers:
        _run(name, module, callback, on_error)


def _run(name: str, module: ModuleType, callback: Callback, on_error: OnError) -> None:
    try:
        callback(module)
    except Exception as exc:  # noqa: BLE001 - never fail the user's import
        try:
            on_error(name, exc)
        except Exception:  # noqa: BLE001 - not even when reporting fails
            pass


class _NotifyingLoader:
    """Delegates to the real loader, then runs the hooks of the module it just executed."""

    def __init__(self, loader: Any) -> None:
        self._loader = loader

    def __getattr__(self, name: str) -> Any:
        return getattr(self._loader, name)

    def create_module(self, spec: Any) -> ModuleType | None:
        return self._loader.create_module(spec)

    def exec_module(self, module: ModuleType) -> None:
        # Put the real loader back first, so that the module looks as if we had never been there
        # (importlib.reload, pkgutil and inspect read __loader__ / __spec__.loader).
        if getattr(module, "__loader__", None) is self:
            module.__loader__ = self._loader
        spec = getattr(module, "__spec__", None)
        if spec is not None and spec.loader is self:
            spec.loader = self._loader
        self._loader.exec_module(module)
        _dispatch(module)


class _ImportWatcher:
    """``sys.meta_path`` finder that only answers for watched module names."""

    def __init__(self) -> None:
        self._busy = threading.local()

    def find_spec(self, fullname: str, path: Any = None, target: Any = None) -> Any:
        if fullname not in _subscribers:  # the common case: one dict lookup per import
            return None
        busy = self._busy.__dict__.setdefault("names", set())
        if fullname in busy:
            return None  # the nested find_spec below must reach the real finders
        busy.add(fullname)
        try:
            spec = _find_spec_via_meta_path(fullname, path, target, self)
        finally:
            busy.discard(fullname)
        if spec is not None and spec.loader is not None and hasattr(spec.loader, "exec_module") \
                and not isinstance(spec.loader, _NotifyingLoader):
            spec.loader = _NotifyingLoader(spec.loader)
        return spec


def _find_spec_via_meta_path(fullname: str, path: Any, target: Any, skip: object) -> Any:
    for finder in sys.meta_path:
        if finder is skip:
            continue
        find = getattr(finder, "find_spec", None)
        if find is None:
            continue
        spec = find(fullname, path, target)
        if spec is not None:
            return spec
    return None


_watcher: _ImportWatcher | None = None


def _install_watcher() -> None:
    global _watcher
    if _watcher is None or _watcher not in sys.meta_path:
        _watcher = _watcher or _ImportWatcher()
        sys.meta_path.insert(0, _watcher)


def subscribe(key: object, module_name: str, callback: Callback, on_error: OnError) -> None:
    """Call ``callback(module)`` whenever ``module_name`` is imported, and now if it already is.

    ``key`` groups subscriptions for :func:`unsubscribe`. Errors go to ``on_error``, never to the import.
    """
    with _lock:
        _install_watcher()
        _subscribers.setdefault(module_name, []).append((key, callback, on_error))
        module = sys.modules.get(module_name)
    if module is not None:
        _run(module_name, module, callback, on_error)


def unsubscribe(key: object) -> None:
    """Drop every subscription made with ``key``."""
    with _lock:
        for name in list(_subscribers):
            kept = [entry for entry in _subscribers[name] if entry[0] is not key]
            if kept:
                _subscribers[name] = kept
            else:
                del _subscribers[name]


def watched() -> list[str]:
    """Module names with at least one subscriber."""
    with _lock:
        return sorted(_subscribers)
