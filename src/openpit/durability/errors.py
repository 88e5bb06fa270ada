"""Errors raised by the journal, the snapshots and recovery.

Invariants:
- Every error that stops start-up names the file it is about; journal corruption
  also names the byte offset and the sequence number of the offending record, so an
  operator can inspect (and, knowingly, truncate) exactly that spot.
"""

from __future__ import annotations

from pathlib import Path

from openpit.core.errors import OpenpitError


class DurabilityError(OpenpitError):
    """Base of every durability error."""


class JournalCorrupt(DurabilityError):
    """A journal record that is not a torn tail is invalid: start-up must stop.

    ``seq`` is the sequence number the record carries (or the one expected there when
    the record is unreadable); ``offset`` is the byte offset of its header in ``segment``.
    """

    def __init__(self, segment: Path, offset: int, seq: int | None, problem: str) -> None:
        self.segment = segment
        self.offset = offset
        self.seq = seq
        self.problem = problem
        where = f"{segment} at byte offset {offset}"
        rec = f"record seq {seq}" if seq is not None else "record"
        super().__init__(
            f"journal corrupt: {rec} in {where}: {problem} "
            "(refusing to start; see docs/durability.md, 'Corruption')"
        )


class JournalWriteFailed(DurabilityError):
    """A write or fsync failed: nothing after the last commit is known to be durable.

    The writer refuses every later append; the process must stop and recover from disk
    (retrying an fsync after a failure can report success for lost data).
    """


class SnapshotError(DurabilityError):
    """A snapshot file is unreadable or does not match its recorded seq / state hash."""


class RecoveryError(DurabilityError):
    """The data directory cannot be recovered into a consistent state."""
