"""MarketData facade: batches, prices, portfolio, tape, subscriptions, pickling."""

from __future__ import annotations

import pickle
from decimal import Decimal

from openpit.core.enums import Side
from openpit.core.events import Balance, Position
from openpit.marketdata import MarketData, render
from tests.marketdata._helpers import BTC, CONFIG, level, reference_checksum, trade

LUX = CONFIG.instruments["LUXURY001-XRP-XRPL"]


def _book(md: MarketData) -> None:
    md.apply(
        [
            level(Side.BUY, 4265000, 150000, ts=1),
            level(Side.BUY, 4264950, 230000, ts=1),
            level(Side.SELL, 4265100, 80000, ts=1),
            level(Side.SELL, 4265250, 120000, ts=1),
        ]
    )


def test_apply_book_batch_returns_full_and_view_deltas():
    md = MarketData(CONFIG)
    snap = md.subscribe_depth("BTC/USDT", 1)
    assert snap.sequence == 0 and snap.bids == []
    md.subscribe_depth("BTCUSDT", 0)
    _book(md)
    u = md.apply([level(Side.BUY, 4265010, 5, ts=2)]).instruments["BTCUSDT"]
    assert u.book is not None and u.book.sequence == 2 and u.book.prev_sequence == 1
    assert u.depth[1].bids == [(4265010, 5), (4265000, 0)]
    assert u.depth[1].sequence == 2
    assert md.checksum("BTCUSDT") == u.book.checksum
    md.unsubscribe_depth("BTCUSDT", 0)
    u = md.apply([level(Side.BUY, 4265010, 6, ts=3)]).instruments["BTCUSDT"]
    assert u.book is None and u.book_changed and u.depth[1].bids == [(4265010, 6)]


def test_unsubscribe_last_subscriber_drops_view():
    md = MarketData(CONFIG)
    md.subscribe_depth("BTCUSDT", 10)
    md.subscribe_depth("BTCUSDT", 10, conflated=True)
    md.unsubscribe_depth("BTCUSDT", 10)
    _book(md)
    assert 10 in md.apply([level(Side.BUY, 1, 1, ts=2)]).instruments["BTCUSDT"].depth
    md.unsubscribe_depth("BTCUSDT", 10, conflated=True)
    # no view left and no change at the top: nothing a subscriber sees, no update
    assert md.apply([level(Side.BUY, 2, 1, ts=3)]).instruments == {}


def test_trades_tape_newest_first_without_private_fields():
    md = MarketData(CONFIG, tape_size=3)
    for i in range(5):
        md.apply([trade(i + 1, 100 + i, 1, ts=10 + i, side=Side.SELL)])
    got = md.recent_trades("BTCUSDT")
    assert [t.trade_id for t in got] == [5, 4, 3]
    assert md.recent_trades("BTCUSDT", 1)[0].taker_side is Side.SELL
    assert not hasattr(got[0], "maker_user")


def test_price_update_asset_symbol_resolves_first_listing_with_market_cap():
    md = MarketData(CONFIG)
    ticks = LUX.price_to_ticks(Decimal("1000.25"))
    u = md.apply([trade(1, ticks, 5000, ts=1, instrument=LUX.id)]).instruments[LUX.id]
    assert u.price is not None and u.price.symbol == "LUXURY001"
    p = md.price("LUXURY001")
    assert p is not None and p.instrument == LUX.id
    # 1000.25 XRP x 50000 supply = 50_012_500 XRP
    assert p.market_cap is not None
    assert LUX.quote.from_units(p.market_cap) == Decimal("50012500")
    assert md.price("BTC") is not None and md.price("NOPE") is None


def test_portfolio_values_balances_in_quote_via_last_price():
    md = MarketData(CONFIG)
    md.apply(
        [
            trade(1, BTC.price_to_ticks(Decimal("40000")), 100, ts=1),
            trade(2, BTC.price_to_ticks(Decimal("42000")), 100, ts=2),
        ]
    )
    upd = md.apply(
        [
            Balance(user="u", asset="BTC", available=BTC.base.to_units(Decimal("1.5")), reserved=0),
            Balance(user="u", asset="USDT", available=100 * 10**8, reserved=50 * 10**8),
            Balance(user="u", asset="AAPL", available=3, reserved=0),
        ]
    )
    assert upd.portfolio_users == ["u"]
    pf = md.portfolio("u")
    assert pf.valuation_asset == "USDT"
    assert pf.unpriced == ["AAPL"]
    usdt = BTC.quote
    assert usdt.from_units(pf.total_value) == Decimal("63150")  # 1.5 x 42000 + 150
    assert usdt.from_units(pf.change) == Decimal("3000")  # 1.5 x (42000 - 40000)


def test_portfolio_margin_position_adds_unrealized_pnl():
    md = MarketData(CONFIG)
    md.apply([trade(1, BTC.price_to_ticks(Decimal("42000")), 100, ts=1)])
    cost = BTC.notional(BTC.price_to_ticks(Decimal("40000")), 100_000)  # 1 BTC at 40000
    md.apply(
        [
            Position(
                user="u",
                instrument="BTCUSDT",
                margin_mode=True,
                qty=100_000,
                cost=cost,
                realized_pnl=0,
            )
        ]
    )
    pf = md.portfolio("u")
    assert BTC.quote.from_units(pf.positions[0].unrealized_pnl or 0) == Decimal("2000")
    assert BTC.quote.from_units(pf.total_value) == Decimal("2000")


def test_unknown_instrument_events_are_ignored():
    md = MarketData(CONFIG)
    upd = md.apply([level(Side.BUY, 1, 1, instrument="NOPE"), trade(1, 1, 1, 5, instrument="X")])
    assert upd.instruments == {} and upd.ts == 5


def test_market_data_pickle_roundtrip_continues_identically():
    md = MarketData(CONFIG)
    md.subscribe_depth("BTCUSDT", 10)
    _book(md)
    md.apply([trade(1, 4265100, 10, ts=5)])
    copy = pickle.loads(pickle.dumps(md))
    batch = [level(Side.SELL, 4265100, 0, ts=6), trade(2, 4265250, 3, ts=6)]
    a, b = md.apply(batch), copy.apply(batch)
    assert a == b
    assert md.ticker("BTCUSDT") == copy.ticker("BTCUSDT")


def test_render_helpers_convert_exactly():
    assert render.price(BTC, 4265050) == Decimal("42650.50")
    assert render.qty(BTC, 80000) == Decimal("0.80000")
    assert render.levels(BTC, [(1, 1)]) == [(Decimal("0.01"), Decimal("0.00001"))]
    assert render.ppm_to_percent(18_600) == Decimal("1.86")


def test_deep_book_beyond_sorted_region_matches_reference_at_every_depth():
    """Hundreds of levels per side (far past the sorted region), mixed batches that
    enter the short loop, hand over to the general one (a trade, a level twice) or
    commit: every snapshot and every view equals a brute-force book."""
    import random

    rng = random.Random(11)
    md = MarketData(CONFIG)
    snaps = {d: md.subscribe_depth("BTCUSDT", d) for d in (10, 50)}
    held = {d: ({p: q for p, q in s.bids}, {p: q for p, q in s.asks}) for d, s in snaps.items()}
    ref: dict[Side, dict[int, int]] = {Side.BUY: {}, Side.SELL: {}}
    trade_id = 0
    for step in range(3000):
        batch: list[object] = []
        for _ in range(rng.randint(1, 4)):
            side = Side.BUY if rng.random() < 0.5 else Side.SELL
            price = (
                100_000 - rng.randint(1, 600) if side is Side.BUY else 100_000 + rng.randint(1, 600)
            )
            qty = 0 if rng.random() < 0.4 else rng.randint(1, 50)
            ref[side][price] = qty
            batch.append(level(side, price, qty, ts=step))
        if rng.random() < 0.05:
            trade_id += 1
            batch.append(trade(trade_id, 100_000, 1, ts=step))
        if rng.random() < 0.05 and batch:  # the same level twice in one batch
            first = batch[0]
            assert isinstance(first, type(level(Side.BUY, 1, 1)))
            ref[first.side][first.price] = 7
            batch.append(level(first.side, first.price, 7, ts=step))
        u = md.apply(batch).instruments.get("BTCUSDT")  # type: ignore[arg-type]
        for d, delta in (u.depth if u is not None else {}).items():
            bids, asks = held[d]
            for p, q in delta.bids:
                bids.pop(p) if q == 0 else bids.__setitem__(p, q)
            for p, q in delta.asks:
                asks.pop(p) if q == 0 else asks.__setitem__(p, q)
            want_b = sorted(((p, q) for p, q in ref[Side.BUY].items() if q), reverse=True)
            want_a = sorted((p, q) for p, q in ref[Side.SELL].items() if q)
            assert delta.checksum == reference_checksum(BTC, want_a, want_b)
        if step % 97 == 0 or step == 2999:
            want_b = sorted(((p, q) for p, q in ref[Side.BUY].items() if q), reverse=True)
            want_a = sorted((p, q) for p, q in ref[Side.SELL].items() if q)
            full = md.book_snapshot("BTCUSDT", 0)
            assert (full.bids, full.asks) == (want_b, want_a)
            for d in (10, 50):
                bids, asks = held[d]
                assert sorted(bids.items(), reverse=True) == want_b[:d]
                assert sorted(asks.items()) == want_a[:d]
                snap = md.book_snapshot("BTCUSDT", d)
                assert (snap.bids, snap.asks) == (want_b[:d], want_a[:d])
            assert md.book_snapshot("BTCUSDT", 200).bids == want_b[:200]


def test_live_candles_built_on_request_after_a_trade():
    md = MarketData(CONFIG)
    u = md.apply([trade(1, 4265000, 3, ts=60_000)]).instruments["BTCUSDT"]
    assert u.candles_changed
    live = md.live_candles("BTCUSDT")
    assert [c.interval for c in live] == ["1m", "5m", "15m", "1h", "4h", "1d", "1w"]
    assert all(c.close == 4265000 and c.volume == 3 and not c.closed for c in live)
