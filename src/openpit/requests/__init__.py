"""One request → command path for every entry point: the WebSocket dialects, REST and
the Binance surface turn a client's decimals into venue commands here, and only here.

Invariants:
- A decimal becomes ticks, lots or units only if it is finite, positive, within the
  bound of ``openpit.core.instrument`` (int64 after the ledger's largest
  multiplication: the one place bounds live) and an exact multiple of its step;
  otherwise a ``RequestError`` with the venue's ``Reason`` and a message that names the
  field as the client wrote it (``names``: neutral name → wire name) and the limit or
  step in the asset's own units. Nothing is rounded.
- The order rules live here once: leverage is at least 1 and a leverage above 1 makes a
  margin order; a limit-priced order type needs its price.
- Pure: no I/O, no clock. Each entry point renders a ``RequestError`` in its own error
  shape (a dialect's error reply, REST's status and code).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from decimal import Decimal
from typing import Final

from openpit.core.commands import ModifyOrder, PlaceOrder
from openpit.core.enums import OrderType, Reason, Side, TimeInForce
from openpit.core.errors import OpenpitError
from openpit.core.instrument import PPM, Asset, Instrument, NotAMultiple, OutOfRange, to_steps

LIMIT_PRICED: Final = frozenset(
    {OrderType.LIMIT, OrderType.STOP_LIMIT, OrderType.TAKE_PROFIT_LIMIT}
)
NO_NAMES: Final[Mapping[str, str]] = {}


class RequestError(OpenpitError):
    """A request the venue would not understand; ``str(exc)`` is safe to show."""

    def __init__(self, reason: Reason, message: str) -> None:
        super().__init__(message)
        self.reason = reason
        self.message = message


def _steps(
    value: Decimal,
    convert: Callable[[Decimal], int],
    wire: str,
    what: str,
    step: Decimal,
    step_name: str,
    where: str,
    reason: Reason,
) -> int:
    if not value.is_finite() or value <= 0:
        raise RequestError(reason, f"{wire} must be a positive number, got {value}")
    try:
        return convert(value)
    except OutOfRange as exc:
        largest = f"{exc.largest} {exc.unit}".rstrip()
        raise RequestError(
            reason, f"{wire} {value} is too large: the largest {what}{where} is {largest}"
        ) from None
    except NotAMultiple:
        raise RequestError(
            reason, f"{wire} {value} is not a multiple of the {step_name} {step}{where}"
        ) from None


def price_ticks(inst: Instrument, value: Decimal, wire: str = "price") -> int:
    return _steps(
        value, inst.price_to_ticks, wire, "price", inst.tick_size, "tick size",
        f" on {inst.symbol}", Reason.INVALID_PRICE,
    )  # fmt: skip


def qty_lots(inst: Instrument, value: Decimal, wire: str = "amount") -> int:
    return _steps(
        value, inst.qty_to_lots, wire, "quantity", inst.lot_size, "lot size",
        f" on {inst.symbol}", Reason.INVALID_QUANTITY,
    )  # fmt: skip


def asset_units(asset: Asset, value: Decimal, wire: str = "amount") -> int:
    return _steps(
        value, asset.to_units, wire, "amount", asset.unit, "unit of", f" {asset.symbol}",
        Reason.INVALID_QUANTITY,
    )  # fmt: skip


def trail_ppm(percent: Decimal, wire: str = "trail_percent") -> int:
    """A trailing distance in percent as parts per million (a whole number of them)."""
    return _steps(
        percent, lambda v: to_steps(v * (PPM // 100), Decimal(1)), wire, "trailing distance",
        Decimal("0.0001"), "step", "", Reason.INVALID_PARAMETER,
    )  # fmt: skip


def _opt_price(
    inst: Instrument, value: Decimal | None, neutral: str, names: Mapping[str, str]
) -> int | None:
    return None if value is None else price_ticks(inst, value, names.get(neutral, neutral))


def margin_of(leverage: int) -> bool:
    """Leverage is at least 1; above 1 the order trades on margin."""
    if leverage < 1:
        raise RequestError(Reason.INVALID_PARAMETER, f"leverage must be >= 1, got {leverage}")
    return leverage > 1


def place(
    user: str,
    inst: Instrument,
    *,
    side: Side,
    type: OrderType,
    amount: Decimal,
    price: Decimal | None = None,
    stop_price: Decimal | None = None,
    stop_limit_price: Decimal | None = None,
    trail_ppm: int | None = None,
    tif: TimeInForce = TimeInForce.GTC,
    client_order_id: str | None = None,
    post_only: bool = False,
    reduce_only: bool = False,
    leverage: int = 1,
    deadline: int | None = None,
    names: Mapping[str, str] = NO_NAMES,
    require_price: bool = False,
) -> PlaceOrder:
    """A ``PlaceOrder`` from wire values (``names``: neutral field → the wire's name).

    ``require_price``: refuse a limit-priced type without a price here (REST); the
    dialects leave that to the venue, which rejects it with its own reason.
    """
    margin = margin_of(leverage)
    ticks = _opt_price(inst, price, "price", names)
    if require_price and ticks is None and type in LIMIT_PRICED:
        wire = names.get("price", "price")
        raise RequestError(Reason.INVALID_PARAMETER, f"{wire} is required for {type.value} orders")
    return PlaceOrder(
        user=user,
        instrument=inst.id,
        side=side,
        type=type,
        qty=qty_lots(inst, amount, names.get("qty", "amount")),
        price=ticks,
        stop_price=_opt_price(inst, stop_price, "stop_price", names),
        stop_limit_price=_opt_price(inst, stop_limit_price, "stop_limit_price", names),
        trail_ppm=trail_ppm,
        tif=tif,
        client_order_id=client_order_id,
        post_only=post_only,
        reduce_only=reduce_only,
        margin=margin,
        leverage=leverage,
        deadline=deadline,
    )


def modify(
    user: str,
    order_id: int,
    inst: Instrument,
    *,
    amount: Decimal | None = None,
    price: Decimal | None = None,
    stop_price: Decimal | None = None,
    names: Mapping[str, str] = NO_NAMES,
) -> ModifyOrder:
    """A ``ModifyOrder`` of a live order of ``inst`` from wire values."""
    return ModifyOrder(
        user=user,
        order_id=order_id,
        qty=None if amount is None else qty_lots(inst, amount, names.get("qty", "amount")),
        price=_opt_price(inst, price, "price", names),
        stop_price=_opt_price(inst, stop_price, "stop_price", names),
    )
