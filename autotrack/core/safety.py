"""How autotrack's own errors surface: one warning per integration, or re-raised under AUTOTRACK_STRICT=1.

Only ``Exception`` is ever caught from autotrack's code: ``KeyboardInterrupt``/``SystemExit`` belong
to the user. The user's own calls are never made inside these guards.
"""

from __future__ import annotations

import contextvars
import functools
import threading
import warnings

TYPE_CHECKING = False  # typing costs ms at import; annotations are strings here anyway
if TYPE_CHECKING:  # pragma: no cover
    from collections.abc import Callable
    from typing import Any, TypeVar

    F = TypeVar("F", bound=Callable[..., Any])

from autotrack import config as _config



from autotrack.entities.errors import AutotrackWarning  # noqa: E402  (one class, shared with tracking/)


_warned_lock = threading.Lock()
_warned: set[str] = set()
# True while autotrack code runs on behalf of an integration configured with silent=True.
_silent: contextvars.ContextVar[bool] = contextvars.ContextVar("autotrack_silent", default=False)


_logger = None


def _log():
    """The "autotrack.core" logger, created on first use: ``import logging`` costs milliseconds at
    start-up and is only needed once something goes wrong."""
    global _logger
    if _logger is None:
        import logging

        def drop_while_silent(record: logging.LogRecord) -> bool:
            # Drops autotrack log records emitted while a silent integration's code runs (per context).
            return not _silent.get()

        logging.getLogger("autotrack").addFilter(drop_while_silent)
        _logger = logging.getLogger("autotrack.core")
    return _logger


def reset_warnings(integration: str | None = None) -> None:
    """Allow the next failure of ``integration`` (or of all) to warn again; done on every autolog()."""
    with _warned_lock:
        if integration is None:
            _warned.clear()
        else:
            _warned.discard(integration)


def report(integration: str, where: str, exc: Exception, *, silent: bool = False, allow_raise: bool = True) -> None:
    """Surface an autotrack error raised while autologging ``integration``.

    Under ``AUTOTRACK_STRICT=1`` it is re-raised when ``allow_raise`` (import hooks and injected
    callbacks pass False: they never raise, but then warn every time). Otherwise the first error of an
    integration becomes one :class:`AutotrackWarning`; later ones go to the debug log.
    """
    strict = _config.strict()
    if strict and allow_raise:
        raise exc
    if silent and not strict:
        _log().debug("autotrack %s autologging error in %s (silent)", integration, where, exc_info=exc)
        return
    with _warned_lock:
        first = integration not in _warned
        _warned.add(integration)
    if first or strict:
        warnings.warn(
            f"autotrack: {integration} autologging failed in {where}: {type(exc).__name__}: {exc}. "
            "Your code was not affected; further autotrack errors for this integration are logged at "
            "DEBUG level on the 'autotrack' logger.",
            AutotrackWarning,
            stacklevel=2,
        )
    else:
        _log().debug("autotrack %s autologging error in %s", integration, where, exc_info=exc)


class quiet:
    """Suppress autotrack's warnings and log lines for the block when ``enabled`` (``silent=True``).

    Only autotrack's own code runs inside; never the user's call. ``catch_warnings`` changes
    process-wide filters, so a warning raised by another thread in this short window is hidden too:
    the price of ``silent`` in a multi-threaded program.
    """

    __slots__ = ("enabled", "_token", "_catcher")

    def __init__(self, enabled: bool) -> None:
        self.enabled = enabled

    def __enter__(self) -> None:
        if self.enabled:
            self._token = _silent.set(True)
            self._catcher = warnings.catch_warnings()
            self._catcher.__enter__()
            warnings.simplefilter("ignore")

    def __exit__(self, *exc_info: object) -> None:
        if self.enabled:
            self._catcher.__exit__(*exc_info)
            _silent.reset(self._token)


def guard(integration: str, fn: F, *, silent: bool = False, default: Any = None) -> F:
    """Wrap an injected callback so that it cannot raise into training.

    An ``Exception`` from ``fn`` is reported (one warning per integration) and ``default`` is returned.
    """

    @functools.wraps(fn)
    def guarded(*args: Any, **kwargs: Any) -> Any:
        try:
            with quiet(silent):
                return fn(*args, **kwargs)
        except Exception as exc:  # noqa: BLE001 - autotrack's callback, never the user's code
            report(integration, getattr(fn, "__qualname__", repr(fn)), exc, silent=silent, allow_raise=False)
            return default

    guarded.__autotrack_guarded__ = True  # type: ignore[attr-defined]
    return guarded  # type: ignore[return-value]


def guard_methods(integration: str, *, silent: bool = False) -> Callable[[type], type]:
    """Class decorator: every public method defined on the class body becomes a :func:`guard`-ed one.

    For callback classes injected into a library's training loop (e.g. a Keras ``Callback``).
    """

    def decorate(cls: type) -> type:
        for attr, value in list(vars(cls).items()):
            if attr.startswith("_") or not callable(value) or isinstance(value, (staticmethod, classmethod, type)):
                continue
            setattr(cls, attr, guard(integration, value, silent=silent))
        cls.__autotrack_guarded__ = True  # type: ignore[attr-defined]
        return cls

    return decorate
