"""Milliseconds since the epoch: the unit of every timestamp autotrack records, from one helper."""

from __future__ import annotations

from time import time as _time


def now_ms() -> int:
    """The current time in integer milliseconds since the epoch."""
    return int(_time() * 1000)
