"""Reading the journal back: validation, torn-tail repair, corruption detection.

Invariants:
- Records come out in sequence order with no gap and no repeat, across segments; a
  record is yielded only after its CRC has been checked, so nothing is half-applied.
  Records at or below ``after_seq`` (already in the snapshot) are walked by header
  only — bounds and seq continuity, no CRC — except a segment's final record, which
  is always checked.
- A *torn tail* — a problem (short header, short payload, bad CRC, bad segment
  header) in the last segment after which no valid record follows — is what a crash
  mid-write leaves behind; it is logged and, with ``repair=True``, truncated away.
- Anything else is ``JournalCorrupt`` naming the segment, the byte offset and the
  record's seq: a bad record followed by a valid one, a problem in any segment but the
  last, a seq gap or a non-increasing seq (even with a valid CRC), a segment whose
  name and header disagree. Data is never silently skipped.
"""

from __future__ import annotations

import logging
import os
import struct
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from openpit.durability.errors import JournalCorrupt
from openpit.durability.journal import (
    MAX_PAYLOAD,
    RECORD_HEADER,
    SEGMENT_HEADER,
    SEGMENT_MAGIC,
    fsync_dir,
    list_segments,
    record_crc,
)

log = logging.getLogger("openpit.durability")

_U64 = struct.Struct("<Q")


@dataclass(frozen=True, slots=True)
class Record:
    seq: int
    ts: int
    payload: bytes


@dataclass(frozen=True, slots=True)
class TornTail:
    """What was cut off the end of the journal after a crash mid-write."""

    segment: Path
    offset: int  # where the file was (or would be) truncated
    dropped_bytes: int
    after_seq: int  # the last complete record before the tear
    problem: str


class JournalReader:
    """Iterates the journal in ``directory``; ``records()`` validates as it goes.

    After a full iteration, ``last_seq`` is the last valid record's seq (or the seq
    before the first segment when the journal is empty) and ``torn`` describes the torn
    tail, if any. With ``repair=True`` the torn tail is truncated on disk (a segment
    torn inside its header is removed), so a writer can continue after ``last_seq``.
    """

    def __init__(self, directory: str | os.PathLike[str], *, repair: bool = False) -> None:
        self.directory = Path(directory)
        self.repair = repair
        self.torn: TornTail | None = None
        self.last_seq: int | None = None
        self.records_read = 0

    def first_seq(self) -> int | None:
        segments = list_segments(self.directory)
        return segments[0][0] if segments else None

    def records(self, after_seq: int = 0, until_seq: int | None = None) -> Iterator[Record]:
        """Yield every record with ``after_seq < seq <= until_seq``, in order.

        Segments that end at or before ``after_seq`` are skipped unread (the last segment
        is always read, so its tail is checked). ``until_seq`` stops early without
        looking further (e.g. a live reader stopping at the writer's durable seq).
        """
        segments = list_segments(self.directory)
        expected: int | None = None
        for i, (first, path) in enumerate(segments):
            is_last = i == len(segments) - 1
            if not is_last and segments[i + 1][0] - 1 <= after_seq:
                continue
            if expected is not None and first != expected:
                raise JournalCorrupt(
                    path,
                    0,
                    expected,
                    f"segment starts at seq {first} but the previous one ends at {expected - 1}",
                )
            for record in self._segment(path, first, is_last, after_seq):
                if until_seq is not None and record.seq > until_seq:
                    return
                self.records_read += 1
                yield record
            expected = self.last_seq + 1 if self.last_seq is not None else first
            if self.last_seq is None or self.last_seq < first:
                self.last_seq = first - 1

    def _segment(
        self, path: Path, name_first: int, is_last: bool, skip_through: int
    ) -> Iterator[Record]:
        """Validate one segment, yielding records with seq > ``skip_through``.

        Records at or below ``skip_through`` (covered by the snapshot) are walked by
        their headers only — length, bounds and seq continuity — without a CRC check,
        except the segment's final record, which is always checked (it may be torn).
        """
        data = path.read_bytes()
        n = len(data)
        expected = name_first
        if n < SEGMENT_HEADER.size:
            self._bad(path, data, 0, expected, "short segment header", is_last)
            return
        magic, header_first = SEGMENT_HEADER.unpack_from(data, 0)
        if magic != SEGMENT_MAGIC:
            self._bad(path, data, 0, expected, f"bad segment magic {magic!r}", is_last)
            return
        if header_first != name_first:
            raise JournalCorrupt(
                path, 0, name_first, f"segment header says first seq {header_first}"
            )
        off = SEGMENT_HEADER.size
        view = memoryview(data)
        hsize = RECORD_HEADER.size
        while off < n:
            if n - off < hsize:
                self._bad(path, data, off, expected, "short record header", is_last)
                return
            length, crc, seq, ts = RECORD_HEADER.unpack_from(data, off)
            end = off + hsize + length
            if length > MAX_PAYLOAD:
                problem = f"record length {length} out of range (header seq {seq})"
                self._bad(path, data, off, expected, problem, is_last)
                return
            if end > n:
                problem = f"record of {length} bytes runs past the end of the segment"
                self._bad(path, data, off, expected, problem, is_last)
                return
            if seq <= skip_through and end < n and seq == expected:
                self.last_seq = seq
                expected += 1
                off = end
                continue
            payload = view[off + hsize : end]
            if record_crc(seq, ts, payload) != crc:
                problem = f"CRC mismatch (header seq {seq})"
                self._bad(path, data, off, expected, problem, is_last)
                return
            if seq != expected:
                kind = "non-increasing seq" if seq < expected else "seq gap"
                raise JournalCorrupt(path, off, seq, f"{kind}: expected seq {expected}")
            self.last_seq = seq
            if seq > skip_through:
                yield Record(seq, ts, bytes(payload))
            expected += 1
            off = end

    def _bad(
        self, path: Path, data: bytes, off: int, expected: int, problem: str, is_last: bool
    ) -> None:
        if not is_last:
            raise JournalCorrupt(path, off, expected, f"{problem} (not the last segment)")
        found = _valid_record_after(data, off + 1, expected)
        if found is not None:
            at, seq = found
            raise JournalCorrupt(
                path, off, expected, f"{problem}, but a valid record (seq {seq}) follows at {at}"
            )
        self.torn = TornTail(path, off, len(data) - off, expected - 1, problem)
        log.warning(
            "journal: torn tail in %s at byte offset %d (%s): %d bytes after seq %d %s",
            path,
            off,
            problem,
            len(data) - off,
            expected - 1,
            "truncated" if self.repair else "ignored (read-only)",
        )
        if self.repair:
            _truncate(path, off)


def _valid_record_after(data: bytes, start: int, expected: int) -> tuple[int, int] | None:
    """An offset >= ``start`` holding a complete, CRC-valid record whose seq is one that
    could legitimately follow (``expected`` ... ``expected + remaining/24``), or None."""
    n = len(data)
    hsize = RECORD_HEADER.size
    if n - start < hsize:
        return None
    highest = expected + (n - start) // hsize
    # The seq field sits at +8 in a header: scan every byte alignment for a u64 in range.
    for shift in range(8):
        base = start + 8 + shift
        usable = (n - base) // 8 * 8
        if usable <= 0:
            continue
        for i, (value,) in enumerate(_U64.iter_unpack(data[base : base + usable])):
            if expected <= value <= highest:
                at = base + 8 * i - 8
                length, crc, seq, ts = RECORD_HEADER.unpack_from(data, at)
                end = at + hsize + length
                if (
                    length <= MAX_PAYLOAD
                    and end <= n
                    and record_crc(seq, ts, memoryview(data)[at + hsize : end]) == crc
                ):
                    return at, seq
    return None


def _truncate(path: Path, offset: int) -> None:
    if offset == 0:
        path.unlink()
        fsync_dir(path.parent)
        return
    fd = os.open(path, os.O_WRONLY)
    try:
        os.ftruncate(fd, offset)
        os.fsync(fd)
    finally:
        os.close(fd)


def read_journal(
    directory: str | os.PathLike[str], after_seq: int = 0, until_seq: int | None = None
) -> Iterator[Record]:
    """Read-only iteration (no repair): tools, audits, replaying events for resume."""
    return JournalReader(directory).records(after_seq, until_seq)
