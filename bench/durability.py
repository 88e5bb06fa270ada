"""Durability benchmark: journal cost on the command path, and recovery time.

(a) Throughput: the real ``Venue`` executes a command stream in loop ticks of 64
    commands; each tick appends its commands to the journal and starts a group commit
    (clients await their own ack, so the loop goes on with the next tick while the
    fsync runs on the journal thread). Same stream, same run, four ways: no journal
    (baseline), journal fsync=off, fsync=batch (the default) and fsync=always.
    Requirement: batch / no-journal >= 0.7.
(b) Recovery: a journal of 1,000,000 commands, recovered (1) from the journal alone and
    (2) from a snapshot 50,000 commands before the end plus the journal tail — with the
    real ``Venue``; plus the same journal replayed into the ``ChainTarget`` test double
    to show the journal's own read/decode cost without the venue's.

(c) Market-data restore (``openpit.server.restore``): a store holding a week of trades
    on two instruments (MD_TRADES_PER_DAY a day), plus a journal tail of MD_TAIL trades,
    rebuilt into a fresh ``MarketData`` as ``openpit serve`` does at start-up.

``python -m bench durability`` writes bench/results/durability.json.
"""

from __future__ import annotations

import asyncio
import gc
import os
import shutil
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from openpit.config import load_demo_config
from openpit.core.commands import Command, encode_command
from openpit.durability import FsyncMode, JournalWriter, SnapshotStore, recover
from openpit.durability.journal import default_fsync
from openpit.durability.snapshot import dump_target
from openpit.durability.testing import ChainTarget, venue_commands
from openpit.venue import Venue

TICK = 64
THROUGHPUT_COMMANDS = 8_000
ROUNDS = 12
ALWAYS_COMMANDS = 2_000
RECOVERY_COMMANDS = 1_000_000
SNAPSHOT_TAIL = 50_000
T0 = 1_795_446_000_000
REQUIRED_RATIO = 0.7
MD_DAYS = 7
MD_TRADES_PER_DAY = 200_000
MD_TAIL = 5_000


def _venue_factory() -> Callable[[], Venue]:
    config = load_demo_config()
    return lambda: Venue(config)


def _stream(count: int, seed: int) -> list[tuple[Command, int]]:
    genesis = _venue_factory()().genesis_commands()
    return [(c, T0) for c in genesis] + venue_commands(seed, count - len(genesis))


async def _drive(
    venue: Venue, stream: list[tuple[Command, int]], writer: JournalWriter | None
) -> tuple[float, float]:
    """(wall s, CPU s) for the stream: ticks of TICK commands, each journaled and
    group-committed; acks are awaited by "clients", so the loop does not stall on fsync."""
    in_flight: list[asyncio.Task[None]] = []
    wall, cpu = time.perf_counter(), time.process_time()
    for i in range(0, len(stream), TICK):
        for command, ts in stream[i : i + TICK]:
            result = venue.execute(command, ts)
            if writer is not None:
                writer.append(result.seq, result.ts, encode_command(command))
        if writer is not None:
            in_flight.append(asyncio.create_task(writer.commit()))
            if len(in_flight) > 256:  # bounded: clients wait for acks
                await in_flight.pop(0)
        await asyncio.sleep(0)  # end of the loop tick
    await asyncio.gather(*in_flight)
    return time.perf_counter() - wall, time.process_time() - cpu


def _run(
    factory: Callable[[], Venue],
    stream: list[tuple[Command, int]],
    journal: Path | None,
    mode: FsyncMode,
) -> tuple[float, float, int]:
    gc.collect()
    venue = factory()
    writer = None if journal is None else JournalWriter(journal, 1, mode=mode)
    wall, cpu = asyncio.run(_drive(venue, stream, writer))
    fsyncs = 0
    if writer is not None:
        writer.close_sync()
        fsyncs = writer.fsyncs
    return wall, cpu, fsyncs


def _throughput(tmp: Path) -> dict[str, Any]:
    """Rounds interleave the modes so that machine load hits them alike; the ratio is the
    median over rounds of (no-journal wall time / journaled wall time) of the same round."""
    factory = _venue_factory()
    stream = _stream(THROUGHPUT_COMMANDS, seed=1)
    n = len(stream)
    walls: dict[str, list[float]] = {"none": [], "off": [], "batch": []}
    cpus: dict[str, list[float]] = {"none": [], "off": [], "batch": []}
    fsyncs: dict[str, int] = {}
    for r in range(ROUNDS):
        for mode in walls:
            journal = None if mode == "none" else tmp / f"tp-{mode}-{r}"
            wall, cpu, fsyncs[mode] = _run(
                factory, stream, journal, FsyncMode(mode if journal else "off")
            )
            walls[mode].append(wall)
            cpus[mode].append(cpu)
    always_stream = stream[:ALWAYS_COMMANDS]
    a_wall, _, fsyncs["always"] = _run(factory, always_stream, tmp / "tp-always", FsyncMode.ALWAYS)

    def ratio(mode: str, series: dict[str, list[float]]) -> float:
        return statistics.median(b / m for b, m in zip(series["none"], series[mode], strict=True))

    rates = {m: round(n / statistics.median(v)) for m, v in walls.items()}
    rates["always"] = round(len(always_stream) / a_wall)
    return {
        "driver": "real Venue.execute + JournalWriter, ticks of 64 commands, pipelined commits",
        "commands_per_round": n,
        "rounds": ROUNDS,
        "commands_per_s_median": rates,
        "always_commands": len(always_stream),
        "fsyncs_per_run": fsyncs,
        "ratio_batch_vs_no_journal": round(ratio("batch", walls), 3),
        "ratio_off_vs_no_journal": round(ratio("off", walls), 3),
        "cpu_ratio_batch_vs_no_journal": round(ratio("batch", cpus), 3),
        "cpu_us_per_command_median": {
            m: round(statistics.median(v) / n * 1e6, 1) for m, v in cpus.items()
        },
        "required_ratio": REQUIRED_RATIO,
    }


def _fsync_latency(tmp: Path) -> dict[str, float]:
    path = tmp / "fsync-probe"
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
    samples = []
    try:
        for _ in range(300):
            os.write(fd, b"x" * 9000)  # ~64 records
            t = time.perf_counter()
            default_fsync(fd)
            samples.append(time.perf_counter() - t)
    finally:
        os.close(fd)
    samples.sort()
    return {
        "median_ms": round(samples[len(samples) // 2] * 1e3, 3),
        "p99_ms": round(samples[int(len(samples) * 0.99)] * 1e3, 3),
    }


def _recovery(tmp: Path) -> dict[str, Any]:
    factory = _venue_factory()
    journal = tmp / "rec" / "journal"
    snaps = SnapshotStore(tmp / "rec" / "snapshots")
    stream = _stream(RECOVERY_COMMANDS, seed=2)
    writer = JournalWriter(journal, 1, mode=FsyncMode.OFF)
    t = time.perf_counter()
    for seq, (command, ts) in enumerate(stream, 1):
        writer.append(seq, ts, encode_command(command))
        if seq % 4096 == 0:
            writer.flush()
    writer.close_sync()
    write_s = time.perf_counter() - t
    journal_bytes = sum(p.stat().st_size for p in journal.iterdir())
    del stream
    gc.collect()

    # (1) journal alone; the snapshot for (2) is taken on the way, its cost subtracted.
    snap_at = RECOVERY_COMMANDS - SNAPSHOT_TAIL
    snap_cost = [0.0]
    holder: list[Venue] = []

    def make() -> Venue:
        venue = factory()
        holder.append(venue)
        return venue

    def on_result(_: object) -> None:
        venue = holder[-1]
        if venue.seq == snap_at:
            s = time.perf_counter()
            snaps.write(*dump_target(venue))
            snap_cost[0] += time.perf_counter() - s

    full = recover(journal, make, on_result=on_result)
    full_s = full.elapsed_s - snap_cost[0]
    final_hash = full.target.state_hash()
    snap_size = snaps.list()[-1][1].stat().st_size
    del full, holder[:]
    gc.collect()

    tail = recover(journal, factory, snapshots=snaps)
    assert tail.seq == RECOVERY_COMMANDS and tail.target.state_hash() == final_hash
    fake = recover(journal, ChainTarget)
    return {
        "target": "real Venue (openpit.venue.Venue, demo config)",
        "journal_commands": RECOVERY_COMMANDS,
        "journal_bytes": journal_bytes,
        "journal_write_s_fsync_off": round(write_s, 2),
        "without_snapshot": {
            "seconds": round(full_s, 2),
            "commands_per_s": round(RECOVERY_COMMANDS / full_s),
        },
        "with_snapshot": {
            "snapshot_seq": snap_at,
            "snapshot_bytes": snap_size,
            "replayed": tail.replayed,
            "seconds": round(tail.elapsed_s, 2),
            "commands_per_s_replayed": round(tail.commands_per_s),
        },
        "journal_only_cost_chain_target": {
            "note": "same journal replayed into the ChainTarget test double: read + CRC + "
            "decode + a sha256 per command, i.e. the recovery overhead outside the venue",
            "seconds": round(fake.elapsed_s, 2),
            "commands_per_s": round(fake.commands_per_s),
        },
    }


def _marketdata_restore(tmp: Path) -> dict[str, Any]:
    from openpit.core.enums import Side
    from openpit.core.events import Trade
    from openpit.marketdata import MarketData
    from openpit.server.restore import TailTrades, restore_marketdata
    from openpit.store import SqliteStore

    config = load_demo_config()
    insts = ("BTCUSDT", "ETHUSDT")
    n = MD_DAYS * MD_TRADES_PER_DAY
    step = MD_DAYS * 86_400_000 // (n + MD_TAIL)
    trades = [
        Trade(
            instrument=insts[i % 2],
            trade_id=i,
            price=3_000_000 + (i * 7919) % 10_000,
            qty=1 + i % 400,
            taker_side=Side.BUY if i % 3 else Side.SELL,
            maker_order_id=i,
            taker_order_id=i,
            maker_user="alice",
            taker_user="bob",
            seq=i,
            ts=T0 + i * step,
            iseq=i,
        )
        for i in range(1, n + MD_TAIL + 1)
    ]
    store = SqliteStore(tmp / "md" / "openpit.sqlite3", synchronous="NORMAL")
    for i in range(0, n, 50_000):
        store.write_history(trades[i : min(i + 50_000, n)])
    store.close()
    tail = TailTrades(n, trades[n:])
    now = trades[-1].ts + 1
    del trades
    gc.collect()
    md = MarketData(config)
    out = restore_marketdata(md, tmp / "md" / "openpit.sqlite3", tail, now=now)
    return {
        "store_trades": n,
        "days": MD_DAYS,
        "tail_trades": MD_TAIL,
        "folded_one_by_one": out.folded,
        "traded_minutes_aggregated": out.minutes,
        "seconds": round(out.seconds, 2),
    }


def main() -> dict[str, Any]:
    base = os.environ.get("OPENPIT_BENCH_TMP")  # default: the system temp dir
    tmp = Path(tempfile.mkdtemp(prefix="openpit-bench-durability-", dir=base))
    try:
        throughput = _throughput(tmp)
        result: dict[str, Any] = {
            "throughput": throughput,
            "fsync_latency": _fsync_latency(tmp),
            "recovery": _recovery(tmp),
            "marketdata_restore": _marketdata_restore(tmp),
        }
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    result["passed"] = throughput["ratio_batch_vs_no_journal"] >= REQUIRED_RATIO
    return result


if __name__ == "__main__":
    import json

    print(json.dumps(main(), indent=2))
