"""Market-data derivation throughput for one busy instrument.

Stream: a seeded random walk of a BTCUSDT book with ~750 levels (~375 per side).
Each *command* yields a small batch, as the engine would emit it: a maker placing or
cancelling (one ``BookLevel``) or a taker sweeping 1-3 top levels (one ``Trade`` and
one ``BookLevel`` per level). Event time advances 1 ms per command.

Measured:
- ``derive_1_view``: events/s through ``MarketData.apply`` with one depth view (10);
- the same with views 10+25 and 10+25+50, giving the cost per extra view;
- ``baseline_event_creation``: a tight loop that only *creates* the same event
  objects (stand-in for the engine's own event rate until the engine bench exists).
``ratio = derive_1_view events/s ÷ baseline events/s``; the goal is ratio >= 1.0.
"""

from __future__ import annotations

import gc
import random
import time
from typing import Any

from openpit.config.loader import load_demo_config
from openpit.core.enums import Side
from openpit.core.events import BookLevel, Event, Trade
from openpit.marketdata import MarketData

SEED = 20240601
COMMANDS = 60_000
LEVELS_PER_SIDE = 375
REPEAT = 3

Raw = tuple[Any, ...]  # ("L", side, price, qty, ts) | ("T", id, price, qty, taker_side, ts)


def generate(seed: int = SEED, commands: int = COMMANDS) -> list[list[Raw]]:
    rng = random.Random(seed)
    mid = 4_000_000  # 40000.00
    bids: dict[int, int] = {}
    asks: dict[int, int] = {}
    out: list[list[Raw]] = []
    for i in range(LEVELS_PER_SIDE):
        bids[mid - 1 - i] = rng.randint(1, 50_000)
        asks[mid + 1 + i] = rng.randint(1, 50_000)
    first = [("L", Side.BUY, p, q, 0) for p, q in bids.items()]
    first += [("L", Side.SELL, p, q, 0) for p, q in asks.items()]
    out.append(first)
    trade_id = 0
    ts = 1_717_200_000_000
    for _ in range(commands):
        ts += 1
        r = rng.random()
        batch: list[Raw] = []
        if r < 0.12 and bids and asks:  # taker sweep
            side = Side.BUY if rng.random() < 0.5 else Side.SELL
            book = asks if side is Side.BUY else bids
            prices = sorted(book, reverse=side is Side.SELL)[: rng.randint(1, 3)]
            for p in prices:
                take = min(book[p], rng.randint(1, 60_000))
                trade_id += 1
                batch.append(("T", trade_id, p, take, side, ts))
                left = book[p] - take
                if left:
                    book[p] = left
                else:
                    del book[p]
                batch.append(("L", side.opposite, p, left, ts))
        else:
            side = Side.BUY if rng.random() < 0.5 else Side.SELL
            book = bids if side is Side.BUY else asks
            other = asks if side is Side.BUY else bids
            best = (max(book) if side is Side.BUY else min(book)) if book else mid
            opp = (min(other) if side is Side.BUY else max(other)) if other else None
            off = int(rng.expovariate(1 / 12))
            p = best - off if side is Side.BUY else best + off
            if rng.random() < 0.15:  # improve inside the spread
                p = best + 1 if side is Side.BUY else best - 1
            if opp is not None and (p >= opp if side is Side.BUY else p <= opp):
                p = best
            if r < 0.62:  # maker add
                book[p] = book.get(p, 0) + rng.randint(1, 50_000)
                batch.append(("L", side, p, book[p], ts))
                if len(book) > LEVELS_PER_SIDE:  # far levels expire
                    far = min(book) if side is Side.BUY else max(book)
                    del book[far]
                    batch.append(("L", side, far, 0, ts))
            elif p in book:  # cancel (partial or full)
                left = book[p] - min(book[p], rng.randint(1, 60_000))
                if left:
                    book[p] = left
                else:
                    del book[p]
                batch.append(("L", side, p, left, ts))
            else:
                book[p] = rng.randint(1, 50_000)
                batch.append(("L", side, p, book[p], ts))
        out.append(batch)
    return out


def build(raw: list[list[Raw]]) -> list[list[Event]]:
    """The baseline's work: create every event object of the stream."""
    out: list[list[Event]] = []
    for batch in raw:
        evs: list[Event] = []
        for r in batch:
            if r[0] == "L":
                evs.append(
                    BookLevel(instrument="BTCUSDT", side=r[1], price=r[2], qty=r[3], ts=r[4])
                )
            else:
                evs.append(
                    Trade(
                        instrument="BTCUSDT",
                        trade_id=r[1],
                        price=r[2],
                        qty=r[3],
                        taker_side=r[4],
                        maker_order_id=1,
                        taker_order_id=2,
                        maker_user="maker",
                        taker_user="taker",
                        ts=r[5],
                    )
                )
        out.append(evs)
    return out


def _best(fn: Any) -> float:
    best = float("inf")
    for _ in range(REPEAT):
        gc.collect()
        t0 = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t0)
    return best


def _derive(batches: list[list[Event]], depths: tuple[int, ...]) -> float:
    config = load_demo_config()

    def setup_only() -> MarketData:
        md = MarketData(config)
        for d in depths:
            md.subscribe_depth("BTCUSDT", d)
        md.apply(batches[0])
        return md

    best = float("inf")
    for _ in range(REPEAT):
        md = setup_only()
        apply = md.apply
        gc.collect()
        t0 = time.perf_counter()
        for b in batches[1:]:
            apply(b)
        best = min(best, time.perf_counter() - t0)
    return best


def main() -> dict[str, Any]:
    raw = generate()
    batches = build(raw)
    n_events = sum(len(b) for b in batches[1:])
    n_trades = sum(1 for b in batches[1:] for e in b if isinstance(e, Trade))
    baseline_s = _best(lambda: build(raw[1:]))
    per_depths: dict[str, float] = {}
    for depths in ((10,), (10, 25), (10, 25, 50)):
        per_depths["+".join(map(str, depths))] = _derive(batches, depths)
    base_eps = n_events / baseline_s
    t1 = per_depths["10"]
    derive_eps = n_events / t1
    extra_25_us = (per_depths["10+25"] - t1) / len(batches[1:]) * 1e6
    extra_50_us = (per_depths["10+25+50"] - per_depths["10+25"]) / len(batches[1:]) * 1e6
    ratio = derive_eps / base_eps
    return {
        "stream": {
            "commands": len(batches) - 1,
            "events": n_events,
            "trades": n_trades,
            "levels_per_side": LEVELS_PER_SIDE,
            "seed": SEED,
        },
        "baseline_event_creation_events_per_s": round(base_eps),
        "derive_events_per_s": {k: round(n_events / v) for k, v in per_depths.items()},
        "derive_1_view_us_per_event": round(t1 / n_events * 1e6, 3),
        "extra_view_25_us_per_command": round(extra_25_us, 3),
        "extra_view_50_us_per_command": round(extra_50_us, 3),
        "ratio": round(ratio, 3),
        "passed": ratio >= 1.0,
        "note": "baseline = creating the same event objects in a tight loop "
        "(stand-in for the engine's event rate until an engine bench exists)",
    }


if __name__ == "__main__":
    import json

    print(json.dumps(main(), indent=2))
