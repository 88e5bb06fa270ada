"""Recovery: latest valid snapshot + replay of the journal tail = the state before the crash.

Procedure (``recover``):
1. Load the newest snapshot that passes its checks (magic, CRC, unpickle, seq and
   ``state_hash()`` equal to the recorded ones); fall back to older ones; with none,
   start from ``factory()`` (a fresh target at seq 0).
2. Read the journal from the segment holding ``snapshot.seq + 1``: every record is
   CRC-checked and must carry exactly the next seq. A torn tail is truncated (and
   logged); any other problem raises ``JournalCorrupt``.
3. Decode and ``execute`` each record with its recorded timestamp; after each one the
   target's seq must equal the record's seq.
4. Log how many commands were replayed and how long it took.

Invariants:
- Deterministic targets only: the same commands with the same timestamps yield the
  same state (``state_hash``) — recovery relies on it, tests check it.
- Sequence numbers continue: the next command after recovery gets ``result.seq + 1``;
  a journal that starts after ``snapshot.seq + 1`` is a gap and stops recovery.
"""

from __future__ import annotations

import itertools
import logging
import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Generic, Protocol, TypeVar

from openpit.core.commands import Command, decode_command
from openpit.durability.errors import JournalCorrupt, RecoveryError
from openpit.durability.journal import fsync_dir, list_segments
from openpit.durability.reader import JournalReader, TornTail
from openpit.durability.snapshot import SnapshotInfo, SnapshotStore

log = logging.getLogger("openpit.durability")


class ReplayTarget(Protocol):
    """What the journal replays into: the venue (``openpit.venue.Venue``) or a test double."""

    @property
    def seq(self) -> int: ...

    def execute(self, command: Command, ts: int) -> object: ...

    def state_hash(self) -> str: ...


T = TypeVar("T", bound=ReplayTarget)

ResultHook = Callable[[object], None]


@dataclass(frozen=True, slots=True)
class Recovered(Generic[T]):
    target: T
    seq: int  # the last applied seq; the next command gets seq + 1
    snapshot: SnapshotInfo | None
    replayed: int
    elapsed_s: float
    torn: TornTail | None

    @property
    def commands_per_s(self) -> float:
        return self.replayed / self.elapsed_s if self.elapsed_s > 0 else 0.0


def recover(
    journal_dir: str | os.PathLike[str],
    factory: Callable[[], T],
    *,
    snapshots: SnapshotStore | None = None,
    repair: bool = True,
    on_result: ResultHook | None = None,
    decode: Callable[[bytes], Command] = decode_command,
) -> Recovered[T]:
    """Rebuild the target from ``snapshots`` (optional) and the journal in ``journal_dir``.

    ``factory`` makes a fresh target (seq 0); its type is also the type a snapshot must
    hold. ``on_result`` sees each replayed command's result (e.g. to rebuild history).
    """
    started = time.perf_counter()
    target = factory()
    snapshot: SnapshotInfo | None = None
    if snapshots is not None:
        loaded = snapshots.load_latest(type(target))
        if loaded is not None:
            target, snapshot = loaded
            log.info("recovery: loaded snapshot seq %d (%d bytes)", snapshot.seq, snapshot.size)
        elif snapshots.list():
            log.error("recovery: no usable snapshot; replaying the journal from the start")
    if snapshot is None and target.seq != 0:
        raise RecoveryError(f"factory() made a target at seq {target.seq}, expected 0")
    journal = Path(journal_dir)
    _check_start(journal, target.seq)
    reader = JournalReader(journal, repair=repair)
    replayed = 0
    for record in reader.records(after_seq=target.seq):
        expected = target.seq + 1
        if record.seq != expected:  # only possible for the very first record read
            segments = list_segments(journal)
            raise JournalCorrupt(
                segments[0][1] if segments else journal,
                0,
                record.seq,
                f"journal resumes at seq {record.seq} but the state is at seq {target.seq}",
            )
        result = target.execute(decode(record.payload), record.ts)
        if target.seq != record.seq:
            raise RecoveryError(
                f"replaying seq {record.seq} left the target at seq {target.seq}: "
                "the target does not assign one seq per command"
            )
        if on_result is not None:
            on_result(result)
        replayed += 1
    if reader.last_seq is not None and reader.last_seq < target.seq:
        log.warning(
            "recovery: journal ends at seq %d, before the snapshot's seq %d",
            reader.last_seq,
            target.seq,
        )
    elapsed = time.perf_counter() - started
    log.info(
        "recovery: at seq %d; replayed %d commands after %s in %.3f s",
        target.seq,
        replayed,
        f"snapshot seq {snapshot.seq}" if snapshot else "a fresh start",
        elapsed,
    )
    return Recovered(target, target.seq, snapshot, replayed, elapsed, reader.torn)


def _check_start(journal: Path, seq: int) -> None:
    """The journal must hold seq + 1 (or end at or before seq); no hole after the state."""
    segments = list_segments(journal)
    if segments and segments[0][0] > seq + 1:
        first, path = segments[0]
        raise JournalCorrupt(
            path,
            0,
            first,
            f"journal starts at seq {first} but seq {seq + 1} is needed "
            f"(state recovered up to seq {seq}); records are missing",
        )


def prune_journal(journal_dir: str | os.PathLike[str], covered_seq: int) -> list[Path]:
    """Delete segments whose every record is <= ``covered_seq`` (never the last one)."""
    segments = list_segments(Path(journal_dir))
    removed = []
    for (_first, path), (next_first, _) in itertools.pairwise(segments):
        if next_first - 1 <= covered_seq:
            path.unlink()
            removed.append(path)
        else:
            break
    if removed:
        fsync_dir(Path(journal_dir))
        log.info(
            "journal: removed %d segments covered by snapshot seq %d", len(removed), covered_seq
        )
    return removed
