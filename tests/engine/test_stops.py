"""Stops, take-profits, trailing stops, OCO, cascades, and reservation caps."""

from __future__ import annotations

from openpit.core.commands import ModifyOrder, PlaceOrder
from openpit.core.enums import OrderType, Side
from openpit.core.events import Event, OrderUpdate, Trade
from tests.engine.helpers import (
    BUY,
    SELL,
    TIF,
    R,
    S,
    T,
    Venue,
    last_update,
    levels,
    trades,
    updates,
)


def _trade_at(v: Venue, price: int, qty: int = 1) -> list[Event]:
    v.place("mm", SELL, qty, price)
    return v.place("tt", BUY, qty, price)


def test_stop_pending_until_last_reaches_stop() -> None:
    v = Venue()
    v.place("m", BUY, 5, 95)
    ev = v.place("a", SELL, 2, type=T.STOP, stop_price=96)
    assert updates(ev)[0].status is S.PENDING and levels(ev) == []
    assert v.engine.order(2) is not None and v.engine.best_ask("X") is None
    _trade_at(v, 97)
    assert v.engine.order(2) is not None
    ev2 = _trade_at(v, 96)
    assert (95, 2) in trades(ev2)
    assert v.engine.order(2) is None


def test_sell_stop_triggers_market_with_band_from_stop() -> None:
    v = Venue()
    _trade_at(v, 100)
    v.place("m", BUY, 1, 95)
    v.place("m", BUY, 1, 94)  # 100 * 0.95 = 95: 94 is beyond the band around the stop
    ev = v.place("a", SELL, 3, type=T.STOP, stop_price=100)  # already at 100: fires at once
    assert [u.status for u in updates(ev, 5)][:2] == [S.PENDING, S.NEW]
    assert trades(ev) == [(95, 1)]
    u = last_update(ev, 5)
    assert u.status is S.EXPIRED and u.reason is R.PRICE_BAND


def test_buy_stop_limit_triggers_as_limit_and_rests() -> None:
    v = Venue()
    v.place("a", BUY, 3, type=T.STOP_LIMIT, stop_price=105, price=106)
    v.place("m", SELL, 1, 107)
    ev = _trade_at(v, 105)
    ups = [e for e in ev if isinstance(e, OrderUpdate) and e.order_id == 1]
    assert ups[0].status is S.NEW  # triggered
    assert v.engine.depth("X", 5)[0] == [(106, 3)]
    assert v.engine.order(1) is not None and not v.engine.order(1).pending


def test_take_profit_sell_triggers_when_price_rises() -> None:
    v = Venue()
    v.place("m", BUY, 5, 100)
    v.place("a", SELL, 2, type=T.TAKE_PROFIT, stop_price=110)
    _trade_at(v, 105)
    assert v.engine.order(2) is not None
    ev = _trade_at(v, 110)
    assert (100, 2) not in trades(ev)  # band: 110*0.95=104.5 > 100
    assert last_update(ev, 2).reason is R.PRICE_BAND


def test_take_profit_limit_buy_triggers_when_price_falls() -> None:
    v = Venue()
    v.place("a", BUY, 2, type=T.TAKE_PROFIT_LIMIT, stop_price=95, price=96)
    _trade_at(v, 100)
    assert v.engine.order(1).pending
    _trade_at(v, 95)
    assert v.engine.depth("X", 5)[0] == [(96, 2)]


def test_trailing_sell_stop_follows_high_and_triggers() -> None:
    v = Venue()
    _trade_at(v, 100)
    v.place("a", SELL, 1, type=T.TRAILING_STOP, trail_ticks=5)
    o = v.engine.order(3)
    assert o is not None and o.stop_price == 95
    _trade_at(v, 110)
    assert o.stop_price == 105 and o.pending
    _trade_at(v, 108)
    assert o.stop_price == 105 and o.pending
    v.place("m", BUY, 1, 104)
    _trade_at(v, 105)
    assert v.engine.order(3) is None
    assert v.engine.best_bid("X") is None  # its market sell hit the 104 bid


def test_trailing_buy_stop_ppm_follows_low() -> None:
    v = Venue()
    _trade_at(v, 1000)
    v.place("a", BUY, 1, type=T.TRAILING_STOP, trail_ppm=10_000)  # 1%
    o = v.engine.order(3)
    assert o is not None and o.stop_price == 1010
    _trade_at(v, 900)
    assert o.stop_price == 909
    _trade_at(v, 909)
    assert v.engine.order(3) is None


def test_oco_limit_fill_cancels_stop_leg() -> None:
    v = Venue()
    ev = v.place("a", SELL, 4, 110, type=T.OCO, stop_price=90)
    assert updates(ev)[0].status is S.NEW and levels(ev) == [("sell", 110, 4)]
    ev = v.place("b", BUY, 1, 110)
    u = last_update(ev, 1)
    assert u.status is S.PARTIALLY_FILLED and u.stop_price is None
    assert v.engine.pending_stops("X") == []
    _trade_at(v, 80)
    assert v.engine.order(1) is not None  # stop leg no longer armed


def test_oco_stop_trigger_removes_limit_leg() -> None:
    v = Venue()
    v.place("m", BUY, 10, 85)
    v.place("a", SELL, 4, 110, type=T.OCO, stop_price=90, stop_limit_price=85)
    ev = _trade_at(v, 90)
    ups = [e for e in ev if isinstance(e, OrderUpdate) and e.order_id == 2]
    assert ups[0].reason is R.OCO_SIBLING and ups[0].price == 85
    assert ("sell", 110, 0) in levels(ev)
    assert ups[-1].status is S.FILLED


def test_cascade_triggers_in_order_id_order() -> None:
    v = Venue()
    v.place("m", BUY, 1, 99)
    v.place("m", BUY, 1, 98)
    v.place("m", BUY, 1, 97)
    v.place("m", BUY, 1, 96)
    v.place("s1", SELL, 1, type=T.STOP, stop_price=99)  # 5: fires at 99
    v.place("s2", SELL, 1, type=T.STOP, stop_price=99)  # 6: fires at 99 too
    v.place("s3", SELL, 1, type=T.STOP, stop_price=97)  # 7: fires once s2 trades at 97
    ev = v.place("x", SELL, 1, 99)
    t = [e for e in ev if isinstance(e, Trade)]
    assert [(x.taker_order_id, x.price) for x in t] == [(8, 99), (5, 98), (6, 97), (7, 96)]
    assert v.engine.last_price("X") == 96
    assert v.engine.pending_stops("X") == []


def test_stop_post_only_limit_crossing_at_trigger_cancelled() -> None:
    v = Venue()
    v.place("m", SELL, 5, 101)
    v.place("a", BUY, 1, type=T.STOP_LIMIT, stop_price=100, price=102, post_only=True)
    ev = _trade_at(v, 100)
    assert last_update(ev, 2).reason is R.POST_ONLY_WOULD_TAKE


def test_cancel_pending_stop_and_oco() -> None:
    v = Venue()
    v.place("a", SELL, 1, type=T.STOP, stop_price=90)
    v.place("a", SELL, 1, 110, type=T.OCO, stop_price=90)
    v.cancel("a", 1)
    ev = v.cancel("a", 2)
    assert last_update(ev, 2).status is S.CANCELLED and levels(ev) == [("sell", 110, 0)]
    assert v.engine.pending_stops("X") == []


def test_day_stop_expires() -> None:
    v = Venue()
    v.place("a", SELL, 1, type=T.STOP, stop_price=90, tif=TIF.DAY)
    ev = v.engine.expire(10**13)
    assert updates(ev)[0].reason is R.DAY_EXPIRED and v.engine.pending_stops("X") == []


def _cmd(**kw: object) -> PlaceOrder:
    base: dict[str, object] = {"user": "a", "instrument": "X", "qty": 1}
    base.update(kw)
    return PlaceOrder(**base)


def test_price_cap_by_order_type() -> None:
    v = Venue()
    v.place("m", SELL, 1, 200)
    v.place("m", BUY, 1, 100)
    e = v.engine
    B, S_ = Side.BUY, Side.SELL
    assert e.price_cap(_cmd(side=B, type=OrderType.LIMIT, price=150)) == 150
    assert e.price_cap(_cmd(side=B, type=OrderType.MARKET)) == 210  # best ask 200 + 5%
    assert e.price_cap(_cmd(side=S_, type=OrderType.MARKET)) == 95  # best bid 100 - 5%
    assert e.price_cap(_cmd(side=B, type=OrderType.STOP, stop_price=101)) == 106  # 106.05 down
    assert e.price_cap(_cmd(side=S_, type=OrderType.STOP, stop_price=101)) == 96  # 95.95 up
    assert e.price_cap(_cmd(side=B, type=OrderType.STOP_LIMIT, stop_price=101, price=103)) == 103
    oco = _cmd(side=S_, type=OrderType.OCO, price=120, stop_price=100)
    assert e.price_cap(oco) == 95
    oco = _cmd(side=B, type=OrderType.OCO, price=90, stop_price=100, stop_limit_price=102)
    assert e.price_cap(oco) == 102
    assert e.price_cap(_cmd(side=B, type=OrderType.TRAILING_STOP, trail_ticks=10)) == 220
    # sell: reference = best bid 100, stop 90, floor ceil(90 * 0.95) = 86
    assert e.price_cap(_cmd(side=S_, type=OrderType.TRAILING_STOP, trail_ticks=10)) == 86


def test_order_and_modify_price_caps() -> None:
    v = Venue()
    v.place("a", BUY, 1, type=T.STOP, stop_price=100)
    v.place("a", BUY, 1, 90, type=T.OCO, stop_price=100)
    v.place("a", BUY, 1, 80)
    e = v.engine
    assert e.order_price_cap(1) == 105 and e.order_price_cap(2) == 105
    assert e.order_price_cap(3) == 80 and e.order_price_cap(99) is None
    assert e.modify_price_cap(ModifyOrder(user="a", order_id=1, stop_price=200)) == 210
    assert e.modify_price_cap(ModifyOrder(user="a", order_id=3, price=85)) == 85
    assert e.modify_price_cap(ModifyOrder(user="a", order_id=2, price=99)) == 105
    assert e.modify_price_cap(ModifyOrder(user="b", order_id=3, price=85)) is None
