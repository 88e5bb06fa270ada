"""Recovery with the real venue: journal alone and snapshot + tail reproduce it exactly."""

from __future__ import annotations

from pathlib import Path

import msgspec

from openpit.config import load_demo_config
from openpit.core.commands import encode_command
from openpit.durability import Durability, DurabilityConfig, FsyncMode, recover
from openpit.durability.journal import JOURNAL_DIR
from openpit.durability.testing import venue_commands
from openpit.venue import CommandResult, Venue

CONFIG = load_demo_config()
T0 = 1_795_446_000_000


def _venue() -> Venue:
    return Venue(CONFIG)


def _config(data_dir: Path) -> DurabilityConfig:
    return DurabilityConfig(
        data_dir=data_dir,
        fsync=FsyncMode.OFF,
        segment_bytes=16_384,
        snapshot_every_commands=0,
        snapshot_every_seconds=0,
        prune_journal=False,
    )


def _events(results: list[CommandResult]) -> bytes:
    return msgspec.json.encode([r.events for r in results])


def test_venue_recovery_journal_and_snapshot_tail_match_live_state_and_events(
    tmp_path: Path,
) -> None:
    d = Durability.open(_venue, _config(tmp_path))
    venue = d.target
    stream = [(c, T0) for c in venue.genesis_commands()] + venue_commands(11, 1500)
    live: list[CommandResult] = []
    for command, ts in stream:
        result = venue.execute(command, ts)
        d.append(result.seq, result.ts, encode_command(command))
        live.append(result)
        if result.seq == 900:
            d.snapshot_sync()
    assert any(e.__class__.__name__ == "Trade" for r in live for e in r.events)
    expected = (venue.seq, venue.state_hash())
    d.close_sync()

    replayed: list[CommandResult] = []
    again = Durability.open(_venue, _config(tmp_path), on_result=replayed.append)  # type: ignore[arg-type]
    assert again.recovered.snapshot is not None and again.recovered.snapshot.seq == 900
    assert (again.target.seq, again.target.state_hash()) == expected
    assert _events(replayed) == _events(live[900:])  # the tail re-emits the same events
    again.close_sync()

    alone = recover(tmp_path / JOURNAL_DIR, _venue)
    assert (alone.seq, alone.target.state_hash()) == expected
    assert alone.replayed == len(stream)


def test_venue_service_with_durability_journal_acks_only_durable_commands(
    tmp_path: Path,
) -> None:
    import asyncio

    from openpit.venue.service import VenueService

    from .helpers import CountingFsync

    fsync = CountingFsync()
    cfg = DurabilityConfig(
        data_dir=tmp_path, snapshot_every_commands=0, snapshot_every_seconds=0
    )  # fsync=batch
    d = Durability.open(_venue, cfg, fsync=fsync)
    clock = iter(range(T0, T0 + 10**6))
    service = VenueService(CONFIG, d.target, journal=d, clock=lambda: next(clock))
    stream = [c for c, _ in venue_commands(5, 200)]
    genesis = d.target.genesis_commands()

    async def main() -> list[CommandResult]:
        out = [await service.submit(c) for c in genesis]
        for i in range(0, len(stream), 50):  # 50 clients in one tick
            out.extend(await asyncio.gather(*(service.submit(c) for c in stream[i : i + 50])))
        assert d.durable_seq == d.target.seq == len(out)
        await d.close()
        return out

    results = asyncio.run(main())
    assert [r.seq for r in results] == list(range(1, len(results) + 1))
    assert fsync.calls == len(genesis) + 4  # one per tick: each genesis await, 4 ticks of 50
    expected = (d.target.seq, d.target.state_hash())
    again = Durability.open(_venue, cfg)
    assert (again.target.seq, again.target.state_hash()) == expected
    again.close_sync()
