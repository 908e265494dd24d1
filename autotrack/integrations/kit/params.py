"""Params: flatten nested configurations, turn values into text, fit the store's limits, log them all.

:func:`log_params` is the one way integrations log params. It never lets one bad param drop the
others: each key and value is checked on its own; a value longer than the store's limit is cut (and
a key longer than the key limit shortened) with **one** warning per call naming them; a key the
store cannot take (characters outside its alphabet) or a write-once conflict is skipped and
named in one warning, and every other param is still logged.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping
from typing import Any

from autotrack.core.safety import AutotrackWarning

TYPE_CHECKING = False
if TYPE_CHECKING:  # pragma: no cover
    from autotrack.core import AutologConfig

__all__ = ["flatten", "log_params", "prepare", "to_text", "truncate"]

ELLIPSIS = "..."


def _limits() -> tuple[int, int]:
    from autotrack.entities.validation import MAX_KEY_LENGTH, MAX_PARAM_VALUE_LENGTH

    return MAX_KEY_LENGTH, MAX_PARAM_VALUE_LENGTH


def _children(value: Any) -> Mapping[str, Any] | None:
    """The named members of a structured value worth flattening, or None for a leaf."""
    if isinstance(value, Mapping):
        return value
    if hasattr(value, "_asdict") and isinstance(value, tuple):  # namedtuple
        return value._asdict()
    fields = getattr(type(value), "__dataclass_fields__", None)
    if fields is not None and not isinstance(value, type):
        return {name: getattr(value, name) for name in fields}
    if type(value).__name__ == "Namespace" and type(value).__module__ == "argparse":
        return vars(value)
    return None


def flatten(params: Any, *, sep: str = ".", prefix: str = "", max_depth: int = 8) -> dict[str, Any]:
    """``{"a": {"b": 1}}`` -> ``{"a.b": 1}``; mappings, dataclasses, namedtuples and argparse
    namespaces are flattened (up to ``max_depth`` levels), other values (lists included) are leaves.
    An empty nested mapping stays as a leaf so that it is not lost."""
    out: dict[str, Any] = {}

    def walk(value: Any, key: str, depth: int) -> None:
        children = _children(value) if depth < max_depth else None
        if children is None or (not children and key):
            out[key] = value
            return
        for name, child in children.items():
            walk(child, f"{key}{sep}{name}" if key else str(name), depth + 1)

    walk(params, prefix, 0)
    return out


def to_text(value: Any) -> str:
    """A param value as text: ``str(value)``, except None -> ``"None"`` and bytes decoded (as MLflow)."""
    if isinstance(value, str):
        return value
    if isinstance(value, (bytes, bytearray)):
        return bytes(value).decode("utf-8", "replace")
    return str(value)


def truncate(text: str, limit: int) -> str:
    """``text`` cut to ``limit`` characters, ending in ``...`` when cut."""
    return text if len(text) <= limit else text[: max(limit - len(ELLIPSIS), 0)] + ELLIPSIS


def prepare(params: Mapping[str, Any] | Any, *, flatten_nested: bool = True) -> tuple[dict[str, str], list[str], dict[str, str]]:
    """``(ready, truncated, rejected)``: params as ``{key: text}`` within the store's limits, the keys
    that were cut, and ``{key: reason}`` for those the store cannot take at all."""
    from autotrack.exceptions import InvalidParameterError
    from autotrack.entities.validation import validate_key

    max_key, max_value = _limits()
    flat = flatten(params) if flatten_nested else dict(params)
    ready: dict[str, str] = {}
    truncated: list[str] = []
    rejected: dict[str, str] = {}
    for key, value in flat.items():
        try:
            key = str(key)
            short_key = key[:max_key]  # no '...' here: '..' is not allowed in a key
            validate_key("param", short_key)
            text = to_text(value)
        except InvalidParameterError as exc:
            rejected[str(key)] = str(exc)
            continue
        except Exception as exc:  # noqa: BLE001 - a __str__ that raises: skip that param only
            rejected[str(key)] = f"{type(exc).__name__}: {exc}"
            continue
        if len(text) > max_value or short_key != key:
            truncated.append(key)
            text = truncate(text, max_value)
        ready[short_key] = text
    return ready, truncated, rejected


def log_params(run_id: str, params: Mapping[str, Any] | Any, *, integration: str,
               config: AutologConfig | Mapping[str, Any] | None = None, keep_existing: bool = True,
               flatten_nested: bool = True, client: Any = None) -> dict[str, str]:
    """Log ``params`` (flattened, as text, within the store's limits) into ``run_id``; return what was
    queued. With ``keep_existing`` (the default for autologging) a key the run already has with
    another value keeps it. Cut values give one :class:`AutotrackWarning`; params the store cannot
    take (bad characters, a write-once conflict without ``keep_existing``) are skipped with one
    :class:`AutotrackWarning` naming them; the others are queued all the same. (Bad params are the
    data's fault, not autotrack's: they never raise, not even under ``AUTOTRACK_STRICT=1``.)"""
    if client is None:
        from autotrack.tracking.client import TrackingClient

        client = TrackingClient()
    silent = bool(config and config.get("silent"))
    ready, truncated, rejected = prepare(params, flatten_nested=flatten_nested)
    if truncated and not silent:
        _max_key, max_value = _limits()
        warnings.warn(
            f"autotrack: {integration} autologging cut {len(truncated)} param(s) to the store's limits "
            f"({max_value} characters per value, 250 per key): {', '.join(sorted(truncated)[:10])}"
            + (" ..." if len(truncated) > 10 else ""),
            AutotrackWarning, stacklevel=2)
    if ready:
        try:
            client.log_params(run_id, ready, keep_existing=keep_existing)
        except Exception:  # noqa: BLE001 - e.g. a write-once conflict: log the others one by one
            ready = _log_one_by_one(client, run_id, ready, keep_existing, rejected)
    if rejected and not silent:
        detail = "; ".join(f"{k!r}: {v}" for k, v in list(rejected.items())[:5])
        warnings.warn(f"autotrack: {integration} autologging could not log {len(rejected)} param(s) "
                      f"(the others were logged): {detail}", AutotrackWarning, stacklevel=2)
    return ready


def _log_one_by_one(client: Any, run_id: str, ready: dict[str, str], keep_existing: bool,
                    rejected: dict[str, str]) -> dict[str, str]:
    logged: dict[str, str] = {}
    for key, text in ready.items():
        try:
            client.log_params(run_id, {key: text}, keep_existing=keep_existing)
            logged[key] = text
        except Exception as exc:  # noqa: BLE001
            rejected[key] = str(exc)
    return logged
