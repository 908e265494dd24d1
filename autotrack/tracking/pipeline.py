"""The logging pipeline: ``log_*`` calls append to a buffer; a background thread writes batches.

A call in a training loop costs a ``deque.append`` (the caller validated the record already). The
writer thread wakes every ``interval`` seconds, or at once on ``flush()``, groups records by run and
writes them with ``store.log_batch``. A failing write is retried with backoff; records that still
cannot be written are appended to a spool file on disk and the user gets one warning saying how many
and where. Spooled records are replayed by the next successful write cycle, so nothing is dropped
silently. ``AUTOTRACK_SYNC_LOGGING=1`` (or ``sync=True``) writes on the caller's thread instead.
"""

from __future__ import annotations

import atexit
import collections
import json
import logging
import os
import threading
import time
import warnings
import weakref
from typing import Any

from autotrack import config
from autotrack.entities.errors import AutotrackException
from autotrack.entities import Metric, Param, RunTag
from autotrack.entities.uris import redact_uri

_logger = logging.getLogger("autotrack")

# Record kinds in the buffer. Records are plain tuples (kind, run_id, key, value, timestamp, step):
# building a dataclass per metric would cost more than the whole append.
METRIC, PARAM, TAG = 0, 1, 2
# Run lifecycle records: CREATE (key = experiment id, value = create_run's other arguments) and END
# (key = status, timestamp = end time). Queuing them keeps run creation and ending off the caller's
# thread too, in order with the run's own records.
CREATE, END = 3, 4
_MAX_BATCH = 20_000
# Errors that retrying cannot fix: bad records, runs that are gone or finished.
_PERMANENT_CODES = ("INVALID_PARAMETER_VALUE", "RESOURCE_DOES_NOT_EXIST", "INVALID_STATE")

_pipelines: "weakref.WeakSet[LoggingPipeline]" = weakref.WeakSet()


class LoggingPipeline:
    """Buffers records for one store and writes them in batches off the caller's thread."""

    def __init__(self, store, *, sync: bool | None = None, interval: float = 0.2, retry_delays: tuple[float, ...] = (0.2, 0.5, 1.0, 2.0, 4.0), spool_dir: str | None = None):
        self.store = store
        self.sync = config.sync_logging() if sync is None else sync
        self.interval = interval
        self.retry_delays = retry_delays
        self.spool_dir = os.path.abspath(spool_dir or config.spool_dir())
        self._buffer: collections.deque = collections.deque()
        self._write_lock = threading.Lock()  # one writer at a time: the thread, flush(), or exit
        self._wake = threading.Event()
        self._idle = threading.Condition()
        self._thread: threading.Thread | None = None
        self._pending_errors: list[BaseException] = []
        self._warned = False
        _pipelines.add(self)

    # ------------------------------------------------------------------ producers
    def add(self, record: tuple) -> None:
        """Queue one record; in synchronous mode, write it now."""
        if self.sync:
            with self._write_lock:
                self._write([record], raise_errors=True)
            return
        self._buffer.append(record)
        if self._thread is None:
            self._start()

    def add_many(self, records: list[tuple]) -> None:
        if self.sync:
            with self._write_lock:
                self._write(records, raise_errors=True)
            return
        self._buffer.extend(records)
        if self._thread is None:
            self._start()

    def _start(self) -> None:
        with self._idle:
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="autotrack-logging", daemon=True)
                self._thread.start()

    # ------------------------------------------------------------------ consumer
    def _run(self) -> None:
        while True:
            self._wake.wait(self.interval)
            self._wake.clear()
            try:
                self._drain()
            except BaseException as exc:  # pragma: no cover - the writer thread must never die
                _logger.debug("autotrack logging thread error: %r", exc)
            with self._idle:
                self._idle.notify_all()

    def _drain(self, deadline: float | None = None) -> None:
        with self._write_lock:
            while self._buffer:
                batch = []
                pop = self._buffer.popleft
                try:
                    for _ in range(_MAX_BATCH):
                        batch.append(pop())
                except IndexError:
                    pass
                self._write(batch, deadline=deadline)
            self._replay_spool()

    def flush(self, timeout: float | None = None) -> None:
        """Write everything queued so far. Under ``AUTOTRACK_STRICT=1``, re-raise a write error seen since the last flush."""
        # Always take the writer's lock, even with an empty buffer: the thread may be writing a batch
        # it has already taken out of the buffer, and flush() promises that batch is written too.
        deadline = None if timeout is None else time.monotonic() + timeout
        self._drain(deadline)
        if self._pending_errors and config.strict():
            error, self._pending_errors = self._pending_errors[0], []
            raise error

    # ------------------------------------------------------------------ writing
    def _write(self, records: list[tuple], deadline: float | None = None, raise_errors: bool = False) -> None:
        for segment in _segments(records):
            try:
                self._write_segment(segment, deadline)
            except Exception as exc:
                if raise_errors:
                    raise
                self._pending_errors.append(exc)

    def _write_segment(self, seg: "_Segment", deadline: float | None) -> None:
        """Create the run (if queued), write its records, end it (if queued); retry what failed.

        Each step is cleared from the segment once done, so a retry never writes a record twice.
        """
        attempt = 0
        rejected: Exception | None = None
        while True:
            try:
                if seg.create is not None:
                    self.store.create_run(run_id=seg.run_id, **seg.create)
                    seg.create = None
                if seg.metrics or seg.params or seg.tags:
                    try:
                        self.store.log_batch(seg.run_id, metrics=seg.metrics, params=seg.params, tags=seg.tags)
                    except AutotrackException as exc:
                        if exc.error_code not in _PERMANENT_CODES:
                            raise
                        rejected = self._write_separately(seg, exc)
                    seg.metrics, seg.params, seg.tags = [], [], []
                if seg.end is not None:
                    self.store.update_run_info(seg.run_id, status=seg.end[0], end_time=seg.end[1])
                    seg.end = None
                break
            except AutotrackException as exc:
                if exc.error_code in _PERMANENT_CODES:
                    self._warn(f"autotrack could not record run {seg.run_id}: {exc}")
                    raise
                error: Exception = exc
            except Exception as exc:  # a database or network failure: worth retrying
                error = exc
            if attempt >= len(self.retry_delays) or (deadline is not None and time.monotonic() + self.retry_delays[attempt] > deadline):
                path = self._spool(seg)
                self._warn(
                    f"autotrack could not write {seg.size()} records of run {seg.run_id} to {redact_uri(self.store.uri)} after "
                    f"{attempt + 1} attempts ({error}); they were kept in {path} and will be written when the store "
                    "is reachable again."
                )
                raise error
            time.sleep(self.retry_delays[attempt])
            attempt += 1
        if rejected is not None:
            raise rejected  # reported once the good records and the run's end are written

    def _write_separately(self, seg: "_Segment", first_error: Exception) -> Exception | None:
        """A batch with a bad record: write the good records alone, so one bad record loses nothing else."""
        rejected: list[str] = []
        errors: list[Exception] = []
        parts = [("metrics", seg.metrics), *[("param", [p]) for p in seg.params], *[("tag", [t]) for t in seg.tags]]
        for kind, items in parts:
            if not items:
                continue
            try:
                if kind == "metrics":
                    self.store.log_batch(seg.run_id, metrics=items)
                elif kind == "param":
                    self.store.log_batch(seg.run_id, params=items)
                else:
                    self.store.log_batch(seg.run_id, tags=items)
            except Exception as exc:
                errors.append(exc)
                rejected.append(f"{len(items)} {kind}" if kind == "metrics" else f"{kind} {items[0].key!r}")
        error = errors[0] if errors else first_error
        self._warn(f"autotrack rejected records of run {seg.run_id} ({', '.join(rejected) or 'none'}): {error}")
        return errors[0] if errors else None

    def _warn(self, message: str) -> None:
        _logger.warning(message)
        if not self._warned or config.strict():
            self._warned = True
            warnings.warn(message, RuntimeWarning, stacklevel=2)

    # ------------------------------------------------------------------ spool
    def _spool(self, seg: "_Segment") -> str:
        os.makedirs(self.spool_dir, exist_ok=True)
        path = os.path.join(self.spool_dir, f"spool-{os.getpid()}-{int(time.time() * 1000)}.jsonl")
        entry: dict[str, Any] = {
            "store": self.store.uri,
            "run_id": seg.run_id,
            "create": None if seg.create is None else {**seg.create, "tags": [[t.key, t.value] for t in seg.create["tags"]]},
            "metrics": [[m.key, _json_float(m.value), m.timestamp, m.step] for m in seg.metrics],
            "params": [[p.key, p.value] for p in seg.params],
            "tags": [[t.key, t.value] for t in seg.tags],
            "end": seg.end,
        }
        with open(path, "a", encoding="utf-8") as handle:
            handle.write(json.dumps(entry) + "\n")
        return path

    def _replay_spool(self) -> None:
        """Write records that an earlier failure spooled for this store; keep the file if it fails again."""
        if not os.path.isdir(self.spool_dir):
            return
        uri = self.store.uri
        for name in sorted(os.listdir(self.spool_dir)):
            if not name.startswith("spool-") or not name.endswith(".jsonl"):
                continue
            path = os.path.join(self.spool_dir, name)
            try:
                with open(path, encoding="utf-8") as handle:
                    entries = [json.loads(line) for line in handle if line.strip()]
            except (OSError, ValueError):
                continue
            if any(e.get("store") != uri for e in entries):
                continue
            rejected = []
            try:
                for e in entries:
                    seg = _Segment.from_spool(e)
                    try:
                        self._write_segment_once(seg)
                    except AutotrackException as exc:
                        if exc.error_code not in _PERMANENT_CODES:
                            raise
                        rejected.append((e, exc))
            except Exception:
                return  # still failing: leave the file for the next cycle
            if rejected:
                # The store refuses these for good (the run was deleted meanwhile...): keep them aside.
                with open(path + ".rejected", "a", encoding="utf-8") as handle:
                    for e, _ in rejected:
                        handle.write(json.dumps(e) + "\n")
                self._warn(f"autotrack could not replay {len(rejected)} spooled batches ({rejected[0][1]}); kept in {path}.rejected")
            os.remove(path)

    def _write_segment_once(self, seg: "_Segment") -> None:
        if seg.create is not None:
            self.store.create_run(run_id=seg.run_id, **seg.create)
        if seg.metrics or seg.params or seg.tags:
            self.store.log_batch(seg.run_id, metrics=seg.metrics, params=seg.params, tags=seg.tags)
        if seg.end is not None:
            self.store.update_run_info(seg.run_id, status=seg.end[0], end_time=seg.end[1])

    # ------------------------------------------------------------------ exit
    def drain_at_exit(self, timeout: float) -> None:
        if not self._buffer:
            return
        try:
            self._drain(time.monotonic() + timeout)
        except Exception as exc:  # pragma: no cover - exit must not raise
            _logger.warning("autotrack could not write buffered records at exit: %s", exc)


class _Segment:
    """What to write for one run, in order: its creation (if queued), its records, its end (if queued)."""

    __slots__ = ("run_id", "create", "metrics", "params", "tags", "end")

    def __init__(self, run_id: str):
        self.run_id = run_id
        self.create: dict | None = None
        self.metrics: list = []
        self.params: list = []
        self.tags: list = []
        self.end: tuple | None = None

    def size(self) -> int:
        return len(self.metrics) + len(self.params) + len(self.tags) + (self.create is not None) + (self.end is not None)

    @classmethod
    def from_spool(cls, entry: dict) -> "_Segment":
        seg = cls(entry["run_id"])
        create = entry.get("create")
        if create:
            seg.create = {**create, "tags": [RunTag(k, v) for k, v in create["tags"]]}
        seg.metrics = [Metric(k, float(v), ts, st) for k, v, ts, st in entry["metrics"]]
        seg.params = [Param(k, v) for k, v in entry["params"]]
        seg.tags = [RunTag(k, v) for k, v in entry["tags"]]
        end = entry.get("end")
        seg.end = tuple(end) if end else None
        return seg


def _segments(records: list[tuple]) -> list[_Segment]:
    """Group records by run, keeping each run's creation first and its end last.

    Records after a run's END (the run was resumed) start a new segment of that run, written after
    the first; segments of different runs are independent.
    """
    done: list[_Segment] = []
    open_: dict[str, _Segment] = {}
    for kind, run_id, key, value, timestamp, step in records:
        seg = open_.get(run_id)
        if seg is None:
            seg = open_[run_id] = _Segment(run_id)
        if kind == METRIC:
            seg.metrics.append(Metric(key, value, timestamp, step))
        elif kind == PARAM:
            seg.params.append(Param(key, value))
        elif kind == TAG:
            seg.tags.append(RunTag(key, value))
        elif kind == CREATE:
            seg.create = {"experiment_id": key, **value}
        else:  # END
            seg.end = (key, timestamp)
            done.append(open_.pop(run_id))
    return done + list(open_.values())


def _json_float(value: float):
    return value if value == value and value not in (float("inf"), float("-inf")) else repr(value)


def _drain_all_at_exit() -> None:
    timeout = config.exit_flush_timeout()
    deadline = time.monotonic() + timeout
    for pipeline in list(_pipelines):
        pipeline.drain_at_exit(max(0.0, deadline - time.monotonic()))


def _after_fork_in_child() -> None:
    # The writer thread does not survive fork; the child starts its own on first use and does not
    # write the parent's buffered records a second time.
    for pipeline in list(_pipelines):
        pipeline._thread = None
        pipeline._buffer = collections.deque()
        pipeline._write_lock = threading.Lock()
        pipeline._idle = threading.Condition()
        pipeline._wake = threading.Event()


atexit.register(_drain_all_at_exit)
if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_fork_in_child)
