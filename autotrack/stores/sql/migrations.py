"""Schema versions of the SQL store and the steps between them.

The database records its version in ``autotrack_schema_version``. Opening a store at the current
version only reads that table. An older database is upgraded in place, one numbered step at a time,
each in its own transaction where the backend allows it. A database made by a newer autotrack (a
version above ``CURRENT_VERSION``) is refused with a clear error instead of being written with a
schema this code does not know.

Steps are append-only and frozen: each step describes its tables, columns and indexes itself, as
they were when the step was released, and never refers to ``models.py`` (the current definitions
used by queries). A later change to ``models.py`` needs a new step; ``tests/test_migrations.py``
checks that upgrading a database from every older version gives exactly the schema of a new one.
"""

from __future__ import annotations

import contextlib
from typing import Callable

import sqlalchemy as sa
import sqlalchemy.dialects.mysql  # noqa: F401  (the MySQL column variant below)

from autotrack.entities.errors import ForeignSchemaError, SchemaVersionError

_TABLE_KW = {"mysql_charset": "utf8mb4", "mysql_engine": "InnoDB", "mariadb_charset": "utf8mb4", "mariadb_engine": "InnoDB"}
VERSION_TABLE = "autotrack_schema_version"


def _key() -> sa.types.TypeEngine:
    # Keys compare by character on MySQL too (its default collation would make 'acc' and 'ACC' one key).
    return sa.String(250).with_variant(sa.dialects.mysql.VARCHAR(250, collation="utf8mb4_bin"), "mysql", "mariadb")


def _version_table(metadata: sa.MetaData) -> sa.Table:
    return sa.Table(VERSION_TABLE, metadata, sa.Column("version", sa.Integer, primary_key=True, autoincrement=False), **_TABLE_KW)


def _create_missing(conn: sa.Connection, metadata: sa.MetaData) -> None:
    inspector = sa.inspect(conn)
    for table in metadata.sorted_tables:
        if not inspector.has_table(table.name):
            conn.execute(sa.schema.CreateTable(table))


# ---------------------------------------------------------------------- version 1
def _v1_tables(conn: sa.Connection) -> None:
    """Version 1: experiments, experiment tags, runs, metrics, latest metrics, params, tags."""
    md = sa.MetaData()
    sa.Table(
        "experiments", md,
        sa.Column("experiment_id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("name", sa.String(500), nullable=False, unique=True),
        sa.Column("artifact_location", sa.String(2000), nullable=False),
        sa.Column("lifecycle_stage", sa.String(32), nullable=False),
        sa.Column("creation_time", sa.BigInteger),
        sa.Column("last_update_time", sa.BigInteger),
        **_TABLE_KW,
    )
    sa.Table(
        "experiment_tags", md,
        sa.Column("experiment_id", sa.Integer, sa.ForeignKey("experiments.experiment_id"), primary_key=True),
        sa.Column("key", _key(), primary_key=True),
        sa.Column("value", sa.String(8000)),
        **_TABLE_KW,
    )
    sa.Table(
        "runs", md,
        sa.Column("run_uuid", sa.String(32), primary_key=True),
        sa.Column("name", sa.String(250)),
        sa.Column("experiment_id", sa.Integer, sa.ForeignKey("experiments.experiment_id"), nullable=False),
        sa.Column("user_id", sa.String(256)),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("start_time", sa.BigInteger, nullable=False),
        sa.Column("end_time", sa.BigInteger),
        sa.Column("lifecycle_stage", sa.String(32), nullable=False),
        sa.Column("artifact_uri", sa.String(2000)),
        **_TABLE_KW,
    )
    sa.Table(
        "metrics", md,
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer, "sqlite"), primary_key=True, autoincrement=True),
        sa.Column("run_uuid", sa.String(32), sa.ForeignKey("runs.run_uuid"), nullable=False),
        sa.Column("key", _key(), nullable=False),
        sa.Column("value", sa.Double(), nullable=False),
        sa.Column("special", sa.SmallInteger, nullable=False),
        sa.Column("timestamp", sa.BigInteger, nullable=False),
        sa.Column("step", sa.BigInteger, nullable=False),
        **_TABLE_KW,
    )
    sa.Table(
        "latest_metrics", md,
        sa.Column("run_uuid", sa.String(32), sa.ForeignKey("runs.run_uuid"), primary_key=True),
        sa.Column("key", _key(), primary_key=True),
        sa.Column("value", sa.Double(), nullable=False),
        sa.Column("special", sa.SmallInteger, nullable=False),
        sa.Column("timestamp", sa.BigInteger, nullable=False),
        sa.Column("step", sa.BigInteger, nullable=False),
        **_TABLE_KW,
    )
    sa.Table(
        "params", md,
        sa.Column("run_uuid", sa.String(32), sa.ForeignKey("runs.run_uuid"), primary_key=True),
        sa.Column("key", _key(), primary_key=True),
        sa.Column("value", sa.String(6000), nullable=False),
        **_TABLE_KW,
    )
    sa.Table(
        "tags", md,
        sa.Column("run_uuid", sa.String(32), sa.ForeignKey("runs.run_uuid"), primary_key=True),
        sa.Column("key", _key(), primary_key=True),
        sa.Column("value", sa.String(8000)),
        **_TABLE_KW,
    )
    _create_missing(conn, md)


# ---------------------------------------------------------------------- version 2
def _v2_search_indexes(conn: sa.Connection) -> None:
    """Version 2: indexes for metric history, latest value per key, and search by metric/param/tag value.

    Value columns are long: MySQL indexes a 200-character prefix, and PostgreSQL (whose b-tree rows
    are capped near 2.7 kB) indexes left(value, 200).
    """
    md = sa.MetaData()
    tables = {name: sa.Table(name, md, autoload_with=conn) for name in ("metrics", "latest_metrics", "runs", "params", "tags")}
    indexes = [
        sa.Index("ix_metrics_run_key_step", tables["metrics"].c.run_uuid, tables["metrics"].c.key, tables["metrics"].c.step),
        sa.Index("ix_latest_metrics_key_value", tables["latest_metrics"].c.key, tables["latest_metrics"].c.value),
        sa.Index("ix_runs_experiment_start", tables["runs"].c.experiment_id, tables["runs"].c.lifecycle_stage, tables["runs"].c.start_time),
    ]
    dialect = conn.dialect.name
    for name in ("params", "tags"):
        table = tables[name]
        if dialect == "postgresql":
            indexes.append(sa.Index(f"ix_{name}_key_value_pg", table.c.key, sa.func.left(table.c.value, 200)))
        else:
            indexes.append(sa.Index(f"ix_{name}_key_value", table.c.key, table.c.value, mysql_length={"value": 200}, mariadb_length={"value": 200}))
    existing = {ix["name"] for name in tables for ix in sa.inspect(conn).get_indexes(name)}
    for index in indexes:
        if index.name not in existing:
            index.create(conn)


# ---------------------------------------------------------------------- version 3
def _v3_datasets(conn: sa.Connection) -> None:
    """Version 3: datasets a run used (``log_inputs``): datasets per experiment, inputs, input tags."""
    md = sa.MetaData()
    sa.Table("experiments", md, sa.Column("experiment_id", sa.Integer, primary_key=True))
    sa.Table(
        "datasets", md,
        sa.Column("dataset_uuid", sa.String(36), primary_key=True),
        sa.Column("experiment_id", sa.Integer, sa.ForeignKey("experiments.experiment_id"), nullable=False),
        sa.Column("name", sa.String(500), nullable=False),
        sa.Column("digest", sa.String(36), nullable=False),
        sa.Column("source_type", sa.String(36), nullable=False),
        sa.Column("source", sa.Text, nullable=False),
        sa.Column("schema", sa.Text),
        sa.Column("profile", sa.Text),
        sa.UniqueConstraint("experiment_id", "name", "digest", name="uq_datasets_experiment_name_digest"),
        **_TABLE_KW,
    )
    sa.Table(
        "inputs", md,
        sa.Column("input_uuid", sa.String(36), primary_key=True),
        sa.Column("source_type", sa.String(36), nullable=False),
        sa.Column("source_id", sa.String(36), nullable=False),
        sa.Column("destination_type", sa.String(36), nullable=False),
        sa.Column("destination_id", sa.String(36), nullable=False),
        sa.UniqueConstraint("source_type", "source_id", "destination_type", "destination_id", name="uq_inputs_source_destination"),
        **_TABLE_KW,
    )
    sa.Index("ix_inputs_destination", md.tables["inputs"].c.destination_type, md.tables["inputs"].c.destination_id)
    sa.Table(
        "input_tags", md,
        sa.Column("input_uuid", sa.String(36), sa.ForeignKey("inputs.input_uuid"), primary_key=True),
        sa.Column("name", sa.String(255), primary_key=True),
        sa.Column("value", sa.String(500), nullable=False),
        **_TABLE_KW,
    )
    for name in ("datasets", "inputs", "input_tags"):
        md.tables[name].create(conn, checkfirst=True)


STEPS: list[tuple[int, Callable[[sa.Connection], None]]] = [
    (1, _v1_tables),
    (2, _v2_search_indexes),
    (3, _v3_datasets),
]
CURRENT_VERSION = STEPS[-1][0]


def current_version(conn: sa.Connection) -> int:
    """The schema version the database records; 0 for an empty database."""
    if not sa.inspect(conn).has_table(VERSION_TABLE):
        return 0
    table = _version_table(sa.MetaData())
    return conn.execute(sa.select(sa.func.max(table.c.version))).scalar() or 0


# ---------------------------------------------------------------------- databases that are not ours
def is_mlflow_schema(table_names: set[str]) -> bool:
    """Whether a database with these tables holds MLflow's tracking schema (its alembic table and run tables)."""
    return VERSION_TABLE not in table_names and "alembic_version" in table_names and {"experiments", "runs", "metrics"} <= table_names


def _sqlite_table_names(path: str) -> set[str] | None:
    """Table names of a SQLite file read through a read-only connection (None: no such file yet).

    Read-only at the SQLite level, before any engine connects: the store's own connections switch
    the file to WAL mode, which rewrites its header, and a foreign file must stay byte-for-byte as it was.
    """
    import os
    import pathlib
    import sqlite3

    if not os.path.isfile(path) or os.path.getsize(path) == 0:
        return None
    try:
        conn = sqlite3.connect(pathlib.Path(path).absolute().as_uri() + "?mode=ro", uri=True)
        try:
            return {row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        finally:
            conn.close()
    except sqlite3.DatabaseError:
        return None  # not a database (or unreadable): opening it reports that in the usual words


def refuse_foreign_schema(engine: sa.Engine, shown_uri: str) -> None:
    """Raise :class:`ForeignSchemaError` if the database holds MLflow's tracking schema; read only.

    autotrack never writes into such a database (its tables have MLflow's names but not its columns);
    the message names the importer that copies the runs into an autotrack store instead.
    """
    if engine.dialect.name == "sqlite":
        path = engine.url.database
        if not path or path == ":memory:" or path.startswith("file:"):
            return
        names = _sqlite_table_names(path)
        if names is None:
            return
    else:
        with engine.connect() as conn:
            names = set(sa.inspect(conn).get_table_names())
    if is_mlflow_schema(names):
        raise ForeignSchemaError(
            f"{shown_uri} holds an MLflow tracking database; autotrack does not write into it, and left it unchanged. "
            f"Copy its experiments and runs into an autotrack store with: autotrack import mlflow --from '{shown_uri}' "
            "--to <autotrack tracking URI> (see docs/importing-from-mlflow.md)."
        )


# ---------------------------------------------------------------------- upgrading
def _sqlite_lock_path(db_path: str) -> str:
    """``<temp>/autotrack-locks-<uid>/<hash of the database's real path>.lock``: one lock per database file."""
    import hashlib
    import os
    import tempfile

    user = os.getuid() if hasattr(os, "getuid") else "user"
    folder = os.path.join(tempfile.gettempdir(), f"autotrack-locks-{user}")  # per user: no permission clash
    os.makedirs(folder, exist_ok=True)
    digest = hashlib.sha256(os.path.realpath(db_path).encode("utf-8", "surrogateescape")).hexdigest()[:32]
    return os.path.join(folder, f"{digest}.lock")


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
        # The lock file lives in the temp folder, named after the database's real path, so nothing is
        # left beside the database. (Not the database file itself: closing any descriptor of it would
        # drop the POSIX locks SQLite holds on it in this process.)
        with open(_sqlite_lock_path(db_path), "a+") as handle:
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


def _check_not_newer(engine: sa.Engine, found: int) -> None:
    if found > CURRENT_VERSION:
        raise SchemaVersionError(
            f"The tracking database {engine.url.render_as_string(hide_password=True)} has schema version {found}, "
            f"made by a newer autotrack; this autotrack ({_own_version()}) knows versions up to {CURRENT_VERSION}. "
            "Upgrade autotrack (pip install -U autotrack) to use it."
        )


def upgrade(engine: sa.Engine, target: int | None = None) -> int:
    """Bring the database to ``target`` (default: the current version); return the version reached.

    A database already at ``target`` costs one read and takes no lock.
    """
    target = CURRENT_VERSION if target is None else target
    with engine.connect() as conn:
        found = current_version(conn)
    _check_not_newer(engine, found)
    if found >= target:
        return found
    with _migration_lock(engine):
        with engine.connect() as conn:
            found = current_version(conn)  # another process may have upgraded meanwhile
        _check_not_newer(engine, found)
        version_table = _version_table(sa.MetaData())
        for version, step in STEPS:
            if found < version <= target:
                with engine.begin() as conn:
                    if version == 1:
                        version_table.create(conn, checkfirst=True)
                    step(conn)
                    conn.execute(sa.insert(version_table).values(version=version))
                found = version
        return found


def _own_version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("autotrack")
    except PackageNotFoundError:  # pragma: no cover - running from a source tree
        return "unknown version"
