"""The spool: records the store could not take (yet), kept on disk in one journal file per process.

Layout of a journal file (binary, so that spilling a buffer of millions of metrics is one write)::

    b"ATSPOOL1" | position: u64 entry offset, u32 segment index, u32 step | u32 header length | header JSON
    entry*:  u32 payload length | u32 crc32(payload) | payload
    payload: u32 meta length | meta JSON | packed metric records (the buffer's 32-byte records)

The header names the store (its URI) and the owning process. The owner holds an exclusive ``flock``
on its file for as long as it lives; a file nobody holds belongs to a process that is gone, and the
first process that logs to the same store *claims* it by renaming it to a name of its own (an atomic
rename, so two processes never replay one file), then replays it.

The position in the header says how far replay got: the offset of the first entry not fully written,
plus the index of the segment inside it and the step (creation, records, end) inside that segment.
It is rewritten in place after every store write, so a replay interrupted by an error or a crash
resumes where it stopped and writes nothing twice (except in the instant between the database's
commit and the position's update).

A torn or corrupt entry (a crash in the middle of a write, a bad disk) ends the readable part of a
file: the entries before it are delivered, the bytes from it on are moved to ``<file>.corrupt`` and
reported once. One bad file never stops the others.
"""

from __future__ import annotations

import json
import os
import struct
import uuid
import zlib
from typing import Iterator

MAGIC = b"ATSPOOL1"
_POS = struct.Struct("<QII")  # entry offset, segment index, step
_U32 = struct.Struct("<I")
_FRAME = struct.Struct("<II")  # payload length, crc32
_HEADER_FIXED = len(MAGIC) + _POS.size + _U32.size
SUFFIX = ".atspool"


class CorruptTail(Exception):
    """The file cannot be read from ``offset`` on (a torn write or damaged bytes)."""

    def __init__(self, offset: int, reason: str):
        super().__init__(f"unreadable from byte {offset}: {reason}")
        self.offset = offset
        self.reason = reason


def encode_entry(meta: dict, raw: bytes = b"") -> bytes:
    """One framed entry: ``meta`` as JSON, then ``raw`` (packed metric records)."""
    meta_bytes = json.dumps(meta, separators=(",", ":")).encode("ascii")
    payload = b"".join((_U32.pack(len(meta_bytes)), meta_bytes, raw))
    return _FRAME.pack(len(payload), zlib.crc32(payload)) + payload


def _header_bytes(uri: str | None) -> bytes:
    header = json.dumps({"store": uri, "pid": os.getpid()}).encode("ascii")
    start = _HEADER_FIXED + len(header)
    return MAGIC + _POS.pack(start, 0, 0) + _U32.pack(len(header)) + header


def new_path(folder: str) -> str:
    return os.path.join(folder, f"spool-{os.getpid()}-{uuid.uuid4().hex[:12]}{SUFFIX}")


class JournalFile:
    """An open journal file (own or claimed), with its header read."""

    def __init__(self, path: str, fd: int, store: str | None, data_start: int):
        self.path = path
        self.fd = fd
        self.store = store
        self.data_start = data_start

    # ---------------------------------------------------------------- creation / opening
    @classmethod
    def create(cls, folder: str, uri: str | None) -> "JournalFile":
        import fcntl

        os.makedirs(folder, exist_ok=True)
        path = new_path(folder)
        fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_EXCL, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            header = _header_bytes(uri)
            _write_all(fd, header, 0)
        except BaseException:
            os.close(fd)
            _remove(path)
            raise
        return cls(path, fd, uri, len(header))

    @classmethod
    def claim(cls, path: str, folder: str) -> "JournalFile | None":
        """Take over the file of a process that is gone; None if someone holds it or took it first.

        The file is locked first (a living owner holds the lock), then renamed to a name of this
        process: the rename is atomic, so of two processes claiming one file only one succeeds.
        """
        import fcntl

        try:
            fd = os.open(path, os.O_RDWR)
        except OSError:
            return None
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            os.close(fd)
            return None  # its process is alive (or another claimer is replaying it)
        try:
            mine = new_path(folder)
            os.rename(path, mine)
            # The path we opened may have been replaced between open and lock: check it is our inode.
            if os.stat(mine).st_ino != os.fstat(fd).st_ino:  # pragma: no cover - a narrow race
                os.close(fd)
                return None
            store, data_start = read_header(fd)
        except (OSError, ValueError):
            os.close(fd)
            return None
        return cls(mine, fd, store, data_start)

    def close(self) -> None:
        try:
            os.close(self.fd)
        except OSError:
            pass

    def remove(self) -> None:
        _remove(self.path)
        self.close()

    # ---------------------------------------------------------------- positions and entries
    def size(self) -> int:
        return os.fstat(self.fd).st_size

    def position(self) -> tuple[int, int, int]:
        offset, seg, step = _POS.unpack(os.pread(self.fd, _POS.size, len(MAGIC)))
        return max(offset, self.data_start), seg, step

    def set_position(self, offset: int, seg: int = 0, step: int = 0) -> None:
        _write_all(self.fd, _POS.pack(offset, seg, step), len(MAGIC))

    def append(self, data: bytes) -> None:
        """Append framed entries at the end; on failure (a full disk) cut back what was half written."""
        end = self.size()
        try:
            _write_all(self.fd, data, end)
        except OSError:
            try:
                os.ftruncate(self.fd, end)
            except OSError:
                pass
            raise

    def truncate_to_start(self) -> None:
        os.ftruncate(self.fd, self.data_start)
        self.set_position(self.data_start)

    def entries(self, start: int, limit: int | None = None) -> Iterator[tuple[int, int, dict, bytes]]:
        """Yield ``(offset, next_offset, meta, raw)`` from ``start`` (up to ``limit``); raise CorruptTail at a bad entry."""
        size = self.size() if limit is None else limit
        offset = start
        while offset < size:
            head = os.pread(self.fd, _FRAME.size, offset)
            if len(head) < _FRAME.size:
                raise CorruptTail(offset, "a torn entry header")
            length, crc = _FRAME.unpack(head)
            if offset + _FRAME.size + length > size:
                raise CorruptTail(offset, f"a torn entry ({length} bytes announced, {size - offset - _FRAME.size} present)")
            payload = os.pread(self.fd, length, offset + _FRAME.size)
            if zlib.crc32(payload) != crc or length < _U32.size:
                raise CorruptTail(offset, "a checksum mismatch")
            (meta_len,) = _U32.unpack_from(payload)
            try:
                meta = json.loads(payload[_U32.size:_U32.size + meta_len])
            except ValueError:
                raise CorruptTail(offset, "unreadable entry metadata") from None
            nxt = offset + _FRAME.size + length
            yield offset, nxt, meta, payload[_U32.size + meta_len:]
            offset = nxt

    def move_tail_aside(self, offset: int) -> str:
        """Copy the bytes from ``offset`` on to ``<path>.corrupt`` and cut them off; return that path."""
        aside = self.path + ".corrupt"
        size = self.size()
        with open(aside, "ab") as handle:
            pos = offset
            while pos < size:
                chunk = os.pread(self.fd, min(1 << 20, size - pos), pos)
                if not chunk:
                    break
                handle.write(chunk)
                pos += len(chunk)
        os.ftruncate(self.fd, offset)
        return aside


def read_header(fd: int) -> tuple[str | None, int]:
    fixed = os.pread(fd, _HEADER_FIXED, 0)
    if len(fixed) < _HEADER_FIXED or not fixed.startswith(MAGIC):
        raise ValueError("not an autotrack spool file")
    (hlen,) = _U32.unpack_from(fixed, len(MAGIC) + _POS.size)
    header = json.loads(os.pread(fd, hlen, _HEADER_FIXED))
    return header.get("store"), _HEADER_FIXED + hlen


def peek_store(path: str) -> str | None | bool:
    """The store URI a spool file was written for, or False if it cannot be read."""
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return False
    try:
        return read_header(fd)[0]
    except (OSError, ValueError):
        return False
    finally:
        os.close(fd)


def candidates(folder: str) -> list[str]:
    """Spool files in ``folder``, oldest first (by modification time)."""
    try:
        names = [n for n in os.listdir(folder) if n.startswith("spool-") and n.endswith(SUFFIX)]
    except OSError:
        return []
    paths = []
    for name in names:
        path = os.path.join(folder, name)
        try:
            paths.append((os.stat(path).st_mtime, path))
        except OSError:
            continue  # claimed or removed meanwhile
    return [p for _, p in sorted(paths)]


def _write_all(fd: int, data: bytes, offset: int) -> None:
    view = memoryview(data)
    while view:
        written = os.pwrite(fd, view, offset)
        if written <= 0:  # pragma: no cover - pwrite raises instead
            raise OSError("short write")
        view = view[written:]
        offset += written


def _remove(path: str) -> None:
    try:
        os.remove(path)
    except OSError:
        pass
