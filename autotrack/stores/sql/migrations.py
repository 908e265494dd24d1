"""Schema versions of the SQL store and the steps between them.

The database records its version in ``autotrack_schema_version``. Opening a store upgrades an older
database in place, one numbered step at a time, each in its own transaction where the backend allows
it. A database made by a newer autotrack (a version above ``CURRENT_VERSION``) is refused with a clear
error instead of being written with a schema this code does not know.

Steps are append-only: once released, a step never changes. A step that adds a column must describe
that column itself (``ALTER TABLE``) rather than rely on the current table definitions.
"""

from __future__ import annotations

import contextlib
from typing import Callable

import sqlalchemy as sa

from autotrack.entities.errors import SchemaVersionError
from autotrack.stores.sql import models


def _v1_tables(conn: sa.Connection) -> None:
    """Version 1: the tables (experiments, runs, metrics, latest metrics, params, tags)."""
    tables = [models.experiments, models.experiment_tags, models.runs, models.metrics, models.latest_metrics, models.params, models.tags]
    # CreateTable emits the table alone: the indexes belong to step 2, so step 1 stays what it was.
    inspector = sa.inspect(conn)
    for table in tables:
        if not inspector.has_table(table.name):
            conn.execute(sa.schema.CreateTable(table))


def _v2_search_indexes(conn: sa.Connection) -> None:
    """Version 2: indexes for metric history, latest value per key, and search by metric/param/tag value."""
    existing = {ix["name"] for table in ("metrics", "latest_metrics", "runs", "params", "tags") for ix in sa.inspect(conn).get_indexes(table)}
    for index in models.SEARCH_INDEXES:
        if index.name not in existing:
            index.create(conn)


STEPS: list[tuple[int, Callable[[sa.Connection], None]]] = [
    (1, _v1_tables),
    (2, _v2_search_indexes),
]
CURRENT_VERSION = STEPS[-1][0]


def current_version(conn: sa.Connection) -> int:
    """The schema version the database records; 0 for an empty database."""
    if not sa.inspect(conn).has_table(models.schema_version.name):
        return 0
    return conn.execute(sa.select(sa.func.max(models.schema_version.c.version))).scalar() or 0


@contextlib.contextmanager
def _migration_lock(engine: sa.Engine):
    """Serialize migrations between processes that open the same database at the same moment."""
    dialect = engine.dialect.name
    if dialect == "sqlite":
        import fcntl

        db_path = engine.url.database
        if not db_path or db_path == ":memory:":
            yield
            return
        with open(db_path + ".migrate-lock", "a+") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)
    elif dialect in ("mysql", "mariadb"):
        with engine.connect() as conn:
            conn.execute(sa.text("SELECT GET_LOCK('autotrack_migrate', 60)"))
            try:
                yield
            finally:
                conn.execute(sa.text("SELECT RELEASE_LOCK('autotrack_migrate')"))
    elif dialect == "postgresql":
        with engine.connect() as conn:
            conn.execute(sa.text("SELECT pg_advisory_lock(7346193)"))
            conn.commit()
            try:
                yield
            finally:
                conn.execute(sa.text("SELECT pg_advisory_unlock(7346193)"))
                conn.commit()
    else:  # pragma: no cover - only the three dialects above are accepted by the store
        yield


def upgrade(engine: sa.Engine, target: int | None = None) -> int:
    """Bring the database to ``target`` (default: the current version); return the version reached."""
    target = CURRENT_VERSION if target is None else target
    with _migration_lock(engine):
        with engine.begin() as conn:
            found = current_version(conn)
        if found > CURRENT_VERSION:
            raise SchemaVersionError(
                f"The tracking database {engine.url.render_as_string(hide_password=True)} has schema version {found}, "
                f"made by a newer autotrack; this autotrack ({_own_version()}) knows versions up to {CURRENT_VERSION}. "
                "Upgrade autotrack (pip install -U autotrack) to use it."
            )
        for version, step in STEPS:
            if found < version <= target:
                with engine.begin() as conn:
                    if version == 1:
                        models.schema_version.create(conn, checkfirst=True)
                    step(conn)
                    conn.execute(sa.insert(models.schema_version).values(version=version))
                found = version
        return found


def _own_version() -> str:
    from autotrack import __version__

    return __version__

