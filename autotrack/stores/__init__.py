"""Tracking stores, chosen by URI scheme. ``get_store(uri)`` returns one shared store per URI."""

from __future__ import annotations

import importlib.util
import threading
import time

from autotrack.entities.errors import InvalidParameterError
from autotrack.stores.base import TrackingStore

SQL_SCHEMES = ("sqlite", "mysql", "mysql+pymysql", "mariadb", "mariadb+pymysql", "postgresql", "postgresql+psycopg", "postgresql+psycopg2", "postgres")
REST_SCHEMES = ("http", "https")
# http(s):// (an autotrack or MLflow server) is offered once the REST store module exists.
SUPPORTED_SCHEMES = SQL_SCHEMES + (REST_SCHEMES if importlib.util.find_spec("autotrack.stores.rest") else ())

_stores: dict[str, TrackingStore] = {}
_lock = threading.Lock()
# uri -> (monotonic time of the next try, backoff seconds, the error): a circuit breaker, so that a
# store that cannot be reached costs one connect timeout per backoff period, not one per call
# (autologging asks for the store at every fit).
_unreachable: dict[str, tuple[float, float, Exception]] = {}
_FIRST_BACKOFF, _MAX_BACKOFF = 10.0, 300.0


def scheme_of(uri: str) -> str:
    if not isinstance(uri, str) or ":" not in uri:
        raise InvalidParameterError(
            f"Invalid tracking URI {uri!r}: expected '<scheme>://...', with scheme one of {', '.join(SUPPORTED_SCHEMES)}"
        )
    return uri.split(":", 1)[0].lower()


def get_store(uri: str) -> TrackingStore:
    """Return the store for ``uri`` (one per URI, shared); unsupported schemes raise an error listing the supported ones."""
    store = _stores.get(uri)
    if store is not None:
        return store
    scheme = scheme_of(uri)
    broken = _unreachable.get(uri)
    if broken is not None and time.monotonic() < broken[0]:
        from autotrack.entities.errors import StoreConnectionError

        raise StoreConnectionError(
            f"{broken[2]} (not tried again for {broken[0] - time.monotonic():.0f} s more: the store was unreachable "
            f"moments ago; autotrack retries it every {broken[1]:g} s at most)"
        )
    with _lock:
        store = _stores.get(uri)
        if store is not None:
            return store
        if scheme in SQL_SCHEMES:
            from autotrack.entities.errors import StoreConnectionError
            from autotrack.stores.sql.store import SqlStore

            try:
                store = SqlStore(uri)
            except StoreConnectionError as exc:
                backoff = _FIRST_BACKOFF if broken is None else min(_MAX_BACKOFF, broken[1] * 2)
                _unreachable[uri] = (time.monotonic() + backoff, backoff, exc)
                raise
            _unreachable.pop(uri, None)
        elif scheme in REST_SCHEMES and scheme in SUPPORTED_SCHEMES:
            from autotrack.stores.rest import RestStore

            store = RestStore(uri)
        else:
            raise InvalidParameterError(
                f"Unsupported tracking URI scheme {scheme!r} in {uri!r}; supported schemes: "
                + ", ".join(s + "://" for s in SUPPORTED_SCHEMES)
            )
        _stores[uri] = store
        return store


def _reset_for_tests() -> None:
    with _lock:
        for store in _stores.values():
            store.close()
        _stores.clear()
        _unreachable.clear()
