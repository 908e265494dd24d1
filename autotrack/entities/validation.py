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
MAX_RUN_NAME_LENGTH = 250
MAX_FILTER_CLAUSES = 50  # SQLite joins at most 64 tables; every metric/param/tag clause joins one
MAX_RESULTS_LIMIT = 100_000
INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1
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
    if not isinstance(key, str):  # before the set lookup: a list key would raise TypeError there
        raise InvalidParameterError(f"Invalid {kind} key {key!r} (type {type(key).__name__}): expected a string of {_ACCEPTED_KEY}.")
    if key in _valid_keys:
        return key
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
    """Return ``value`` as a float. NaN and +-inf are kept; bools, strings, other objects and numbers
    beyond the double range (e.g. ``10**400``) are rejected."""
    if value.__class__ is float:
        return value  # type: ignore[return-value]
    accepted = not isinstance(value, bool) and isinstance(value, numbers.Real)
    if not accepted:
        # numpy scalars register as numbers.Real; numpy bools, datetimes and timedeltas are rejected.
        try:
            import sys

            np = sys.modules.get("numpy")
            if np is not None and isinstance(value, np.ndarray) and value.size == 1 and value.dtype.kind in "iuf":
                # a one-value array (np.array([0.5]), a 0-d array, a reduced tensor) is that value, as in MLflow
                return float(value.reshape(-1)[0])
            accepted = (
                np is not None and isinstance(value, np.generic) and not isinstance(value, (np.bool_, np.timedelta64, np.datetime64))
                and np.issubdtype(type(value), np.number) and not np.issubdtype(type(value), np.complexfloating)
            )
        except Exception:  # pragma: no cover - defensive
            accepted = False
    if accepted:
        try:
            return float(value)  # type: ignore[arg-type]
        except OverflowError:
            raise InvalidParameterError(
                f"Invalid metric value {_short(value)} for metric {key!r}: it is beyond the range of a double "
                "(about +-1.8e308); log it as float('inf') or scale it."
            ) from None
        except (TypeError, ValueError):
            pass
    if type(value).__name__ == "ndarray" and hasattr(value, "shape"):
        raise InvalidParameterError(
            f"Invalid metric value for metric {key!r}: a numpy array of {value.size} values (shape "
            f"{value.shape}, dtype {value.dtype}); a metric value is one number (an array of one number is accepted)."
        )
    raise InvalidParameterError(
        f"Invalid metric value {_short(value)} (type {type(value).__name__}) for metric {key!r}: "
        "metric values must be numbers (int or float; NaN and +-inf are accepted), not bool or str."
    )


def _short(value: object) -> str:
    try:
        text = repr(value)
    except Exception:
        text = object.__repr__(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _int64(what: str, key: str, value: int) -> int:
    if not INT64_MIN <= value <= INT64_MAX:
        raise InvalidParameterError(
            f"Invalid {what} {_short(value)} for metric {key!r}: it must fit in a signed 64-bit integer (-2**63 to 2**63-1)."
        )
    return value


def validate_step(key: str, step: object) -> int:
    """``step`` as an int in the signed 64-bit range (None means 0)."""
    if step is None:
        return 0
    if isinstance(step, bool) or not isinstance(step, numbers.Integral):
        raise InvalidParameterError(f"Invalid step {_short(step)} for metric {key!r}: step must be an integer.")
    return _int64("step", key, int(step))


def validate_timestamp(key: str, timestamp: object) -> int:
    """``timestamp`` as an int: milliseconds since the epoch, never negative (MLflow's rule), within the signed 64-bit range."""
    if isinstance(timestamp, bool) or not isinstance(timestamp, numbers.Real) or (isinstance(timestamp, float) and not math.isfinite(timestamp)) \
            or timestamp < 0:
        raise InvalidParameterError(
            f"Invalid timestamp {_short(timestamp)} for metric {key!r}: expected milliseconds since the epoch as a non-negative integer."
        )
    return _int64("timestamp", key, int(timestamp))


def check_text(what: str, text: str) -> str:
    """Reject what a database refuses in text: NUL characters (PostgreSQL) and lone surrogates (not UTF-8)."""
    if "\x00" in text:
        raise InvalidParameterError(f"Invalid {what} {_short(text)}: it contains a NUL character ('\\x00'), which databases refuse.")
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise InvalidParameterError(
            f"Invalid {what} {_short(text)}: character {exc.start} is a lone surrogate ({text[exc.start]!r}), not valid Unicode text."
        ) from None
    return text


def _validate_text(kind: str, key: str, value: object, limit: int) -> str:
    try:
        text = str(value)
    except Exception as exc:
        raise InvalidParameterError(f"Invalid value for {kind} {key!r}: str() of it failed ({exc!r}).") from None
    if text.isascii() and "\x00" not in text:
        pass
    else:
        check_text(f"value for {kind} {key!r}", text)
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
    return check_text("experiment name", name)


def validate_run_name(name: object) -> str | None:
    """A run name: None, or a string of at most 250 characters (the stores' column)."""
    if name is None:
        return None
    if not isinstance(name, str):
        raise InvalidParameterError(f"Invalid run name {_short(name)} (type {type(name).__name__}): expected a string.")
    if len(name) > MAX_RUN_NAME_LENGTH:
        raise InvalidParameterError(f"Invalid run name {name[:40]!r}...: {len(name)} characters, at most {MAX_RUN_NAME_LENGTH}.")
    return check_text("run name", name)


def validate_max_results(max_results: object, limit: int = MAX_RESULTS_LIMIT) -> int:
    """``max_results`` as an int from 1 to ``limit``."""
    if isinstance(max_results, bool) or not isinstance(max_results, numbers.Integral) or not 1 <= int(max_results) <= limit:
        raise InvalidParameterError(f"Invalid max_results {_short(max_results)}: expected an integer from 1 to {limit}.")
    return int(max_results)
