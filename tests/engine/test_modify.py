"""Modify: queue priority rules, crossing re-prices, stops, rejections."""

from __future__ import annotations

import pytest

from tests.engine.helpers import (
    BUY,
    SELL,
    R,
    Rejected,
    S,
    T,
    Venue,
    last_update,
    levels,
    trades,
)


def _queue(v: Venue, price: int = 100, is_buy: bool = False) -> list[int]:
    return [o.order_id for o in v.engine.level_orders("X", is_buy, price)]


def test_modify_qty_down_keeps_priority() -> None:
    v = Venue()
    v.place("a", SELL, 5, 100)
    v.place("b", SELL, 5, 100)
    ev = v.modify("a", 1, qty=3)
    assert _queue(v) == [1, 2]
    u = last_update(ev, 1)
    assert u.qty == 3 and u.remaining == 3 and u.status is S.NEW
    assert levels(ev) == [("sell", 100, 8)]


def test_modify_qty_up_loses_priority() -> None:
    v = Venue()
    v.place("a", SELL, 5, 100)
    v.place("b", SELL, 5, 100)
    ev = v.modify("a", 1, qty=6)
    assert _queue(v) == [2, 1]
    assert levels(ev) == [("sell", 100, 11)]


def test_modify_price_change_loses_priority_and_moves_level() -> None:
    v = Venue()
    v.place("a", SELL, 5, 100)
    v.place("b", SELL, 5, 101)
    ev = v.modify("a", 1, price=101)
    assert _queue(v, 101) == [2, 1]
    assert levels(ev) == [("sell", 100, 0), ("sell", 101, 10)]


def test_modify_same_qty_same_price_keeps_priority() -> None:
    v = Venue()
    v.place("a", SELL, 5, 100)
    v.place("b", SELL, 5, 100)
    v.modify("a", 1, qty=5, price=100)
    assert _queue(v) == [1, 2]


def test_modify_qty_is_total_including_filled() -> None:
    v = Venue()
    v.place("a", SELL, 5, 100)
    v.place("b", BUY, 2, 100)
    ev = v.modify("a", 1, qty=4)
    u = last_update(ev, 1)
    assert (u.qty, u.filled, u.remaining, u.status) == (4, 2, 2, S.PARTIALLY_FILLED)


def test_modify_qty_not_above_filled_rejected() -> None:
    v = Venue()
    v.place("a", SELL, 5, 100)
    v.place("b", BUY, 2, 100)
    with pytest.raises(Rejected) as exc:
        v.modify("a", 1, qty=2)
    assert exc.value.reason is R.INVALID_QUANTITY


def test_modify_crossing_price_matches_as_taker() -> None:
    v = Venue()
    v.place("a", SELL, 2, 101)
    v.place("b", BUY, 5, 99)
    ev = v.modify("b", 2, price=101)
    assert trades(ev) == [(101, 2)]
    u = last_update(ev, 2)
    assert u.status is S.PARTIALLY_FILLED and u.remaining == 3
    assert v.engine.depth("X", 5) == ([(101, 3)], [])


def test_modify_post_only_crossing_rejected() -> None:
    v = Venue()
    v.place("a", SELL, 2, 101)
    v.place("b", BUY, 5, 99, post_only=True)
    with pytest.raises(Rejected) as exc:
        v.modify("b", 2, price=101)
    assert exc.value.reason is R.POST_ONLY_WOULD_TAKE
    assert v.engine.best_bid("X") == 99


def test_modify_by_client_order_id() -> None:
    v = Venue()
    v.place("a", SELL, 5, 100, client_order_id="q")
    v.modify("a", client_order_id="q", price=102)
    assert v.engine.best_ask("X") == 102


def test_modify_unknown_or_final_or_foreign_order_rejected() -> None:
    v = Venue()
    v.place("a", SELL, 5, 100)
    for user, oid in (("a", 99), ("b", 1)):
        with pytest.raises(Rejected) as exc:
            v.modify(user, oid, qty=1)
        assert exc.value.reason is R.UNKNOWN_ORDER
    v.cancel("a", 1)
    with pytest.raises(Rejected) as exc:
        v.modify("a", 1, qty=1)
    assert exc.value.reason is R.UNKNOWN_ORDER


def test_modify_nothing_or_no_id_invalid_parameter() -> None:
    v = Venue()
    v.place("a", SELL, 5, 100)
    for kw in ({"order_id": 1}, {"qty": 2}):
        with pytest.raises(Rejected) as exc:
            v.modify("a", **kw)
        assert exc.value.reason is R.INVALID_PARAMETER


def test_modify_bad_values_rejected() -> None:
    v = Venue()
    v.place("a", SELL, 5, 100)
    cases = [
        ({"qty": 0}, R.INVALID_QUANTITY),
        ({"price": 0}, R.INVALID_PRICE),
        ({"stop_price": 90}, R.ORDER_NOT_MODIFIABLE),
    ]
    for kw, reason in cases:
        with pytest.raises(Rejected) as exc:
            v.modify("a", 1, **kw)
        assert exc.value.reason is reason


def test_modify_stop_market_price_not_modifiable() -> None:
    v = Venue()
    v.place("a", SELL, 1, type=T.STOP, stop_price=90)
    with pytest.raises(Rejected) as exc:
        v.modify("a", 1, price=95)
    assert exc.value.reason is R.ORDER_NOT_MODIFIABLE
    with pytest.raises(Rejected) as exc:
        v.modify("a", 1, stop_price=0)
    assert exc.value.reason is R.INVALID_PRICE


def test_modify_pending_stop_price_and_qty() -> None:
    v = Venue()
    v.place("a", SELL, 2, type=T.STOP_LIMIT, stop_price=90, price=89)
    ev = v.modify("a", 1, stop_price=91, price=90, qty=4)
    u = last_update(ev, 1)
    assert (u.status, u.stop_price, u.price, u.qty, u.remaining) == (S.PENDING, 91, 90, 4, 4)
    assert levels(ev) == []


def test_modify_stop_through_last_price_triggers_now() -> None:
    v = Venue()
    v.place("m", SELL, 1, 100)
    v.place("t", BUY, 1, 100)  # last 100
    v.place("m", BUY, 3, 99)
    v.place("a", SELL, 2, type=T.STOP, stop_price=90)
    ev = v.modify("a", 4, stop_price=100)
    assert trades(ev) == [(99, 2)]
    assert last_update(ev, 4).status is S.FILLED


def test_modify_trailing_stop_price_not_modifiable() -> None:
    v = Venue()
    v.place("m", BUY, 1, 100)
    v.place("a", SELL, 1, type=T.TRAILING_STOP, trail_ticks=5)
    with pytest.raises(Rejected) as exc:
        v.modify("a", 2, stop_price=90)
    assert exc.value.reason is R.ORDER_NOT_MODIFIABLE
