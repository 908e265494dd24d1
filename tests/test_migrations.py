"""Schema migrations stay correct: a database built at every historical schema version and upgraded
has exactly the schema of a new database (reflected and compared), and the table definitions the
queries use (``models.py``) describe that same schema. On SQLite, PostgreSQL and MariaDB."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from databases import create_database

from autotrack.stores.sql import migrations, models
from autotrack.stores.sql.store import SqlStore, normalize_db_uri


@pytest.fixture(params=["sqlite", "postgresql", "mysql"])
def new_database(request, tmp_path):
    """A function returning the URI of another fresh, empty database on the backend."""
    drops = []
    counter = iter(range(1000))

    def make() -> str:
        if request.param == "sqlite":
            return f"sqlite:///{tmp_path}/db{next(counter)}.db"
        uri, drop = create_database(request.param)
        drops.append(drop)
        return uri

    yield make
    for drop in drops:
        drop()


def _schema(uri: str) -> dict:
    """Every table's columns (name, type, nullability, default), keys, indexes and unique constraints."""
    engine = sa.create_engine(normalize_db_uri(uri))
    try:
        insp = sa.inspect(engine)
        out = {}
        for table in sorted(insp.get_table_names()):
            out[table] = {
                "columns": [(c["name"], str(c["type"]), c["nullable"], str(c.get("default"))) for c in insp.get_columns(table)],
                "primary_key": tuple(insp.get_pk_constraint(table)["constrained_columns"]),
                "foreign_keys": sorted((tuple(fk["constrained_columns"]), fk["referred_table"], tuple(fk["referred_columns"])) for fk in insp.get_foreign_keys(table)),
                "indexes": sorted((ix["name"], tuple(map(str, ix.get("column_names") or ())), tuple(map(str, ix.get("expressions") or ())), bool(ix["unique"])) for ix in insp.get_indexes(table)),
                "unique": sorted((u["name"], tuple(u["column_names"])) for u in insp.get_unique_constraints(table)),
            }
        return out
    finally:
        engine.dispose()


def _fresh(uri: str) -> dict:
    SqlStore(uri).close()
    return _schema(uri)


def test_upgrading_from_every_version_gives_the_fresh_schema(new_database):
    fresh = _fresh(new_database())
    assert set(fresh) >= {"autotrack_schema_version", "experiments", "runs", "metrics", "datasets", "inputs", "input_tags"}
    for version in range(1, migrations.CURRENT_VERSION):
        uri = new_database()
        engine = sa.create_engine(normalize_db_uri(uri))
        assert migrations.upgrade(engine, target=version) == version
        with engine.begin() as conn:  # data written at the old version survives the upgrade
            conn.execute(sa.text(
                "INSERT INTO experiments (experiment_id, name, artifact_location, lifecycle_stage) VALUES (7, 'old', '/tmp/a', 'active')"
            ))
        engine.dispose()
        store = SqlStore(uri)  # opening upgrades
        assert store.get_experiment("7").name == "old"
        store.close()
        assert _schema(uri) == fresh, f"upgrading from version {version} differs from a new database"


def test_table_definitions_used_by_queries_match_the_migrated_schema(new_database):
    fresh = _fresh(new_database())
    uri = new_database()
    engine = sa.create_engine(normalize_db_uri(uri))
    models.metadata.create_all(engine)
    engine.dispose()
    assert _schema(uri) == fresh


def test_a_current_database_is_opened_without_the_migration_lock(tmp_path):
    from pathlib import Path

    from autotrack.stores.sql.migrations import _sqlite_lock_path

    uri = f"sqlite:///{tmp_path}/t.db"
    lock = Path(_sqlite_lock_path(str(tmp_path / "t.db")))  # in the temp folder, never beside the database
    SqlStore(uri).close()
    lock.unlink()
    SqlStore(uri).close()  # at the current version: one read, no lock file
    assert not lock.exists()
    assert sorted(p.name for p in tmp_path.iterdir() if not p.name.startswith("t.db")) == []
