"""Parsing of the zero-code variables ``AUTOTRACK_AUTOLOG`` and ``AUTOTRACK_DISABLED_INTEGRATIONS``."""

from __future__ import annotations

from autotrack.core import registry

ALL = "*"
_ON = {"1", "true", "yes", "on", "all", "*"}
_OFF = {"", "0", "false", "no", "off", "none"}


def parse_autolog_value(raw: str, field: str = "AUTOTRACK_AUTOLOG") -> list[str]:
    """Names to enable for an ``AUTOTRACK_AUTOLOG`` value: ``[ALL]`` for 1/true/all, ``[]`` for 0/false/empty,
    else the validated comma list. ``ValueError`` names the variable, the bad item and the accepted names,
    or says that a named integration is announced but not available in this build."""
    value = raw.strip().lower()
    if value in _ON:
        return [ALL]
    if value in _OFF:
        return []
    return registry.validate_names(field, value, available_only=True)
