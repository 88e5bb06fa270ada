"""Order types and time in force: limit, market, ioc, fok, day; events and book levels."""

from __future__ import annotations

import pickle

from openpit.core.enums import STPMode
from openpit.core.events import BookLevel, OrderUpdate, Trade
from openpit.core.session import TradingSession
from tests.engine.helpers import (
    BUY,
    SELL,
    TIF,
    R,
    S,
    T,
    Venue,
    instrument,
    last_update,
    levels,
    trades,
    updates,
)


def test_limit_resting_emits_new_update_and_level() -> None:
    v = Venue()
    ev = v.place("a", SELL, 5, 100)
    assert isinstance(ev[0], OrderUpdate) and ev[0].status is S.NEW and ev[0].remaining == 5
    assert levels(ev) == [("sell", 100, 5)]
    assert v.engine.best_ask("X") == 100 and v.engine.best_bid("X") is None
    assert v.engine.order(1) is not None


def test_limit_crossing_trades_at_maker_price_in_event_order() -> None:
    v = Venue()
    v.place("a", SELL, 5, 100)
    ev = v.place("b", BUY, 3, 105)
    kinds = [type(e).__name__ for e in ev]
    assert kinds == ["OrderUpdate", "Trade", "OrderUpdate", "OrderUpdate", "BookLevel"]
    assert trades(ev) == [(100, 3)]
    maker, taker = ev[2], ev[3]
    assert isinstance(maker, OrderUpdate) and maker.order_id == 1
    assert maker.status is S.PARTIALLY_FILLED and maker.remaining == 2
    assert isinstance(taker, OrderUpdate) and taker.status is S.FILLED
    assert taker.last_fill_price == 100 and taker.last_fill_qty == 3 and taker.filled_value == 300
    assert levels(ev) == [("sell", 100, 2)]
    assert v.engine.last_price("X") == 100


def test_limit_sweep_price_time_priority_fifo() -> None:
    v = Venue()
    v.place("a", SELL, 2, 101)  # 1
    v.place("b", SELL, 2, 100)  # 2
    v.place("c", SELL, 2, 100)  # 3
    ev = v.place("d", BUY, 5, 101)
    t = [e for e in ev if isinstance(e, Trade)]
    assert [(x.maker_order_id, x.price, x.qty) for x in t] == [
        (2, 100, 2),
        (3, 100, 2),
        (1, 101, 1),
    ]
    assert [x.trade_id for x in t] == [1, 2, 3]
    assert levels(ev) == [("sell", 100, 0), ("sell", 101, 1)]


def test_limit_remainder_rests_after_partial_fill() -> None:
    v = Venue()
    v.place("a", SELL, 2, 100)
    ev = v.place("b", BUY, 5, 100)
    assert last_update(ev, 2).status is S.PARTIALLY_FILLED
    assert v.engine.depth("X", 5) == ([(100, 3)], [])
    assert levels(ev) == [("sell", 100, 0), ("buy", 100, 3)]


def test_ioc_remainder_expires_never_rests() -> None:
    v = Venue()
    v.place("a", SELL, 2, 100)
    ev = v.place("b", BUY, 5, 100, tif=TIF.IOC)
    u = last_update(ev, 2)
    assert u.status is S.EXPIRED and u.reason is R.IOC_REMAINDER
    assert u.filled == 2 and u.cancelled == 3 and u.remaining == 0
    assert v.engine.order(2) is None and v.engine.best_bid("X") is None


def test_ioc_no_match_expires_immediately() -> None:
    v = Venue()
    ev = v.place("b", BUY, 5, 100, tif=TIF.IOC)
    assert [u.status for u in updates(ev)] == [S.NEW, S.EXPIRED]
    assert levels(ev) == []


def test_fok_not_fillable_expires_without_trades() -> None:
    v = Venue()
    v.place("a", SELL, 2, 100)
    v.place("a", SELL, 2, 102)
    ev = v.place("b", BUY, 5, 102, tif=TIF.FOK)
    assert trades(ev) == []
    u = last_update(ev, 3)
    assert u.status is S.EXPIRED and u.reason is R.FOK_NOT_FILLABLE and u.cancelled == 5
    assert v.engine.depth("X", 5) == ([], [(100, 2), (102, 2)])


def test_fok_fillable_fills_completely() -> None:
    v = Venue()
    v.place("a", SELL, 2, 100)
    v.place("a", SELL, 3, 101)
    ev = v.place("b", BUY, 5, 101, tif=TIF.FOK)
    assert trades(ev) == [(100, 2), (101, 3)]
    assert last_update(ev, 3).status is S.FILLED


def test_fok_blocked_by_own_order_under_cancel_newest_expires() -> None:
    v = Venue(stp=STPMode.CANCEL_NEWEST)
    v.place("b", SELL, 2, 100)
    v.place("a", SELL, 5, 100)
    ev = v.place("b", BUY, 5, 100, tif=TIF.FOK)
    assert trades(ev) == [] and last_update(ev, 3).reason is R.FOK_NOT_FILLABLE
    assert v.engine.order(1) is not None  # no STP side effect


def test_fok_skips_own_order_under_cancel_oldest_fills() -> None:
    v = Venue(stp=STPMode.CANCEL_OLDEST)
    v.place("b", SELL, 2, 100)
    v.place("a", SELL, 5, 100)
    ev = v.place("b", BUY, 5, 100, tif=TIF.FOK)
    assert trades(ev) == [(100, 5)]
    assert last_update(ev, 1).reason is R.SELF_TRADE


def test_market_buy_fills_within_band_remainder_price_band() -> None:
    v = Venue()
    v.place("a", SELL, 2, 100)
    v.place("a", SELL, 2, 105)
    v.place("a", SELL, 2, 106)  # beyond 100 * 1.05
    ev = v.place("b", BUY, 10, type=T.MARKET)
    assert trades(ev) == [(100, 2), (105, 2)]
    u = last_update(ev, 4)
    assert u.status is S.EXPIRED and u.reason is R.PRICE_BAND and u.price is None
    assert u.tif is TIF.IOC


def test_market_sell_exhausts_book_remainder_ioc() -> None:
    v = Venue()
    v.place("a", BUY, 2, 100)
    ev = v.place("b", SELL, 5, type=T.MARKET)
    assert trades(ev) == [(100, 2)]
    assert last_update(ev, 2).reason is R.IOC_REMAINDER


def test_market_band_reference_is_last_trade_price() -> None:
    v = Venue()
    v.place("a", SELL, 1, 100)
    v.place("b", BUY, 1, 100)  # last = 100
    v.place("a", SELL, 1, 110)
    ev = v.place("b", BUY, 1, type=T.MARKET)  # cap 105 < 110
    assert trades(ev) == [] and last_update(ev, 4).reason is R.PRICE_BAND


def test_market_fok_within_band_all_or_nothing() -> None:
    v = Venue()
    v.place("a", SELL, 2, 100)
    ev = v.place("b", BUY, 3, type=T.MARKET, tif=TIF.FOK)
    assert trades(ev) == [] and last_update(ev, 2).reason is R.FOK_NOT_FILLABLE


def test_day_order_expires_at_session_day_end() -> None:
    v = Venue()
    day = 86_400_000
    v.tick(5 * day + 10)
    v.place("a", SELL, 2, 100, tif=TIF.DAY)
    v.place("a", SELL, 2, 101)  # gtc stays
    assert v.engine.expire(6 * day - 1) == []
    ev = v.engine.expire(6 * day)
    u = updates(ev)
    assert len(u) == 1 and u[0].status is S.EXPIRED and u[0].reason is R.DAY_EXPIRED
    assert levels(ev) == [("sell", 100, 0)]
    assert v.engine.order(1) is None and v.engine.order(2) is not None
    assert v.engine.expire(7 * day) == []


def test_day_order_uses_instrument_session_close() -> None:
    from datetime import time

    sess = TradingSession(always_open=False, open=time(9), close=time(17), timezone="UTC")
    v = Venue(instruments=(instrument("X", session=sess),))
    monday_10h = 1_700_438_400_000 + 10 * 3_600_000  # 2023-11-20 is a Monday
    v.tick(monday_10h)
    v.place("a", BUY, 1, 100, tif=TIF.DAY)
    assert v.engine.expire(monday_10h + 7 * 3_600_000 - 1) == []
    assert updates(v.engine.expire(monday_10h + 7 * 3_600_000))[0].reason is R.DAY_EXPIRED


def test_day_order_filled_before_close_not_expired() -> None:
    v = Venue()
    v.place("a", SELL, 2, 100, tif=TIF.DAY)
    v.place("b", BUY, 2, 100)
    assert v.engine.expire(10**13) == []


def test_cancel_by_order_id_and_client_id() -> None:
    v = Venue()
    v.place("a", SELL, 2, 100)
    v.place("a", SELL, 3, 100, client_order_id="c1")
    ev = v.cancel("a", order_id=1)
    u = last_update(ev, 1)
    assert u.status is S.CANCELLED and u.reason is R.USER_CANCELLED and u.cancelled == 2
    assert levels(ev) == [("sell", 100, 3)]
    ev = v.cancel("a", client_order_id="c1")
    assert last_update(ev, 2).status is S.CANCELLED and levels(ev) == [("sell", 100, 0)]
    assert v.engine.order_by_client_id("a", "c1") is None


def test_client_order_id_reusable_after_final() -> None:
    v = Venue()
    v.place("a", SELL, 2, 100, client_order_id="x")
    v.cancel("a", client_order_id="x")
    v.place("a", SELL, 2, 100, client_order_id="x")
    o = v.engine.order_by_client_id("a", "x")
    assert o is not None and o.order_id == 2


def test_cancel_all_per_user_and_instrument() -> None:
    v = Venue()
    v.place("a", SELL, 2, 100)
    v.place("a", SELL, 2, 100, instrument="Y")
    v.place("b", SELL, 2, 101)
    ev = v.engine.cancel_all("a", "X", v.tick())
    assert [u.order_id for u in updates(ev)] == [1]
    ev = v.engine.cancel_all("a", None, v.tick())
    assert [u.order_id for u in updates(ev)] == [2]
    assert [o.order_id for o in v.engine.open_orders("b")] == [3]
    assert v.engine.open_orders("a") == []


def test_open_orders_filters_instrument() -> None:
    v = Venue()
    v.place("a", SELL, 2, 100)
    v.place("a", SELL, 2, 100, instrument="Y")
    assert [o.order_id for o in v.engine.open_orders("a", "Y")] == [2]
    assert [o.order_id for o in v.engine.open_orders("a")] == [1, 2]


def test_depth_levels_sorted_and_limited() -> None:
    v = Venue()
    for p in (99, 97, 98):
        v.place("a", BUY, 1, p)
    for p in (103, 101, 102):
        v.place("a", SELL, 2, p)
    v.place("b", BUY, 1, 99)
    assert v.engine.depth("X", 2) == ([(99, 2), (98, 1)], [(101, 2), (102, 2)])


def test_book_level_events_coalesced_per_call() -> None:
    v = Venue()
    v.place("a", SELL, 1, 100)
    v.place("b", SELL, 1, 100)
    ev = v.place("c", BUY, 2, 100)
    assert [e for e in ev if isinstance(e, BookLevel)] == [
        BookLevel(instrument="X", side=SELL, price=100, qty=0)
    ]


def test_events_leave_sequence_fields_zero_and_carry_flags() -> None:
    v = Venue()
    ev = v.place("a", BUY, 1, 100, reduce_only=True, margin=True, leverage=3)
    u = ev[0]
    assert isinstance(u, OrderUpdate)
    assert (u.seq, u.useq, u.ts) == (0, 0, 0)
    assert u.created_ts == v.ts and u.reduce_only and u.margin and u.leverage == 3
    o = v.engine.order(1)
    assert o is not None and o.reduce_only and o.margin and o.leverage == 3


def test_engine_pickle_roundtrip_keeps_state_and_behaviour() -> None:
    v = Venue()
    v.place("a", SELL, 2, 100, client_order_id="k")
    v.place("a", BUY, 1, 90, tif=TIF.DAY)
    v.place("b", SELL, 1, type=T.STOP, stop_price=95)
    clone = pickle.loads(pickle.dumps(v.engine))
    assert list(clone.state_items()) == list(v.engine.state_items())
    from openpit.core.commands import PlaceOrder

    cmd = PlaceOrder(user="c", instrument="X", side=BUY, type=T.LIMIT, qty=2, price=100)
    assert clone.place(cmd, 99, 5) == v.engine.place(cmd, 99, 5)
    assert list(clone.state_items()) == list(v.engine.state_items())
