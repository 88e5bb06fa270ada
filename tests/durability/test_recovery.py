"""Recovery: journal alone, snapshot + tail, sequence continuity, fallbacks, gaps."""

from __future__ import annotations

import asyncio
import logging
import tempfile
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from openpit.core.commands import Deposit, encode_command
from openpit.durability import (
    Durability,
    DurabilityConfig,
    FsyncMode,
    JournalCorrupt,
    RecoveryError,
    SnapshotStore,
    read_journal,
    recover,
)
from openpit.durability.journal import JOURNAL_DIR, list_segments
from openpit.durability.snapshot import SNAPSHOT_DIR, dump_target
from openpit.durability.testing import ChainTarget, random_commands

from .helpers import CountingFsync, run_live


def _config(data_dir: Path, **kw: object) -> DurabilityConfig:
    base: dict[str, object] = {
        "data_dir": data_dir,
        "fsync": FsyncMode.OFF,
        "segment_bytes": 4096,
        "snapshot_every_commands": 0,
        "snapshot_every_seconds": 0,
    }
    base.update(kw)
    return DurabilityConfig(**base)  # type: ignore[arg-type]


def _drive(d: Durability[ChainTarget], seed: int, count: int, snapshot_at: set[int]) -> None:
    for command, ts in random_commands(seed, count):
        d.target.execute(command, ts)
        d.append(d.target.seq, ts, encode_command(command))
        if d.target.seq in snapshot_at:
            d.snapshot_sync()


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_recovery_from_journal_alone_matches_live_state(tmp_path: Path, seed: int) -> None:
    live = run_live(tmp_path, random_commands(seed, 500), segment_bytes=2048)
    assert len(list_segments(tmp_path)) > 3
    recovered = recover(tmp_path, ChainTarget)
    assert recovered.seq == live.seq == 500
    assert recovered.target.state_hash() == live.state_hash()
    assert recovered.replayed == 500 and recovered.snapshot is None


def test_recovery_from_snapshot_plus_tail_matches_live_state(tmp_path: Path) -> None:
    d = Durability.open(ChainTarget, _config(tmp_path, prune_journal=False))
    _drive(d, 7, 800, {300, 600})
    live_hash, live_seq = d.target.state_hash(), d.target.seq
    d.close_sync()
    again = Durability.open(ChainTarget, _config(tmp_path))
    assert again.recovered.snapshot is not None and again.recovered.snapshot.seq == 600
    assert again.recovered.replayed == 200
    assert (again.target.seq, again.target.state_hash()) == (live_seq, live_hash)
    again.close_sync()
    # and from the journal alone (snapshots ignored), the same state
    alone = recover(tmp_path / JOURNAL_DIR, ChainTarget)
    assert (alone.seq, alone.target.state_hash()) == (live_seq, live_hash)


@settings(max_examples=25, deadline=None)
@given(
    seed=st.integers(0, 10**6),
    count=st.integers(1, 300),
    snaps=st.sets(st.integers(1, 300), max_size=4),
    segment_bytes=st.sampled_from([512, 2048, 1 << 20]),
)
def test_recovery_random_stream_journal_and_snapshot_paths_agree(
    seed: int, count: int, snaps: set[int], segment_bytes: int
) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp)
        cfg = _config(data, segment_bytes=segment_bytes, prune_journal=False)
        d = Durability.open(ChainTarget, cfg)
        _drive(d, seed, count, snaps)
        expected = (d.target.seq, d.target.state_hash())
        d.close_sync()
        alone = recover(data / JOURNAL_DIR, ChainTarget)
        assert (alone.seq, alone.target.state_hash()) == expected
        with_snap = recover(
            data / JOURNAL_DIR, ChainTarget, snapshots=SnapshotStore(data / SNAPSHOT_DIR)
        )
        assert (with_snap.seq, with_snap.target.state_hash()) == expected
        taken = [s for s in snaps if s <= count]
        assert with_snap.replayed == count - max(taken, default=0)


def test_durability_sequence_continues_after_restart_without_reuse_or_gap(
    tmp_path: Path,
) -> None:
    d = Durability.open(ChainTarget, _config(tmp_path))
    _drive(d, 1, 40, {25})
    d.close_sync()
    d = Durability.open(ChainTarget, _config(tmp_path))
    assert d.recovered.seq == 40 and d.writer.next_seq == 41
    with pytest.raises(ValueError, match="expected 41"):
        d.append(40, 0, b"reused")
    d.target.execute(Deposit(user="u", asset="BTC", units=1), 0)
    d.append(41, 0, encode_command(Deposit(user="u", asset="BTC", units=1)))
    d.close_sync()
    d = Durability.open(ChainTarget, _config(tmp_path))
    assert d.recovered.seq == 41
    d.close_sync()
    seqs = [r.seq for r in read_journal(tmp_path / JOURNAL_DIR)]
    assert seqs == list(range(seqs[0], 42))


def test_durability_crash_loses_only_uncommitted_records(tmp_path: Path) -> None:
    fsync = CountingFsync()
    d = Durability.open(ChainTarget, _config(tmp_path, fsync=FsyncMode.BATCH), fsync=fsync)
    stream = random_commands(3, 30)

    async def main() -> str:
        for command, ts in stream[:20]:
            d.target.execute(command, ts)
            d.append(d.target.seq, ts, encode_command(command))
        await d.commit()  # acknowledged: seq 1..20
        acked = d.target.state_hash()
        for command, ts in stream[20:]:
            d.target.execute(command, ts)
            d.append(d.target.seq, ts, encode_command(command))
        return acked  # "crash" before the second commit

    acked_hash = asyncio.run(main())
    assert fsync.calls == 1
    d.writer._release()  # the process dies: buffered records are gone, the lock is released
    d._unlock()
    again = Durability.open(ChainTarget, _config(tmp_path))
    assert again.recovered.seq == 20
    assert again.target.state_hash() == acked_hash
    assert again.writer.next_seq == 21
    again.close_sync()


def test_durability_snapshots_keep_last_two_and_prune_covered_segments(tmp_path: Path) -> None:
    d = Durability.open(ChainTarget, _config(tmp_path, segment_bytes=1024))
    _drive(d, 5, 600, {100, 200, 300, 400})
    seqs = [s for s, _ in d.snapshots.list()]
    assert seqs == [300, 400]
    first = list_segments(tmp_path / JOURNAL_DIR)[0][0]
    assert 1 < first <= 301  # segments wholly <= 300 are gone, 301 is still there
    d.close_sync()
    again = Durability.open(ChainTarget, _config(tmp_path))
    assert again.recovered.seq == 600 and again.recovered.replayed == 200
    again.close_sync()


def test_recovery_newest_snapshot_corrupt_falls_back_to_older(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    d = Durability.open(ChainTarget, _config(tmp_path))
    _drive(d, 9, 300, {100, 200})
    expected = (d.target.seq, d.target.state_hash())
    d.close_sync()
    newest = d.snapshots.list()[-1][1]
    raw = bytearray(newest.read_bytes())
    raw[-10] ^= 0x55
    newest.write_bytes(bytes(raw))
    with caplog.at_level(logging.ERROR, logger="openpit.durability"):
        again = Durability.open(ChainTarget, _config(tmp_path))
    assert "CRC mismatch" in caplog.text
    assert again.recovered.snapshot is not None and again.recovered.snapshot.seq == 100
    assert (again.target.seq, again.target.state_hash()) == expected
    again.close_sync()


def test_recovery_snapshot_with_wrong_state_hash_is_rejected(tmp_path: Path) -> None:
    run_live(tmp_path / JOURNAL_DIR, random_commands(4, 50))
    target = ChainTarget()
    for command, ts in random_commands(4, 30):
        target.execute(command, ts)
    seq, _, payload = dump_target(target)
    store = SnapshotStore(tmp_path / SNAPSHOT_DIR)
    store.write(seq, "0" * 64, payload)
    recovered = recover(tmp_path / JOURNAL_DIR, ChainTarget, snapshots=store)
    assert recovered.snapshot is None and recovered.replayed == 50


def test_recovery_journal_starting_after_state_raises(tmp_path: Path) -> None:
    run_live(tmp_path, random_commands(2, 200), segment_bytes=1024)
    list_segments(tmp_path)[0][1].unlink()
    with pytest.raises(JournalCorrupt, match="records are missing") as info:
        recover(tmp_path, ChainTarget)
    assert info.value.seq is not None and info.value.seq > 1


def test_recovery_logs_replayed_count_and_duration(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    run_live(tmp_path, random_commands(2, 42))
    with caplog.at_level(logging.INFO, logger="openpit.durability"):
        recover(tmp_path, ChainTarget)
    assert "replayed 42 commands" in caplog.text


def test_durability_second_open_of_same_data_dir_raises(tmp_path: Path) -> None:
    d = Durability.open(ChainTarget, _config(tmp_path))
    with pytest.raises(RecoveryError, match="in use"):
        Durability.open(ChainTarget, _config(tmp_path))
    d.close_sync()
    Durability.open(ChainTarget, _config(tmp_path)).close_sync()


def test_durability_maybe_snapshot_every_n_commands(tmp_path: Path) -> None:
    d = Durability.open(ChainTarget, _config(tmp_path, snapshot_every_commands=50))
    taken = []

    async def main() -> None:
        for command, ts in random_commands(8, 175):
            d.target.execute(command, ts)
            d.append(d.target.seq, ts, encode_command(command))
            await d.commit()
            info = await d.maybe_snapshot()
            if info is not None:
                taken.append(info.seq)
        await d.close()

    asyncio.run(main())
    assert taken == [50, 100, 150]


def test_durability_maybe_snapshot_after_time_elapsed(tmp_path: Path) -> None:
    now = [0.0]
    d = Durability.open(
        ChainTarget, _config(tmp_path, snapshot_every_seconds=60), clock=lambda: now[0]
    )

    async def main() -> list[int]:
        taken = []
        for i, (command, ts) in enumerate(random_commands(8, 10)):
            d.target.execute(command, ts)
            d.append(d.target.seq, ts, encode_command(command))
            now[0] = i * 20.0
            info = await d.maybe_snapshot()
            if info is not None:
                taken.append(info.seq)
        await d.close()
        return taken

    assert asyncio.run(main()) == [4, 7, 10]


def test_durability_snapshot_of_unjournaled_state_is_refused(tmp_path: Path) -> None:
    d = Durability.open(ChainTarget, _config(tmp_path))
    d.target.execute(Deposit(user="u", asset="BTC", units=1), 0)
    with pytest.raises(RecoveryError, match="append every executed command"):
        d.snapshot_sync()
    d.close_sync()


def test_recovery_on_result_sees_every_replayed_result(tmp_path: Path) -> None:
    run_live(tmp_path, random_commands(2, 30))
    seen: list[object] = []
    recover(tmp_path, ChainTarget, on_result=seen.append)
    assert [r[0] for r in seen] == list(range(1, 31))  # type: ignore[index]
