"""The wrapt wrapper classes autotrack installs (a separate module: importing wrapt is not free)."""

from __future__ import annotations

import operator
import sys
from types import ModuleType
from typing import Any

import wrapt


class _AutotrackBoundWrapper(wrapt.BoundFunctionWrapper):
    def __reduce_ex__(self, protocol: int) -> Any:
        # Pickle a patched bound method as "look the attribute up again" on its instance (or class):
        # joblib ships estimator.fit to workers this way, and the receiving process gets the method as
        # it exists there, patched or not. Only builtins are referenced, so unpickling needs no autotrack.
        parent = self._self_parent
        holder = self._self_instance if self._self_instance is not None else parent._self_autotrack_owner
        return (getattr, (holder, parent._self_autotrack_attribute))


class AutotrackFunctionWrapper(wrapt.FunctionWrapper):
    """The one wrapper type autotrack installs; identifies autotrack's patches in a wrapper chain."""

    __bound_function_wrapper__ = _AutotrackBoundWrapper

    def __reduce_ex__(self, protocol: int) -> Any:
        owner = self._self_autotrack_owner
        if isinstance(owner, ModuleType):
            # A module-level function pickles by reference to where it is defined (``__module__`` and
            # ``__qualname__`` are the original's). When we are what is found there, that is us.
            home = sys.modules.get(getattr(self, "__module__", None) or "")
            found = getattr(home, getattr(self, "__qualname__", ""), None) if home is not None else None
            if found is None or found is self:
                return self._self_autotrack_attribute
            # Patched where it is re-exported (``sklearn.metrics.accuracy_score`` is defined in
            # ``sklearn.metrics._classification``): pickle what the definition site holds -- the
            # original, or autotrack's wrapper of that same original -- so that unpickling looks it up
            # there. ``itemgetter(0)((found,))`` is ``found``: only the stdlib is referenced.
            if found is self.__wrapped__ or getattr(found, "__wrapped__", None) is self.__wrapped__:
                return (operator.itemgetter(0), ((found,),))
            return self._self_autotrack_attribute  # something else lives there: pickle reports it
        return (getattr, (owner, self._self_autotrack_attribute))
