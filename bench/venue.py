"""Engine + ledger through the sequencer, on the engine benchmark's stream.

The issue asks for the seeded stream to be run "through the engine alone and through
engine + ledger". ``bench/engine.py`` measures the engine alone (and bourse); this
measures the same stream through ``Venue.execute`` — validation, reservation, matching,
settlement, fees, positions and sequence stamping — and reports it against the engine
alone measured in the same run.

The venue assigns order ids itself, so a first (untimed) pass maps the stream's refs
to the ids the venue gives; the timed passes replay those commands on fresh venues.
"""

from __future__ import annotations

import time
from typing import Any

import msgspec

from bench.engine import CANCEL, IOC, LIMIT, MOVE, USERS, WARMUP, make_stream, prepare_ours
from bench.engine import run_ours as run_engine_alone
from openpit.config.loader import VenueConfig, parse_config
from openpit.core.commands import CancelOrder, Command, Deposit, ModifyOrder, PlaceOrder
from openpit.venue import Venue


def bench_config() -> VenueConfig:
    return parse_config(
        {
            "venues": [{"id": "bench"}],
            "assets": [{"symbol": "B", "decimals": 8}, {"symbol": "Q", "decimals": 8}],
            "instruments": [
                {
                    "id": "BENCH",
                    "venue": "bench",
                    "base": "B",
                    "quote": "Q",
                    "tick_size": "0.01",
                    "lot_size": "0.001",
                    "min_qty": "0.001",
                    "maker_fee": "0.001",
                    "taker_fee": "0.002",
                }
            ],
            "risk": {"stp_default": "none"},
        },
        "<bench>",
    )


def funded_venue(config: VenueConfig) -> Venue:
    venue = Venue(config)
    for i in range(USERS):
        for asset in ("B", "Q"):
            venue.execute(Deposit(user=f"u{i}", asset=asset, units=10**17), 0)
    return venue


def venue_commands(config: VenueConfig, ops: list[Any]) -> list[Command]:
    """The stream as venue commands, with the order ids the venue actually assigns."""
    venue = funded_venue(config)
    ids: dict[int, int] = {}
    out: list[Command] = []
    for ts, (kind, ref, cmd) in enumerate(prepare_ours(ops), start=1):
        if kind is LIMIT or kind is IOC:
            command: Command = cmd
        elif kind is CANCEL:
            command = CancelOrder(user=cmd.user, order_id=ids.get(ref, -1))
        else:
            assert isinstance(cmd, ModifyOrder)
            command = msgspec.structs.replace(cmd, order_id=ids.get(ref, -1))
        result = venue.execute(command, ts)
        if isinstance(command, PlaceOrder) and result.order_id is not None:
            ids[ref] = result.order_id
        out.append(command)
    return out


def run_venue(config: VenueConfig, commands: list[Command], timings: list[int] | None) -> float:
    venue = funded_venue(config)
    execute = venue.execute
    for ts, command in enumerate(commands[:WARMUP], start=1):
        execute(command, ts)
    clock = time.perf_counter_ns
    ts = WARMUP
    started = time.process_time()
    for command in commands[WARMUP:]:
        ts += 1
        if timings is None:
            execute(command, ts)
        else:
            t0 = clock()
            execute(command, ts)
            timings.append(clock() - t0)
    return time.process_time() - started


def _pct(values: list[int], p: float) -> int:
    s = sorted(values)
    return s[min(len(s) - 1, int(p * len(s)))]


def main(n: int = 100_000, seed: int = 7) -> dict[str, Any]:
    config = bench_config()
    ops = make_stream(seed, n)
    commands = venue_commands(config, ops)
    prepared = prepare_ours(ops)
    venue_s: list[float] = []
    engine_s: list[float] = []
    for _ in range(3):  # interleaved rounds, best of each (CPU time)
        venue_s.append(run_venue(config, commands, None))
        engine_s.append(run_engine_alone(prepared, None)[3])
    latencies: list[int] = []
    run_venue(config, commands, latencies)
    venue_ops = n / min(venue_s)
    engine_ops = n / min(engine_s)
    moves = sum(1 for op in ops[WARMUP:] if op[0] is MOVE)
    return {
        "ops": n,
        "seed": seed,
        "moves": moves,
        "engine_alone_ops_per_s": round(engine_ops),
        "engine_plus_ledger_ops_per_s": round(venue_ops),
        "engine_plus_ledger_p50_ns": _pct(latencies, 0.50),
        "engine_plus_ledger_p99_ns": _pct(latencies, 0.99),
        "ratio_engine_plus_ledger_vs_engine": round(venue_ops / engine_ops, 3),
        "note": "Venue.execute: validation, reservation, matching, settlement, fees, "
        "positions and sequence stamping; no journal (see durability.json)",
    }


if __name__ == "__main__":
    import json

    print(json.dumps(main(), indent=2))
