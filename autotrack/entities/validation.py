"""Validation of keys and values with MLflow's rules. Every error names the field, the value and what is accepted."""

from __future__ import annotations

import math
import numbers
import posixpath
import re

from autotrack.entities.errors import InvalidParameterError

MAX_KEY_LENGTH = 250
MAX_PARAM_VALUE_LENGTH = 6000
MAX_TAG_VALUE_LENGTH = 8000
MAX_EXPERIMENT_NAME_LENGTH = 500
# MLflow 3.17's rule: word characters of any alphabet (letters, digits, '_'), '-', '.', ' ', '/', ':';
# and the key must be a path that normalisation leaves as it is (see _changes_as_path).
_KEY_RE = re.compile(r"^[/\w.\- :]+$")
_RUN_ID_RE = re.compile(r"^[0-9a-f]{32}$")
_ACCEPTED_KEY = ("letters (of any alphabet), digits, '_', '-', '.', ' ', '/' and ':', at most 250 characters, "
                 "written as a normalised path (no leading '/', no '//', no '.' or '..' segment, no trailing '/')")

# Keys seen valid before. Checking a key costs a regex; training loops log the same few keys millions of
# times, so a set lookup is the hot path. Bounded so that a pathological caller cannot grow it forever.
_valid_keys: set[str] = set()


def validate_key(kind: str, key: object) -> str:
    """Return ``key`` if it is a valid metric/param/tag key, else raise naming ``kind`` and the value."""
    if key in _valid_keys:
        return key  # type: ignore[return-value]
    if not isinstance(key, str):
        raise InvalidParameterError(f"Invalid {kind} key {key!r}: expected a string of {_ACCEPTED_KEY}.")
    if not key or len(key) > MAX_KEY_LENGTH or not _KEY_RE.match(key) or _changes_as_path(key):
        raise InvalidParameterError(f"Invalid {kind} key {key!r}: keys may contain {_ACCEPTED_KEY}.")
    if len(_valid_keys) < 100_000:
        _valid_keys.add(key)
    return key


def _changes_as_path(key: str) -> bool:
    """True for keys such as ``a/./b``, ``a//b``, ``a/``, ``../a`` or ``/a``, which name another path once
    normalised (``a..b`` is fine: ``..`` is only special as a whole segment)."""
    norm = posixpath.normpath(key)
    return norm != key or norm == "." or norm.startswith("..") or norm.startswith("/")


def validate_metric_value(key: str, value: object) -> float:
    """Return ``value`` as a float. NaN and +-inf are kept; bools, strings and other objects are rejected."""
    if value.__class__ is float:
        return value  # type: ignore[return-value]
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        # numpy scalars register as numbers.Real; numpy bools do not, and are rejected here too.
        try:
            import sys

            np = sys.modules.get("numpy")
            if np is not None and isinstance(value, np.generic) and not isinstance(value, np.bool_) and np.issubdtype(type(value), np.number) and not np.issubdtype(type(value), np.complexfloating):
                return float(value)
            if np is not None and isinstance(value, np.ndarray) and value.size == 1 and value.dtype.kind in "iuf":
                # a one-value array (np.array([0.5]), a 0-d array, a reduced tensor) is that value, as in MLflow
                return float(value.reshape(-1)[0])
        except Exception:  # pragma: no cover - defensive
            pass
        if type(value).__name__ == "ndarray" and hasattr(value, "shape"):
            raise InvalidParameterError(
                f"Invalid metric value for metric {key!r}: a numpy array of {value.size} values (shape "
                f"{value.shape}, dtype {value.dtype}); a metric value is one number (an array of one number is accepted)."
            )
        raise InvalidParameterError(
            f"Invalid metric value {value!r} (type {type(value).__name__}) for metric {key!r}: "
            "metric values must be numbers (int or float; NaN and +-inf are accepted), not bool or str."
        )
    return float(value)


def validate_step(key: str, step: object) -> int:
    if step is None:
        return 0
    if isinstance(step, bool) or not isinstance(step, numbers.Integral):
        raise InvalidParameterError(f"Invalid step {step!r} for metric {key!r}: step must be an integer.")
    return int(step)


def validate_timestamp(key: str, timestamp: object) -> int:
    """``timestamp`` as an int: milliseconds since the epoch, never negative (MLflow's rule)."""
    if isinstance(timestamp, bool) or not isinstance(timestamp, numbers.Real) or (isinstance(timestamp, float) and not math.isfinite(timestamp)) \
            or timestamp < 0:
        raise InvalidParameterError(
            f"Invalid timestamp {timestamp!r} for metric {key!r}: expected milliseconds since the epoch as a non-negative integer."
        )
    return int(timestamp)


def _validate_text(kind: str, key: str, value: object, limit: int) -> str:
    text = str(value)
    if len(text) > limit:
        raise InvalidParameterError(
            f"Invalid value for {kind} {key!r}: {len(text)} characters, at most {limit} are accepted "
            f"(value starts {text[:40]!r})."
        )
    return text


def validate_param_value(key: str, value: object) -> str:
    """``value`` as a string of at most 6000 characters."""
    return _validate_text("param", key, value, MAX_PARAM_VALUE_LENGTH)


def validate_tag_value(key: str, value: object) -> str:
    """``value`` as a string of at most 8000 characters."""
    return _validate_text("tag", key, value, MAX_TAG_VALUE_LENGTH)


def validate_run_id(run_id: object) -> str:
    if not isinstance(run_id, str) or not _RUN_ID_RE.match(run_id):
        raise InvalidParameterError(f"Invalid run_id {run_id!r}: expected 32 lowercase hex characters (a uuid4 hex).")
    return run_id


def validate_experiment_name(name: object) -> str:
    if not isinstance(name, str) or not name.strip():
        raise InvalidParameterError(f"Invalid experiment name {name!r}: expected a non-empty string.")
    if len(name) > MAX_EXPERIMENT_NAME_LENGTH:
        raise InvalidParameterError(
            f"Invalid experiment name {name[:40]!r}...: {len(name)} characters, at most {MAX_EXPERIMENT_NAME_LENGTH}."
        )
    return name
