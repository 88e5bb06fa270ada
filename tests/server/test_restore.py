"""Start-up market-data restore from a real SQLite store plus the journal tail."""

from __future__ import annotations

from itertools import groupby
from pathlib import Path

from openpit.core.events import Balance
from openpit.marketdata import MarketData
from openpit.marketdata.ticker import DAY_MS
from openpit.server.restore import TailTrades, account_seed_events, restore_marketdata
from openpit.store import SqliteStore
from openpit.store.trades import TradeReader
from openpit.venue import CommandResult, Venue
from tests.marketdata._helpers import CONFIG
from tests.marketdata.test_rebuild import _live, _trades, _view


def _results(trades):  # type: ignore[no-untyped-def]
    return [
        CommandResult(seq=seq, ts=group[0].ts, events=group)
        for seq, g in groupby(trades, key=lambda t: t.seq)
        for group in [list(g)]
    ]


def test_restore_from_store_and_tail_equals_live_with_no_duplicates(tmp_path: Path):
    trades = _trades(3000, 2 * DAY_MS, seed=7)
    now = trades[-1].ts + 45_000
    results = _results(trades)
    written = results[len(results) * 3 // 4].seq  # the store lags: the rest is the tail
    store = SqliteStore(tmp_path / "openpit.sqlite3")
    try:
        # the store also holds trades past ``written`` (the writer went on meanwhile):
        # they must come from the tail only, once
        store.write_history([t for t in trades if t.seq <= written + 20])
        tail = TailTrades(written)
        for r in results:  # what recovery replays: from before ``written`` on
            if r.seq > written - 50:
                tail(r)
        md = MarketData(CONFIG, tape_size=50)
        out = restore_marketdata(md, store.path, tail, now=now)
    finally:
        store.close()
    assert out.tail == sum(1 for t in trades if t.seq > written)
    live = _live(trades, now)
    assert _view(md) == _view(live)


def test_trade_reader_minutes_match_python_aggregation_and_respect_through_seq(tmp_path: Path):
    trades = _trades(500, DAY_MS, seed=8)
    store = SqliteStore(tmp_path / "openpit.sqlite3")
    try:
        store.write_history(trades)
        with TradeReader(store.path) as reader:
            cut = trades[300].seq
            rows = reader.minutes("BTCUSDT", until_ts=trades[-1].ts, through_seq=cut)
            after = reader.after("BTCUSDT", after_ts=0, through_seq=cut)
            last = reader.last("BTCUSDT", until_ts=trades[-1].ts, through_seq=cut, limit=5)
    finally:
        store.close()
    mine = [t for t in trades if t.instrument == "BTCUSDT" and t.seq <= cut]
    assert after == mine and last == mine[-5:]
    assert sum(r[7] for r in rows) == len(mine)
    assert sum(r[6] for r in rows) == sum(t.price * t.qty for t in mine)
    assert rows[0][1] == mine[0].price and rows[-1][4] == mine[-1].price


def test_account_seed_events_carry_every_user_balance_but_no_internal_account():
    venue = Venue(CONFIG)
    for cmd in venue.genesis_commands():
        venue.execute(cmd, 1)
    events = account_seed_events(venue)
    users = {e.user for e in events if isinstance(e, Balance)}
    assert users == {a.user for a in CONFIG.demo_accounts}
    md = MarketData(CONFIG)
    md.apply(events)
    xrp = md.portfolio("demo").assets
    assert any(a.asset == "XRP" and a.value for a in xrp)
