"""Copy an MLflow tracking database into an autotrack SQL store (``autotrack import mlflow``).

What is copied: experiments (with their tags, lifecycle stage and artifact location), runs with their
ids, status, times, artifact URI, params, tags, the full metric history and the latest values, and
the datasets each run used (with input tags). Artifacts stay where they are: runs keep pointing at
MLflow's artifact locations. Registered models, traces and logged models are not copied.

The import is resumable and idempotent. Each run is copied in one transaction, so an interrupted
import leaves whole runs only; a run whose id the target already holds is skipped, and an experiment
is matched by name (created, keeping its id when the id is free, only when the name is new). Running
the same import twice therefore adds nothing the second time.

The source is only read: SQLite files are opened read-only, and no statement that writes is sent to
a MySQL or PostgreSQL source. Non-finite values: MLflow stores NaN as 0 with ``is_nan`` set and
infinities as +-DBL_MAX (which it reads back as such); they are copied as MLflow reads them.
"""

from __future__ import annotations

import contextlib
import os
import pathlib
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import sqlalchemy as sa

from autotrack.entities import tags as tag_names
from autotrack.entities.errors import InvalidParameterError
from autotrack.entities.uris import redact_uri
from autotrack.stores.sql import models as m
from autotrack.stores.sql.migrations import is_mlflow_schema
from autotrack.stores.sql.models import FINITE, NAN
from autotrack.stores.sql.store import SqlStore, normalize_db_uri

_CHUNK = 50_000  # metric rows fetched and inserted per round trip
_RUNS_TX_POINTS = 500_000  # commit after the run that brings a transaction past this many points


@dataclass
class ImportReport:
    """What one import did (counts of things written; ``runs_skipped`` were already in the target)."""

    experiments_created: list[str] = field(default_factory=list)
    experiments_matched: list[str] = field(default_factory=list)
    runs_imported: int = 0
    runs_skipped: int = 0
    metric_points: int = 0
    params: int = 0
    tags: int = 0
    dataset_inputs: int = 0


@dataclass
class _RunCounts:
    run_id: str
    points: int
    params: int
    tags: int
    dataset_inputs: int


@dataclass
class ImportPlan:
    """The runs an import would copy: ``points`` metric values in ``runs`` runs (already-present runs excluded)."""

    experiments: list[dict]
    run_ids: list[str]
    points: int
    skipped: int


def _sqlite_path(uri: str) -> str | None:
    url = sa.engine.make_url(normalize_db_uri(uri))
    return os.path.abspath(url.database) if url.get_backend_name() == "sqlite" and url.database else None


def _source_engine(uri: str) -> sa.Engine:
    url = sa.engine.make_url(normalize_db_uri(uri))
    if url.get_backend_name() == "sqlite":
        path = url.database
        if not path or path == ":memory:":
            raise InvalidParameterError(f"Invalid --from {uri!r}: expected the MLflow database file, e.g. sqlite:///mlflow.db.")
        if not os.path.exists(path):
            raise InvalidParameterError(f"Invalid --from {uri!r}: no such file {os.path.abspath(path)!r}.")
        # Read-only at the SQLite level: nothing this process does can change the file.
        abspath = os.path.abspath(path)
        return sa.create_engine("sqlite://", creator=lambda: __import__("sqlite3").connect(f"file:{abspath}?mode=ro", uri=True, check_same_thread=False))
    return sa.create_engine(url, pool_pre_ping=True)


class MlflowImporter:
    """Reads an MLflow tracking database and writes its contents into an autotrack :class:`SqlStore`."""

    def __init__(self, source_uri: str, target: SqlStore):
        if not isinstance(target, SqlStore):
            raise InvalidParameterError(
                f"Invalid --to store {redact_uri(getattr(target, 'uri', None) or type(target).__name__)!r}: the importer writes into a SQL store "
                "(sqlite:///..., postgresql://..., mysql+pymysql://...)."
            )
        self.source_uri = source_uri
        self.target = target
        self.engine = _source_engine(source_uri)
        self._source_path = _sqlite_path(source_uri)
        self.meta = sa.MetaData()
        with self.engine.connect() as conn:
            names = set(sa.inspect(conn).get_table_names())
            is_mlflow = is_mlflow_schema(names)
            if is_mlflow:
                wanted = ("experiments", "experiment_tags", "runs", "metrics", "params", "tags", "datasets", "inputs", "input_tags")
                self.tables = {name: sa.Table(name, self.meta, autoload_with=conn) for name in wanted if name in names}
        if not is_mlflow:
            self.engine.dispose()
            raise InvalidParameterError(
                f"{redact_uri(source_uri)} is not an MLflow tracking database (found tables: {', '.join(sorted(names)) or 'none'}); "
                "expected one made by 'mlflow server --backend-store-uri' or mlflow.set_tracking_uri()."
            )

    def close(self) -> None:
        self.engine.dispose()

    # ------------------------------------------------------------------ planning
    def _source_experiments(self, conn, names: Sequence[str] | None) -> list[dict]:
        e = self.tables["experiments"]
        rows = [dict(r._mapping) for r in conn.execute(sa.select(e).order_by(e.c.experiment_id))]
        if names:
            by_name = {r["name"]: r for r in rows}
            missing = [n for n in names if n not in by_name]
            if missing:
                raise InvalidParameterError(
                    f"No experiment named {', '.join(map(repr, missing))} in {redact_uri(self.source_uri)}; "
                    f"its experiments are: {', '.join(repr(r['name']) for r in rows)}."
                )
            rows = [by_name[n] for n in dict.fromkeys(names)]
        return rows

    def plan(self, experiment_names: Sequence[str] | None = None) -> ImportPlan:
        """What :meth:`run` will copy (runs not yet in the target, and their number of metric points)."""
        r, mt = self.tables["runs"], self.tables["metrics"]
        with self.engine.connect() as conn:
            experiments = self._source_experiments(conn, experiment_names)
            ids = [x["experiment_id"] for x in experiments]
            run_rows = conn.execute(sa.select(r.c.run_uuid).where(r.c.experiment_id.in_(ids)).order_by(r.c.start_time, r.c.run_uuid)).all()
            all_ids = [row[0] for row in run_rows]
            present = self._present_runs(all_ids)
            todo = [x for x in all_ids if x not in present]
            points = 0
            if todo:
                if len(todo) == len(all_ids):
                    query = sa.select(sa.func.count()).select_from(mt).join(r, r.c.run_uuid == mt.c.run_uuid).where(r.c.experiment_id.in_(ids))
                    points = conn.execute(query).scalar() or 0
                else:
                    for start in range(0, len(todo), 500):
                        chunk = todo[start:start + 500]
                        points += conn.execute(sa.select(sa.func.count()).select_from(mt).where(mt.c.run_uuid.in_(chunk))).scalar() or 0
        return ImportPlan(experiments, todo, points, len(all_ids) - len(todo))

    def _present_runs(self, run_ids: list[str]) -> set[str]:
        present: set[str] = set()
        with self.target.engine.connect() as conn:
            for start in range(0, len(run_ids), 500):
                chunk = run_ids[start:start + 500]
                present.update(row[0] for row in conn.execute(sa.select(m.runs.c.run_uuid).where(m.runs.c.run_uuid.in_(chunk))))
        return present

    # ------------------------------------------------------------------ import
    def run(self, plan: ImportPlan, on_points: Callable[[int], None] | None = None, on_run: Callable[[str], None] | None = None) -> ImportReport:
        """Copy what ``plan`` lists; ``on_points(n)`` is called as metric values are written, ``on_run(id)`` per run.

        Runs are written in transactions of whole runs (a few, up to ~500,000 points): an interrupted
        import leaves whole runs only, and committing once per small run would cost more than the run.
        """
        report = ImportReport(runs_skipped=plan.skipped)
        experiment_map = self._import_experiments(plan.experiments, report)
        r = self.tables["runs"]
        with self.engine.connect() as src, self._target_connection() as dst:
            attached = dst.info.get("mlflow_attached", False)
            for start in range(0, len(plan.run_ids), 100):
                chunk = plan.run_ids[start:start + 100]
                rows = {row.run_uuid: row for row in src.execute(sa.select(r).where(r.c.run_uuid.in_(chunk)))}
                pending: list[_RunCounts] = []
                tx = dst.begin()
                try:
                    points = 0
                    for run_id in chunk:
                        done = self._import_run(src, dst, rows[run_id], experiment_map, attached, on_points)
                        pending.append(done)
                        points += done.points
                        if points >= _RUNS_TX_POINTS:
                            tx.commit()
                            self._count(report, pending, on_run)
                            pending, points, tx = [], 0, dst.begin()
                    tx.commit()
                except BaseException:
                    tx.rollback()
                    raise
                self._count(report, pending, on_run)
        return report

    @staticmethod
    def _count(report: ImportReport, done: list["_RunCounts"], on_run) -> None:
        """Add committed runs to the report."""
        for one in done:
            report.runs_imported += 1
            report.metric_points += one.points
            report.params += one.params
            report.tags += one.tags
            report.dataset_inputs += one.dataset_inputs
            if on_run:
                on_run(one.run_id)

    @contextlib.contextmanager
    def _target_connection(self):
        """A connection to the target for the run transactions; from SQLite to SQLite, with the MLflow
        file attached read-only, so that metric rows are copied by SQLite itself (no row reaches Python)."""
        conn = self.target.engine.connect().execution_options(autotrack_write=True)
        try:
            if self.engine.dialect.name == "sqlite" and conn.dialect.name == "sqlite" and self._source_path:
                raw = conn.connection.driver_connection  # in autocommit: ATTACH cannot run in a transaction
                raw.execute("PRAGMA cache_size = -131072")  # 128 MiB of pages for this connection's index writes
                raw.execute("ATTACH DATABASE ? AS mlflow_src", (pathlib.Path(self._source_path).as_uri() + "?mode=ro",))
                found = raw.execute("SELECT COUNT(*) FROM mlflow_src.sqlite_master WHERE name IN ('metrics', 'latest_metrics')").fetchone()[0] == 2
                conn.info["mlflow_attached"] = bool(found)
            yield conn
        finally:
            try:
                if conn.info.pop("mlflow_attached", None) is not None:
                    conn.connection.driver_connection.execute("DETACH DATABASE mlflow_src")
            finally:
                conn.close()

    def _import_experiments(self, experiments: list[dict], report: ImportReport) -> dict[int, int]:
        """Map source experiment ids to target ids, creating the experiments the target lacks."""
        mapping: dict[int, int] = {}
        et = self.tables.get("experiment_tags")
        with self.engine.connect() as src:
            tags: dict[int, dict[str, str]] = {}
            if et is not None:
                for row in src.execute(sa.select(et.c.experiment_id, et.c.key, et.c.value)):
                    tags.setdefault(row.experiment_id, {})[row.key] = row.value
        for exp in experiments:
            with self.target._write() as tx:
                conn = tx.connection
                found = conn.execute(sa.select(m.experiments.c.experiment_id).where(m.experiments.c.name == exp["name"])).first()
                if found is not None:
                    target_id = found[0]
                    report.experiments_matched.append(exp["name"])
                else:
                    target_id = self._create_experiment(conn, exp)
                    report.experiments_created.append(exp["name"])
                wanted = tags.get(exp["experiment_id"], {})
                if wanted:
                    t = m.experiment_tags
                    have = {row[0] for row in conn.execute(sa.select(t.c.key).where(t.c.experiment_id == target_id))}
                    new = [{"experiment_id": target_id, "key": k, "value": v} for k, v in wanted.items() if k not in have]
                    if new:
                        conn.execute(sa.insert(t), new)
            mapping[exp["experiment_id"]] = target_id
        return mapping

    def _create_experiment(self, conn, exp: dict) -> int:
        e = m.experiments
        values = {
            "name": exp["name"], "artifact_location": exp.get("artifact_location") or "",
            "lifecycle_stage": exp.get("lifecycle_stage") or "active",
            "creation_time": exp.get("creation_time"), "last_update_time": exp.get("last_update_time"),
        }
        taken = conn.execute(sa.select(e.c.experiment_id).where(e.c.experiment_id == exp["experiment_id"])).first()
        if taken is None and exp["experiment_id"] != 0:
            conn.execute(sa.insert(e).values(experiment_id=exp["experiment_id"], **values))
            if conn.dialect.name == "postgresql":
                # An explicit id does not move the serial sequence; move it past the ids now in use.
                conn.execute(sa.text(
                    "SELECT setval(pg_get_serial_sequence('experiments', 'experiment_id'), "
                    "(SELECT MAX(experiment_id) FROM experiments))"
                ))
            new_id = exp["experiment_id"]
        else:
            new_id = conn.execute(sa.insert(e).values(**values)).inserted_primary_key[0]
        if not values["artifact_location"]:
            conn.execute(sa.update(e).where(e.c.experiment_id == new_id).values(artifact_location=self.target._artifact_location(str(new_id))))
        return int(new_id)

    def _import_run(self, src, conn, row, experiment_map: dict[int, int], attached: bool, on_points) -> "_RunCounts":
        """Write one run into the target inside the caller's transaction; return what it wrote."""
        run_id = row.run_uuid
        p, t = self.tables["params"], self.tables["tags"]
        params = src.execute(sa.select(p.c.key, p.c.value).where(p.c.run_uuid == run_id)).all()
        tags = {k: v for k, v in src.execute(sa.select(t.c.key, t.c.value).where(t.c.run_uuid == run_id)).all()}
        if row.name and tag_names.RUN_NAME not in tags:
            tags[tag_names.RUN_NAME] = row.name
        inputs = self._run_inputs(src, run_id)
        conn.execute(sa.insert(m.runs).values(
            run_uuid=run_id, name=row.name or tags.get(tag_names.RUN_NAME) or "", experiment_id=experiment_map[row.experiment_id],
            user_id=row.user_id, status=row.status or "FINISHED", start_time=row.start_time or 0, end_time=row.end_time,
            lifecycle_stage=row.lifecycle_stage or "active", artifact_uri=row.artifact_uri,
        ))
        if params:
            conn.execute(sa.insert(m.params), [{"run_uuid": run_id, "key": k, "value": v or ""} for k, v in params])
        if tags:
            conn.execute(sa.insert(m.tags), [{"run_uuid": run_id, "key": k, "value": v} for k, v in tags.items()])
        if attached:
            points = self._copy_metrics_attached(conn, run_id)
            if on_points and points:
                on_points(points)
        else:
            points, latest = self._copy_metrics(src, conn, run_id, on_points)
            if latest:
                conn.execute(sa.insert(m.latest_metrics), [
                    {"run_uuid": run_id, "key": k, "value": v, "special": special, "timestamp": ts, "step": step}
                    for _, k, v, special, ts, step in latest.values()
                ])
        for dataset, input_uuid, input_tags in inputs:
            self._write_input(conn, experiment_map[row.experiment_id], run_id, dataset, input_uuid, input_tags)
        return _RunCounts(run_id, points, len(params), len(tags), len(inputs))

    @staticmethod
    def _copy_metrics_attached(conn, run_id: str) -> int:
        """The run's history copied by SQLite from the attached MLflow file, in the order of MLflow's
        (run, key, step) index; the latest values are MLflow's own ``latest_metrics`` rows (exact on
        SQLite, and by definition what MLflow shows), computed from the history where a run has none."""
        special = f"CASE WHEN is_nan THEN {NAN} ELSE {FINITE} END"
        copied = conn.exec_driver_sql(
            "INSERT INTO main.metrics (run_uuid, key, value, special, timestamp, step) "
            f"SELECT run_uuid, key, value, {special}, timestamp, step FROM mlflow_src.metrics WHERE run_uuid = ? ORDER BY key, step",
            (run_id,),
        ).rowcount
        if copied:
            latest = conn.exec_driver_sql(
                "INSERT INTO main.latest_metrics (run_uuid, key, value, special, timestamp, step) "
                f"SELECT run_uuid, key, value, {special}, timestamp, step FROM mlflow_src.latest_metrics WHERE run_uuid = ?",
                (run_id,),
            ).rowcount
            if not latest:
                conn.exec_driver_sql(
                    "INSERT INTO main.latest_metrics (run_uuid, key, value, special, timestamp, step) "
                    "SELECT run_uuid, key, value, special, timestamp, step FROM ("
                    f"  SELECT run_uuid, key, value, {special} AS special, timestamp, step, ROW_NUMBER() OVER ("
                    "    PARTITION BY key ORDER BY step DESC, timestamp DESC, value DESC) AS position"
                    "  FROM mlflow_src.metrics WHERE run_uuid = ?"
                    ") WHERE position = 1",
                    (run_id,),
                )
        return copied

    def _copy_metrics(self, src, dst, run_id: str, on_points) -> tuple[int, dict[str, tuple]]:
        """Stream the run's metric history from the source into the target, in (key, step, timestamp)
        order; return the number of rows and the latest row of each key.

        The latest values are computed from the history, not read from MLflow's ``latest_metrics``:
        on some MLflow databases (MySQL) that table holds values rounded to ten digits, which MLflow
        itself does not show.

        Rows go driver to driver: the source query already yields the target's row tuples (NaN flag
        turned into the special code), and they are inserted with one prepared INSERT per chunk.
        """
        q = src.dialect.identifier_preparer.quote
        key, value, timestamp, step, is_nan = (q(c) for c in ("key", "value", "timestamp", "step", "is_nan"))
        columns = f"{key}, {value}, CASE WHEN {is_nan} THEN {NAN} ELSE {FINITE} END, {timestamp}, {step}"
        # In this order the last row of a key is its latest value (largest step, then timestamp, then value).
        order = f"ORDER BY {key}, {step}, {timestamp}, {value}"
        insert = self.target._metric_insert_sql
        out = dst.connection.driver_connection.cursor()
        total = 0
        latest: dict[str, tuple] = {}
        try:
            sqlite = src.dialect.name == "sqlite"
            if sqlite:
                # sqlite3 cursors fetch lazily; the raw cursor skips SQLAlchemy's per-row objects, and the
                # run id comes back as the first column, so the rows are the target's tuples as they are.
                cursor = src.connection.driver_connection.cursor()
                cursor.execute(f"SELECT ?, {columns} FROM metrics WHERE run_uuid = ? {order}", (run_id, run_id))
            else:  # a server-side cursor: a run's history may be larger than memory
                text = sa.text(f"SELECT {columns} FROM metrics WHERE run_uuid = :run {order}")
                cursor = src.execution_options(stream_results=True, yield_per=_CHUNK).execute(text, {"run": run_id})
            fetch = cursor.fetchmany
            try:
                while True:
                    rows = fetch(_CHUNK)
                    if not rows:
                        break
                    if not sqlite:
                        rows = [(run_id, *r) for r in rows]
                    out.executemany(insert, rows)
                    latest.update({r[1]: r for r in rows})
                    total += len(rows)
                    if on_points:
                        on_points(len(rows))
            finally:
                cursor.close()
        finally:
            out.close()
        return total, latest

    def _run_inputs(self, src, run_id: str) -> list[tuple[dict, str, list[tuple[str, str]]]]:
        inp, ds, it = self.tables.get("inputs"), self.tables.get("datasets"), self.tables.get("input_tags")
        if inp is None or ds is None:
            return []
        rows = src.execute(
            sa.select(inp.c.input_uuid, ds)
            .join(ds, ds.c.dataset_uuid == inp.c.source_id)
            .where(inp.c.destination_type == "RUN", inp.c.destination_id == run_id, inp.c.source_type == "DATASET")
        ).all()
        out = []
        for row in rows:
            tags = []
            if it is not None:
                tags = [(n, v) for n, v in src.execute(sa.select(it.c.name, it.c.value).where(it.c.input_uuid == row.input_uuid))]
            out.append((dict(row._mapping), row.input_uuid, tags))
        return out

    def _write_input(self, conn, experiment_id: int, run_id: str, dataset: dict, input_uuid: str, input_tags) -> None:
        d = m.datasets
        found = conn.execute(sa.select(d.c.dataset_uuid).where(
            d.c.experiment_id == experiment_id, d.c.name == dataset["name"], d.c.digest == dataset["digest"]
        )).first()
        if found is not None:
            dataset_uuid = found[0]
        else:
            dataset_uuid = dataset["dataset_uuid"]
            if conn.execute(sa.select(d.c.dataset_uuid).where(d.c.dataset_uuid == dataset_uuid)).first() is not None:
                dataset_uuid = uuid.uuid4().hex
            conn.execute(sa.insert(d).values(
                dataset_uuid=dataset_uuid, experiment_id=experiment_id, name=dataset["name"], digest=dataset["digest"],
                source_type=dataset["dataset_source_type"], source=dataset["dataset_source"],
                schema=dataset.get("dataset_schema"), profile=dataset.get("dataset_profile"),
            ))
        i = m.inputs
        if conn.execute(sa.select(i.c.input_uuid).where(i.c.input_uuid == input_uuid)).first() is not None:
            input_uuid = uuid.uuid4().hex
        conn.execute(sa.insert(i).values(input_uuid=input_uuid, source_type="DATASET", source_id=dataset_uuid, destination_type="RUN", destination_id=run_id))
        if input_tags:
            conn.execute(sa.insert(m.input_tags), [{"input_uuid": input_uuid, "name": n, "value": v} for n, v in input_tags])
