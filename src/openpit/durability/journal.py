"""The write-ahead journal: every command, durably, in sequence order.

File format (all integers little-endian; see docs/durability.md)::

    <data>/journal/<first_seq:020d>.wal       one segment; names sort by first seq
    segment header (16 bytes):  b"OPITWAL1" | first_seq u64
    record (24-byte header + payload):
        length u32    payload length in bytes (<= MAX_PAYLOAD)
        crc32  u32    zlib.crc32 over (length u32 | seq u64 | ts i64 | payload)
        seq    u64    global command sequence number
        ts     i64    command timestamp (ms)
        payload       the command as ``openpit.core.commands.encode_command`` bytes

Invariants:
- Records are appended with consecutive sequence numbers (``append`` refuses a gap or
  a repeat); a segment's first record carries the seq in its name and header.
- ``commit()`` returns only when every record appended before the call is on disk as
  far as the fsync mode promises: ``always`` fsyncs each record, ``batch`` (default)
  fsyncs once per group — all appends made before the flush starts, i.e. at least
  one loop tick's worth — and ``off`` never fsyncs (unsafe: a machine crash loses
  acknowledged commands; a process crash does not).
- Writes and fsyncs run on one dedicated thread, so the event loop keeps accepting
  the next group while the previous one is being synced; one group is in flight at
  a time and groups reach the file in sequence order.
- A failed write or fsync poisons the writer: every waiter and every later call gets
  ``JournalWriteFailed``; it is never retried (a retried fsync can lie). The failure is
  logged once and ``health`` ("journal") is dead from then on; a group write that runs
  longer than the health record's ``stuck_after_s`` shows as stuck.
- Segments rotate at a group boundary once a segment reaches ``segment_bytes``; a new
  segment's header and directory entry are fsynced before it receives records, so
  every segment but the last is complete.
"""

from __future__ import annotations

import asyncio
import logging
import os
import struct
import zlib
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from enum import StrEnum
from pathlib import Path
from typing import Final

from openpit.core.health import Health
from openpit.durability.errors import JournalWriteFailed
from openpit.durability.private import open_private, private_dir

log = logging.getLogger("openpit.durability")

SEGMENT_MAGIC: Final = b"OPITWAL1"
SEGMENT_HEADER: Final = struct.Struct("<8sQ")
RECORD_HEADER: Final = struct.Struct("<IIQq")
_CRC_PREFIX: Final = struct.Struct("<IQq")
SEGMENT_SUFFIX: Final = ".wal"
MAX_PAYLOAD: Final = 16 * 1024 * 1024
DEFAULT_SEGMENT_BYTES: Final = 64 * 1024 * 1024
JOURNAL_DIR: Final = "journal"


class FsyncMode(StrEnum):
    ALWAYS = "always"  # one fsync per record
    BATCH = "batch"  # one fsync per group (loop tick); the default
    OFF = "off"  # never fsync: unsafe against machine crashes


FsyncFn = Callable[[int], None]


def default_fsync(fd: int) -> None:
    """``fdatasync`` where it exists (enough for appends: it syncs the file size too)."""
    if hasattr(os, "fdatasync"):
        os.fdatasync(fd)
    else:  # pragma: no cover - macOS, Windows
        os.fsync(fd)


def record_crc(seq: int, ts: int, payload: bytes | memoryview) -> int:
    return zlib.crc32(payload, zlib.crc32(_CRC_PREFIX.pack(len(payload), seq, ts)))


def encode_record(seq: int, ts: int, payload: bytes) -> bytes:
    return RECORD_HEADER.pack(len(payload), record_crc(seq, ts, payload), seq, ts) + payload


def segment_name(first_seq: int) -> str:
    return f"{first_seq:020d}{SEGMENT_SUFFIX}"


def segment_first_seq(path: Path) -> int | None:
    """The first seq encoded in a segment's file name, or None if it is not a segment."""
    stem = path.name.removesuffix(SEGMENT_SUFFIX)
    if path.suffix != SEGMENT_SUFFIX or len(stem) != 20 or not stem.isdigit():
        return None
    return int(stem)


def list_segments(directory: Path) -> list[tuple[int, Path]]:
    """Every segment in ``directory`` as (first_seq, path), oldest first."""
    if not directory.is_dir():
        return []
    found = []
    for path in directory.iterdir():
        first = segment_first_seq(path)
        if first is not None and path.is_file():
            found.append((first, path))
    return sorted(found)


def fsync_dir(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _write_all(fd: int, data: bytes | memoryview) -> None:
    view = memoryview(data)
    while view:
        written = os.write(fd, view)
        view = view[written:]


class JournalWriter:
    """Appends records to the journal; ``await commit()`` makes them durable as a group.

    Usage by the single writer (one event loop)::

        writer.append(result.seq, result.ts, encode_command(command))  # sync, cheap
        await writer.commit()  # all appends of this tick: one write + one fsync

    ``next_seq`` is the seq the first append must carry (recovered seq + 1).
    """

    def __init__(
        self,
        directory: str | os.PathLike[str],
        next_seq: int,
        *,
        mode: FsyncMode = FsyncMode.BATCH,
        segment_bytes: int = DEFAULT_SEGMENT_BYTES,
        fsync: FsyncFn = default_fsync,
    ) -> None:
        if next_seq < 1:
            raise ValueError("next_seq starts at 1")
        self.directory = Path(directory)
        self.mode = FsyncMode(mode)
        self.segment_bytes = segment_bytes
        self._fsync = fsync
        self._next_seq = next_seq
        self.durable_seq = next_seq - 1
        self._buf: list[bytes] = []
        self._buf_first = next_seq
        self._waiters: list[tuple[int, asyncio.Future[None]]] = []
        self._flusher: asyncio.Task[None] | None = None
        self._failed: JournalWriteFailed | None = None
        self._executor: ThreadPoolExecutor | None = None
        self.groups = 0  # group writes done
        self.health = Health("journal")
        self.fsyncs = 0  # data fsyncs done
        private_dir(self.directory)
        self._fd = -1
        self._seg_size = 0
        self._seg_first = next_seq
        self.segment_path = self._open_segment(next_seq)

    # -- appending ----------------------------------------------------------------------
    @property
    def next_seq(self) -> int:
        return self._next_seq

    @property
    def appended_seq(self) -> int:
        return self._next_seq - 1

    def append(self, seq: int, ts: int, payload: bytes) -> None:
        """Buffer one record; nothing is written until ``commit`` (or ``flush``)."""
        if self._failed is not None:
            raise self._failed
        if self._fd < 0:
            raise JournalWriteFailed("journal writer is closed")
        if seq != self._next_seq:
            raise ValueError(
                f"journal append out of sequence: got {seq}, expected {self._next_seq}"
            )
        if len(payload) > MAX_PAYLOAD:
            raise ValueError(f"journal payload of {len(payload)} bytes exceeds {MAX_PAYLOAD}")
        if not self._buf:
            self._buf_first = seq
        self._buf.append(encode_record(seq, ts, payload))
        self._next_seq = seq + 1

    # -- committing ---------------------------------------------------------------------
    async def commit(self) -> None:
        """Return once every record appended so far is durable (per the fsync mode)."""
        if self._failed is not None:
            raise self._failed
        target = self._next_seq - 1
        if self.durable_seq >= target:
            return
        loop = asyncio.get_running_loop()
        future: asyncio.Future[None] = loop.create_future()
        self._waiters.append((target, future))
        if self._flusher is None:
            # Starts on the next loop iteration: every append of this tick joins the group.
            self._flusher = loop.create_task(self._flush_loop())
        await future

    async def _flush_loop(self) -> None:
        loop = asyncio.get_running_loop()
        try:
            while self._buf:
                first, records = self._take()
                self.health.start_work()
                if self.mode is FsyncMode.OFF:
                    self._write_group(first, records)
                else:
                    if self._executor is None:
                        self._executor = ThreadPoolExecutor(1, thread_name_prefix="openpit-wal")
                    await loop.run_in_executor(self._executor, self._write_group, first, records)
                self.health.end_work()
                self.durable_seq = first + len(records) - 1
                self._wake()
        except BaseException as exc:
            failed = self._fail(exc)
            for _, future in self._waiters:
                if not future.done():
                    future.set_exception(failed)
            self._waiters.clear()
            if not isinstance(exc, Exception):
                raise
        finally:
            self._flusher = None

    def _wake(self) -> None:
        durable, still = self.durable_seq, []
        for target, future in self._waiters:
            if target <= durable:
                if not future.done():
                    future.set_result(None)
            else:
                still.append((target, future))
        self._waiters = still

    def _take(self) -> tuple[int, list[bytes]]:
        records, self._buf = self._buf, []
        return self._buf_first, records

    def _fail(self, exc: BaseException) -> JournalWriteFailed:
        if self._failed is None:
            self._failed = JournalWriteFailed(
                f"journal write failed after seq {self.durable_seq} in {self.segment_path}: "
                f"{exc!r}; stop the venue and recover from disk"
            )
            self._failed.__cause__ = exc
            self.health.dead(str(self._failed))
            log.critical("%s", self._failed, exc_info=exc)
        return self._failed

    def flush(self) -> None:
        """Synchronously write (and, per mode, fsync) everything appended so far.

        For tools, tests and shutdown; never call it while an async ``commit`` is running.
        """
        if self._failed is not None:
            raise self._failed
        if self._flusher is not None:
            raise RuntimeError("flush() while an async commit is in flight")
        if not self._buf:
            return
        first, records = self._take()
        try:
            self._write_group(first, records)
        except BaseException as exc:
            raise self._fail(exc) from exc
        self.durable_seq = first + len(records) - 1

    # -- file handling (runs on the journal thread) ---------------------------------------
    def _write_group(self, first: int, records: list[bytes]) -> None:
        if self._seg_size >= self.segment_bytes and first > self._seg_first:
            self._rotate(first)
        if self.mode is FsyncMode.ALWAYS:
            for record in records:
                _write_all(self._fd, record)
                self._fsync(self._fd)
                self.fsyncs += 1
                self._seg_size += len(record)
        else:
            data = records[0] if len(records) == 1 else b"".join(records)
            _write_all(self._fd, data)
            self._seg_size += len(data)
            if self.mode is FsyncMode.BATCH:
                self._fsync(self._fd)
                self.fsyncs += 1
        self.groups += 1

    def _open_segment(self, first_seq: int) -> Path:
        path = self.directory / segment_name(first_seq)
        header = SEGMENT_HEADER.pack(SEGMENT_MAGIC, first_seq)
        if path.exists():
            # Left by a previous run that stopped before its first record: reuse it.
            if path.stat().st_size > SEGMENT_HEADER.size:
                raise JournalWriteFailed(
                    f"{path} already holds records from seq {first_seq}: recover before writing"
                )
            fd = os.open(path, os.O_WRONLY | os.O_TRUNC)
        else:
            fd = open_private(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL)
        try:
            _write_all(fd, header)
            if self.mode is not FsyncMode.OFF:
                os.fsync(fd)
                fsync_dir(self.directory)
        except BaseException:
            os.close(fd)
            raise
        self._fd = fd
        self._seg_size = len(header)
        self._seg_first = first_seq
        return path

    def _rotate(self, first_seq: int) -> None:
        old = self._fd
        self._fd = -1
        os.close(old)
        self.segment_path = self._open_segment(first_seq)

    # -- closing ------------------------------------------------------------------------
    async def close(self) -> None:
        """Commit what is buffered, then release the file and the journal thread."""
        try:
            if self._failed is None:
                await self.commit()
        finally:
            self._release()

    def close_sync(self) -> None:
        try:
            if self._failed is None:
                self.flush()
        finally:
            self._release()

    def _release(self) -> None:
        if self._executor is not None:
            self._executor.shutdown(wait=True)
            self._executor = None
        if self._fd >= 0:
            os.close(self._fd)
            self._fd = -1
