"""Snapshots: the whole replay target, pickled, so recovery replays only a journal tail.

File format (little-endian; see docs/durability.md)::

    <data>/snapshots/<seq:020d>.snap
    header:  b"OPITSNP1" | seq u64 | payload_len u64 | crc32(payload) u32 | hash_len u16
    then:    state_hash (ASCII, hash_len bytes) | payload (pickle of the target)

Invariants:
- A snapshot is written atomically: temp file, fsync, rename, fsync of the directory;
  a crash leaves either the old set of snapshots or the new one, never a partial file
  under a snapshot name (stray ``*.tmp`` files are removed on the next write).
- A snapshot at seq S is only taken once every journal record up to S is durable, so
  the journal tail after S always exists (``Durability.maybe_snapshot`` commits first).
- Loading checks magic, length and CRC, unpickles, and verifies that the target's
  ``seq`` and ``state_hash()`` equal the recorded ones; any mismatch is a
  ``SnapshotError`` and recovery falls back to the previous snapshot.
- The newest ``keep`` snapshots (default 2) are kept; older ones are deleted.
- Pickle executes code on load: the data directory must be trusted (it is the venue's own).
"""

from __future__ import annotations

import logging
import os
import pickle
import struct
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Final, Protocol, TypeVar

from openpit.durability.errors import SnapshotError
from openpit.durability.journal import fsync_dir
from openpit.durability.private import open_private, private_dir

log = logging.getLogger("openpit.durability")

SNAPSHOT_MAGIC: Final = b"OPITSNP1"
SNAPSHOT_HEADER: Final = struct.Struct("<8sQQIH")
SNAPSHOT_SUFFIX: Final = ".snap"
SNAPSHOT_DIR: Final = "snapshots"


class Snapshottable(Protocol):
    @property
    def seq(self) -> int: ...

    def state_hash(self) -> str: ...


S = TypeVar("S", bound=Snapshottable)


@dataclass(frozen=True, slots=True)
class SnapshotInfo:
    seq: int
    state_hash: str
    path: Path
    size: int


def dump_target(target: Snapshottable) -> tuple[int, str, bytes]:
    """(seq, state_hash, pickle) of ``target`` at this instant; call on the writer's thread."""
    return target.seq, target.state_hash(), pickle.dumps(target, protocol=pickle.HIGHEST_PROTOCOL)


class SnapshotStore:
    """The snapshot files in one directory."""

    def __init__(self, directory: str | os.PathLike[str], *, keep: int = 2) -> None:
        if keep < 1:
            raise ValueError("keep at least one snapshot")
        self.directory = Path(directory)
        self.keep = keep

    def list(self) -> list[tuple[int, Path]]:
        """(seq, path) of every snapshot file, oldest first."""
        if not self.directory.is_dir():
            return []
        found = []
        for path in self.directory.iterdir():
            stem = path.name.removesuffix(SNAPSHOT_SUFFIX)
            if path.suffix == SNAPSHOT_SUFFIX and len(stem) == 20 and stem.isdigit():
                found.append((int(stem), path))
        return sorted(found)

    def write(self, seq: int, state_hash: str, payload: bytes) -> SnapshotInfo:
        """Atomically write one snapshot, then delete all but the newest ``keep``."""
        private_dir(self.directory)
        for stray in self.directory.glob("*.tmp"):
            stray.unlink(missing_ok=True)
        hash_bytes = state_hash.encode("ascii")
        header = SNAPSHOT_HEADER.pack(
            SNAPSHOT_MAGIC, seq, len(payload), zlib.crc32(payload), len(hash_bytes)
        )
        final = self.directory / f"{seq:020d}{SNAPSHOT_SUFFIX}"
        tmp = self.directory / f"{seq:020d}.tmp"
        with os.fdopen(open_private(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC), "wb") as f:
            f.write(header)
            f.write(hash_bytes)
            f.write(payload)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, final)
        fsync_dir(self.directory)
        for _, old in self.list()[: -self.keep]:
            old.unlink(missing_ok=True)
        fsync_dir(self.directory)
        size = len(header) + len(hash_bytes) + len(payload)
        return SnapshotInfo(seq, state_hash, final, size)

    def read(self, path: Path) -> tuple[SnapshotInfo, bytes]:
        """Header-checked (magic, length, CRC) raw payload of one snapshot file."""
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise SnapshotError(f"{path}: cannot read: {exc}") from exc
        if len(data) < SNAPSHOT_HEADER.size:
            raise SnapshotError(f"{path}: short header")
        magic, seq, length, crc, hash_len = SNAPSHOT_HEADER.unpack_from(data, 0)
        if magic != SNAPSHOT_MAGIC:
            raise SnapshotError(f"{path}: bad magic {magic!r}")
        start = SNAPSHOT_HEADER.size + hash_len
        if len(data) != start + length:
            raise SnapshotError(f"{path}: size {len(data)}, header says {start + length}")
        payload = data[start:]
        if zlib.crc32(payload) != crc:
            raise SnapshotError(f"{path}: CRC mismatch")
        state_hash = data[SNAPSHOT_HEADER.size : start].decode("ascii", errors="replace")
        return SnapshotInfo(seq, state_hash, path, len(data)), payload

    def load(self, path: Path, kind: type[S]) -> tuple[S, SnapshotInfo]:
        """Unpickle one snapshot and verify its type, seq and state hash."""
        info, payload = self.read(path)
        try:
            target = pickle.loads(payload)
        except Exception as exc:
            raise SnapshotError(f"{path}: cannot unpickle: {exc!r}") from exc
        if not isinstance(target, kind):
            raise SnapshotError(f"{path}: holds {type(target).__name__}, not {kind.__name__}")
        if target.seq != info.seq:
            raise SnapshotError(f"{path}: target seq {target.seq}, snapshot says {info.seq}")
        actual = target.state_hash()
        if actual != info.state_hash:
            raise SnapshotError(
                f"{path}: state hash after loading is {actual}, snapshot says {info.state_hash}"
            )
        return target, info

    def load_latest(self, kind: type[S]) -> tuple[S, SnapshotInfo] | None:
        """The newest snapshot that loads and verifies; older ones are tried in turn."""
        for seq, path in reversed(self.list()):
            try:
                return self.load(path, kind)
            except SnapshotError as exc:
                log.error("snapshot %d unusable, trying an older one: %s", seq, exc)
        return None


class SnapshotPolicy:
    """When to snapshot: every ``every_commands`` commands or ``every_seconds`` seconds
    (whichever comes first), and only if at least one command happened since the last."""

    def __init__(self, every_commands: int = 100_000, every_seconds: float = 300.0) -> None:
        self.every_commands = every_commands
        self.every_seconds = every_seconds
        self.last_seq = 0
        self.last_time: float | None = None

    def reset(self, seq: int, now: float) -> None:
        self.last_seq = seq
        self.last_time = now

    def due(self, seq: int, now: float) -> bool:
        if seq <= self.last_seq:
            return False
        if self.last_time is None:
            self.last_time = now
        if self.every_commands > 0 and seq - self.last_seq >= self.every_commands:
            return True
        return self.every_seconds > 0 and now - self.last_time >= self.every_seconds
