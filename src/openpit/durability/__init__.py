"""Durability: the write-ahead journal, snapshots and crash recovery.

An acknowledged command is never lost: the venue appends every command to the
journal and publishes its result only after ``commit()`` made it durable; on start-up
the latest snapshot plus the journal tail rebuild exactly the state (and sequence
number) the venue had. See docs/durability.md for formats and guarantees.
"""

from openpit.durability.errors import (
    DurabilityError,
    JournalCorrupt,
    JournalWriteFailed,
    RecoveryError,
    SnapshotError,
)
from openpit.durability.journal import FsyncMode, JournalWriter
from openpit.durability.manager import Durability, DurabilityConfig
from openpit.durability.reader import JournalReader, Record, TornTail, read_journal
from openpit.durability.recovery import Recovered, ReplayTarget, prune_journal, recover
from openpit.durability.snapshot import SnapshotInfo, SnapshotPolicy, SnapshotStore

__all__ = [
    "Durability",
    "DurabilityConfig",
    "DurabilityError",
    "FsyncMode",
    "JournalCorrupt",
    "JournalReader",
    "JournalWriteFailed",
    "JournalWriter",
    "Record",
    "Recovered",
    "RecoveryError",
    "ReplayTarget",
    "SnapshotError",
    "SnapshotInfo",
    "SnapshotPolicy",
    "SnapshotStore",
    "TornTail",
    "prune_journal",
    "read_journal",
    "recover",
]
