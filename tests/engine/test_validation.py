"""Every book-related rejection reason is reachable, and checks never change state."""

from __future__ import annotations

from typing import Any

import pytest

from openpit.core.commands import CancelOrder
from tests.engine.helpers import BUY, SELL, TIF, R, T, Venue


def _venue() -> Venue:
    v = Venue()
    v.place("m", SELL, 5, 110)
    v.place("m", BUY, 5, 90)
    v.place("u", BUY, 1, 80, client_order_id="dup")
    return v


CASES: list[tuple[str, dict[str, Any], R]] = [
    ("unknown instrument", {"instrument": "NOPE", "price": 100}, R.UNKNOWN_INSTRUMENT),
    ("zero qty", {"qty": 0, "price": 100}, R.INVALID_QUANTITY),
    ("negative qty", {"qty": -1, "price": 100}, R.INVALID_QUANTITY),
    ("below min", {"instrument": "Y", "qty": 1, "price": 100}, R.BELOW_MIN_QUANTITY),
    ("limit without price", {}, R.INVALID_PRICE),
    ("limit zero price", {"price": 0}, R.INVALID_PRICE),
    ("limit with stop", {"price": 100, "stop_price": 90}, R.INVALID_PARAMETER),
    ("market with price", {"type": T.MARKET, "price": 100}, R.INVALID_PARAMETER),
    ("stop without stop", {"type": T.STOP}, R.INVALID_PRICE),
    ("stop with price", {"type": T.STOP, "stop_price": 120, "price": 1}, R.INVALID_PARAMETER),
    ("stop negative", {"type": T.STOP, "stop_price": -5}, R.INVALID_PRICE),
    ("stop limit no price", {"type": T.STOP_LIMIT, "stop_price": 120}, R.INVALID_PRICE),
    ("tp limit no stop", {"type": T.TAKE_PROFIT_LIMIT, "price": 80}, R.INVALID_PRICE),
    (
        "stop_limit_price outside oco",
        {"type": T.STOP_LIMIT, "stop_price": 120, "price": 121, "stop_limit_price": 3},
        R.INVALID_PARAMETER,
    ),
    (
        "oco bad stop limit",
        {"type": T.OCO, "price": 80, "stop_price": 120, "stop_limit_price": 0},
        R.INVALID_PRICE,
    ),
    ("oco no stop", {"type": T.OCO, "price": 80}, R.INVALID_PRICE),
    ("oco wrong side", {"type": T.OCO, "price": 130, "stop_price": 120}, R.INVALID_PRICE),
    (
        "oco ioc",
        {"type": T.OCO, "price": 80, "stop_price": 120, "tif": TIF.IOC},
        R.INVALID_PARAMETER,
    ),
    ("trailing none", {"type": T.TRAILING_STOP}, R.INVALID_PARAMETER),
    (
        "trailing both",
        {"type": T.TRAILING_STOP, "trail_ticks": 1, "trail_ppm": 10},
        R.INVALID_PARAMETER,
    ),
    ("trailing zero", {"type": T.TRAILING_STOP, "trail_ticks": 0}, R.INVALID_PARAMETER),
    ("trailing ppm 100%", {"type": T.TRAILING_STOP, "trail_ppm": 1_000_000}, R.INVALID_PARAMETER),
    ("trail on limit", {"price": 100, "trail_ticks": 3}, R.INVALID_PARAMETER),
    ("post only ioc", {"price": 100, "post_only": True, "tif": TIF.IOC}, R.INVALID_PARAMETER),
    ("post only fok", {"price": 100, "post_only": True, "tif": TIF.FOK}, R.INVALID_PARAMETER),
    ("post only market", {"type": T.MARKET, "post_only": True}, R.INVALID_PARAMETER),
    ("post only crossing", {"price": 110, "post_only": True}, R.POST_ONLY_WOULD_TAKE),
    (
        "oco post only crossing",
        {"type": T.OCO, "price": 110, "stop_price": 120, "post_only": True},
        R.POST_ONLY_WOULD_TAKE,
    ),
    ("leverage zero", {"price": 100, "leverage": 0}, R.INVALID_PARAMETER),
    ("empty client id", {"price": 100, "client_order_id": ""}, R.INVALID_PARAMETER),
    ("duplicate client id", {"price": 100, "client_order_id": "dup"}, R.DUPLICATE_CLIENT_ORDER_ID),
    (
        "duplicate client id other instrument",
        {"instrument": "Y", "qty": 2, "price": 100, "client_order_id": "dup"},
        R.DUPLICATE_CLIENT_ORDER_ID,
    ),
]


@pytest.mark.parametrize(("name", "kw", "reason"), CASES, ids=[c[0] for c in CASES])
def test_check_place_invalid_rejected_with_reason(name: str, kw: dict[str, Any], reason: R) -> None:
    v = _venue()
    before = list(v.engine.state_items())
    args: dict[str, Any] = {"user": "u", "side": BUY, "qty": 1}
    args.update(kw)
    assert v.reject(**args) is reason
    assert list(v.engine.state_items()) == before


def test_check_place_market_empty_side_no_liquidity() -> None:
    v = Venue()
    v.place("m", BUY, 1, 90)
    assert v.reject(user="u", side=BUY, qty=1, type=T.MARKET) is R.NO_LIQUIDITY


def test_check_place_trailing_without_reference_no_liquidity() -> None:
    v = Venue()
    assert v.reject(user="u", side=SELL, qty=1, type=T.TRAILING_STOP, trail_ticks=3) is (
        R.NO_LIQUIDITY
    )


def test_check_place_duplicate_client_id_other_user_accepted() -> None:
    v = _venue()
    v.place("other", BUY, 1, 80, client_order_id="dup")


def test_check_place_post_only_not_crossing_accepted() -> None:
    v = _venue()
    v.place("u", BUY, 1, 109, post_only=True)
    assert v.engine.best_bid("X") == 109


def test_check_cancel_unknown_foreign_or_missing_id() -> None:
    v = _venue()
    e = v.engine
    assert e.check_cancel(CancelOrder(user="u", order_id=999)) == (R.UNKNOWN_ORDER, "unknown order")
    bad = e.check_cancel(CancelOrder(user="x", order_id=1))  # order 1 belongs to "m"
    assert bad is not None and bad[0] is R.UNKNOWN_ORDER
    bad = e.check_cancel(CancelOrder(user="u", client_order_id="nope"))
    assert bad is not None and bad[0] is R.UNKNOWN_ORDER
    bad = e.check_cancel(CancelOrder(user="u", order_id=1, client_order_id="dup"))
    assert bad is not None and bad[0] is R.UNKNOWN_ORDER
    bad = e.check_cancel(CancelOrder(user="u"))
    assert bad is not None and bad[0] is R.INVALID_PARAMETER
    assert e.check_cancel(CancelOrder(user="u", order_id=3, client_order_id="dup")) is None


def test_check_messages_are_human_readable() -> None:
    v = _venue()
    for _, kw, _ in CASES:
        args: dict[str, Any] = {"user": "u", "side": BUY, "qty": 1}
        args.update(kw)
        try:
            v.place(**args)
        except Exception as exc:  # Rejected
            assert len(str(exc)) > 10


def test_check_place_plain_string_enums_normalised() -> None:
    from openpit.core.commands import PlaceOrder

    v = Venue()
    cmd = PlaceOrder(user="u", instrument="X", side="sell", type="limit", qty=1, price=5)  # type: ignore[arg-type]
    assert v.engine.check_place(cmd) is None
    ev = v.engine.place(cmd, 1, 1)
    assert v.engine.best_ask("X") == 5 and len(ev) == 2
    bad = PlaceOrder(user="u", instrument="X", side="up", type="limit", qty=1, price=5)  # type: ignore[arg-type]
    rej = v.engine.check_place(bad)
    assert rej is not None and rej[0] is R.INVALID_PARAMETER
