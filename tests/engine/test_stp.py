"""Self-trade prevention modes."""

from __future__ import annotations

from openpit.core.enums import STPMode
from tests.engine.helpers import BUY, SELL, R, S, Venue, last_update, levels, trades


def _book(v: Venue) -> None:
    v.place("a", SELL, 2, 100)  # 1: own order first in queue
    v.place("b", SELL, 3, 100)  # 2


def test_stp_cancel_newest_cancels_taker_remainder() -> None:
    v = Venue(stp=STPMode.CANCEL_NEWEST)
    _book(v)
    ev = v.place("a", BUY, 4, 100)
    assert trades(ev) == []
    u = last_update(ev, 3)
    assert u.status is S.CANCELLED and u.reason is R.SELF_TRADE and u.cancelled == 4
    assert v.engine.order(1) is not None


def test_stp_cancel_newest_after_partial_fill() -> None:
    v = Venue(stp=STPMode.CANCEL_NEWEST)
    v.place("b", SELL, 1, 100)
    v.place("a", SELL, 2, 100)
    ev = v.place("a", BUY, 4, 100)
    assert trades(ev) == [(100, 1)]
    u = last_update(ev, 3)
    assert u.status is S.CANCELLED and u.filled == 1 and u.cancelled == 3


def test_stp_cancel_oldest_cancels_maker_and_continues() -> None:
    v = Venue(stp=STPMode.CANCEL_OLDEST)
    _book(v)
    ev = v.place("a", BUY, 4, 100)
    assert trades(ev) == [(100, 3)]
    assert last_update(ev, 1).reason is R.SELF_TRADE
    assert last_update(ev, 1).status is S.CANCELLED
    assert v.engine.depth("X", 5) == ([(100, 1)], [])


def test_stp_cancel_both_cancels_maker_and_taker() -> None:
    v = Venue(stp=STPMode.CANCEL_BOTH)
    _book(v)
    ev = v.place("a", BUY, 4, 100)
    assert trades(ev) == []
    assert last_update(ev, 1).status is S.CANCELLED and last_update(ev, 3).status is S.CANCELLED
    assert v.engine.depth("X", 5) == ([], [(100, 3)])
    assert levels(ev) == [("sell", 100, 3)]


def test_stp_decrement_taker_larger_cancels_maker_and_continues() -> None:
    v = Venue(stp=STPMode.DECREMENT_AND_CANCEL)
    _book(v)
    ev = v.place("a", BUY, 4, 100)
    m = last_update(ev, 1)
    assert m.status is S.CANCELLED and m.reason is R.SELF_TRADE and m.cancelled == 2
    assert trades(ev) == [(100, 2)]
    t = last_update(ev, 3)
    assert t.status is S.FILLED and t.filled == 2 and t.cancelled == 2
    assert t.qty == t.filled + t.remaining + t.cancelled


def test_stp_decrement_maker_larger_reduces_maker_cancels_taker() -> None:
    v = Venue(stp=STPMode.DECREMENT_AND_CANCEL)
    v.place("a", SELL, 5, 100)
    ev = v.place("a", BUY, 2, 100)
    m = last_update(ev, 1)
    assert m.status is S.NEW and m.remaining == 3 and m.cancelled == 2 and m.reason is R.SELF_TRADE
    t = last_update(ev, 2)
    assert t.status is S.CANCELLED and t.cancelled == 2
    assert v.engine.depth("X", 1) == ([], [(100, 3)])
    assert levels(ev) == [("sell", 100, 3)]


def test_stp_none_allows_self_trade() -> None:
    v = Venue(stp=STPMode.NONE)
    _book(v)
    ev = v.place("a", BUY, 4, 100)
    assert trades(ev) == [(100, 2), (100, 2)]


def test_stp_order_mode_overrides_default() -> None:
    v = Venue(stp=STPMode.NONE)
    _book(v)
    ev = v.place("a", BUY, 4, 100, stp=STPMode.CANCEL_OLDEST)
    assert trades(ev) == [(100, 3)]
