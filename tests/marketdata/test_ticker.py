"""Ticker rolling 24 h statistics against a brute-force window."""

from __future__ import annotations

from fractions import Fraction

from hypothesis import given, settings
from hypothesis import strategies as st

from openpit.core.enums import Side
from openpit.marketdata import MarketData
from openpit.marketdata.ticker import DAY_MS
from tests.marketdata._helpers import BTC, CONFIG, level, trade

gaps = st.one_of(st.integers(0, 1000), st.integers(0, 6 * 3_600_000), st.integers(0, 2 * DAY_MS))
rows = st.lists(
    st.tuples(gaps, st.integers(1, 500), st.integers(1, 9), st.booleans()), min_size=1, max_size=80
)


@settings(max_examples=120, deadline=None)
@given(rows)
def test_ticker_rolling_window_any_trades_equals_brute_force(steps):
    md = MarketData(CONFIG)
    ts = 1_700_000_000_000
    seen: list[tuple[int, int, int]] = []
    for i, (gap, price, qty, only_advance) in enumerate(steps):
        ts += gap
        if only_advance and seen:
            md.advance(ts)
        else:
            md.apply([trade(i + 1, price, qty, ts)])
            seen.append((ts, price, qty))
        win = [r for r in seen if r[0] > ts - DAY_MS]
        t = md.ticker("BTCUSDT")
        assert t.last_price == seen[-1][1] and t.last_qty == seen[-1][2]
        assert t.volume == sum(q for _, _, q in win)
        assert t.quote_volume == sum(BTC.notional(p, q) for _, p, q in win)
        assert t.trades == len(win)
        if win:
            assert (t.open, t.high, t.low) == (
                win[0][1],
                max(p for _, p, _ in win),
                min(p for _, p, _ in win),
            )
            assert t.change == seen[-1][1] - win[0][1]
            assert t.change_ppm == int(Fraction((seen[-1][1] - win[0][1]) * 1_000_000, win[0][1]))
        else:
            assert t.open is None and t.high is None and t.change is None


def test_ticker_window_expiry_by_advance_marks_ticker_changed():
    md = MarketData(CONFIG)
    md.apply([trade(1, 100, 2, 1_000)])
    upd = md.advance(1_000 + DAY_MS)
    u = upd.instruments["BTCUSDT"]
    assert u.ticker_changed and u.price is not None and u.price.volume == 0
    assert md.ticker("BTCUSDT").volume == 0


def test_ticker_best_bid_ask_follow_book():
    md = MarketData(CONFIG)
    upd = md.apply([level(Side.BUY, 99, 3), level(Side.SELL, 101, 4)])
    assert upd.instruments["BTCUSDT"].ticker_changed
    t = md.ticker("BTCUSDT")
    assert (t.bid, t.bid_qty, t.ask, t.ask_qty) == (99, 3, 101, 4)
    upd = md.apply([level(Side.BUY, 50, 1)])  # below the top, no view: no update at all
    assert "BTCUSDT" not in upd.instruments
