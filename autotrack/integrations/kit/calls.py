"""The arguments of a patched call: look one up by name or position, replace one, and find the
caller's variable name for a dataset.

Lookup binds against the *original* callable's signature (``call.wrapped``), so ``fit(X, y, w)``
and ``fit(X, y, sample_weight=w)`` give the same answer, and a library that renames or reorders a
parameter is followed without a table of positions. Signatures are computed once per callable.
"""

from __future__ import annotations

import inspect
import sys
import threading
from typing import Any

TYPE_CHECKING = False
if TYPE_CHECKING:  # pragma: no cover
    from autotrack.core import Call

_MISSING = object()
_cache: dict[Any, tuple[tuple[str, ...], str | None, str | None]] = {}
_cache_lock = threading.Lock()


def _key(fn: Any) -> Any:
    # A bound method is a new object on every attribute access: cache on the function behind it.
    return getattr(fn, "__func__", fn)


def parameter_names(call: Call) -> tuple[str, ...]:
    """Names of the positional-or-keyword parameters of the original callable, in order (``self``
    excluded for a bound method); empty when the signature cannot be read."""
    return _signature(call)[0]


def _signature(call: Call) -> tuple[tuple[str, ...], str | None, str | None]:
    fn = call.wrapped
    key = _key(fn)
    try:
        found = _cache.get(key)
    except TypeError:  # unhashable callable: no caching
        found, key = None, None
    if found is not None:
        return found
    names: list[str] = []
    var_args = var_kwargs = None
    try:
        signature = inspect.signature(fn)
    except (TypeError, ValueError):
        signature = None
    if signature is not None:
        for parameter in signature.parameters.values():
            if parameter.kind in (parameter.POSITIONAL_ONLY, parameter.POSITIONAL_OR_KEYWORD):
                names.append(parameter.name)
            elif parameter.kind is parameter.VAR_POSITIONAL:
                var_args = parameter.name
            elif parameter.kind is parameter.VAR_KEYWORD:
                var_kwargs = parameter.name
    found = (tuple(names), var_args, var_kwargs)
    if key is not None:
        with _cache_lock:
            if len(_cache) > 4096:
                _cache.clear()
            _cache[key] = found
    return found


def position_of(call: Call, name: str) -> int | None:
    """The positional index of parameter ``name`` in the original's signature, or None."""
    names = _signature(call)[0]
    try:
        return names.index(name)
    except ValueError:
        return None


def argument(call: Call, name: str, position: int | None = None, default: Any = None) -> Any:
    """The value the user passed for parameter ``name`` (by keyword, or by position as the original's
    signature places it), else ``default``.

    ``position`` is a fallback for callables whose signature cannot be read (C functions, ``*args``
    wrappers): the index to look at when ``name`` is not a named parameter.
    """
    if name in call.kwargs:
        return call.kwargs[name]
    index = position_of(call, name)
    if index is None:
        index = position
    if index is not None and index < len(call.args):
        return call.args[index]
    return default


def has_argument(call: Call, name: str, position: int | None = None) -> bool:
    """Whether the user passed parameter ``name`` at all (by keyword or position)."""
    return argument(call, name, position, _MISSING) is not _MISSING


def set_argument(call: Call, name: str, value: Any, position: int | None = None) -> None:
    """Pass ``value`` for parameter ``name`` to the original: where the user passed it positionally it
    replaces that position (:meth:`Call.set_arg`), else it is passed by keyword (:meth:`Call.set_kwarg`).

    Raises ``TypeError`` when ``name`` is neither a parameter nor accepted through ``**kwargs``.
    """
    if name not in call.kwargs:
        index = position_of(call, name)
        if index is None:
            index = position
        if index is not None and index < len(call.args):
            call.set_arg(index, value)
            return
        names, _var_args, var_kwargs = _signature(call)
        if names and name not in names and var_kwargs is None:
            raise TypeError(f"set_argument: {call.target} has no parameter {name!r} (parameters: {', '.join(names)})")
    call.set_kwarg(name, value)


#: module prefixes whose frames are never "the user's" (autotrack itself and the patching machinery)
SKIPPED_MODULES: tuple[str, ...] = ("autotrack.", "wrapt", "joblib", "contextlib", "functools")


def caller_variable_name(value: Any, default: str = "dataset", skip: tuple[str, ...] = ()) -> str:
    """The name of a variable holding ``value`` in the nearest frame outside autotrack, wrapt and the
    modules prefixed by ``skip`` (the target library, e.g. ``("sklearn.",)``): the user's
    ``clf.fit(X_train, y)`` gives ``"X_train"``. ``default`` when none holds it (an expression, a
    literal) or ``value`` is None."""
    if value is None:
        return default
    prefixes = SKIPPED_MODULES + tuple(skip)
    frame = sys._getframe(1)
    try:
        while frame is not None:
            module = frame.f_globals.get("__name__", "")
            if not module.startswith(prefixes) and module != "autotrack":
                for name, candidate in frame.f_locals.items():
                    if candidate is value and not name.startswith("_") and name.isidentifier():
                        return name
                return default
            frame = frame.f_back
        return default
    finally:
        del frame
