"""``autotrack.autolog()`` and ``autotrack.<lib>.autolog()``: configuration layers and (re)arming.

Layers, lowest first: each integration's defaults < the environment (``AUTOTRACK_AUTOLOG``,
``AUTOTRACK_DISABLED_INTEGRATIONS``) < ``autotrack.autolog(**options)`` < ``autotrack.<lib>.autolog(**options)``.
A per-library call wins over the global one whichever comes first. ``autotrack.autolog(disable=True)``
is the global off switch: it reverts everything and forgets every layer.

Arming an integration only subscribes to its trigger modules; its ``apply`` runs when the user
imports one (immediately if already imported), so nothing here imports a target library.
"""

from __future__ import annotations

import os
import threading
from types import ModuleType

TYPE_CHECKING = False  # typing costs ms at import; annotations are strings here anyway
if TYPE_CHECKING:  # pragma: no cover
    from collections.abc import Callable, Iterable
    from typing import Any

from autotrack.core import hooks, patching, registry, safety
from autotrack.core.integration import COMMON_OPTIONS, AutologConfig, Integration, validate_options

ALL = "*"
_lock = threading.RLock()
_global: dict[str, Any] | None = None  # options of the last autotrack.autolog() call
_global_exclude: frozenset[str] = frozenset()
_library: dict[str, dict[str, Any]] = {}  # options of autotrack.<lib>.autolog() calls
_env_enabled: frozenset[str] = frozenset()  # from AUTOTRACK_AUTOLOG; may contain ALL
_armed: dict[str, _Armed] = {}


class _Armed:
    """One armed integration: its class instance, live state, and which trigger modules it applied to."""

    def __init__(self, cls: type[Integration], options: dict[str, Any]) -> None:
        self.cls = cls
        self.state = patching.IntegrationState(cls.name, AutologConfig(options))
        self.integration = cls()
        self.integration.config = self.state.config
        self.applied: dict[str, ModuleType] = {}
        self.version_checked = False
        self.skipped = False

    def report(self, module_name: str, exc: BaseException) -> None:
        safety.report(self.state.name, f"applying on import of {module_name}", exc,  # type: ignore[arg-type]
                      silent=self.state.config.silent, allow_raise=False)


def disabled_from_environment() -> frozenset[str]:
    """``AUTOTRACK_DISABLED_INTEGRATIONS``: a comma list of names, or ``*`` for all."""
    raw = os.environ.get("AUTOTRACK_DISABLED_INTEGRATIONS", "").strip()
    if not raw:
        return frozenset()
    if raw == ALL:
        return frozenset({ALL})
    return frozenset(registry.validate_names("AUTOTRACK_DISABLED_INTEGRATIONS", raw))


def _defaults(cls: type[Integration]) -> dict[str, Any]:
    return cls.accepted_options()


def _wanted() -> dict[str, dict[str, Any]]:
    """Effective options of every integration that should be armed now."""
    env_disabled = disabled_from_environment()
    names: set[str] = set()
    everything = set(registry.known_names())
    if _global is not None:
        names |= everything - _global_exclude
    names |= everything if ALL in _env_enabled else set(_env_enabled)
    # The environment's disabled list applies to everything but explicit per-library calls.
    names = set() if ALL in env_disabled else names - env_disabled
    names |= set(_library)
    wanted: dict[str, dict[str, Any]] = {}
    absent: list[str] = []
    for name in sorted(names):
        try:
            cls = registry.load(name)
        except Exception as exc:  # noqa: BLE001 - a broken third-party integration must not stop the others
            safety.report(name, "loading the integration", exc, allow_raise=False)
            continue
        if cls is None:
            absent.append(name)  # a built-in that this build does not ship yet: say so on import
            continue
        options = {**_defaults(cls), **(_global or {}), **_library.get(name, {})}
        if not options["disable"]:
            wanted[name] = options
    _watch_absent(absent, silent=bool((_global or {}).get("silent")))
    return wanted


class _AbsentKey:
    """Subscription key of the "library imported, integration absent" warnings."""


_ABSENT = _AbsentKey()
_absent_warned: set[str] = set()


def _watch_absent(names: list[str], *, silent: bool) -> None:
    """Warn once per process when the library of an announced-but-absent built-in is imported."""
    hooks.unsubscribe(_ABSENT)
    if silent:
        return
    for name in names:
        for module_name in registry.LIBRARY_MODULES.get(name, ()):
            hooks.subscribe(_ABSENT, module_name, lambda module, name=name: _warn_absent(name, module),
                            lambda _module, _exc: None)


def _warn_absent(name: str, module: ModuleType) -> None:
    if name in _absent_warned:
        return
    _absent_warned.add(name)
    import warnings

    warnings.warn(
        f"autotrack: {module.__name__} was imported with autologging on, but "
        f"{registry.unavailable_message(name)}; its training is not logged.",
        safety.AutotrackWarning,
        stacklevel=2,
    )


def _disarm(name: str) -> None:
    armed = _armed.pop(name, None)
    if armed is None:
        return
    armed.state.active = False
    hooks.unsubscribe(armed)
    patching.revert(armed.state)
    try:
        armed.integration.remove()
    except Exception as exc:  # noqa: BLE001
        safety.report(name, "remove()", exc, allow_raise=False)


def _subscribe(state: patching.IntegrationState, module_name: str, callback: Callable[[ModuleType], None]) -> None:
    armed = _armed.get(state.name)
    if armed is None or armed.state is not state:
        return  # stale patcher from an earlier configuration

    def guarded(module: ModuleType) -> None:
        if _armed.get(state.name) is armed:
            callback(module)

    hooks.subscribe(armed, module_name, guarded, armed.report)


def _supported(armed: _Armed) -> bool:
    """Check the installed versions once per configuration; warn or skip outside ``supports``."""
    if armed.version_checked:
        return not armed.skipped
    armed.version_checked = True
    from autotrack.core.versions import installed_version, version_matches

    cls, config = armed.cls, armed.state.config
    outside: list[str] = []
    for distribution, spec in cls.supported_ranges().items():
        version = installed_version(distribution)
        if version is not None and spec and not version_matches(version, spec):
            outside.append(f"{distribution}{spec}, but {distribution} {version} is installed")
    if not outside:
        return True
    if config.disable_for_unsupported_versions:
        armed.skipped = True
        return False
    if not config.silent:
        import warnings

        warnings.warn(
            f"autotrack: {cls.name} autologging supports {'; '.join(outside)}; autologging may not work. "
            "Pass disable_for_unsupported_versions=True to skip it for unsupported versions.",
            safety.AutotrackWarning,
            stacklevel=2,
        )
    return True


def _apply(armed: _Armed, module: ModuleType) -> None:
    if _armed.get(armed.state.name) is not armed or armed.applied.get(module.__name__) is module:
        return  # stale configuration, or already applied to this very module object
    if not _supported(armed):
        return
    armed.applied[module.__name__] = module
    before = len(armed.state.handles)
    try:
        armed.integration.apply(patching.Patcher(armed.state, _subscribe), module)
    except BaseException:
        # Half-applied is worse than not applied: take back what this apply() installed.
        patching.revert(armed.state, since=before)
        raise


def _arm(name: str, options: dict[str, Any]) -> None:
    cls = registry.load(name)
    assert cls is not None
    armed = _Armed(cls, options)
    _armed[name] = armed
    safety.reset_warnings(name)
    for trigger in cls.triggers:
        hooks.subscribe(armed, trigger, lambda module, armed=armed: _apply(armed, module), armed.report)


def _reconcile(names: Iterable[str] | None = None) -> None:
    """Revert and re-arm ``names`` (all when None) so they match the configuration layers."""
    wanted = _wanted()
    scope = set(names) if names is not None else set(wanted) | set(_armed)
    for name in sorted(scope):
        _disarm(name)  # reverting first makes every autolog() call idempotent and re-configurable
        if name in wanted:
            _arm(name, wanted[name])


def autolog(*, exclude: Iterable[str] | str | None = None, **options: Any) -> None:
    """Turn on autologging for every integration (lazily: each applies when its library is imported).

    ``options`` are the common options (``disable``, ``exclusive``, ``silent``, ``log_models``,
    ``log_datasets``, ``log_input_examples``, ``log_model_signatures``, ``extra_tags``,
    ``disable_for_unsupported_versions``); ``exclude`` names integrations to leave alone. Calling it
    again reverts and re-applies with the new options; ``disable=True`` turns everything off.
    """
    global _global, _global_exclude, _env_enabled
    clean = validate_options("autotrack.autolog", options, COMMON_OPTIONS)
    excluded = frozenset(registry.validate_names("exclude", exclude)) if exclude is not None else frozenset()
    with _lock:
        if clean.get("disable"):
            _global, _global_exclude, _env_enabled = None, frozenset(), frozenset()
            _library.clear()
            hooks.unsubscribe(_ABSENT)
            for name in sorted(_armed):
                _disarm(name)
            return
        _global, _global_exclude = clean, excluded
        _reconcile()


def autolog_from_environment(value: str | None = None) -> list[str]:
    """Arm what ``AUTOTRACK_AUTOLOG`` asks for (``1``/``true``/``all`` or a comma list of names).

    Returns the armed integration names. Raises ``ValueError`` naming the variable for an unknown name.
    """
    global _env_enabled
    from autotrack.core.environment import parse_autolog_value

    raw = os.environ.get("AUTOTRACK_AUTOLOG", "") if value is None else value
    enabled = parse_autolog_value(raw)
    with _lock:
        _env_enabled = frozenset(enabled)
        _reconcile()
        return sorted(_armed)


def _validate_settings(cls: type[Integration], owner: str, options: dict[str, Any]) -> dict[str, Any]:
    """Options with the integration's own settings checked by ``cls.validate_settings``; its error
    is re-raised (same type) prefixed with ``owner``."""
    own = {k: v for k, v in options.items() if k in cls.settings}
    if not own:
        return options
    try:
        checked = cls.validate_settings(dict(own))
    except (TypeError, ValueError) as exc:
        message = str(exc)
        raise type(exc)(message if message.startswith(owner) else f"{owner}(): {message}") from None
    return {**options, **checked}


def make_library_autolog(name: str) -> Callable[..., None]:
    """Build ``autotrack.<name>.autolog`` for a facade module: per-library options that override the
    global ``autotrack.autolog()`` ones."""
    canonical = registry.canonical(name)
    if canonical not in registry.BUILTINS:
        registry.validate_names("integration", [name])  # raises for an unknown third party

    def autolog(**options: Any) -> None:
        cls = registry.load(canonical)
        if cls is None:
            raise RuntimeError(
                f"autotrack.{canonical}.autolog(): the {canonical!r} integration is not available in this "
                f"autotrack build; available: {', '.join(registry.available()) or 'none'}"
            )
        owner = f"autotrack.{canonical}.autolog"
        clean = validate_options(owner, options, cls.accepted_options())
        clean = _validate_settings(cls, owner, clean)
        with _lock:
            _library[canonical] = clean
            _reconcile([canonical])

    autolog.__name__ = "autolog"
    autolog.__qualname__ = "autolog"
    autolog.__doc__ = (
        f"Configure {canonical} autologging; these options override ``autotrack.autolog()``'s for "
        f"{canonical}. Accepts the common options and the integration's own settings; "
        "``disable=True`` turns it off."
    )
    return autolog


def armed() -> dict[str, AutologConfig]:
    """Integrations armed now and their effective options."""
    with _lock:
        return {name: a.state.config for name, a in _armed.items()}


def applied() -> dict[str, list[str]]:
    """For each armed integration, the trigger modules it has been applied to so far."""
    with _lock:
        return {name: sorted(a.applied) for name, a in _armed.items()}


def state(name: str) -> patching.IntegrationState | None:
    """The live state of an armed integration (its ``active`` flag pauses all its patches)."""
    return _armed[name].state if name in _armed else None
