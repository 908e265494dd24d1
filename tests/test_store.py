"""The SQL store on SQLite, PostgreSQL and MariaDB: the store contract (tests/store_contract.py) plus
what is particular to SQL (indexes, schema versions). Everything is read back from the database."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from autotrack.exceptions import SchemaVersionError
from autotrack.stores import get_store
from store_contract import StoreContract, _run
from autotrack.entities import Metric


class TestSqlStoreContract(StoreContract):
    """The contract suite on each SQL backend (``store_uri``: SQLite, PostgreSQL, MariaDB)."""

    @pytest.fixture
    def store_factory(self, store_uri):
        return lambda: get_store(store_uri)

    def test_artifact_locations_under_the_artifact_root(self, store):
        assert store.get_experiment("0").artifact_location.endswith("/0")
        eid = store.create_experiment("located")
        assert store.get_experiment(eid).artifact_location.endswith("/" + eid)
        run = _run(store, eid)
        assert store.get_run(run.info.run_id).info.artifact_uri.endswith(f"/{eid}/{run.info.run_id}/artifacts")


def test_search_indexes_exist(store):
    insp = sa.inspect(store.engine)
    names = {ix["name"] for table in ("metrics", "latest_metrics", "runs", "params", "tags") for ix in insp.get_indexes(table)}
    assert {"ix_metrics_run_key_step", "ix_latest_metrics_key_value", "ix_runs_experiment_start"} <= names
    dialect = store.engine.dialect.name
    suffix = "_pg" if dialect == "postgresql" else ""
    assert {"ix_params_key_value" + suffix, "ix_tags_key_value" + suffix} <= names


def test_upgrade_from_older_schema_in_place(store_uri):
    from autotrack.stores.sql import migrations
    from autotrack.stores.sql.store import SqlStore, normalize_db_uri

    engine = sa.create_engine(normalize_db_uri(store_uri))
    assert migrations.upgrade(engine, target=1) == 1
    with engine.begin() as conn:
        assert migrations.current_version(conn) == 1
        names = {ix["name"] for ix in sa.inspect(conn).get_indexes("metrics")}
        assert "ix_metrics_run_key_step" not in names
    engine.dispose()
    store = SqlStore(store_uri)  # opening upgrades it
    with store.engine.begin() as conn:
        assert migrations.current_version(conn) == migrations.CURRENT_VERSION
    run_id = _run(store).info.run_id
    store.log_batch(run_id, metrics=[Metric("m", 1.0, 1, 0)])
    assert store.get_run(run_id).data.metrics == {"m": 1.0}
    assert "ix_metrics_run_key_step" in {ix["name"] for ix in sa.inspect(store.engine).get_indexes("metrics")}
    store.close()


def test_newer_schema_is_refused(store_uri):
    from autotrack.stores.sql import migrations, models
    from autotrack.stores.sql.store import SqlStore, normalize_db_uri

    engine = sa.create_engine(normalize_db_uri(store_uri))
    migrations.upgrade(engine)
    with engine.begin() as conn:
        conn.execute(sa.insert(models.schema_version).values(version=migrations.CURRENT_VERSION + 5))
    engine.dispose()
    with pytest.raises(SchemaVersionError, match=f"schema version {migrations.CURRENT_VERSION + 5}.*newer autotrack"):
        SqlStore(store_uri)


