"""Tracking stores, chosen by URI scheme. ``get_store(uri)`` returns one shared store per URI."""

from __future__ import annotations

import importlib.util
import threading

from autotrack.entities.errors import InvalidParameterError
from autotrack.stores.base import TrackingStore

SQL_SCHEMES = ("sqlite", "mysql", "mysql+pymysql", "mariadb", "mariadb+pymysql", "postgresql", "postgresql+psycopg", "postgresql+psycopg2", "postgres")
REST_SCHEMES = ("http", "https")
# http(s):// (an autotrack or MLflow server) is offered once the REST store module exists.
SUPPORTED_SCHEMES = SQL_SCHEMES + (REST_SCHEMES if importlib.util.find_spec("autotrack.stores.rest") else ())

_stores: dict[str, TrackingStore] = {}
_lock = threading.Lock()


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
    with _lock:
        store = _stores.get(uri)
        if store is not None:
            return store
        if scheme in SQL_SCHEMES:
            from autotrack.stores.sql.store import SqlStore

            store = SqlStore(uri)
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
