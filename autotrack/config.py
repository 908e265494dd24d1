"""Settings read from ``AUTOTRACK_*`` environment variables. Precedence: defaults < environment < arguments."""

from __future__ import annotations

import os

DEFAULT_ROOT = "autotrack-runs"
DEFAULT_TRACKING_URI = f"sqlite:///{DEFAULT_ROOT}/tracking.db"
DEFAULT_ARTIFACT_ROOT = f"{DEFAULT_ROOT}/artifacts"
DEFAULT_EXIT_FLUSH_TIMEOUT = 30.0
DEFAULT_CONNECT_TIMEOUT = 10
DEFAULT_BUFFER_MB = 64.0

TRUE_VALUES = ("1", "true", "yes", "on")


def env(name: str, default: str | None = None) -> str | None:
    """The value of ``AUTOTRACK_<name>``, or ``default`` when unset or empty."""
    value = os.environ.get("AUTOTRACK_" + name)
    return value if value not in (None, "") else default


def env_flag(name: str) -> bool:
    return (env(name, "") or "").strip().lower() in TRUE_VALUES


def env_float(name: str, default: float) -> float:
    raw = env(name)
    if raw is None:
        return default
    try:
        return float(raw)
    except ValueError:
        raise ValueError(f"AUTOTRACK_{name}={raw!r} is not a number; expected seconds, e.g. 30") from None


def strict() -> bool:
    """``AUTOTRACK_STRICT=1``: autotrack's own errors are re-raised instead of warned about."""
    return env_flag("STRICT")


def sync_logging() -> bool:
    return env_flag("SYNC_LOGGING")


def tracking_uri() -> str:
    return env("TRACKING_URI", DEFAULT_TRACKING_URI)  # type: ignore[return-value]


def artifact_root() -> str:
    return env("ARTIFACT_ROOT", DEFAULT_ARTIFACT_ROOT)  # type: ignore[return-value]


def exit_flush_timeout() -> float:
    return env_float("EXIT_FLUSH_TIMEOUT", DEFAULT_EXIT_FLUSH_TIMEOUT)


def connect_timeout() -> float:
    return env_float("CONNECT_TIMEOUT", DEFAULT_CONNECT_TIMEOUT)


def spool_dir() -> str:
    return env("SPOOL_DIR", os.path.join(DEFAULT_ROOT, "spool"))  # type: ignore[return-value]


def buffer_bytes() -> int:
    """``AUTOTRACK_BUFFER_MB`` (default 64) in bytes: the memory the logging buffer may hold before it spills to the spool."""
    return int(env_float("BUFFER_MB", DEFAULT_BUFFER_MB) * 1024 * 1024)
