"""Journal reader: torn tails are truncated, corruption anywhere else stops start-up."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from openpit.durability import JournalCorrupt, JournalReader, JournalWriter, read_journal
from openpit.durability.journal import RECORD_HEADER, SEGMENT_HEADER, encode_record, list_segments


def _write(directory: Path, count: int, *, first: int = 1, segment_bytes: int = 1 << 20) -> None:
    writer = JournalWriter(directory, first, segment_bytes=segment_bytes)
    for seq in range(first, first + count):
        writer.append(seq, 1000 + seq, b'{"cmd":"deposit","n":%d}' % seq)
        if seq % 5 == 0:
            writer.flush()
    writer.close_sync()


def _offsets(path: Path) -> list[int]:
    """Byte offset of every record header in a segment."""
    data = path.read_bytes()
    off, out = SEGMENT_HEADER.size, []
    while off < len(data):
        out.append(off)
        off += RECORD_HEADER.size + RECORD_HEADER.unpack_from(data, off)[0]
    return out


def test_torn_last_record_at_every_byte_offset_recovers_everything_before(tmp_path: Path) -> None:
    source = tmp_path / "source"
    _write(source, 12)
    ((_, seg),) = list_segments(source)
    data = seg.read_bytes()
    last = _offsets(seg)[-1]
    for cut in range(last + 1, len(data)):
        case = tmp_path / f"cut{cut}"
        case.mkdir()
        (case / seg.name).write_bytes(data[:cut])
        reader = JournalReader(case, repair=True)
        assert [r.seq for r in reader.records()] == list(range(1, 12))
        assert reader.torn is not None and reader.torn.offset == last
        assert reader.torn.after_seq == 11
        assert (case / seg.name).stat().st_size == last  # truncated on disk
        # the writer continues at 12 and the journal reads back whole
        writer = JournalWriter(case, 12)
        writer.append(12, 0, b"again")
        writer.close_sync()
        assert [r.seq for r in read_journal(case)] == list(range(1, 13))


def test_torn_tail_logs_a_warning_naming_the_segment(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    _write(tmp_path, 3)
    ((_, seg),) = list_segments(tmp_path)
    seg.write_bytes(seg.read_bytes()[:-5])
    with caplog.at_level(logging.WARNING, logger="openpit.durability"):
        assert len(list(JournalReader(tmp_path, repair=True).records())) == 2
    assert "torn tail" in caplog.text and seg.name in caplog.text


def test_torn_tail_read_only_reader_leaves_file_untouched(tmp_path: Path) -> None:
    _write(tmp_path, 3)
    ((_, seg),) = list_segments(tmp_path)
    seg.write_bytes(seg.read_bytes()[:-5])
    size = seg.stat().st_size
    assert [r.seq for r in read_journal(tmp_path)] == [1, 2]
    assert seg.stat().st_size == size


def test_zero_filled_tail_is_treated_as_torn(tmp_path: Path) -> None:
    _write(tmp_path, 4)
    ((_, seg),) = list_segments(tmp_path)
    size = seg.stat().st_size
    with open(seg, "ab") as f:
        f.write(b"\0" * 4096)
    reader = JournalReader(tmp_path, repair=True)
    assert [r.seq for r in reader.records()] == [1, 2, 3, 4]
    assert seg.stat().st_size == size


def test_torn_segment_header_of_last_segment_is_removed(tmp_path: Path) -> None:
    _write(tmp_path, 4)
    (tmp_path / "00000000000000000005.wal").write_bytes(b"OPIT")
    reader = JournalReader(tmp_path, repair=True)
    assert [r.seq for r in reader.records()] == [1, 2, 3, 4]
    assert reader.last_seq == 4
    assert len(list_segments(tmp_path)) == 1


def test_corrupt_middle_record_bad_crc_raises_naming_segment_offset_and_seq(
    tmp_path: Path,
) -> None:
    _write(tmp_path, 10)
    ((_, seg),) = list_segments(tmp_path)
    offsets = _offsets(seg)
    data = bytearray(seg.read_bytes())
    data[offsets[4] + RECORD_HEADER.size + 3] ^= 0xFF  # a payload byte of seq 5
    seg.write_bytes(bytes(data))
    with pytest.raises(JournalCorrupt) as info:
        list(JournalReader(tmp_path, repair=True).records())
    err = info.value
    assert (err.segment, err.offset, err.seq) == (seg, offsets[4], 5)
    assert str(seg) in str(err) and f"offset {offsets[4]}" in str(err) and "seq 5" in str(err)
    assert seg.stat().st_size == len(data)  # nothing truncated


def test_corrupt_middle_record_length_field_raises_not_truncates(tmp_path: Path) -> None:
    _write(tmp_path, 10)
    ((_, seg),) = list_segments(tmp_path)
    offsets = _offsets(seg)
    data = bytearray(seg.read_bytes())
    data[offsets[6] : offsets[6] + 4] = (10_000).to_bytes(4, "little")  # runs past the end
    seg.write_bytes(bytes(data))
    with pytest.raises(JournalCorrupt, match="seq 7") as info:
        list(JournalReader(tmp_path, repair=True).records())
    assert info.value.offset == offsets[6]
    assert seg.stat().st_size == len(data)


def test_corrupt_last_record_of_earlier_segment_raises(tmp_path: Path) -> None:
    _write(tmp_path, 60, segment_bytes=600)
    segments = list_segments(tmp_path)
    assert len(segments) >= 3
    _, seg = segments[0]
    seg.write_bytes(seg.read_bytes()[:-3])  # torn, but not in the last segment
    with pytest.raises(JournalCorrupt, match="not the last segment") as info:
        list(JournalReader(tmp_path, repair=True).records())
    assert info.value.segment == seg


def test_seq_gap_with_valid_crc_raises(tmp_path: Path) -> None:
    _write(tmp_path, 3)
    ((_, seg),) = list_segments(tmp_path)
    with open(seg, "ab") as f:
        f.write(encode_record(5, 0, b"skipped four"))
    with pytest.raises(JournalCorrupt, match="seq gap: expected seq 4") as info:
        list(JournalReader(tmp_path, repair=True).records())
    assert info.value.seq == 5


def test_non_increasing_seq_with_valid_crc_raises(tmp_path: Path) -> None:
    _write(tmp_path, 3)
    ((_, seg),) = list_segments(tmp_path)
    with open(seg, "ab") as f:
        f.write(encode_record(3, 0, b"repeat"))
    with pytest.raises(JournalCorrupt, match="non-increasing seq"):
        list(JournalReader(tmp_path, repair=True).records())


def test_missing_segment_between_segments_raises(tmp_path: Path) -> None:
    _write(tmp_path, 60, segment_bytes=600)
    segments = list_segments(tmp_path)
    segments[1][1].unlink()
    with pytest.raises(JournalCorrupt, match="previous one ends at") as info:
        list(JournalReader(tmp_path).records())
    assert info.value.segment == segments[2][1]


def test_segment_header_disagreeing_with_name_raises(tmp_path: Path) -> None:
    _write(tmp_path, 3)
    ((_, seg),) = list_segments(tmp_path)
    seg.rename(tmp_path / "00000000000000000002.wal")
    with pytest.raises(JournalCorrupt, match="header says first seq 1"):
        list(read_journal(tmp_path))


def test_reader_after_seq_skips_covered_segments_and_until_seq_stops(tmp_path: Path) -> None:
    _write(tmp_path, 60, segment_bytes=600)
    segments = list_segments(tmp_path)
    segments[0][1].write_bytes(b"garbage that is never read")
    assert [r.seq for r in read_journal(tmp_path, segments[1][0] - 1, 50)] == list(
        range(segments[1][0], 51)
    )


def test_reader_records_covered_by_after_seq_are_not_crc_checked_but_tail_is(
    tmp_path: Path,
) -> None:
    _write(tmp_path, 10)
    ((_, seg),) = list_segments(tmp_path)
    offsets = _offsets(seg)
    data = bytearray(seg.read_bytes())
    data[offsets[2] + RECORD_HEADER.size] ^= 0xFF  # payload of seq 3, covered by a snapshot
    seg.write_bytes(bytes(data[:-2]))  # and the last record (seq 10) torn
    reader = JournalReader(tmp_path, repair=True)
    assert [r.seq for r in reader.records(after_seq=5)] == [6, 7, 8, 9]
    assert reader.torn is not None and reader.torn.after_seq == 9
    with pytest.raises(JournalCorrupt, match="seq 3"):
        list(read_journal(tmp_path))
