"""One SQLAlchemy store for SQLite, MySQL/MariaDB and PostgreSQL."""

from __future__ import annotations

import contextlib
import os
import uuid
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.exc import IntegrityError, InterfaceError, OperationalError

from autotrack.entities import tags as tag_names
from autotrack.entities.clock import now_ms
from autotrack.entities.uris import redact_uri
from autotrack import config
from autotrack.entities.errors import (
    InvalidParameterError,
    InvalidStateError,
    ResourceExistsError,
    ResourceNotFoundError,
    StoreConnectionError,
)
from autotrack.stores.base import BatchLimits, PagedList, TrackingStore
from autotrack.stores.sql import migrations
from autotrack.stores.sql import models as m
from autotrack.stores.sql.models import decode_value as _decode_value
from autotrack.stores.sql.models import encode_value as _encode_value
from autotrack.entities import validation
from autotrack.entities.run_names import generate_run_name
from autotrack.entities.objects import (
    Dataset,
    DatasetInput,
    Experiment,
    InputTag,
    LifecycleStage,
    Metric,
    Param,
    Run,
    RunData,
    RunInfo,
    RunStatus,
    RunInputs,
    RunTag,
    ViewType,
)

DEFAULT_EXPERIMENT_ID = "0"
DEFAULT_EXPERIMENT_NAME = "Default"


def normalize_db_uri(uri: str) -> str:
    """Pick the pure-Python drivers for bare ``mysql://``/``postgres://`` URIs and utf8mb4 for MySQL."""
    scheme, rest = uri.split("://", 1)
    scheme = scheme.lower()
    if scheme in ("mysql", "mariadb", "mariadb+pymysql"):
        scheme = "mysql+pymysql"
    elif scheme == "postgres":
        scheme = "postgresql"
    if scheme == "mysql+pymysql" and "charset=" not in rest:
        rest += ("&" if "?" in rest else "?") + "charset=utf8mb4"
    return f"{scheme}://{rest}"


class SqlStore(TrackingStore):
    """Tracking store over SQLAlchemy 2. Thread-safe; several processes may share one SQLite file.

    A database that holds MLflow's schema is refused (read, never written); ``autotrack import mlflow``
    copies it into an autotrack database instead.
    """

    # One transaction per batch; the pipeline's batches are far larger than MLflow's REST limits.
    batch_limits = BatchLimits(
        max_metrics_per_batch=20_000, max_params_per_batch=5_000, max_tags_per_batch=5_000,
        max_request_bytes=64_000_000, max_entities_per_batch=30_000,
    )
    # log_batch takes metrics as (key, value, timestamp, step) tuples too: the logging pipeline's
    # batches of 20,000 skip building a Metric object per value.
    accepts_metric_tuples = True

    def __init__(self, uri: str, default_artifact_root: str | None = None):
        self.uri = normalize_db_uri(uri)
        self.default_artifact_root = default_artifact_root or config.artifact_root()
        self.engine = self._make_engine(self.uri)
        try:
            migrations.refuse_foreign_schema(self.engine, redact_uri(self.uri))  # reads only
            migrations.upgrade(self.engine)
            self._ensure_default_experiment()
        except OperationalError as exc:
            self.engine.dispose()
            raise StoreConnectionError(
                f"Could not connect to the tracking database {redact_uri(self.uri)} "
                f"(connect timeout {config.connect_timeout():g} s): {exc.orig}"
            ) from None
        except BaseException:
            self.engine.dispose()
            raise
        self._metric_insert_sql = self._bulk_insert_sql(m.metrics, ("run_uuid", "key", "value", "special", "timestamp", "step"))
        if hasattr(os, "register_at_fork"):
            # A forked worker must not reuse the parent's sockets: drop the pool without closing them.
            os.register_at_fork(after_in_child=lambda: self.engine.dispose(close=False))

    # ---------------------------------------------------------------- engine
    def _make_engine(self, uri: str) -> sa.Engine:
        url = sa.engine.make_url(uri)
        timeout = config.connect_timeout()
        dialect = url.get_backend_name()
        if dialect == "sqlite":
            db = url.database
            read_only = False
            if db and db != ":memory:" and not db.startswith("file:"):
                folder = os.path.dirname(os.path.abspath(db)) or "."
                # A database in a folder that cannot be written (a read-only mount, a shared archive) is
                # opened for reading: SQLite's URI mode=ro, immutable (no -wal/-shm files to create).
                read_only = os.path.exists(db) and not os.access(folder, os.W_OK)
                if read_only:
                    url = url.set(database=f"file:{os.path.abspath(db)}", query={"mode": "ro", "immutable": "1", "uri": "true"})
                else:
                    os.makedirs(folder, exist_ok=True)
            self.read_only = read_only
            # uri=True: a plain path still names a file; "file:...?mode=ro" names (e.g. an ATTACHed MLflow
            # database in the importer) are read as URIs.
            engine = sa.create_engine(url, connect_args={"timeout": 60, "check_same_thread": False, "uri": True})

            @event.listens_for(engine, "connect")
            def _on_connect(dbapi_conn, _record):
                # Transactions are begun by hand below, so that writers can take the lock up front.
                dbapi_conn.isolation_level = None
                cur = dbapi_conn.cursor()
                if not read_only:
                    cur.execute("PRAGMA journal_mode=WAL")
                cur.execute("PRAGMA synchronous=NORMAL")
                cur.execute("PRAGMA busy_timeout=60000")
                cur.close()

            @event.listens_for(engine, "begin")
            def _on_begin(conn):
                # A deferred transaction that reads and then writes can fail with SQLITE_BUSY at once
                # when another process writes meanwhile (no busy wait on lock upgrade); writers
                # therefore start with BEGIN IMMEDIATE, which waits for the lock under busy_timeout.
                conn.exec_driver_sql("BEGIN IMMEDIATE" if conn.get_execution_options().get("autotrack_write") else "BEGIN")

            return engine
        if dialect in ("mysql", "mariadb"):
            # PyMySQL's connect_timeout covers the TCP connect only; a server that accepts and never
            # greets would hang the handshake. read_timeout bounds the handshake and is lifted below.
            args: dict[str, Any] = {"connect_timeout": max(1, int(timeout)), "read_timeout": max(1, int(timeout))}
        elif dialect == "postgresql":
            args = {"connect_timeout": max(2, int(timeout))}  # libpq: the whole connection start-up
        else:
            args = {}
        engine = sa.create_engine(url, connect_args=args, pool_pre_ping=True, pool_recycle=3600)
        if dialect in ("mysql", "mariadb"):

            @event.listens_for(engine, "connect")
            def _lift_read_timeout(dbapi_conn, _record):
                if hasattr(dbapi_conn, "_read_timeout"):
                    dbapi_conn._read_timeout = None  # queries may take as long as they take

        return engine

    def _bulk_insert_sql(self, table: sa.Table, columns: tuple[str, ...]) -> str:
        """A plain INSERT in the driver's parameter style, for executemany with tuples.

        Metric batches hold tens of thousands of rows; SQLAlchemy's per-row parameter processing cost
        ~10 µs a row, ten times the database's own work, so this one statement goes to the driver.
        """
        quote = self.engine.dialect.identifier_preparer.quote
        marker = "?" if self.engine.dialect.paramstyle == "qmark" else "%s"
        return (
            f"INSERT INTO {quote(table.name)} ({', '.join(quote(c) for c in columns)}) "
            f"VALUES ({', '.join([marker] * len(columns))})"
        )

    @contextlib.contextmanager
    def _write(self):
        """A transaction for writes (takes SQLite's write lock up front). The connection is closed
        (checked back into the pool) when the block ends, committed or not: a connection left to the
        garbage collector is never checked in once SQLAlchemy's exit finalizer has run."""
        try:
            with self.engine.connect() as conn:
                conn.execution_options(autotrack_write=True)
                with conn.begin() as tx:
                    yield tx
        except (OperationalError, InterfaceError) as exc:
            self._raise_if_unreachable(exc)
            raise

    @contextlib.contextmanager
    def _read(self):
        """A connection for reads (``with self._read() as conn``), closed when the block ends."""
        try:
            with self.engine.connect() as conn:
                yield conn
        except (OperationalError, InterfaceError) as exc:
            self._raise_if_unreachable(exc)
            raise

    def _raise_if_unreachable(self, exc: Exception) -> None:
        """A connection-level failure becomes autotrack's StoreConnectionError (what callers and the
        logging pipeline treat as "try again later"); an error of the statement itself stays as it is."""
        text = str(getattr(exc, "orig", exc)).lower()
        if self.engine.dialect.name == "sqlite" and not getattr(exc, "connection_invalidated", False) and not any(
            word in text for word in ("locked", "unable to open", "disk i/o", "busy")
        ):
            return
        raise StoreConnectionError(f"The tracking database {redact_uri(self.uri)} cannot be reached: {getattr(exc, 'orig', exc)}") from None

    def close(self) -> None:
        self.engine.dispose()

    # ---------------------------------------------------------------- experiments
    def _ensure_default_experiment(self) -> None:
        with self.engine.connect() as conn:
            exists = conn.execute(sa.select(m.experiments.c.experiment_id).where(m.experiments.c.experiment_id == 0)).first()
        if exists:
            return
        try:
            with self._write() as tx:
                conn = tx.connection
                if self.engine.dialect.name in ("mysql", "mariadb"):
                    # MySQL treats an explicit 0 in an AUTO_INCREMENT column as "next value".
                    conn.exec_driver_sql("SET SESSION sql_mode = CONCAT(@@SESSION.sql_mode, ',NO_AUTO_VALUE_ON_ZERO')")
                now = now_ms()
                conn.execute(
                    sa.insert(m.experiments).values(
                        experiment_id=0,
                        name=DEFAULT_EXPERIMENT_NAME,
                        artifact_location=self._artifact_location("0"),
                        lifecycle_stage=LifecycleStage.ACTIVE,
                        creation_time=now,
                        last_update_time=now,
                    )
                )
        except IntegrityError:
            pass  # another process created it first

    def _artifact_location(self, experiment_id: str) -> str:
        root = self.default_artifact_root
        if "://" not in root:
            root = os.path.abspath(root)
        return root.rstrip("/") + "/" + experiment_id

    @staticmethod
    def _experiment_int(experiment_id: object) -> int:
        try:
            value = int(str(experiment_id))
        except (TypeError, ValueError):
            raise InvalidParameterError(
                f"Invalid experiment_id {experiment_id!r}: experiment ids are strings of digits, e.g. '0'."
            ) from None
        if value < 0:
            raise InvalidParameterError(f"Invalid experiment_id {experiment_id!r}: must not be negative.")
        return value

    def create_experiment(self, name: str, artifact_location: str | None = None, tags: dict[str, str] | None = None) -> str:
        validation.validate_experiment_name(name)
        for key, value in (tags or {}).items():
            validation.validate_key("experiment tag", key)
            validation.validate_tag_value(key, value)
        now = now_ms()
        try:
            with self._write() as tx:
                conn = tx.connection
                result = conn.execute(
                    sa.insert(m.experiments).values(
                        name=name, artifact_location=artifact_location or "", lifecycle_stage=LifecycleStage.ACTIVE,
                        creation_time=now, last_update_time=now,
                    )
                )
                experiment_id = str(result.inserted_primary_key[0])
                if not artifact_location:
                    conn.execute(
                        sa.update(m.experiments)
                        .where(m.experiments.c.experiment_id == int(experiment_id))
                        .values(artifact_location=self._artifact_location(experiment_id))
                    )
                if tags:
                    conn.execute(
                        sa.insert(m.experiment_tags),
                        [{"experiment_id": int(experiment_id), "key": k, "value": str(v)} for k, v in tags.items()],
                    )
        except IntegrityError:
            raise ResourceExistsError(f"Experiment {name!r} already exists; choose another name or use set_experiment({name!r}).") from None
        return experiment_id

    def _experiment_from_row(self, row, tags: dict[str, str]) -> Experiment:
        return Experiment(
            experiment_id=str(row.experiment_id), name=row.name, artifact_location=row.artifact_location,
            lifecycle_stage=row.lifecycle_stage, tags=tags, creation_time=row.creation_time, last_update_time=row.last_update_time,
        )

    def _experiment_tags(self, conn, ids: list[int]) -> dict[int, dict[str, str]]:
        out: dict[int, dict[str, str]] = {i: {} for i in ids}
        if ids:
            t = m.experiment_tags
            for row in conn.execute(sa.select(t.c.experiment_id, t.c.key, t.c.value).where(t.c.experiment_id.in_(ids))):
                out[row.experiment_id][row.key] = row.value
        return out

    def get_experiment(self, experiment_id: str) -> Experiment:
        eid = self._experiment_int(experiment_id)
        with self._read() as conn:
            row = conn.execute(sa.select(m.experiments).where(m.experiments.c.experiment_id == eid)).first()
            if row is None:
                raise ResourceNotFoundError(f"No experiment with id {experiment_id!r}.")
            return self._experiment_from_row(row, self._experiment_tags(conn, [eid])[eid])

    def get_experiment_by_name(self, name: str) -> Experiment | None:
        with self._read() as conn:
            row = conn.execute(sa.select(m.experiments).where(m.experiments.c.name == name)).first()
            if row is None:
                return None
            return self._experiment_from_row(row, self._experiment_tags(conn, [row.experiment_id])[row.experiment_id])

    def search_experiments(self, view_type: int = ViewType.ACTIVE_ONLY, max_results: int | None = None, filter_string: str | None = None, order_by: Sequence[str] | None = None, page_token: str | None = None) -> PagedList:
        from autotrack.entities.search import decode_page_token, encode_page_token

        e = m.experiments
        query = sa.select(e).where(e.c.lifecycle_stage.in_(ViewType.stages(view_type))).order_by(e.c.experiment_id)
        if filter_string:
            op, name = _parse_experiment_name_filter(filter_string)
            query = query.where(e.c.name.like(name) if op == "LIKE" else e.c.name == name)
        offset = decode_page_token(page_token) if page_token else 0
        if max_results is not None:
            query = query.limit(max_results).offset(offset)
        with self._read() as conn:
            rows = conn.execute(query).all()
            tags = self._experiment_tags(conn, [r.experiment_id for r in rows])
        items = [self._experiment_from_row(r, tags[r.experiment_id]) for r in rows]
        token = encode_page_token(offset + len(items)) if max_results is not None and len(items) == max_results else None
        return PagedList(items, token)

    def _set_experiment_stage(self, experiment_id: str, stage: str) -> None:
        eid = self._experiment_int(experiment_id)
        if stage == LifecycleStage.DELETED and eid == 0:
            raise InvalidParameterError("The default experiment '0' cannot be deleted.")
        with self._write() as tx:
            result = tx.connection.execute(
                sa.update(m.experiments).where(m.experiments.c.experiment_id == eid).values(lifecycle_stage=stage, last_update_time=now_ms())
            )
            if result.rowcount == 0:
                raise ResourceNotFoundError(f"No experiment with id {experiment_id!r}.")
            tx.connection.execute(sa.update(m.runs).where(m.runs.c.experiment_id == eid).values(lifecycle_stage=stage))

    def delete_experiment(self, experiment_id: str) -> None:
        self._set_experiment_stage(experiment_id, LifecycleStage.DELETED)

    def restore_experiment(self, experiment_id: str) -> None:
        self._set_experiment_stage(experiment_id, LifecycleStage.ACTIVE)

    def rename_experiment(self, experiment_id: str, new_name: str) -> None:
        validation.validate_experiment_name(new_name)
        eid = self._experiment_int(experiment_id)
        try:
            with self._write() as tx:
                result = tx.connection.execute(
                    sa.update(m.experiments).where(m.experiments.c.experiment_id == eid).values(name=new_name, last_update_time=now_ms())
                )
        except IntegrityError:
            raise ResourceExistsError(f"Experiment {new_name!r} already exists.") from None
        if result.rowcount == 0:
            raise ResourceNotFoundError(f"No experiment with id {experiment_id!r}.")

    def set_experiment_tag(self, experiment_id: str, key: str, value: str) -> None:
        validation.validate_key("experiment tag", key)
        value = validation.validate_tag_value(key, value)
        eid = self._experiment_int(experiment_id)
        self.get_experiment(experiment_id)
        t = m.experiment_tags
        with self._write() as tx:
            tx.connection.execute(sa.delete(t).where(t.c.experiment_id == eid, t.c.key == key))
            tx.connection.execute(sa.insert(t).values(experiment_id=eid, key=key, value=value))

    # ---------------------------------------------------------------- runs
    def create_run(self, experiment_id: str, user_id: str, start_time: int, tags: Sequence[RunTag] = (), run_name: str | None = None, run_id: str | None = None) -> Run:
        """Create a RUNNING run. A ``run_id`` chosen by the client may be given; creating a run that
        already exists with that id in the same experiment returns it (a retried creation)."""
        experiment = self.get_experiment(experiment_id)
        if experiment.lifecycle_stage != LifecycleStage.ACTIVE:
            raise InvalidStateError(f"Cannot create a run in experiment {experiment_id!r}: it is deleted (restore it first).")
        tag_map = {t.key: validation.validate_tag_value(validation.validate_key("tag", t.key), t.value) for t in tags}
        run_name = validation.validate_run_name(run_name or tag_map.get(tag_names.RUN_NAME)) or generate_run_name()
        tag_map[tag_names.RUN_NAME] = run_name
        run_id = validation.validate_run_id(run_id) if run_id is not None else uuid.uuid4().hex
        artifact_uri = experiment.artifact_location.rstrip("/") + f"/{run_id}/artifacts"
        try:
            with self._write() as tx:
                conn = tx.connection
                conn.execute(
                    sa.insert(m.runs).values(
                        run_uuid=run_id, name=run_name, experiment_id=int(experiment_id), user_id=user_id,
                        status=RunStatus.RUNNING, start_time=start_time, end_time=None,
                        lifecycle_stage=LifecycleStage.ACTIVE, artifact_uri=artifact_uri,
                    )
                )
                conn.execute(sa.insert(m.tags), [{"run_uuid": run_id, "key": k, "value": v} for k, v in tag_map.items()])
        except IntegrityError:
            existing = self.get_run(run_id)  # raises if the id is unknown: the error was something else
            if existing.info.experiment_id != str(experiment_id):
                raise ResourceExistsError(f"A run with id {run_id} already exists in experiment {existing.info.experiment_id}.") from None
            return existing
        info = RunInfo(run_id, str(experiment_id), run_name, user_id, RunStatus.RUNNING, start_time, None, artifact_uri)
        return Run(info, RunData(tags=tag_map))

    def _run_info_row(self, conn, run_id: str):
        validation.validate_run_id(run_id)
        row = conn.execute(sa.select(m.runs).where(m.runs.c.run_uuid == run_id)).first()
        if row is None:
            raise ResourceNotFoundError(f"No run with id {run_id!r}.")
        return row

    @staticmethod
    def _info_from_row(row) -> RunInfo:
        return RunInfo(
            run_id=row.run_uuid, experiment_id=str(row.experiment_id), run_name=row.name or "", user_id=row.user_id or "",
            status=row.status, start_time=row.start_time, end_time=row.end_time, artifact_uri=row.artifact_uri or "",
            lifecycle_stage=row.lifecycle_stage,
        )

    def _load_runs(self, conn, run_ids: list[str]) -> list[Run]:
        """Runs with their latest metrics, params and tags, in the order of ``run_ids``."""
        if not run_ids:
            return []
        runs: dict[str, Run] = {}
        lm, params, tags = m.latest_metrics, m.params, m.tags
        for chunk_start in range(0, len(run_ids), 2000):
            chunk = run_ids[chunk_start:chunk_start + 2000]
            for row in conn.execute(sa.select(m.runs).where(m.runs.c.run_uuid.in_(chunk))).all():
                runs[row.run_uuid] = Run(self._info_from_row(row), RunData())
            # Rows are unpacked by position: attribute access on ~100k rows was a third of a search.
            data = {run_id: run.data for run_id, run in runs.items()}
            query = sa.select(lm.c.run_uuid, lm.c.key, lm.c.value, lm.c.special).where(lm.c.run_uuid.in_(chunk))
            for run_id, key, value, special in conn.execute(query).all():
                data[run_id].metrics[key] = _decode_value(value, special) if special else value
            for run_id, key, value in conn.execute(sa.select(params.c.run_uuid, params.c.key, params.c.value).where(params.c.run_uuid.in_(chunk))).all():
                data[run_id].params[key] = value
            for run_id, key, value in conn.execute(sa.select(tags.c.run_uuid, tags.c.key, tags.c.value).where(tags.c.run_uuid.in_(chunk))).all():
                data[run_id].tags[key] = value
        return [runs[r] for r in run_ids if r in runs]

    def get_run(self, run_id: str) -> Run:
        with self._read() as conn:
            self._run_info_row(conn, run_id)
            run = self._load_runs(conn, [run_id])[0]
            run.inputs = self._run_inputs(conn, run_id)
            return run

    def _run_inputs(self, conn, run_id: str) -> RunInputs:
        i, d, it = m.inputs, m.datasets, m.input_tags
        rows = conn.execute(
            sa.select(i.c.input_uuid, d.c.name, d.c.digest, d.c.source_type, d.c.source, d.c.schema, d.c.profile)
            .join(d, d.c.dataset_uuid == i.c.source_id)
            .where(i.c.destination_type == "RUN", i.c.destination_id == run_id, i.c.source_type == "DATASET")
            .order_by(d.c.name, d.c.digest)
        ).all()
        if not rows:
            return RunInputs()
        tags: dict[str, list[InputTag]] = {}
        query = sa.select(it.c.input_uuid, it.c.name, it.c.value).where(it.c.input_uuid.in_([r.input_uuid for r in rows])).order_by(it.c.name)
        for input_uuid, name, value in conn.execute(query):
            tags.setdefault(input_uuid, []).append(InputTag(name, value))
        return RunInputs([
            DatasetInput(Dataset(r.name, r.digest, r.source_type, r.source, r.schema, r.profile), tuple(tags.get(r.input_uuid, ())))
            for r in rows
        ])

    def update_run_info(self, run_id: str, status: str | None = None, end_time: int | None = None, run_name: str | None = None) -> RunInfo:
        if status is not None and status not in RunStatus.ALL:
            raise InvalidParameterError(f"Invalid run status {status!r}; accepted: {', '.join(RunStatus.ALL)}.")
        values: dict[str, Any] = {}
        if status is not None:
            values["status"] = status
            values["end_time"] = end_time if RunStatus.is_terminated(status) else None
        elif end_time is not None:
            values["end_time"] = end_time
        if run_name is not None:
            values["name"] = validation.validate_run_name(run_name)
        with self._write() as tx:
            conn = tx.connection
            row = self._run_info_row(conn, run_id)
            if row.lifecycle_stage != LifecycleStage.ACTIVE:
                raise InvalidStateError(f"Run {run_id} is deleted; restore it before changing it.")
            if values:
                conn.execute(sa.update(m.runs).where(m.runs.c.run_uuid == run_id).values(**values))
            if run_name is not None:
                conn.execute(sa.delete(m.tags).where(m.tags.c.run_uuid == run_id, m.tags.c.key == tag_names.RUN_NAME))
                conn.execute(sa.insert(m.tags).values(run_uuid=run_id, key=tag_names.RUN_NAME, value=run_name))
            return self._info_from_row(self._run_info_row(conn, run_id))

    def _set_run_stage(self, run_id: str, stage: str) -> None:
        with self._write() as tx:
            self._run_info_row(tx.connection, run_id)
            tx.connection.execute(sa.update(m.runs).where(m.runs.c.run_uuid == run_id).values(lifecycle_stage=stage))

    def delete_run(self, run_id: str) -> None:
        self._set_run_stage(run_id, LifecycleStage.DELETED)

    def restore_run(self, run_id: str) -> None:
        self._set_run_stage(run_id, LifecycleStage.ACTIVE)

    def deleted_run_ids(self, older_than_ms: int | None = None) -> list[str]:
        """Ids of runs in the deleted stage (whose start is before ``older_than_ms`` if given)."""
        r = m.runs
        query = sa.select(r.c.run_uuid).where(r.c.lifecycle_stage == LifecycleStage.DELETED)
        if older_than_ms is not None:
            query = query.where(r.c.start_time < older_than_ms)
        with self._read() as conn:
            return [row[0] for row in conn.execute(query.order_by(r.c.start_time))]

    def purge_run(self, run_id: str) -> RunInfo:
        """Remove a deleted run and all its records for good (``autotrack gc``); return its info.
        Refuses a run that is not deleted."""
        with self._write() as tx:
            conn = tx.connection
            row = self._run_info_row(conn, run_id)
            if row.lifecycle_stage != LifecycleStage.DELETED:
                raise InvalidStateError(f"Run {run_id} is not deleted; delete it first (autotrack runs delete {run_id}).")
            for table in (m.metrics, m.latest_metrics, m.params, m.tags):
                conn.execute(sa.delete(table).where(table.c.run_uuid == run_id))
            conn.execute(sa.delete(m.runs).where(m.runs.c.run_uuid == run_id))
            return self._info_from_row(row)

    # ---------------------------------------------------------------- data
    def _check_writable(self, row) -> None:
        # Only deleted runs are refused here. Finished runs are refused by the client when the user
        # logs (see TrackingClient); records queued while a run was running may still arrive after it
        # ended (the background writer, a spool replayed after an outage), and must not be lost.
        if row.lifecycle_stage != LifecycleStage.ACTIVE:
            raise InvalidStateError(f"Cannot log to run {row.run_uuid}: it is deleted.")

    def log_batch(self, run_id: str, metrics: Sequence[Metric] = (), params: Sequence[Param] = (), tags: Sequence[RunTag] = ()) -> None:
        """Write metrics, params and tags of one run in one transaction (all or nothing)."""
        with self._write() as tx:
            conn = tx.connection
            self._check_writable(self._run_info_row(conn, run_id))
            if params:
                self._insert_params(conn, run_id, params)
            if tags:
                self._upsert_tags(conn, run_id, tags)
            if metrics:
                self._insert_metrics(conn, run_id, metrics)

    def _insert_params(self, conn, run_id: str, params: Sequence[Param]) -> None:
        wanted: dict[str, str] = {}
        for p in params:
            if p.key in wanted and wanted[p.key] != p.value:
                raise InvalidParameterError(
                    f"Param {p.key!r} of run {run_id} was given two values in one batch: {wanted[p.key]!r} and {p.value!r}."
                )
            wanted[p.key] = p.value
        t = m.params
        existing = dict(conn.execute(sa.select(t.c.key, t.c.value).where(t.c.run_uuid == run_id, t.c.key.in_(list(wanted)))).all())
        for key, value in wanted.items():
            if key in existing and existing[key] != value:
                raise InvalidParameterError(
                    f"Param {key!r} of run {run_id} is already logged with value {existing[key]!r}; params are write-once, "
                    f"so the new value {value!r} was rejected. Log it under another key or in another run."
                )
        new = [{"run_uuid": run_id, "key": k, "value": v} for k, v in wanted.items() if k not in existing]
        if new:
            conn.execute(sa.insert(t), new)

    def _upsert_tags(self, conn, run_id: str, tags: Sequence[RunTag]) -> None:
        latest = {t.key: t.value for t in tags}  # the last value of a key in the batch wins
        t = m.tags
        conn.execute(sa.delete(t).where(t.c.run_uuid == run_id, t.c.key.in_(list(latest))))
        conn.execute(sa.insert(t), [{"run_uuid": run_id, "key": k, "value": v} for k, v in latest.items()])
        if tag_names.RUN_NAME in latest:
            conn.execute(sa.update(m.runs).where(m.runs.c.run_uuid == run_id).values(name=latest[tag_names.RUN_NAME]))

    def _insert_metrics(self, conn, run_id: str, metrics: Sequence) -> None:
        rows = []
        append = rows.append
        newest: dict[str, tuple] = {}
        get = newest.get
        for metric in metrics:
            if metric.__class__ is tuple:
                key, value, timestamp, step = metric
            else:
                key, value, timestamp, step = metric.key, metric.value, metric.timestamp, metric.step
            if value - value == 0.0:  # finite (NaN and +-inf give NaN)
                special = 0  # models.FINITE
            else:
                value, special = _encode_value(value)
            append((run_id, key, value, special, timestamp, step))
            # The latest value of a key is the one with the highest step, then timestamp, then value.
            current = get(key)
            if current is None or step > current[0] or (step == current[0] and (timestamp, value) > (current[1], current[2])):
                newest[key] = (step, timestamp, value, special)
        newest = {k: ((v[0], v[1], v[2]), v[2], v[3]) for k, v in newest.items()}
        conn.exec_driver_sql(self._metric_insert_sql, rows)
        lm = m.latest_metrics
        stored = {
            row.key: (row.step, row.timestamp, row.value)
            for row in conn.execute(sa.select(lm.c.key, lm.c.step, lm.c.timestamp, lm.c.value).where(lm.c.run_uuid == run_id, lm.c.key.in_(list(newest))))
        }
        inserts = []
        for key, (order, value, special) in newest.items():
            values = {"value": value, "special": special, "step": order[0], "timestamp": order[1]}
            if key not in stored:
                inserts.append({"run_uuid": run_id, "key": key, **values})
            elif order > stored[key]:
                conn.execute(sa.update(lm).where(lm.c.run_uuid == run_id, lm.c.key == key).values(**values))
        if inserts:
            conn.execute(sa.insert(lm), inserts)

    def delete_tag(self, run_id: str, key: str) -> None:
        with self._write() as tx:
            conn = tx.connection
            row = self._run_info_row(conn, run_id)
            if row.lifecycle_stage != LifecycleStage.ACTIVE:
                raise InvalidStateError(f"Cannot delete a tag of run {run_id}: it is deleted.")
            result = conn.execute(sa.delete(m.tags).where(m.tags.c.run_uuid == run_id, m.tags.c.key == key))
            if result.rowcount == 0:
                raise ResourceNotFoundError(f"Run {run_id} has no tag {key!r}.")

    def log_inputs(self, run_id: str, datasets: Sequence[DatasetInput]) -> None:
        """Record datasets the run used. A dataset is stored once per experiment (by name and digest)
        and linked to a run once; tags given the first time it is linked are kept."""
        for item in datasets:
            ds = item.dataset
            for field, value, limit in (("name", ds.name, 500), ("digest", ds.digest, 36), ("source_type", ds.source_type, 36)):
                if not isinstance(value, str) or not value or len(value) > limit:
                    raise InvalidParameterError(f"Invalid dataset {field} {value!r}: expected a non-empty string of at most {limit} characters.")
            if not isinstance(ds.source, str):
                raise InvalidParameterError(f"Invalid dataset source {ds.source!r} of dataset {ds.name!r}: expected a (JSON) string.")
            for tag in item.tags:
                if not tag.key or len(tag.key) > 255 or len(str(tag.value)) > 500:
                    raise InvalidParameterError(
                        f"Invalid input tag {tag.key!r}={str(tag.value)[:40]!r} of dataset {ds.name!r}: keys of 1-255 and values of at most 500 characters."
                    )
        with self._write() as tx:
            conn = tx.connection
            row = self._run_info_row(conn, run_id)
            self._check_writable(row)
            d, i = m.datasets, m.inputs
            for item in datasets:
                ds = item.dataset
                found = conn.execute(sa.select(d.c.dataset_uuid).where(d.c.experiment_id == row.experiment_id, d.c.name == ds.name, d.c.digest == ds.digest)).first()
                if found is not None:
                    dataset_uuid = found[0]
                else:
                    dataset_uuid = uuid.uuid4().hex
                    conn.execute(sa.insert(d).values(
                        dataset_uuid=dataset_uuid, experiment_id=row.experiment_id, name=ds.name, digest=ds.digest,
                        source_type=ds.source_type, source=ds.source, schema=ds.schema, profile=ds.profile,
                    ))
                linked = conn.execute(sa.select(i.c.input_uuid).where(
                    i.c.source_type == "DATASET", i.c.source_id == dataset_uuid, i.c.destination_type == "RUN", i.c.destination_id == run_id
                )).first()
                if linked is not None:
                    continue
                input_uuid = uuid.uuid4().hex
                conn.execute(sa.insert(i).values(input_uuid=input_uuid, source_type="DATASET", source_id=dataset_uuid, destination_type="RUN", destination_id=run_id))
                tags = {t.key: str(t.value) for t in item.tags}
                if tags:
                    conn.execute(sa.insert(m.input_tags), [{"input_uuid": input_uuid, "name": k, "value": v} for k, v in tags.items()])

    def get_metric_history(self, run_id: str, key: str, max_results: int | None = None, page_token: str | None = None) -> PagedList:
        from autotrack.entities.search import decode_page_token, encode_page_token

        if max_results is not None and (not isinstance(max_results, int) or isinstance(max_results, bool) or max_results < 1):
            raise InvalidParameterError(f"Invalid max_results {max_results!r}: expected a positive integer, or None for the whole history.")
        offset = decode_page_token(page_token) if page_token else 0
        t = m.metrics
        query = (
            sa.select(t.c.key, t.c.value, t.c.special, t.c.timestamp, t.c.step)
            .where(t.c.run_uuid == run_id, t.c.key == key)
            .order_by(t.c.step, t.c.timestamp, t.c.id)
        )
        if max_results is not None:
            query = query.limit(max_results).offset(offset)
        with self._read() as conn:
            self._run_info_row(conn, run_id)
            rows = conn.execute(query).all()
        items = [Metric(r.key, _decode_value(r.value, r.special), r.timestamp, r.step) for r in rows]
        token = encode_page_token(offset + len(items)) if max_results is not None and len(items) == max_results else None
        return PagedList(items, token)

    def get_metric_history_bulk(self, run_ids: Sequence[str], key: str, max_results: int | None = None, start_step: int | None = None, end_step: int | None = None) -> dict[str, list[Metric]]:
        """The history of ``key`` for several runs; with ``max_results``, each run is sampled in the
        database (a window function numbers its points) to at most that many evenly spaced points."""
        if max_results is not None and (not isinstance(max_results, int) or isinstance(max_results, bool) or max_results < 2):
            raise InvalidParameterError(f"Invalid max_results {max_results!r}: expected an integer of at least 2, or None for every point.")
        run_ids = list(dict.fromkeys(run_ids))
        t = m.metrics
        out: dict[str, list[Metric]] = {run_id: [] for run_id in run_ids}
        with self._read() as conn:
            for run_id in run_ids:
                self._run_info_row(conn, run_id)
            for start in range(0, len(run_ids), 500):
                chunk = run_ids[start:start + 500]
                where = [t.c.run_uuid.in_(chunk), t.c.key == key]
                if start_step is not None:
                    where.append(t.c.step >= start_step)
                if end_step is not None:
                    where.append(t.c.step <= end_step)
                columns = (t.c.run_uuid, t.c.key, t.c.value, t.c.special, t.c.timestamp, t.c.step)
                if max_results is None:
                    query = sa.select(*columns).where(*where).order_by(t.c.run_uuid, t.c.step, t.c.timestamp, t.c.id)
                else:
                    order = (t.c.step, t.c.timestamp, t.c.id)
                    numbered = sa.select(
                        *columns, t.c.id,
                        (sa.func.row_number(type_=sa.Integer).over(partition_by=t.c.run_uuid, order_by=order) - 1).label("n"),
                        sa.func.count(type_=sa.Integer).over(partition_by=t.c.run_uuid).label("total"),
                    ).where(*where).subquery()
                    # Keep point n where floor(n * (k-1) / (total-1)) changes: k points spread evenly over
                    # the history, its first and last included (all of them when total <= k).
                    k = max_results
                    n, total = numbered.c.n, numbered.c.total
                    bucket = sa.case((total <= k, n), else_=(n * (k - 1)) // (total - 1))
                    previous = sa.case((total <= k, n - 1), else_=((n - 1) * (k - 1)) // (total - 1))
                    query = (
                        sa.select(numbered.c.run_uuid, numbered.c.key, numbered.c.value, numbered.c.special, numbered.c.timestamp, numbered.c.step)
                        .where(sa.or_(n == 0, bucket != previous))
                        .order_by(numbered.c.run_uuid, numbered.c.step, numbered.c.timestamp, numbered.c.id)
                    )
                for run_uuid, k_, value, special, timestamp, step in conn.execute(query):
                    out[run_uuid].append(Metric(k_, _decode_value(value, special), timestamp, step))
        return out

    def search_runs(self, experiment_ids: Sequence[str], filter_string: str = "", run_view_type: int = ViewType.ACTIVE_ONLY, max_results: int = 1000, order_by: Sequence[str] | None = None, page_token: str | None = None) -> PagedList:
        from autotrack.stores.sql.search import run_search_select
        from autotrack.entities.search import decode_page_token, encode_page_token

        if not isinstance(max_results, int) or isinstance(max_results, bool) or not 1 <= max_results <= 100_000:
            raise InvalidParameterError(f"Invalid max_results {max_results!r}: expected an integer from 1 to 100000.")
        ids = [self._experiment_int(e) for e in experiment_ids]
        offset = decode_page_token(page_token) if page_token else 0
        query = run_search_select(ids, filter_string, ViewType.stages(run_view_type), order_by, max_results, offset)
        with self._read() as conn:
            run_ids = [row[0] for row in conn.execute(query)]
            runs = self._load_runs(conn, run_ids)
        token = encode_page_token(offset + len(runs)) if len(runs) == max_results else None
        return PagedList(runs, token)


def _parse_experiment_name_filter(filter_string: str) -> tuple[str, str]:
    """Experiments can be filtered by name: ``name = 'x'`` or ``name LIKE 'x%'``."""
    import re

    match = re.fullmatch(r"\s*(?:attributes\.)?name\s*(=|LIKE)\s*(['\"])(.*)\2\s*", filter_string, flags=re.IGNORECASE)
    if not match:
        raise InvalidParameterError(
            f"Invalid experiment filter {filter_string!r}: accepted forms are \"name = 'x'\" and \"name LIKE 'x%'\"."
        )
    return match.group(1).upper(), match.group(3)
