"""Integers inside, decimals on the wire: conversions between venue values and replies.

Invariants:
- A decimal from a client becomes ticks/lots/units only if it is finite, positive,
  within the bound of ``openpit.core.instrument`` (the one place bounds live: int64
  after the ledger's largest multiplication) and an exact multiple of its step;
  otherwise an ``ApiError`` naming the field and the limit or step in the asset's
  units (never rounded).
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal

from openpit import requests
from openpit.alerts.custom import LiveAlert
from openpit.alerts.events import render_value
from openpit.api import schemas as s
from openpit.api.errors import ApiError
from openpit.core.events import Fill, OrderUpdate, Position
from openpit.core.instrument import (
    Asset,
    Instrument,
)


def price_ticks(inst: Instrument, value: Decimal, what: str = "price") -> int:
    return _rest(requests.price_ticks, inst, value, what)


def qty_lots(inst: Instrument, value: Decimal, what: str = "amount") -> int:
    return _rest(requests.qty_lots, inst, value, what)


def asset_units(asset: Asset, value: Decimal) -> int:
    try:
        return requests.asset_units(asset, value)
    except requests.RequestError as exc:
        raise ApiError.rejected(exc.reason, exc.message) from None


def _rest(
    convert: Callable[[Instrument, Decimal, str], int], inst: Instrument, value: Decimal, what: str
) -> int:
    """The shared conversion (``openpit.requests``), its refusal as REST's error."""
    try:
        return convert(inst, value, what)
    except requests.RequestError as exc:
        raise ApiError.rejected(exc.reason, exc.message) from None


def _trim(value: Decimal, places: int, extra: int = 4) -> Decimal:
    fine = value.quantize(Decimal(1).scaleb(-(places + extra)))
    coarse = value.quantize(Decimal(1).scaleb(-places))
    return coarse if coarse == fine else fine


def dec(value: Decimal) -> str:
    """Fixed-point text (``"0.00000010"``, never ``"1.0E-7"``)."""
    return format(value, "f")


def dec_opt(value: Decimal | None) -> str | None:
    return None if value is None else format(value, "f")


def money(asset: Asset, units: int) -> Decimal:
    """Asset units as a plain decimal with the asset's places (``0.00000000``, not ``0E-8``)."""
    return asset.from_units(units).quantize(asset.unit)


def price(inst: Instrument, ticks: int | None) -> Decimal | None:
    return None if ticks is None else inst.ticks_to_price(ticks)


def order(inst: Instrument, u: OrderUpdate) -> s.OrderReply:
    average = None
    if u.filled:
        average = _trim(Decimal(u.filled_value) * inst.tick_size / u.filled, inst.price_decimals)
    return s.OrderReply(
        id=str(u.order_id),
        client_order_id=u.client_order_id,
        symbol=inst.id,
        exchange=inst.venue,
        side=u.side,
        type=u.type,
        time_in_force=u.tif,
        status=u.status,
        price=dec_opt(price(inst, u.price)),
        stop_price=dec_opt(price(inst, u.stop_price)),
        amount=dec(inst.lots_to_qty(u.qty)),
        filled=dec(inst.lots_to_qty(u.filled)),
        remaining=dec(inst.lots_to_qty(u.remaining)),
        cancelled=dec(inst.lots_to_qty(u.cancelled)),
        average=dec_opt(average),
        reason=u.reason.value,
        post_only=u.post_only,
        reduce_only=u.reduce_only,
        leverage=u.leverage,
        created=u.created_ts,
        updated=u.ts,
    )


def fill(inst: Instrument, f: Fill) -> s.FillReply:
    return s.FillReply(
        order_id=str(f.order_id),
        client_order_id=f.client_order_id,
        trade_id=str(f.trade_id),
        symbol=inst.id,
        exchange=inst.venue,
        side=f.side,
        price=dec(inst.ticks_to_price(f.price)),
        amount=dec(inst.lots_to_qty(f.qty)),
        liquidity=f.liquidity,
        fee=dec(money(inst.quote, f.fee)),
        fee_asset=f.fee_asset,
        timestamp=f.ts,
    )


def balance(asset: Asset, available: int, reserved: int) -> s.BalanceReply:
    return s.BalanceReply(
        asset=asset.symbol,
        available=dec(money(asset, available)),
        reserved=dec(money(asset, reserved)),
        total=dec(money(asset, available + reserved)),
    )


def position(inst: Instrument, p: Position) -> s.PositionReply:
    size = abs(p.qty)
    entry = None
    pnl = None
    if size:
        base_qty = inst.lots_to_qty(size)
        entry = _trim(inst.quote.from_units(p.cost) / base_qty, inst.price_decimals)
        if p.mark_price is not None:
            value = inst.notional(p.mark_price, size)
            pnl = money(inst.quote, value - p.cost if p.qty > 0 else p.cost - value)
    return s.PositionReply(
        symbol=inst.id,
        exchange=inst.venue,
        type="margin" if p.margin_mode else "spot",
        side="long" if p.qty > 0 else "short" if p.qty < 0 else "flat",
        amount=dec(inst.lots_to_qty(size)),
        entry_price=dec_opt(entry),
        mark_price=dec_opt(price(inst, p.mark_price)),
        unrealized_pnl=dec_opt(pnl),
        realized_pnl=dec(money(inst.quote, p.realized_pnl)),
        leverage=p.leverage,
        liquidation_price=dec_opt(price(inst, p.liquidation_price)),
    )


def alert(inst: Instrument, a: LiveAlert) -> s.AlertReply:
    return s.AlertReply(
        id=a.id,
        name=a.name,
        condition=a.condition,
        symbol=inst.id,
        exchange=inst.venue,
        threshold=dec(render_value(a.condition, inst, a.threshold)),
        repeat=a.repeat,
        cooldown_ms=a.cooldown_ms,
        created=a.created,
        last_triggered=a.last_triggered,
    )
