"""The wrapt wrapper classes autotrack installs (a separate module: importing wrapt is not free)."""

from __future__ import annotations

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
            # A module-level function pickles by reference to its module attribute (which is us).
            return self._self_autotrack_attribute
        return (getattr, (owner, self._self_autotrack_attribute))
