"""The one request → command path (``openpit.requests``), with data only."""

from __future__ import annotations

from decimal import Decimal

import pytest

from openpit import requests
from openpit.config import load_demo_config
from openpit.core.enums import OrderType, Reason, Side

CONFIG = load_demo_config()
BTC = CONFIG.instruments["BTCUSDT"]
USDT = CONFIG.assets["USDT"]
FLAT_NAMES = {"qty": "amount", "price": "price", "stop_price": "stop_price"}
ENVELOPE_NAMES = {"qty": "quantity", "price": "price"}


def _refusal(call: object, *args: object, **kw: object) -> requests.RequestError:
    with pytest.raises(requests.RequestError) as info:
        call(*args, **kw)  # type: ignore[operator]
    return info.value


def test_a_limit_order_becomes_ticks_and_lots_and_margin_follows_leverage() -> None:
    cmd = requests.place(
        "alice", BTC, side=Side.BUY, type=OrderType.LIMIT, amount=Decimal("0.5"),
        price=Decimal("42000.10"), leverage=1,
    )  # fmt: skip
    assert (cmd.qty, cmd.price, cmd.margin, cmd.instrument) == (
        BTC.qty_to_lots(Decimal("0.5")),
        BTC.price_to_ticks(Decimal("42000.10")),
        False,
        "BTCUSDT",
    )
    margin = requests.place(
        "alice", BTC, side=Side.BUY, type=OrderType.MARKET, amount=Decimal("1"), leverage=3
    )
    assert margin.margin and margin.leverage == 3


@pytest.mark.parametrize(
    ("amount", "price", "reason", "words"),
    [
        ("0.000001", "42000", Reason.INVALID_QUANTITY, ["quantity 0.000001", "lot size"]),
        ("0.5", "42000.001", Reason.INVALID_PRICE, ["price 42000.001", "tick size 0.01"]),
        ("0", "42000", Reason.INVALID_QUANTITY, ["must be a positive number"]),
        ("0.5", "-1", Reason.INVALID_PRICE, ["must be a positive number"]),
        ("0.5", "NaN", Reason.INVALID_PRICE, ["must be a positive number"]),
        ("0.5", "1e40", Reason.INVALID_PRICE, ["too large", "USDT"]),
        ("1e40", "42000", Reason.INVALID_QUANTITY, ["too large", "BTC"]),
    ],
)
def test_bad_values_are_refused_naming_the_wire_field(
    amount: str, price: str, reason: Reason, words: list[str]
) -> None:
    exc = _refusal(
        requests.place, "alice", BTC, side=Side.BUY, type=OrderType.LIMIT,
        amount=Decimal(amount), price=Decimal(price), names=ENVELOPE_NAMES,
    )  # fmt: skip
    assert exc.reason is reason
    for word in words:
        assert word in exc.message, exc.message


def test_rules_live_once_leverage_and_required_price() -> None:
    exc = _refusal(
        requests.place, "a", BTC, side=Side.BUY, type=OrderType.LIMIT, amount=Decimal("1"),
        price=Decimal("1"), leverage=0,
    )  # fmt: skip
    assert exc.reason is Reason.INVALID_PARAMETER and "leverage" in exc.message
    exc = _refusal(
        requests.place, "a", BTC, side=Side.BUY, type=OrderType.LIMIT, amount=Decimal("1"),
        require_price=True, names=FLAT_NAMES,
    )  # fmt: skip
    assert exc.reason is Reason.INVALID_PARAMETER and "price is required" in exc.message
    # without require_price the venue decides (it rejects with its own reason)
    requests.place("a", BTC, side=Side.BUY, type=OrderType.LIMIT, amount=Decimal("1"))


def test_modify_converts_only_what_changes_and_assets_convert_to_units() -> None:
    cmd = requests.modify("alice", 7, BTC, price=Decimal("41000"))
    assert (cmd.order_id, cmd.qty, cmd.price) == (7, None, BTC.price_to_ticks(Decimal("41000")))
    assert requests.asset_units(USDT, Decimal("100000000")) == USDT.to_units(Decimal("1e8"))
    exc = _refusal(requests.asset_units, USDT, Decimal("0.0000000001"))
    assert exc.reason is Reason.INVALID_QUANTITY and "unit of" in exc.message


def test_trailing_distance_in_percent_becomes_ppm() -> None:
    assert requests.trail_ppm(Decimal("1.5")) == 15_000
    exc = _refusal(requests.trail_ppm, Decimal("0.00001"))
    assert exc.reason is Reason.INVALID_PARAMETER
