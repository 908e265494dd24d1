"""The patching engine: integrations, registry, safe wrappers, sessions and lazy import hooks.

``autotrack.core`` knows no ML library. Public surface:

- :func:`autolog` -- what ``autotrack.autolog()`` is;
- :func:`make_library_autolog` -- builds ``autotrack.<lib>.autolog`` for a facade module;
- :class:`Integration`, :class:`Patcher`, :class:`Call` -- for writing integrations;
- :func:`guard` -- make an injected callback unable to raise into training.
"""

from autotrack.core.autolog import (
    applied,
    armed,
    autolog,
    autolog_from_environment,
    make_library_autolog,
    state,
)
from autotrack.core.integration import COMMON_OPTIONS, AutologConfig, Integration
from autotrack.core.patching import Call, Patcher, is_autotrack_wrapper, leftover_wrappers
from autotrack.core.registry import ENTRY_POINT_GROUP
from autotrack.core.safety import AutotrackWarning, guard, guard_methods
from autotrack.core.session import Session, current as current_session

__all__ = [
    "COMMON_OPTIONS",
    "ENTRY_POINT_GROUP",
    "AutologConfig",
    "AutotrackWarning",
    "Call",
    "Integration",
    "Patcher",
    "Session",
    "applied",
    "armed",
    "autolog",
    "autolog_from_environment",
    "current_session",
    "guard",
    "guard_methods",
    "is_autotrack_wrapper",
    "leftover_wrappers",
    "make_library_autolog",
    "state",
]
