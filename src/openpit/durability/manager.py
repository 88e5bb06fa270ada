"""The data directory as one object: recover on open, journal, snapshot, close.

Layout of the data directory (default ``./openpit-data``)::

    LOCK                      flock'ed while a process owns the directory
    journal/<seq>.wal         write-ahead journal segments (``journal.py``)
    snapshots/<seq>.snap      the newest snapshots (``snapshot.py``)
    openpit.sqlite3           users, keys, alerts, order/trade history (``openpit.store``)

Invariants:
- One process owns a data directory at a time (an exclusive ``flock`` on ``LOCK``).
- ``open`` recovers before anything is written, and the writer continues at
  ``recovered.seq + 1``: sequence numbers are never reused and never skip.
- ``append``/``commit`` are the server's journal (``openpit.venue.service.Journal``);
  a snapshot is taken only at a seq that is journaled, after committing it.
- Journal segments are pruned only when covered by the *oldest* kept snapshot, so
  falling back to the previous snapshot still finds its journal tail.
"""

from __future__ import annotations

import asyncio
import logging
import os
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Generic

from openpit.durability.errors import RecoveryError
from openpit.durability.journal import (
    DEFAULT_SEGMENT_BYTES,
    JOURNAL_DIR,
    FsyncFn,
    FsyncMode,
    JournalWriter,
    default_fsync,
)
from openpit.durability.private import open_private, tighten
from openpit.durability.recovery import Recovered, ResultHook, T, prune_journal, recover
from openpit.durability.snapshot import (
    SNAPSHOT_DIR,
    SnapshotInfo,
    SnapshotPolicy,
    SnapshotStore,
    dump_target,
)

log = logging.getLogger("openpit.durability")

DEFAULT_DATA_DIR = Path("openpit-data")

BeforeWrite = Callable[[int], Awaitable[None]]


@dataclass(frozen=True, slots=True)
class DurabilityConfig:
    data_dir: Path = DEFAULT_DATA_DIR
    fsync: FsyncMode = FsyncMode.BATCH
    segment_bytes: int = DEFAULT_SEGMENT_BYTES
    snapshot_every_commands: int = 100_000
    snapshot_every_seconds: float = 300.0  # 0 disables the time trigger
    keep_snapshots: int = 2
    prune_journal: bool = True


class Durability(Generic[T]):
    """Owns a data directory for one replay target (the venue). Build with ``open``."""

    def __init__(
        self,
        config: DurabilityConfig,
        recovered: Recovered[T],
        writer: JournalWriter,
        snapshots: SnapshotStore,
        lock: IO[bytes] | None,
        clock: Callable[[], float],
    ) -> None:
        self.config = config
        self.recovered = recovered
        self.target = recovered.target
        self.writer = writer
        self.snapshots = snapshots
        self._lock = lock
        self._clock = clock
        self._policy = SnapshotPolicy(config.snapshot_every_commands, config.snapshot_every_seconds)
        self._policy.reset(recovered.seq, clock())
        self._snapshotting = False

    @classmethod
    def open(
        cls,
        factory: Callable[[], T],
        config: DurabilityConfig | None = None,
        *,
        on_result: ResultHook | None = None,
        fsync: FsyncFn = default_fsync,
        clock: Callable[[], float] = time.monotonic,
    ) -> Durability[T]:
        """Lock the data directory, recover the target, open the journal for appending."""
        config = config or DurabilityConfig()
        data_dir = Path(config.data_dir)
        tighten(data_dir)  # 0700, files 0600: older data directories were 0755/0644
        lock = _lock(data_dir)
        try:
            snapshots = SnapshotStore(data_dir / SNAPSHOT_DIR, keep=config.keep_snapshots)
            recovered = recover(
                data_dir / JOURNAL_DIR, factory, snapshots=snapshots, on_result=on_result
            )
            writer = JournalWriter(
                data_dir / JOURNAL_DIR,
                recovered.seq + 1,
                mode=config.fsync,
                segment_bytes=config.segment_bytes,
                fsync=fsync,
            )
        except BaseException:
            if lock is not None:
                lock.close()
            raise
        if config.fsync is FsyncMode.OFF:
            log.warning("journal fsync is off: a machine crash can lose acknowledged commands")
        return cls(config, recovered, writer, snapshots, lock, clock)

    # -- the server's journal -------------------------------------------------------------
    def append(self, seq: int, ts: int, payload: bytes) -> None:
        self.writer.append(seq, ts, payload)

    async def commit(self) -> None:
        await self.writer.commit()

    @property
    def durable_seq(self) -> int:
        return self.writer.durable_seq

    # -- snapshots ----------------------------------------------------------------------
    async def maybe_snapshot(self, before_write: BeforeWrite | None = None) -> SnapshotInfo | None:
        """Snapshot if the policy says so (and none is being written); cheap otherwise."""
        if self._snapshotting or not self._policy.due(self.target.seq, self._clock()):
            return None
        return await self.snapshot(before_write)

    async def snapshot(self, before_write: BeforeWrite | None = None) -> SnapshotInfo:
        """Pickle the target now (on the loop), commit its seq, write the file off-loop.

        ``before_write(seq)`` is awaited after the commit and before the file is written:
        a projection fed by the results (the history store) catches up to ``seq`` there,
        because a recovery from this snapshot replays — and refeeds — only what follows.
        """
        seq, state_hash, payload = self._dump()
        self._snapshotting = True
        try:
            await self.writer.commit()
            if before_write is not None:
                await before_write(seq)
            loop = asyncio.get_running_loop()
            info = await loop.run_in_executor(None, self._write, seq, state_hash, payload)
        finally:
            self._snapshotting = False
        self._policy.reset(seq, self._clock())
        return info

    def snapshot_sync(self) -> SnapshotInfo:
        seq, state_hash, payload = self._dump()
        self.writer.flush()
        info = self._write(seq, state_hash, payload)
        self._policy.reset(seq, self._clock())
        return info

    def _dump(self) -> tuple[int, str, bytes]:
        if self.target.seq != self.writer.appended_seq:
            raise RecoveryError(
                f"snapshot at seq {self.target.seq} but the journal holds up to "
                f"{self.writer.appended_seq}: append every executed command first"
            )
        return dump_target(self.target)

    def _write(self, seq: int, state_hash: str, payload: bytes) -> SnapshotInfo:
        started = time.perf_counter()
        info = self.snapshots.write(seq, state_hash, payload)
        if self.config.prune_journal:
            kept = self.snapshots.list()
            if len(kept) >= self.snapshots.keep:
                prune_journal(self.config.data_dir / JOURNAL_DIR, kept[0][0])
        log.info(
            "snapshot: seq %d, %d bytes, %.3f s", seq, info.size, time.perf_counter() - started
        )
        return info

    # -- closing ------------------------------------------------------------------------
    async def close(self) -> None:
        try:
            await self.writer.close()
        finally:
            self._unlock()

    def close_sync(self) -> None:
        try:
            self.writer.close_sync()
        finally:
            self._unlock()

    def _unlock(self) -> None:
        if self._lock is not None:
            self._lock.close()
            self._lock = None


def _lock(data_dir: Path) -> IO[bytes] | None:
    try:
        import fcntl
    except ImportError:  # pragma: no cover - Windows: no advisory lock
        return None
    f = os.fdopen(open_private(data_dir / "LOCK", os.O_WRONLY | os.O_CREAT | os.O_APPEND), "ab")
    try:
        fcntl.flock(f.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError as exc:
        f.close()
        raise RecoveryError(f"{data_dir} is in use by another openpit process") from exc
    return f
