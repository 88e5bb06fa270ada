"""Candles against a brute-force aggregation of the same trades."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from openpit.marketdata import MarketData
from openpit.marketdata.candles import INTERVALS
from tests.marketdata._helpers import BTC, CONFIG, trade

# Sunday 2024-01-07 23:00 UTC: the first trades straddle a Monday week boundary.
BASE = int(datetime(2024, 1, 7, 23, 0, tzinfo=UTC).timestamp() * 1000)
MONDAY_2024_01_08 = int(datetime(2024, 1, 8, tzinfo=UTC).timestamp() * 1000)


def _start(interval: str, ts: int) -> int:
    if interval == "1w":
        day = datetime.fromtimestamp(ts / 1000, tz=UTC).date()
        monday = day - timedelta(days=day.weekday())
        return int(datetime(monday.year, monday.month, monday.day, tzinfo=UTC).timestamp() * 1000)
    span = INTERVALS[interval]
    return ts - ts % span


def _brute(interval: str, rows: list[tuple[int, int, int]]) -> list[tuple[int, ...]]:
    buckets: dict[int, list[tuple[int, int, int]]] = {}
    for ts, price, qty in rows:
        buckets.setdefault(_start(interval, ts), []).append((ts, price, qty))
    out = []
    for start in sorted(buckets):
        b = buckets[start]
        prices = [p for _, p, _ in b]
        out.append(
            (
                start,
                prices[0],
                max(prices),
                min(prices),
                prices[-1],
                sum(q for _, _, q in b),
                sum(BTC.notional(p, q) for _, p, q in b),
                len(b),
            )
        )
    return out


gaps = st.one_of(
    st.integers(0, 90_000), st.integers(0, 6 * 3_600_000), st.integers(0, 4 * 86_400_000)
)
trade_rows = st.lists(
    st.tuples(gaps, st.integers(1, 1_000), st.integers(1, 50)), min_size=1, max_size=60
)


@settings(max_examples=120, deadline=None)
@given(trade_rows)
def test_candles_any_trades_equal_brute_force_aggregation(rows):
    md = MarketData(CONFIG, max_candles=10_000)
    ts = BASE
    flat: list[tuple[int, int, int]] = []
    closed_seen: dict[str, list[int]] = {iv: [] for iv in INTERVALS}
    for i, (gap, price, qty) in enumerate(rows):
        ts += gap
        flat.append((ts, price, qty))
        upd = md.apply([trade(i + 1, price, qty, ts)])
        for c in upd.instruments["BTCUSDT"].closed:
            assert c.closed and c.end <= ts  # only a later trade closes a candle
            closed_seen[c.interval].append(c.start)
    last = flat[-1][0]
    for iv in INTERVALS:
        live = md.history("BTCUSDT", iv)[-1]
        assert not live.closed and live.start <= last < live.end
    md.advance(last + 8 * 86_400_000)
    for iv in INTERVALS:
        got = md.history("BTCUSDT", iv)
        assert all(c.closed for c in got)
        want = _brute(iv, flat)
        assert [
            (c.start, c.open, c.high, c.low, c.close, c.volume, c.quote_volume, c.trades)
            for c in got
        ] == want
        assert all(c.end - c.start == INTERVALS[iv] for c in got)
        # every candle was closed exactly once, in order, no empty-interval candles
        assert [c.start for c in got][: len(closed_seen[iv])] == closed_seen[iv]


def test_candles_week_starts_monday_utc():
    md = MarketData(CONFIG)
    md.apply([trade(1, 100, 1, MONDAY_2024_01_08 - 1)])
    upd = md.apply([trade(2, 200, 1, MONDAY_2024_01_08)])
    closed = [c for c in upd.instruments["BTCUSDT"].closed if c.interval == "1w"]
    assert len(closed) == 1 and closed[0].end == MONDAY_2024_01_08
    live = md.history("BTCUSDT", "1w")[-1]
    assert live.start == MONDAY_2024_01_08 and live.open == 200


def test_candles_empty_interval_produces_no_candle():
    md = MarketData(CONFIG)
    md.apply([trade(1, 100, 1, BASE)])
    md.apply([trade(2, 105, 1, BASE + 5 * 60_000)])
    starts = [c.start for c in md.history("BTCUSDT", "1m")]
    assert starts == [BASE, BASE + 5 * 60_000]
    assert md.history("BTCUSDT", "1m")[-1].open == 105


def test_candles_advance_past_boundary_closes_live_candle():
    md = MarketData(CONFIG)
    md.apply([trade(1, 100, 1, BASE + 10)])
    assert md.advance(BASE + 59_999).instruments == {}
    upd = md.advance(BASE + 60_000)
    closed = upd.instruments["BTCUSDT"].closed
    assert [c.interval for c in closed] == ["1m"] and closed[0].closed


def test_history_limit_and_range_returns_latest_in_range():
    md = MarketData(CONFIG, max_candles=3)
    for i in range(6):
        md.apply([trade(i + 1, 100 + i, 1, BASE + i * 60_000)])
    all_1m = md.history("BTCUSDT", "1m")
    assert [c.open for c in all_1m] == [102, 103, 104, 105]  # 3 closed kept + live
    assert [c.open for c in md.history("BTCUSDT", "1m", limit=2)] == [104, 105]
    got = md.history("BTCUSDT", "1m", start=BASE + 3 * 60_000, end=BASE + 5 * 60_000)
    assert [c.open for c in got] == [103, 104]


@settings(max_examples=120, deadline=None)
@given(trade_rows, st.lists(st.integers(1, 6), min_size=1, max_size=60), st.booleans())
def test_candles_multi_trade_batches_equal_brute_force_aggregation(rows, sizes, same_ts):
    """Batches of several trades (one command's fills share a ts; mixed ts fall back)."""
    md = MarketData(CONFIG, max_candles=10_000)
    ts = BASE
    flat: list[tuple[int, int, int]] = []
    i = 0
    for size in itertools.cycle(sizes):
        if i >= len(rows):
            break
        batch = []
        for gap, price, qty in rows[i : i + size]:
            if not (same_ts and batch):
                ts += gap
            flat.append((ts, price, qty))
            batch.append(trade(len(flat), price, qty, ts))
        i += size
        md.apply(batch)
    md.advance(flat[-1][0] + 8 * 86_400_000)
    for iv in INTERVALS:
        got = md.history("BTCUSDT", iv)
        assert [
            (c.start, c.open, c.high, c.low, c.close, c.volume, c.quote_volume, c.trades)
            for c in got
        ] == _brute(iv, flat)
