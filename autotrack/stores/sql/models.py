"""Table definitions of the SQL store (current schema), used by queries. ``migrations.py`` builds
the schema step by step with its own frozen definitions; ``tests/test_migrations.py`` checks that
both agree.

Non-finite metric values: MySQL cannot store NaN or infinities, so every backend stores the value
column as a finite double (0 for NaN, +-DBL_MAX for +-inf, so that ordering still works) and the
``special`` column says what the value really was (0 finite, 1 NaN, 2 +inf, 3 -inf):
:func:`encode_value` and :func:`decode_value` are the one place that knows the codes.
"""

from __future__ import annotations

import math

import sqlalchemy as sa
import sqlalchemy.dialects.mysql  # noqa: F401  (for the MySQL column variant below)

DBL_MAX = 1.7976931348623157e308
FINITE, NAN, POS_INF, NEG_INF = 0, 1, 2, 3
_SPECIAL_VALUES = (math.nan, math.inf, -math.inf)


def encode_value(value: float) -> tuple[float, int]:
    """``(stored value, special code)`` for a metric value."""
    if value != value:
        return 0.0, NAN
    if value == math.inf:
        return DBL_MAX, POS_INF
    if value == -math.inf:
        return -DBL_MAX, NEG_INF
    return value, FINITE


def decode_value(value: float, special: int) -> float:
    """The metric value a stored ``(value, special)`` pair stands for."""
    return value if not special else _SPECIAL_VALUES[special - 1]


metadata = sa.MetaData()
_TABLE_KW = {"mysql_charset": "utf8mb4", "mysql_engine": "InnoDB", "mariadb_charset": "utf8mb4", "mariadb_engine": "InnoDB"}
# Keys compare by character on MySQL too (its default collation would make 'acc' and 'ACC' one key).
_Key = sa.String(250).with_variant(sa.dialects.mysql.VARCHAR(250, collation="utf8mb4_bin"), "mysql", "mariadb")
_Double = sa.Double()  # DOUBLE on MySQL, DOUBLE PRECISION on PostgreSQL, REAL on SQLite

schema_version = sa.Table(
    "autotrack_schema_version",
    metadata,
    sa.Column("version", sa.Integer, primary_key=True, autoincrement=False),
    **_TABLE_KW,
)

experiments = sa.Table(
    "experiments",
    metadata,
    sa.Column("experiment_id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("name", sa.String(500), nullable=False, unique=True),
    sa.Column("artifact_location", sa.String(2000), nullable=False),
    sa.Column("lifecycle_stage", sa.String(32), nullable=False, default="active"),
    sa.Column("creation_time", sa.BigInteger),
    sa.Column("last_update_time", sa.BigInteger),
    **_TABLE_KW,
)

experiment_tags = sa.Table(
    "experiment_tags",
    metadata,
    sa.Column("experiment_id", sa.Integer, sa.ForeignKey("experiments.experiment_id"), primary_key=True),
    sa.Column("key", _Key, primary_key=True),
    sa.Column("value", sa.String(8000)),
    **_TABLE_KW,
)

runs = sa.Table(
    "runs",
    metadata,
    sa.Column("run_uuid", sa.String(32), primary_key=True),
    sa.Column("name", sa.String(250)),
    sa.Column("experiment_id", sa.Integer, sa.ForeignKey("experiments.experiment_id"), nullable=False),
    sa.Column("user_id", sa.String(256)),
    sa.Column("status", sa.String(20), nullable=False),
    sa.Column("start_time", sa.BigInteger, nullable=False),
    sa.Column("end_time", sa.BigInteger),
    sa.Column("lifecycle_stage", sa.String(32), nullable=False, default="active"),
    sa.Column("artifact_uri", sa.String(2000)),
    **_TABLE_KW,
)

metrics = sa.Table(
    "metrics",
    metadata,
    sa.Column("id", sa.BigInteger().with_variant(sa.Integer, "sqlite"), primary_key=True, autoincrement=True),
    sa.Column("run_uuid", sa.String(32), sa.ForeignKey("runs.run_uuid"), nullable=False),
    sa.Column("key", _Key, nullable=False),
    sa.Column("value", _Double, nullable=False),
    sa.Column("special", sa.SmallInteger, nullable=False, default=0),
    sa.Column("timestamp", sa.BigInteger, nullable=False),
    sa.Column("step", sa.BigInteger, nullable=False, default=0),
    **_TABLE_KW,
)

latest_metrics = sa.Table(
    "latest_metrics",
    metadata,
    sa.Column("run_uuid", sa.String(32), sa.ForeignKey("runs.run_uuid"), primary_key=True),
    sa.Column("key", _Key, primary_key=True),
    sa.Column("value", _Double, nullable=False),
    sa.Column("special", sa.SmallInteger, nullable=False, default=0),
    sa.Column("timestamp", sa.BigInteger, nullable=False),
    sa.Column("step", sa.BigInteger, nullable=False),
    **_TABLE_KW,
)

params = sa.Table(
    "params",
    metadata,
    sa.Column("run_uuid", sa.String(32), sa.ForeignKey("runs.run_uuid"), primary_key=True),
    sa.Column("key", _Key, primary_key=True),
    sa.Column("value", sa.String(6000), nullable=False),
    **_TABLE_KW,
)

tags = sa.Table(
    "tags",
    metadata,
    sa.Column("run_uuid", sa.String(32), sa.ForeignKey("runs.run_uuid"), primary_key=True),
    sa.Column("key", _Key, primary_key=True),
    sa.Column("value", sa.String(8000)),
    **_TABLE_KW,
)

datasets = sa.Table(
    "datasets",
    metadata,
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

# A dataset used by a run: source (DATASET, dataset_uuid) -> destination (RUN, run id), as MLflow has it.
inputs = sa.Table(
    "inputs",
    metadata,
    sa.Column("input_uuid", sa.String(36), primary_key=True),
    sa.Column("source_type", sa.String(36), nullable=False),
    sa.Column("source_id", sa.String(36), nullable=False),
    sa.Column("destination_type", sa.String(36), nullable=False),
    sa.Column("destination_id", sa.String(36), nullable=False),
    sa.UniqueConstraint("source_type", "source_id", "destination_type", "destination_id", name="uq_inputs_source_destination"),
    **_TABLE_KW,
)

input_tags = sa.Table(
    "input_tags",
    metadata,
    sa.Column("input_uuid", sa.String(36), sa.ForeignKey("inputs.input_uuid"), primary_key=True),
    sa.Column("name", sa.String(255), primary_key=True),
    sa.Column("value", sa.String(500), nullable=False),
    **_TABLE_KW,
)

# Indexes, added by migration 2 (and 3 for inputs). Value columns are long: MySQL indexes a 200-character prefix, and
# PostgreSQL (whose b-tree rows are capped near 2.7 kB) indexes left(value, 200).
_PREFIX = 200


def _value_indexes(table: sa.Table) -> list[sa.Index]:
    name = f"ix_{table.name}_key_value"
    return [
        sa.Index(name, table.c.key, table.c.value, mysql_length={"value": _PREFIX}, mariadb_length={"value": _PREFIX}).ddl_if(
            dialect=("sqlite", "mysql", "mariadb")
        ),
        sa.Index(name + "_pg", table.c.key, sa.func.left(table.c.value, _PREFIX)).ddl_if(dialect="postgresql"),
    ]


SEARCH_INDEXES: list[sa.Index] = [
    # metric history of one key of one run, in step order
    sa.Index("ix_metrics_run_key_step", metrics.c.run_uuid, metrics.c.key, metrics.c.step),
    # search by metric value across runs (the latest value per key is the primary key)
    sa.Index("ix_latest_metrics_key_value", latest_metrics.c.key, latest_metrics.c.value),
    # runs of an experiment, newest first
    sa.Index("ix_runs_experiment_start", runs.c.experiment_id, runs.c.lifecycle_stage, runs.c.start_time),
    *_value_indexes(params),
    *_value_indexes(tags),
    # datasets of a run
    sa.Index("ix_inputs_destination", inputs.c.destination_type, inputs.c.destination_id),
]
