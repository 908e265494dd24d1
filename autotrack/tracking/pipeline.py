"""The logging pipeline: ``log_*`` calls append to a compact buffer; a background thread writes batches.

The buffer is one ``bytearray`` of fixed 32-byte records (key index, run index, value, timestamp,
step): a metric costs 32 bytes of memory, its append is one C call (atomic under the GIL, so no lock
on the hot path), and packing into int64 fields rejects out-of-range steps and timestamps for free.
Params, tags and run ends are rare: they are kept aside and a *control* record in the byte stream
marks their place, so that everything stays in the order it was logged.

The writer thread wakes every ``interval`` seconds (or at once on ``flush()``), turns up to 20,000
records into one ``log_batch`` per run, and writes them. Errors are classified:

- a connection-level error (the store is unreachable) is *transient*: the batch goes to the spool
  (see :mod:`autotrack.tracking.spool`) and the store is left alone for a backoff period (a circuit
  breaker: no call pays a connect timeout more than once per period); the spool is replayed, in
  order, once the store answers again;
- any other error is *permanent* for that record: the batch is retried record by record, so the
  bad record is reported (and kept in ``rejected-<pid>.jsonl`` beside the spool) and the rest written.

Memory is capped (``AUTOTRACK_BUFFER_MB``): past the cap the oldest records are spilled to the spool
in the background instead of growing the process. The spool always holds records older than those in
memory, and is replayed before the buffer is written, so a run's creation is written before its
records and its end after them. A run's creation itself goes to the spool at ``start_run`` (an
append to a local file), so it is durable once ``start_run`` returns, even if the process is killed.

Every background problem is one :class:`AutotrackWarning` (and a debug line on the ``autotrack``
logger); under ``AUTOTRACK_STRICT=1`` the next ``flush()`` re-raises it.
"""

from __future__ import annotations

import array
import collections
import itertools
import json
import logging
import os
import struct
import threading
import time
import warnings
import weakref
from typing import Any, Callable

from autotrack import config
from autotrack.entities.errors import AutotrackException, InvalidParameterError, StoreConnectionError
from autotrack.entities import Metric, Param, RunTag
from autotrack.entities.uris import redact_uri
from autotrack.tracking import spool as _spool

_logger = logging.getLogger("autotrack")

# Record kinds accepted by add()/add_many(): tuples (kind, run_id, key, value, timestamp, step).
METRIC, PARAM, TAG = 0, 1, 2
# CREATE: key = experiment id, value = create_run's other arguments. END: key = status, timestamp = end time.
CREATE, END = 3, 4
_MAX_BATCH = 20_000
_REC = struct.Struct("<IIdqq")  # key index, run index, value, timestamp, step
REC_SIZE = _REC.size
_CONTROL = 0xFFFFFFFF  # key index of a control record; its step field is the control's sequence number
_pack = _REC.pack
_SPILL_CHUNK = 1 << 16  # records per spilled spool entry (2 MiB)
_ORPHAN_SCAN_INTERVAL = 5.0
_MAX_BACKOFF = 30.0

_pipelines: "weakref.WeakSet[LoggingPipeline]" = weakref.WeakSet()


def is_transient(exc: BaseException) -> bool:
    """True for connection-level failures (worth retrying later); False for errors of the records."""
    if isinstance(exc, StoreConnectionError):
        return True
    if isinstance(exc, AutotrackException):
        return False
    try:
        from sqlalchemy import exc as sa_exc
    except ImportError:  # pragma: no cover
        sa_exc = None
    if sa_exc is not None and isinstance(exc, sa_exc.DBAPIError):
        if exc.connection_invalidated:
            return True
        if type(exc.orig).__module__.startswith("sqlite3"):
            # SQLite has no connection to lose: only a busy/locked database is worth waiting for.
            text = str(exc.orig).lower()
            return any(word in text for word in ("locked", "busy", "unable to open", "disk i/o"))
        if isinstance(exc, (sa_exc.OperationalError, sa_exc.InterfaceError)):
            return True
        return False
    if sa_exc is not None and isinstance(exc, (sa_exc.DisconnectionError, sa_exc.TimeoutError)):
        return True
    if isinstance(exc, (ConnectionError, TimeoutError)):
        return True
    try:
        import requests

        if isinstance(exc, (requests.ConnectionError, requests.Timeout)):
            return True
    except ImportError:  # pragma: no cover
        pass
    return isinstance(exc, OSError) and not isinstance(exc, (FileNotFoundError, PermissionError))


class _Segment:
    """What to write for one run, in order: its creation (if queued), its records, its end (if queued)."""

    __slots__ = ("run_id", "create", "metrics", "params", "tags", "end")

    def __init__(self, run_id: str):
        self.run_id = run_id
        self.create: dict | None = None
        self.metrics: list = []  # (key, value, timestamp, step)
        self.params: list = []  # (key, value)
        self.tags: list = []  # (key, value)
        self.end: tuple | None = None  # (status, end_time)

    def size(self) -> int:
        return len(self.metrics) + len(self.params) + len(self.tags) + (self.create is not None) + (self.end is not None)

    def to_meta(self) -> dict:
        return {"op": "seg", "run": self.run_id, "create": self.create, "metrics": self.metrics,
                "params": self.params, "tags": self.tags, "end": self.end}

    @classmethod
    def from_meta(cls, meta: dict) -> "_Segment":
        seg = cls(meta["run"])
        seg.create = meta.get("create")
        seg.metrics = [tuple(m) for m in meta.get("metrics") or ()]
        seg.params = [tuple(p) for p in meta.get("params") or ()]
        seg.tags = [tuple(t) for t in meta.get("tags") or ()]
        end = meta.get("end")
        seg.end = tuple(end) if end else None
        return seg


def decode(chunk, keys, runs, controls, pop: bool = True) -> list[_Segment]:
    """Turn packed records into segments: one per run, its creation first and its end last.

    Records after a run's END (the run was resumed) start a new segment of that run.
    ``keys``/``runs`` map indexes to names; ``controls`` maps sequence numbers to control records.
    """
    done: list[_Segment] = []
    open_: dict[str, _Segment] = {}
    last_run = -1
    append = None
    take = controls.pop if pop else controls.__getitem__
    for k, r, v, ts, st in _REC.iter_unpack(chunk):
        if k != _CONTROL:
            if r != last_run:
                run_id = runs[r]
                seg = open_.get(run_id)
                if seg is None:
                    seg = open_[run_id] = _Segment(run_id)
                append = seg.metrics.append
                last_run = r
            append((keys[k], v, ts, st))
            continue
        last_run = -1
        kind, run_id, key, value, timestamp, _ = take(st)
        seg = open_.get(run_id)
        if seg is None:
            seg = open_[run_id] = _Segment(run_id)
        if kind == PARAM:
            seg.params.append((key, value))
        elif kind == TAG:
            seg.tags.append((key, value))
        elif kind == CREATE:
            if seg.size():  # a creation always comes first in its segment
                done.append(open_.pop(run_id))
                seg = open_[run_id] = _Segment(run_id)
            seg.create = {"experiment_id": key, **value}
        else:  # END
            seg.end = (key, timestamp)
            done.append(open_.pop(run_id))
    return done + list(open_.values())


class LoggingPipeline:
    """Buffers records for one store and writes them in batches off the caller's thread."""

    def __init__(self, store, *, sync: bool | None = None, interval: float = 0.2,
                 retry_delays: tuple[float, ...] = (0.2, 0.5, 1.0, 2.0, 4.0), spool_dir: str | None = None,
                 buffer_bytes: int | None = None):
        self.store = store
        self.sync = config.sync_logging() if sync is None else sync
        self.interval = interval
        self.retry_delays = retry_delays or (0.2,)
        self.spool_dir = os.path.abspath(spool_dir or config.spool_dir())
        self.buffer_bytes = config.buffer_bytes() if buffer_bytes is None else buffer_bytes
        self._tuples_ok = bool(getattr(store, "accepts_metric_tuples", False))
        limits = getattr(store, "batch_limits", None)
        self._max_batch = min(_MAX_BATCH, getattr(limits, "max_metrics_per_batch", _MAX_BATCH) or _MAX_BATCH)
        self._init_state()
        _pipelines.add(self)

    def _init_state(self) -> None:
        self._buf = bytearray()
        self._extend = self._buf.extend
        self._key_ids: dict[str, int] = {}
        self._keys: list[str] = []
        self._run_ids: dict[str, int] = {}
        self._runs: list[str] = []
        self._controls: dict[int, tuple] = {}
        self._seq = itertools.count()
        self._intern_lock = threading.Lock()
        self._write_lock = threading.Lock()  # held by the writer thread during a cycle (or a synchronous write)
        self._take_lock = threading.Lock()  # the writer and the exit sequence both take from the buffer's front
        self._cycle = threading.Condition()
        self._cycles = 0
        self._inflight: list | None = None  # segments of the chunk being written, for the exit sequence
        self._journal_lock = threading.RLock()
        self._wake = threading.Event()
        self._thread: threading.Thread | None = None
        self._journal: _spool.JournalFile | None = None
        self._open_runs: dict[str, bool] = {}
        self._pending_errors: list[BaseException] = []
        self._down_until = 0.0
        self._failures = 0
        self._last_transient: BaseException | None = None
        self._outage_reported = False
        self._closed = False
        self._refused = 0
        self._last_orphan_scan = 0.0
        self._warned: set[str] = set()
        self._spool_lost = 0
        self._stop = False

    # ------------------------------------------------------------------ producers
    def add_metric(self, run_id: str, key: str, value: float, timestamp: int, step: int) -> None:
        """Queue one metric (already validated). Raises struct.error for steps/timestamps out of int64."""
        k = self._key_ids.get(key)
        if k is None:
            k = self._intern(key, self._key_ids, self._keys)
        r = self._run_ids.get(run_id)
        if r is None:
            r = self._intern(run_id, self._run_ids, self._runs)
        record = _pack(k, r, value, timestamp, step)
        if self._closed:
            self._refuse(1)
            return
        if self.sync:
            self._write_now(record)
            return
        self._extend(record)
        if self._thread is None:
            self._start()

    def _intern(self, name: str, ids: dict, names: list) -> int:
        with self._intern_lock:
            index = ids.get(name)
            if index is None:
                names.append(name)
                index = ids[name] = len(names) - 1
            return index

    def add(self, record: tuple) -> None:
        """Queue one record ``(kind, run_id, key, value, timestamp, step)``; in synchronous mode, write it now."""
        self.add_many([record])

    def add_many(self, records: list[tuple]) -> None:
        """Queue several records, all or none (a bad step or timestamp rejects the whole call)."""
        packed = []
        for record in records:
            kind, run_id, key, value, timestamp, step = record
            if kind == METRIC:
                packed.append(self._pack_metric(run_id, key, value, timestamp, step))
            elif kind == CREATE:
                packed.append(None)
            else:
                packed.append(record)
        if self._closed and not getattr(self._shutdown_thread, "ok", False):
            self._refuse(len(records))
            return
        if self.sync:
            for record, item in zip(records, packed):
                self._write_now(item if isinstance(item, bytes) else None, record)
            return
        parts = []
        for record, item in zip(records, packed):
            if item is None:  # CREATE: durable at once
                self._add_create(record)
            elif isinstance(item, bytes):
                parts.append(item)
            else:
                seq = next(self._seq)
                self._controls[seq] = _control(item)
                parts.append(_pack(_CONTROL, 0, 0.0, 0, seq))
        if parts:
            self._extend(b"".join(parts))
        if self._thread is None:
            self._start()

    _shutdown_thread = threading.local()  # .ok is True on the thread running the shutdown sequence

    def _pack_metric(self, run_id, key, value, timestamp, step) -> bytes:
        k = self._key_ids.get(key)
        if k is None:
            k = self._intern(key, self._key_ids, self._keys)
        r = self._run_ids.get(run_id)
        if r is None:
            r = self._intern(run_id, self._run_ids, self._runs)
        try:
            return _pack(k, r, value, timestamp, step)
        except (struct.error, OverflowError):
            raise InvalidParameterError(
                f"Invalid step {step!r} or timestamp {timestamp!r} for metric {key!r}: both must fit in a signed "
                "64-bit integer (-2**63 to 2**63-1)."
            ) from None

    def _add_create(self, record: tuple) -> None:
        """Journal a run's creation before returning, so that it survives a kill; the writer replays it."""
        _, run_id, experiment_id, value, _, _ = record
        create = _control(record)[3]
        meta = {"op": "create", "run": run_id, "create": {"experiment_id": experiment_id, **create}}
        self._open_runs[run_id] = True
        try:
            self._journal_append(_spool.encode_entry(meta))
        except OSError as exc:
            # No spool (read-only or full disk): keep the creation in memory, in order, like any record.
            self._report("spool-create", f"autotrack could not keep the creation of run {run_id} in the spool "
                         f"({exc}); it is queued in memory and lost if the process is killed before it is written.")
            seq = next(self._seq)
            self._controls[seq] = _control(record)
            self._extend(_pack(_CONTROL, 0, 0.0, 0, seq))
        if self._thread is None:
            self._start()
        else:
            self._wake.set()

    def _refuse(self, count: int) -> None:
        self._refused += count
        self._report("refused", "autotrack is shutting down: records logged from now on are not recorded.")

    def _ensure_writer(self) -> None:
        """A writer thread that is running (one stopped by reset(), or dead, is started again)."""
        thread = self._thread
        if thread is None or not thread.is_alive():
            self._thread = None
            self._stop = False
            _pipelines.add(self)
            self._start()

    def _start(self) -> None:
        with self._intern_lock:
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="autotrack-logging", daemon=True)
                self._thread.start()

    # ------------------------------------------------------------------ synchronous mode
    def _write_now(self, packed: bytes | None, record: tuple | None = None) -> None:
        """AUTOTRACK_SYNC_LOGGING: write on the caller's thread and raise the store's error there."""
        if packed is not None:
            segs = decode(packed, self._keys, self._runs, {})
        else:
            seq = next(self._seq)
            controls = {seq: _control(record)}
            segs = decode(_pack(_CONTROL, 0, 0.0, 0, seq), self._keys, self._runs, controls)
        with self._write_lock:
            for seg in segs:
                self._store_segment(seg)

    # ------------------------------------------------------------------ consumer
    def _run(self) -> None:
        """The writer thread: every store write of the pipeline happens here (flush() and the exit
        sequence wait for it with a deadline, so a store that hangs never hangs them)."""
        while not self._stop:
            wait = self.interval
            if self._buf and self._down_until:
                wait = max(0.01, min(self.interval * 5, self._down_until - time.monotonic()))
            self._wake.wait(wait)
            self._wake.clear()
            with self._write_lock:
                try:
                    self._drain(background=True)
                except BaseException as exc:  # pragma: no cover - the writer thread must never die
                    _logger.debug("autotrack logging thread error: %r", exc, exc_info=True)
            with self._cycle:
                self._cycles += 1
                self._cycle.notify_all()

    def pending(self) -> int:
        """Records in memory, not yet written (spooled ones are not counted)."""
        return len(self._buf) // REC_SIZE

    def _drain(self, deadline: float | None = None, background: bool = False) -> bool:
        """Write what the spool and the buffer hold (the spool first); True if all was written.

        The caller holds the writer's lock. Stops at ``deadline``, or when the store is down.
        """
        now = time.monotonic()
        if not background or now - self._last_orphan_scan > _ORPHAN_SCAN_INTERVAL:
            self._last_orphan_scan = now
            self._recover_orphans(deadline)
        complete = False
        while not self._stop:
            if deadline is not None and time.monotonic() >= deadline:
                break
            if time.monotonic() < self._down_until:  # the circuit is open: leave the store alone
                break
            if self._journal is not None and not self._replay_own(deadline):
                break
            if not self._buf:
                complete = True
                break
            if len(self._buf) > self.buffer_bytes:
                self._spill_over_cap()  # the loop outruns the store: keep the oldest on disk, in order
                continue
            chunk = self._take(self._max_batch)
            # A run's creation goes to the journal before its records reach the buffer: if the journal
            # grew since it was replayed, this chunk may hold records of a run not created yet.
            if self.journal_pending() and not self._replay_own(deadline):
                self._spill(chunk)  # after the creation, in order
                break
            self._write_chunk(chunk)
        self._spill_over_cap()
        return complete

    def _take(self, count: int) -> bytes:
        with self._take_lock:
            n = min(len(self._buf), count * REC_SIZE)
            chunk = bytes(self._buf[:n])
            del self._buf[:n]  # producers only append at the end: taking a prefix needs no lock with them
            return chunk

    def _write_chunk(self, chunk: bytes) -> None:
        segs = decode(chunk, self._keys, self._runs, self._controls)
        self._inflight = segs
        try:
            while segs:
                if self._stop:
                    return  # the exit sequence took what is left (spool_rest)
                if not self._write_segment(segs[0]):
                    self._spool_segments(segs)
                    del segs[:]
                    return
                del segs[0]
        finally:
            self._inflight = None

    def _spool_segments(self, segs: list[_Segment]) -> None:
        data = b"".join(_spool.encode_entry(s.to_meta()) for s in segs if s.size())
        count = sum(s.size() for s in segs)
        try:
            self._journal_append(data)
        except OSError as exc:
            self._spool_failed(count, exc)

    # ------------------------------------------------------------------ writing one segment
    def _write_segment(self, seg: _Segment, progress: Callable[[int], None] | None = None, first_step: int = 0) -> bool:
        """Write a segment's creation, records and end, in that order; False on a transient error.

        A permanent error on the batch is isolated (see :meth:`_isolate`); each step done is cleared
        (and reported to ``progress``), so a retry never writes a step twice.
        """
        if first_step > 0:
            seg.create = None
        if first_step > 1:
            seg.metrics, seg.params, seg.tags = [], [], []
        try:
            if seg.create is not None:
                try:
                    self._create_run(seg.run_id, seg.create)
                except Exception as exc:
                    if is_transient(exc):
                        raise
                    self._reject(seg, "creation", exc)
                seg.create = None
                if progress:
                    progress(1)
            if seg.metrics or seg.params or seg.tags:
                try:
                    self._store_batch(seg.run_id, seg.metrics, seg.params, seg.tags)
                except Exception as exc:
                    if is_transient(exc):
                        raise
                    self._isolate(seg, exc)
                seg.metrics, seg.params, seg.tags = [], [], []
                if progress:
                    progress(2)
            if seg.end is not None:
                try:
                    self.store.update_run_info(seg.run_id, status=seg.end[0], end_time=seg.end[1])
                except Exception as exc:
                    if is_transient(exc):
                        raise
                    self._reject(seg, "end", exc)
                self._open_runs.pop(seg.run_id, None)
                seg.end = None
                if progress:
                    progress(3)
        except Exception as exc:
            self._store_down(exc, seg)
            return False
        if self._failures:
            self._failures = 0
            self._last_transient = None
            if self._outage_reported:
                _logger.debug("autotrack: %s answers again; spooled records are being written", _describe(self.store))
            self._outage_reported = False
        return True

    def _store_segment(self, seg: _Segment) -> None:
        """Synchronous mode: write a segment, raising the store's error."""
        if seg.create is not None:
            self._create_run(seg.run_id, seg.create)
        if seg.metrics or seg.params or seg.tags:
            self._store_batch(seg.run_id, seg.metrics, seg.params, seg.tags)
        if seg.end is not None:
            self.store.update_run_info(seg.run_id, status=seg.end[0], end_time=seg.end[1])

    def _create_run(self, run_id: str, create: dict) -> None:
        create = dict(create)
        create["tags"] = [RunTag(k, v) for k, v in create.get("tags") or ()]
        self.store.create_run(run_id=run_id, **create)

    def _store_batch(self, run_id: str, metrics: list, params: list, tags: list) -> None:
        if metrics and not self._tuples_ok:
            metrics = [Metric(k, v, ts, st) for k, v, ts, st in metrics]
        self.store.log_batch(run_id, metrics=metrics, params=[Param(k, v) for k, v in params], tags=[RunTag(k, v) for k, v in tags])

    def _isolate(self, seg: _Segment, first_error: Exception) -> None:
        """A batch with a bad record: write the metrics, then each param and tag alone; report the bad ones."""
        parts = [("metrics", seg.metrics, [], [])] if seg.metrics else []
        parts += [(f"param {k!r}", [], [(k, v)], []) for k, v in seg.params]
        parts += [(f"tag {k!r}", [], [], [(k, v)]) for k, v in seg.tags]
        rejected: list[str] = []
        error: Exception | None = None
        for name, metrics, params, tags in parts:
            try:
                self._store_batch(seg.run_id, metrics, params, tags)
            except Exception as exc:
                if is_transient(exc):
                    raise
                error = error or exc
                rejected.append(f"{len(metrics)} metrics" if metrics else name)
                self._keep_rejected(seg.run_id, metrics, params, tags, exc)
        if rejected:
            self._pending_errors.append(error)
            self._report(None, f"autotrack rejected records of run {seg.run_id} ({', '.join(rejected)}): {error}; "
                               f"the rest were written, the rejected ones kept in {self._rejected_path()}")

    def _reject(self, seg: _Segment, what: str, exc: Exception) -> None:
        self._pending_errors.append(exc)
        self._keep_rejected(seg.run_id, [], [], [], exc, what=what)
        self._report(None, f"autotrack could not record the {what} of run {seg.run_id}: {exc}")

    def _rejected_path(self) -> str:
        return os.path.join(self.spool_dir, f"rejected-{os.getpid()}.jsonl")

    def _keep_rejected(self, run_id, metrics, params, tags, exc, what: str | None = None) -> None:
        try:
            os.makedirs(self.spool_dir, exist_ok=True)
            with open(self._rejected_path(), "a", encoding="utf-8") as handle:
                handle.write(json.dumps({"store": _describe(self.store), "run_id": run_id, "what": what, "metrics": metrics,
                                         "params": params, "tags": tags, "error": str(exc)}, default=str) + "\n")
        except (OSError, ValueError) as err:
            _logger.debug("autotrack could not keep rejected records: %s", err)

    def _store_down(self, exc: BaseException, seg: _Segment | None) -> None:
        """A transient failure: open the circuit for a backoff period; report the outage once."""
        if self._failures < len(self.retry_delays):
            delay = self.retry_delays[self._failures]
        else:  # past the quick retries: back off, up to 30 s, so a dead store costs one timeout a period
            delay = min(_MAX_BACKOFF, self.retry_delays[-1] * 2 ** (self._failures - len(self.retry_delays) + 1))
        self._failures += 1
        self._down_until = time.monotonic() + delay
        self._last_transient = exc
        if not self._outage_reported and self._failures >= 2:  # a single blip retried at once is no problem
            self._outage_reported = True
            count = seg.size() + self.pending() if seg is not None else self.pending()
            run = f" of run {seg.run_id}" if seg is not None else ""
            self._report(None, f"autotrack could not write {count} records{run} to {_describe(self.store)} ({exc}); "
                               f"they were kept in {self.spool_dir} and will be written when the store is reachable again.")
        else:
            _logger.debug("autotrack: %s still unreachable: %s", _describe(self.store), exc)

    # ------------------------------------------------------------------ the journal (this process's spool file)
    def _journal_append(self, data: bytes) -> None:
        with self._journal_lock:
            if self._journal is None:
                self._journal = _spool.JournalFile.create(self.spool_dir, getattr(self.store, "uri", None))
            self._journal.append(data)

    def _replay_own(self, deadline: float | None) -> bool:
        """Write what this process's journal holds after its position; True once it is all written."""
        journal = self._journal
        while True:
            with self._journal_lock:
                end = journal.size()
            if not self._replay(journal, deadline, end):
                return False
            if deadline is not None and time.monotonic() >= deadline:
                return not self.journal_pending()
            with self._journal_lock:
                if journal.size() != end:
                    continue  # appended meanwhile (appends hold this lock): write that too
                self._compact(journal)
                return True

    def _compact(self, journal: _spool.JournalFile) -> None:
        """The journal is all written (the caller holds its lock): empty it, or remove it."""
        if True:
            if self._open_runs:
                # Nothing left to write: start the file afresh, keeping a mark of each run still open,
                # so that a process that finds this file after a kill can end those runs.
                journal.truncate_to_start()
                marks = b"".join(_spool.encode_entry({"op": "open", "run": r}) for r in list(self._open_runs))
                try:
                    journal.append(marks)
                    journal.set_position(journal.size())
                except OSError as exc:
                    _logger.debug("autotrack could not mark open runs in the spool: %s", exc)
            else:
                journal.remove()
                self._journal = None

    def _replay(self, journal: _spool.JournalFile, deadline: float | None, end: int | None = None) -> bool:
        offset, seg_index, step = journal.position()
        try:
            for start, nxt, meta, raw in journal.entries(offset, end):
                segs = self._entry_segments(meta, raw)
                for i in range(seg_index, len(segs)):
                    def progress(done: int, _i=i, _start=start) -> None:
                        journal.set_position(_start, _i, done)
                    if not self._write_segment(segs[i], progress, step if i == seg_index else 0):
                        return False
                    journal.set_position(start, i + 1, 0)
                seg_index = step = 0
                journal.set_position(nxt)
                if len(self._buf) > self.buffer_bytes:
                    self._spill_over_cap()  # memory stays capped while a long spool is written
                if deadline is not None and time.monotonic() >= deadline:
                    return nxt >= (end if end is not None else journal.size())
        except _spool.CorruptTail as exc:
            aside = journal.move_tail_aside(exc.offset)
            self._report(None, f"autotrack could not read the spool file {journal.path} from byte {exc.offset} on "
                               f"({exc.reason}); the entries before it were written, the unreadable rest was moved to {aside}.")
        except OSError as exc:
            self._report(None, f"autotrack could not read the spool file {journal.path}: {exc}")
            return True
        return True

    def _entry_segments(self, meta: dict, raw: bytes) -> list[_Segment]:
        op = meta.get("op")
        if op == "create":
            seg = _Segment(meta["run"])
            seg.create = meta["create"]
            return [seg]
        if op == "seg":
            return [_Segment.from_meta(meta)]
        if op == "chunk":
            keys = {int(i): k for i, k in meta["keys"].items()}
            runs = {int(i): r for i, r in meta["runs"].items()}
            controls = {int(s): tuple(c) for s, c in meta["controls"].items()}
            return decode(raw, keys, runs, controls)
        return []  # "open" marks write nothing

    def _spill_over_cap(self) -> None:
        """Past the memory cap, move the oldest records to the spool (they are replayed in order)."""
        while len(self._buf) > self.buffer_bytes and not self._stop:
            self._spill(self._take(_SPILL_CHUNK))

    def _spill(self, chunk: bytes) -> None:
        if not chunk:
            return
        entry, count = self._chunk_entry(chunk)
        try:
            self._journal_append(entry)
        except OSError as exc:
            self._spool_failed(count, exc)

    def _chunk_entry(self, chunk: bytes) -> tuple[bytes, int]:
        ints = array.array("I")
        ints.frombytes(chunk)
        key_col = ints[0::8]
        controls = {}
        if _CONTROL in key_col:
            steps = array.array("q")
            steps.frombytes(chunk)
            step_col = steps[3::4]
            for i, k in enumerate(key_col):
                if k == _CONTROL:
                    seq = step_col[i]
                    controls[str(seq)] = self._controls.pop(seq)
        keys = self._keys
        runs = self._runs
        used_keys = {str(k): keys[k] for k in set(key_col) if k != _CONTROL}
        used_runs = {str(r): runs[r] for r in set(ints[1::8])}
        meta = {"op": "chunk", "keys": used_keys, "runs": used_runs, "controls": controls}
        return _spool.encode_entry(meta, chunk), len(chunk) // REC_SIZE

    def _spool_failed(self, count: int, exc: OSError) -> None:
        """A spool write failed (a full or read-only disk): the records are lost; say so, with counts
        (the first time here, the total at exit)."""
        self._spool_lost += count
        self._report("spool-write", f"autotrack could not write {count} records to the spool in {self.spool_dir} ({exc}) "
                                    f"while {_describe(self.store)} could not take them; they are lost. The total is reported at exit.")

    # ------------------------------------------------------------------ other processes' spool files
    def _recover_orphans(self, deadline: float | None) -> None:
        """Claim and replay spool files of processes that are gone (same store only), oldest first."""
        uri = getattr(self.store, "uri", None)
        own = self._journal.path if self._journal is not None else None
        for path in _spool.candidates(self.spool_dir):
            if path == own or time.monotonic() < self._down_until:
                continue
            if deadline is not None and time.monotonic() >= deadline:
                return
            if _spool.peek_store(path) != uri:
                continue
            journal = _spool.JournalFile.claim(path, self.spool_dir)
            if journal is None:
                continue
            try:
                if self._replay(journal, deadline):
                    self._end_orphaned_runs(journal)
                    journal.remove()
                    continue
            except Exception as exc:  # one bad file never blocks the others
                self._report(None, f"autotrack could not replay the spool file {journal.path}: {exc}")
            journal.close()  # kept (under its new name) for a later try

    def _end_orphaned_runs(self, journal: _spool.JournalFile) -> None:
        """Runs a killed process created and never ended are still RUNNING: record them KILLED."""
        runs = []
        try:
            for _, _, meta, _ in journal.entries(journal.data_start):
                if meta.get("op") in ("create", "open"):
                    runs.append(meta["run"])
        except _spool.CorruptTail:
            pass
        end_time = int(os.fstat(journal.fd).st_mtime * 1000)
        for run_id in dict.fromkeys(runs):
            try:
                if self.store.get_run(run_id).info.status == "RUNNING":
                    self.store.update_run_info(run_id, status="KILLED", end_time=end_time)
            except Exception as exc:
                _logger.debug("autotrack could not end orphaned run %s: %s", run_id, exc)

    # ------------------------------------------------------------------ flush
    def flush(self, timeout: float | None = None) -> bool:
        """Write everything queued so far, within ``timeout`` seconds if given; True if all was written.

        The writer thread does the writing; this waits for it. While the store is unreachable, the
        writer retries after ``retry_delays``; once those are used up (or at the deadline) what is
        still queued is moved to the spool, to be written later. Under ``AUTOTRACK_STRICT=1``,
        re-raises a write error seen since the last flush.
        """
        deadline = None if timeout is None else time.monotonic() + timeout
        done = self._wait_written(deadline)
        if not done:
            self._spool_buffer()
        if config.strict():
            if self._pending_errors:
                error, self._pending_errors = self._pending_errors[0], []
                raise error
            if not done and self._last_transient is not None:
                raise self._last_transient
        return done

    def _quiescent(self) -> bool:
        return not self._buf and self._inflight is None and not self.journal_pending()

    def _wait_written(self, deadline: float | None) -> bool:
        """Have the writer write what is queued (spool included); wait until it is, the retries are
        used up, or ``deadline``. True if everything reached the store."""
        if self.sync:
            return True
        self._ensure_writer()
        self._down_until = 0.0  # an explicit flush tries the store now (once, if it is known to be down)
        retries_left = self._failures <= len(self.retry_delays)
        self._last_orphan_scan = 0.0  # and looks for other processes' spool files
        with self._cycle:
            start = self._cycles
            while True:
                self._wake.set()
                self._ensure_writer()
                if self._cycles > start + 1 and self._quiescent():
                    return True
                if self._cycles > start and (self._failures > len(self.retry_delays) if retries_left else self._down_until > 0):
                    return False
                remaining = None if deadline is None else deadline - time.monotonic()
                if remaining is not None and remaining <= 0:
                    return self._cycles > start + 1 and self._quiescent()
                self._cycle.wait(0.05 if remaining is None else min(0.05, remaining))

    def _spool_buffer(self) -> int:
        """Move everything in memory to the spool; return how many records that was."""
        count = 0
        while self._buf:
            chunk = self._take(_SPILL_CHUNK)
            count += len(chunk) // REC_SIZE
            self._spill(chunk)
        return count

    # ------------------------------------------------------------------ shutdown (see tracking/shutdown.py)
    def close_intake(self) -> None:
        self._closed = True

    def drain_until(self, deadline: float) -> bool:
        """The exit sequence: wait until the writer wrote everything, or ``deadline``."""
        return self._wait_written(deadline)

    def spool_rest(self) -> tuple[int, str | None]:
        """Move what is still in memory to the spool (at exit); return (records, spool file)."""
        self._stop = True  # a writer stuck in a store call must not take records any more
        count = 0
        inflight = self._inflight
        if inflight:  # the segments a stuck store call holds (the one in the call may be written twice)
            segs = list(inflight)
            count += sum(seg.size() for seg in segs)
            self._spool_segments(segs)
        count += self._spool_buffer()
        path = self._journal.path if self._journal is not None else None
        return count, path

    def journal_count(self) -> int:
        """Records in this process's spool file not yet written to the store."""
        journal = self._journal
        if journal is None:
            return 0
        return count_pending(journal)

    def journal_pending(self) -> bool:
        journal = self._journal
        if journal is None:
            return False
        try:
            return journal.position()[0] < journal.size()
        except OSError:
            return False

    def close_journal(self) -> None:
        """Release this process's spool file: removed if nothing is left in it, else left for a later process."""
        with self._journal_lock:
            journal = self._journal
            if journal is None:
                return
            self._journal = None
            if self._open_runs or self.journal_pending_of(journal):
                journal.close()
            else:
                journal.remove()

    @staticmethod
    def journal_pending_of(journal) -> bool:
        try:
            return journal.position()[0] < journal.size()
        except OSError:
            return False

    def stop(self) -> None:
        """End the writer thread (after a reset); the pipeline is not used any more."""
        self._stop = True
        self._wake.set()
        thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            thread.join(2.0)
        _pipelines.discard(self)
        if thread is None or not thread.is_alive():
            # A client kept from before (a fixture's) may log again: the next record starts a writer.
            self._thread = None
            self._stop = False

    def reopen(self) -> None:
        """After a reset: accept records again."""
        self._closed = False
        self._stop = False

    # ------------------------------------------------------------------ reporting
    def _report(self, kind: str | None, message: str, error: BaseException | None = None) -> None:
        """One AutotrackWarning per problem (``kind`` set: once per pipeline), and a debug log line."""
        _logger.debug(message)
        if kind is not None:
            if kind in self._warned:
                return
            self._warned.add(kind)
        if error is not None and config.strict():
            self._pending_errors.append(error)
        warnings.warn(message, warning_class(), stacklevel=2)


def warning_class() -> type:
    from autotrack.entities.errors import AutotrackWarning

    return AutotrackWarning


def count_pending(journal: _spool.JournalFile) -> int:
    """Records in a spool file after its replay position (creations, ends, params, tags and metrics)."""
    total = 0
    try:
        offset, seg_index, step = journal.position()
        for _, _, meta, raw in journal.entries(offset):
            op = meta.get("op")
            if op == "chunk":
                total += len(raw) // REC_SIZE
            elif op == "seg":
                total += _Segment.from_meta(meta).size()
            elif op == "create":
                total += 1
    except (_spool.CorruptTail, OSError):
        pass
    return total


def _control(record: tuple) -> tuple:
    """A non-metric record in the form kept aside (and spooled): JSON-friendly values."""
    kind, run_id, key, value, timestamp, step = record
    if kind == CREATE:
        value = dict(value)
        value["tags"] = [[t.key, t.value] if hasattr(t, "key") else list(t) for t in value.get("tags") or ()]
    return (kind, run_id, key, value, timestamp, step)


def _describe(store) -> str:
    uri = getattr(store, "uri", None)
    return redact_uri(uri) if uri else type(store).__name__


def all_pipelines() -> list[LoggingPipeline]:
    return list(_pipelines)


def _after_fork_in_child() -> None:
    # The writer thread does not survive fork; the child starts its own on first use, does not write
    # the parent's buffered records a second time, and does not hold the parent's spool file.
    for pipeline in list(_pipelines):
        journal = pipeline._journal
        pipeline._init_state()
        if journal is not None:
            journal.close()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_fork_in_child)
