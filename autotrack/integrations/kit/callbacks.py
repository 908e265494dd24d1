"""Injecting a callback into the user's training call, safely.

:func:`add_callback` gives the original call a *new* callback list: the user's callbacks (in their
order) plus autotrack's. The user's list object is never mutated, so a list reused across ``fit``
calls does not collect one autotrack callback per call, and the user's code sees what it passed.
The user's argument is replaced through :meth:`Call.set_arg` / :meth:`Call.set_kwarg`, as the
engine's strict mode requires.

The injected callback is made unable to raise into training (:func:`safe`): a callable is wrapped
with the engine's :func:`~autotrack.core.guard`; for another object, every public method found on
its class (and bases) is replaced, on the instance, by a guarded one. An exception in autotrack's
callback then becomes one :class:`~autotrack.core.AutotrackWarning` (every time under
``AUTOTRACK_STRICT=1``: a callback never raises, not even there) and the callback returns None.
Prefer decorating a callback class with ``patcher.guard_methods`` where it is defined (inside
``apply``, once the library is imported): then its methods are guarded once for every instance.
"""

from __future__ import annotations

import inspect
from typing import Any

from autotrack.core import safety
from autotrack.integrations.kit.calls import argument, set_argument

TYPE_CHECKING = False
if TYPE_CHECKING:  # pragma: no cover
    from collections.abc import Callable

    from autotrack.core import Call

__all__ = ["add_callback", "is_safe", "safe"]

_MISSING = object()


def is_safe(callback: Any) -> bool:
    """Whether ``callback`` (or its class) was made unable to raise by :func:`safe` / ``guard_methods``."""
    return bool(getattr(callback, "__autotrack_guarded__", False) or
                getattr(type(callback), "__autotrack_guarded__", False))


def safe(callback: Any, integration: str, *, silent: bool = False) -> Any:
    """``callback`` made unable to raise: a callable (function, method, callable object) becomes a
    guarded function; another object (a ``keras.callbacks.Callback``, a Lightning ``Callback``) is
    returned itself, with every public method of its class and bases guarded on the instance."""
    if is_safe(callback):
        return callback
    if callable(callback):
        # A function, a bound method, or an object the library calls: a guarded function (special
        # methods such as __call__ cannot be guarded on an instance).
        return safety.guard(integration, callback, silent=silent)
    seen: set[str] = set()
    for klass in type(callback).__mro__:
        if klass is object:
            continue
        for name, value in vars(klass).items():
            if name.startswith("_") or name in seen or not inspect.isfunction(value):
                continue
            seen.add(name)
            try:
                bound = getattr(callback, name)
            except Exception:  # noqa: BLE001 - a descriptor that fails: leave it
                continue
            if callable(bound):
                try:
                    object.__setattr__(callback, name, safety.guard(integration, bound, silent=silent))
                except (AttributeError, TypeError):  # __slots__ without __dict__: cannot guard per instance
                    raise TypeError(
                        f"add_callback: cannot guard {type(callback).__qualname__}.{name} on the instance "
                        "(no __dict__); decorate the class with patcher.guard_methods instead") from None
    try:
        object.__setattr__(callback, "__autotrack_guarded__", True)
    except (AttributeError, TypeError):
        pass
    return callback


def add_callback(call: Call, callback: Any, *, argument_name: str = "callbacks", position: int | None = None,
                 skip_if: Callable[[Any], bool] | None = None, container: type | None = None) -> list | tuple | None:
    """Pass the user's callbacks plus ``callback`` (made :func:`safe`) as argument ``argument_name``
    of the original call; return the new collection, or None when nothing was added.

    - The user's value may be missing/None (just autotrack's then), a list or tuple (copied, never
      mutated; the container type is kept unless ``container`` says otherwise), or a single callback
      object (made into a list of two).
    - ``skip_if(user_callback)`` True for one of the user's callbacks means the user already has an
      equivalent one (e.g. their own autotrack callback): nothing is added.
    - ``position``: where the parameter sits positionally when the signature cannot be read.
    """
    current = argument(call, argument_name, position, _MISSING)
    if current is _MISSING or current is None:
        user: list = []
        kind = container or list
    elif isinstance(current, (list, tuple)):
        user = list(current)
        kind = container or type(current)
        if kind not in (list, tuple):  # a list subclass: a plain list of the same items
            kind = list if isinstance(current, list) else tuple
    else:
        user = [current]
        kind = container or list
    if skip_if is not None and any(skip_if(cb) for cb in user):
        return None
    silent = bool(call.config.get("silent"))
    combined = kind([*user, safe(callback, call.integration, silent=silent)])
    set_argument(call, argument_name, combined, position)
    return combined

