"""Metrics: coerce framework scalars to floats and log a dict of them at one step in one batch.

:func:`scalar` accepts what training loops produce: Python numbers, numpy scalars, 0-d arrays and
single-item arrays, and -- only when asked with ``tensors=True`` -- framework tensors through
``.item()`` (which synchronises a GPU: an integration decides when that is acceptable, e.g. once per
epoch rather than per batch). Bools and non-numbers are refused, as the tracking validation does.
"""

from __future__ import annotations

import numbers
import sys
import time
from collections.abc import Mapping
from typing import Any

TYPE_CHECKING = False
if TYPE_CHECKING:  # pragma: no cover
    from autotrack.core import AutologConfig

__all__ = ["log_metrics", "scalar", "scalars"]


def scalar(value: Any, *, tensors: bool = False) -> float | None:
    """``value`` as a float, or None when it is not one number.

    Python ints/floats, numpy numeric scalars, 0-d and single-item numpy arrays; with ``tensors``,
    any object with ``.item()`` and one element (torch / TensorFlow tensors, jax arrays). NaN and
    infinities are kept (the store accepts them); bools and complex numbers give None.
    """
    cls = value.__class__
    if cls is float:
        return value
    if cls is int:
        return float(value)
    if isinstance(value, bool):
        return None
    if isinstance(value, numbers.Real):
        np = sys.modules.get("numpy")
        if np is not None and isinstance(value, np.bool_):
            return None
        return float(value)
    np = sys.modules.get("numpy")
    if np is not None:
        if isinstance(value, np.generic):
            return None  # a numpy bool, complex or non-numeric scalar
        if isinstance(value, np.ndarray):
            if value.size != 1 or value.dtype.kind not in "iuf":
                return None
            return float(value.reshape(-1)[0])
    if tensors and hasattr(value, "item"):
        size = _size(value)
        if size is not None and size != 1:
            return None
        try:
            item = value.item()
        except Exception:  # noqa: BLE001 - not a one-element numeric tensor
            return None
        return scalar(item)
    return None


def _size(value: Any) -> int | None:
    numel = getattr(value, "numel", None)  # torch
    if callable(numel):
        try:
            return int(numel())
        except Exception:  # noqa: BLE001
            return None
    shape = getattr(value, "shape", None)
    if shape is None:
        return None
    try:
        size = 1
        for dim in tuple(shape):
            size *= int(dim)
        return size
    except Exception:  # noqa: BLE001 - unknown dimensions (symbolic TF shapes)
        return None


def scalars(metrics: Mapping[str, Any], *, tensors: bool = False, prefix: str = "") -> tuple[dict[str, float], list[str]]:
    """``(floats, skipped)``: the values of ``metrics`` that are one number each (see :func:`scalar`),
    keys prefixed with ``prefix``, and the keys that were not."""
    out: dict[str, float] = {}
    skipped: list[str] = []
    for key, value in metrics.items():
        number = scalar(value, tensors=tensors)
        if number is None:
            skipped.append(str(key))
        else:
            out[f"{prefix}{key}"] = number
    return out, skipped


def log_metrics(run_id: str, metrics: Mapping[str, Any], *, step: int | None = None, timestamp: int | None = None,
                integration: str = "", config: AutologConfig | Mapping[str, Any] | None = None, tensors: bool = False,
                prefix: str = "", client: Any = None) -> dict[str, float]:
    """Log ``metrics`` into ``run_id`` at one ``step`` and one ``timestamp`` (now, in ms, by default) in
    one batch; return what was queued. Values that are not one number are skipped (debug log); a key
    the store refuses is skipped too, with one report naming it, and the others are still logged."""
    if client is None:
        from autotrack.tracking.client import TrackingClient

        client = TrackingClient()
    floats, skipped = scalars(metrics, tensors=tensors, prefix=prefix)
    if skipped and "logging" in sys.modules:
        import logging

        logging.getLogger("autotrack").debug("%s: metrics %s are not single numbers; not logged", integration, skipped)
    if not floats:
        return floats
    if timestamp is None:
        timestamp = int(time.time() * 1000)
    try:
        client.log_metrics(run_id, floats, step=step, timestamp=timestamp)
    except Exception as first:  # noqa: BLE001 - find the bad key(s); log the rest
        from autotrack.entities.validation import validate_key

        good: dict[str, float] = {}
        bad: list[str] = []
        for key, value in floats.items():
            try:
                validate_key("metric", key)
                good[key] = value
            except Exception:  # noqa: BLE001
                bad.append(key)
        if not bad:
            raise first
        if good:
            client.log_metrics(run_id, good, step=step, timestamp=timestamp)
        import warnings

        from autotrack.core.safety import AutotrackWarning

        if not (config and config.get("silent")):
            warnings.warn(f"autotrack: {integration} autologging could not log metrics {bad} (invalid keys: "
                          f"{first}); the others were logged", AutotrackWarning, stacklevel=2)
        floats = good
    return floats
