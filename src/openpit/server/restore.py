"""Start-up: market data and portfolios as they were before the restart.

What market data derives from trades (tape, 24 h window, candles of every interval,
last prices) is rebuilt from what is durable, in ``MarketData.restore_history``:

- the store's trades up to ``written`` — the store's ``history_seq`` read *before*
  recovery: every trade of a command up to it is in the store (the history writer
  commits in order), and no later one is read (``TradeReader``'s ``through_seq``), even
  though the writer meanwhile stores the replayed results;
- the trades of the commands recovery replays with seq > ``written``, collected from
  the replayed results (``TailTrades``). A snapshot is written only once the history
  reached its seq, so ``written`` >= snapshot seq and replay covers every command after
  ``written``: each trade reaches market data exactly once, in sequence order.

Bounded work: trades inside the 24 h window (plus the newest ``tape_size`` before it)
are folded one by one; everything older reaches the candles as per-minute aggregates
computed inside SQLite (one row per traded minute, since ``since_ts``: the oldest
start any retained candle can have).

Books, balances and positions come from the recovered venue itself
(``book_seed_events`` in ``openpit.server.main``, ``account_seed_events`` here).
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from pathlib import Path

from openpit.core.events import Balance, Event, Trade
from openpit.ledger import INTERNAL_ACCOUNTS
from openpit.marketdata import INTERVALS, MarketData, MinuteBar
from openpit.marketdata.ticker import DAY_MS
from openpit.store.trades import TradeReader
from openpit.venue import CommandResult, Venue

log = logging.getLogger("openpit.serve")


@dataclass
class TailTrades:
    """``on_result`` for recovery: the trades of replayed commands past ``written``."""

    written: int
    trades: list[Trade] = field(default_factory=list)

    def __call__(self, result: object) -> None:
        if isinstance(result, CommandResult) and result.seq > self.written:
            self.trades.extend(e for e in result.events if type(e) is Trade)


@dataclass(frozen=True, slots=True)
class Restored:
    minutes: int  # per-minute aggregates folded into candles
    folded: int  # trades applied one by one (24 h window and journal tail)
    tail: int  # of which from the journal tail
    seconds: float


def restore_marketdata(
    md: MarketData,
    store_path: str | Path,
    tail: TailTrades,
    *,
    now: int,
    max_candles: int = 1000,
) -> Restored:
    """Rebuild ``md`` (fresh: no trade applied yet) from the store and the tail."""
    started = time.perf_counter()
    cutoff = now - DAY_MS
    since = max(0, now - max(INTERVALS.values()) * (max_candles + 1))
    minutes: dict[str, list[MinuteBar]] = {}
    older: dict[str, list[Trade]] = {}
    recent: list[Trade] = []
    n_minutes = 0
    with TradeReader(store_path) as reader:
        for iid, inst in md.config.instruments.items():
            k = inst.notional_units
            rows = reader.minutes(iid, until_ts=cutoff, through_seq=tail.written, since_ts=since)
            minutes[iid] = [
                MinuteBar(
                    start=r[0],
                    open=r[1],
                    high=r[2],
                    low=r[3],
                    close=r[4],
                    qty=r[5],
                    notional=r[6] * k,
                    count=r[7],
                )
                for r in rows
            ]
            n_minutes += len(rows)
            older[iid] = reader.last(
                iid, until_ts=cutoff, through_seq=tail.written, limit=md.tape_size
            )
            recent.extend(reader.after(iid, after_ts=cutoff, through_seq=tail.written))
    recent.sort(key=lambda t: (t.seq, t.trade_id))
    folded = md.restore_history(
        minutes=minutes, older=older, trades=[*recent, *tail.trades], now=now
    )
    out = Restored(n_minutes, folded, len(tail.trades), time.perf_counter() - started)
    log.info(
        "market data restored: %d trades (%d from the journal tail) and %d traded minutes "
        "in %.3f s",
        out.folded,
        out.tail,
        out.minutes,
        out.seconds,
    )
    return out


def account_seed_events(venue: Venue) -> list[Event]:
    """Balances and positions of every user, as events, for a fresh ``MarketData``."""
    out: list[Event] = []
    users: dict[str, None] = {}
    for item in venue.ledger.state_items():
        kind, user = item[0], item[1]
        if not isinstance(user, str) or user in INTERNAL_ACCOUNTS:
            continue
        if kind == "balance":
            _, _, asset, available, reserved = item
            assert isinstance(asset, str) and isinstance(available, int)
            assert isinstance(reserved, int)
            out.append(Balance(user=user, asset=asset, available=available, reserved=reserved))
        elif kind in ("spot", "margin"):
            users[user] = None
    for user in users:
        out.extend(venue.ledger.positions(user))
    return out
