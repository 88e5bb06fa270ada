"""Rejection messages are for people: every amount in them is in the asset's own units."""

from __future__ import annotations

from openpit.core.amounts import render_amount
from openpit.core.commands import PlaceOrder
from openpit.core.enums import OrderType, Reason, Side, TimeInForce
from tests.ledger.helpers import B, Y, make_ledger


def _buy_lots(qty: int, price: int) -> PlaceOrder:
    return PlaceOrder(
        user="alice",
        instrument="BY",
        side=Side.SELL,
        type=OrderType.LIMIT,
        qty=qty,
        price=price,
        tif=TimeInForce.GTC,
    )


def test_render_amount_units_shown_in_asset_units_without_trailing_zeros() -> None:
    assert render_amount(B, 12345) == "123.45 B"
    assert render_amount(B, 1200) == "12 B"
    assert render_amount(B, 1) == "0.01 B"
    assert render_amount(B, 0) == "0 B"
    assert render_amount(Y, 42042) == "42042 Y"


def test_insufficient_funds_message_amounts_in_asset_units() -> None:
    led = make_ledger(alice={"B": 250})  # 2.50 B held; a sell of 3 lots needs 3.00 B
    rejected = led.reserve(1, _buy_lots(3, 10), 10)
    assert isinstance(rejected, tuple)
    reason, message = rejected
    assert reason is Reason.INSUFFICIENT_FUNDS
    assert message == "needs 3 B, 2.5 B available"


def test_withdraw_message_amounts_in_asset_units() -> None:
    led = make_ledger(alice={"B": 150})
    rejected = led.withdraw("alice", "B", 151)
    assert isinstance(rejected, tuple)
    assert rejected[1] == "withdraw 1.51 B: only 1.5 B available"
