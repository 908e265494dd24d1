"""Fresh PostgreSQL and MariaDB databases for tests, on the servers running on this machine.

A test that needs a server skips with the reason when the server is absent, except under ``CI=true``,
where absence is a failure (CI must exercise every backend).
"""

from __future__ import annotations

import os
import uuid

import pytest

SERVERS = {
    "postgresql": "postgresql://postgres@127.0.0.1:5432/{db}",
    "mysql": "mysql+pymysql://root@127.0.0.1:3306/{db}",
}
ADMIN_DB = {"postgresql": "postgres", "mysql": "test"}


def _admin_engine(backend: str):
    import sqlalchemy as sa

    url = SERVERS[backend].format(db=ADMIN_DB[backend])
    args = {"connect_timeout": 5}
    return sa.create_engine(url, connect_args=args, isolation_level="AUTOCOMMIT")


def create_database(backend: str) -> tuple[str, callable]:
    """Create an empty database; return its URI and a function that drops it."""
    import sqlalchemy as sa

    name = "autotrack_t_" + uuid.uuid4().hex[:12]
    engine = _admin_engine(backend)
    try:
        with engine.connect() as conn:
            conn.execute(sa.text(f"CREATE DATABASE {name}" + (" CHARACTER SET utf8mb4" if backend == "mysql" else "")))
    except sa.exc.OperationalError as exc:
        engine.dispose()
        message = f"{backend} server not reachable on 127.0.0.1 ({exc.orig})"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(message + " -- CI=true: every backend must be tested")
        pytest.skip(message)

    def drop() -> None:
        from autotrack import stores

        stores._reset_for_tests()  # close pooled connections first, or PostgreSQL refuses the drop
        with engine.connect() as conn:
            if backend == "postgresql":
                conn.execute(sa.text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
            else:
                conn.execute(sa.text(f"DROP DATABASE IF EXISTS {name}"))
        engine.dispose()

    return SERVERS[backend].format(db=name), drop
