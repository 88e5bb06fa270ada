"""Journal writer: record format, group commit, fsync modes, rotation, failures."""

from __future__ import annotations

import asyncio
import os
import threading
from pathlib import Path

import pytest

from openpit.durability import (
    FsyncMode,
    JournalReader,
    JournalWriteFailed,
    JournalWriter,
    read_journal,
)
from openpit.durability.journal import (
    RECORD_HEADER,
    SEGMENT_HEADER,
    encode_record,
    list_segments,
    record_crc,
)

from .helpers import CountingFsync


def test_record_encoding_layout_matches_documented_format() -> None:
    rec = encode_record(7, -3, b"abc")
    length, crc, seq, ts = RECORD_HEADER.unpack_from(rec, 0)
    assert (length, seq, ts) == (3, 7, -3)
    assert crc == record_crc(7, -3, b"abc")
    assert rec[RECORD_HEADER.size :] == b"abc"
    assert RECORD_HEADER.size == 24


def test_journal_records_read_back_in_order(tmp_path: Path) -> None:
    writer = JournalWriter(tmp_path, 1, mode=FsyncMode.BATCH)
    for seq in range(1, 101):
        writer.append(seq, 1000 + seq, f"cmd{seq}".encode())
    writer.close_sync()
    records = list(read_journal(tmp_path))
    assert [r.seq for r in records] == list(range(1, 101))
    assert records[41].ts == 1042 and records[41].payload == b"cmd42"


def test_journal_append_out_of_sequence_raises(tmp_path: Path) -> None:
    writer = JournalWriter(tmp_path, 5)
    with pytest.raises(ValueError, match="expected 5"):
        writer.append(6, 0, b"x")
    writer.append(5, 0, b"x")
    with pytest.raises(ValueError, match="expected 6"):
        writer.append(5, 0, b"x")
    writer.close_sync()


def test_group_commit_appends_in_one_tick_share_one_fsync(tmp_path: Path) -> None:
    fsync = CountingFsync()
    writer = JournalWriter(tmp_path, 1, mode=FsyncMode.BATCH, fsync=fsync)
    counter = iter(range(1, 1000))

    async def client() -> None:
        writer.append(next(counter), 0, b"order")
        await writer.commit()

    async def main() -> None:
        await asyncio.gather(*(client() for _ in range(50)))
        assert writer.durable_seq == 50
        await writer.close()

    asyncio.run(main())
    assert fsync.calls == 1
    assert writer.groups == 1
    assert [r.seq for r in read_journal(tmp_path)] == list(range(1, 51))


def test_group_commit_appends_during_fsync_form_the_next_group(tmp_path: Path) -> None:
    release = threading.Event()
    started = threading.Event()
    calls = []

    def slow_fsync(fd: int) -> None:
        calls.append(fd)
        started.set()
        release.wait(10)
        os.fsync(fd)

    writer = JournalWriter(tmp_path, 1, mode=FsyncMode.BATCH, fsync=slow_fsync)

    async def main() -> None:
        writer.append(1, 0, b"first")
        first = asyncio.ensure_future(writer.commit())
        await asyncio.get_running_loop().run_in_executor(None, started.wait, 10)
        waiters = []
        for seq in range(2, 12):
            writer.append(seq, 0, b"later")
            waiters.append(asyncio.ensure_future(writer.commit()))
        await asyncio.sleep(0)
        assert writer.durable_seq == 0
        release.set()
        await asyncio.gather(first, *waiters)
        assert writer.durable_seq == 11
        await writer.close()

    asyncio.run(main())
    assert len(calls) == 2


def test_commit_with_nothing_appended_returns_without_fsync(tmp_path: Path) -> None:
    fsync = CountingFsync()
    writer = JournalWriter(tmp_path, 1, fsync=fsync)

    async def main() -> None:
        await writer.commit()
        await writer.close()

    asyncio.run(main())
    assert fsync.calls == 0


@pytest.mark.parametrize(
    ("mode", "expected_fsyncs"),
    [(FsyncMode.ALWAYS, 20), (FsyncMode.BATCH, 1), (FsyncMode.OFF, 0)],
)
def test_fsync_mode_group_of_twenty_fsyncs_as_documented(
    tmp_path: Path, mode: FsyncMode, expected_fsyncs: int
) -> None:
    fsync = CountingFsync()
    writer = JournalWriter(tmp_path, 1, mode=mode, fsync=fsync)

    async def main() -> None:
        for seq in range(1, 21):
            writer.append(seq, seq, b"p")
        await writer.commit()
        assert writer.durable_seq == 20
        await writer.close()

    asyncio.run(main())
    assert fsync.calls == expected_fsyncs
    assert [r.seq for r in read_journal(tmp_path)] == list(range(1, 21))


def test_journal_segment_rotation_by_size_keeps_continuity(tmp_path: Path) -> None:
    writer = JournalWriter(tmp_path, 1, segment_bytes=1000)
    for seq in range(1, 301):
        writer.append(seq, seq, b"x" * 40)
        if seq % 7 == 0:
            writer.flush()
    writer.close_sync()
    segments = list_segments(tmp_path)
    assert len(segments) > 5
    reader = JournalReader(tmp_path)
    assert [r.seq for r in reader.records()] == list(range(1, 301))
    # every segment is named after (and its header holds) its first record's seq
    for first, path in segments:
        data = path.read_bytes()
        assert SEGMENT_HEADER.unpack_from(data, 0)[1] == first
        assert RECORD_HEADER.unpack_from(data, SEGMENT_HEADER.size)[2] == first


def test_journal_fsync_failure_poisons_writer(tmp_path: Path) -> None:
    def broken_fsync(fd: int) -> None:
        raise OSError(5, "Input/output error")

    writer = JournalWriter(tmp_path, 1, fsync=broken_fsync)

    async def main() -> None:
        writer.append(1, 0, b"a")
        with pytest.raises(JournalWriteFailed, match="after seq 0"):
            await writer.commit()
        with pytest.raises(JournalWriteFailed):
            writer.append(2, 0, b"b")
        with pytest.raises(JournalWriteFailed):
            await writer.commit()
        await writer.close()

    asyncio.run(main())
    assert writer.durable_seq == 0


def test_journal_reopen_at_next_seq_continues_sequence(tmp_path: Path) -> None:
    writer = JournalWriter(tmp_path, 1)
    for seq in range(1, 11):
        writer.append(seq, 0, b"a")
    writer.close_sync()
    writer = JournalWriter(tmp_path, 11)
    writer.close_sync()  # nothing appended: leaves an empty segment named 11
    writer = JournalWriter(tmp_path, 11)  # reuses the empty segment
    for seq in range(11, 16):
        writer.append(seq, 0, b"b")
    writer.close_sync()
    assert [r.seq for r in read_journal(tmp_path)] == list(range(1, 16))
    assert [first for first, _ in list_segments(tmp_path)] == [1, 11]


def test_journal_writer_refuses_segment_that_already_holds_records(tmp_path: Path) -> None:
    writer = JournalWriter(tmp_path, 1)
    writer.append(1, 0, b"a")
    writer.close_sync()
    with pytest.raises(JournalWriteFailed, match="recover before writing"):
        JournalWriter(tmp_path, 1)
