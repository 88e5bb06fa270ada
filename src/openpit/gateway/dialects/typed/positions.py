"""Typed dialect positions: the numbers of a position at its mark, and ``positions``.

Invariants:
- ``position_numbers`` computes a position's PnL, PnL percentage, entry price and
  margin ratio (quote units, ppm) from its integers, for this dialect's renderers:
  ``marginRatio`` = (margin + pnl) / mark value, ``pnlPercent`` = pnl / entry notional
  (rounded toward zero), the ratio for margin positions only; PnL and ratio are
  unknown (null) without a mark price. Never float arithmetic.
- ``render_position`` depends only on the event (fanned out once per event); the
  ``positionId`` is ``"pos_<instrument id>"``.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from openpit.core.events import Position
from openpit.core.instrument import PPM, Instrument
from openpit.gateway.dialects.typed.wire import (
    _encode,
    _money,
    _price,
    _qty,
    fixed,
    percent,
    ratio,
    signed,
)


def position_numbers(inst: Instrument, position: Position) -> dict[str, Any]:
    """pnl, pnl %, entry, margin ratio of a position at its mark (quote units, ppm)."""
    qty = abs(position.qty)
    out: dict[str, Any] = {"pnl": None, "pnl_ppm": None, "entry": None, "ratio_ppm": None}
    if not qty:
        return out
    out["entry"] = Decimal(position.cost) / (qty * inst.notional_units) * inst.tick_size
    mark = position.mark_price
    if mark is None:
        return out
    value = inst.notional(mark, qty)
    pnl = value - position.cost if position.qty > 0 else position.cost - value
    out["pnl"] = pnl
    if position.cost:
        out["pnl_ppm"] = pnl * PPM // position.cost if pnl >= 0 else -(-pnl * PPM // position.cost)
    if position.margin_mode and value:
        out["ratio_ppm"] = (position.margin + pnl) * PPM // value
    return out


def render_position(inst: Instrument, position: Position) -> bytes:
    """{"type": "position_update", "channel": "positions", "data": {"positionId":
    "pos_123456789", "pair": "LUXURY001/XRP", "side": "long", "size": "1000.00",
    "entryPrice": "1000.00", "markPrice": "1005.00", "pnl": "+5000.00", "pnlPercent":
    "+0.50%", "margin": "100000.00", "marginRatio": "0.10", "liquidationPrice": "900.00"},
    "timestamp": 1640995200000}

    ``marginRatio`` = (margin + pnl) / mark value; ``pnlPercent`` = pnl / entry notional.
    """
    n = position_numbers(inst, position)
    entry = n["entry"]
    pnl = n["pnl"]
    return _encode(
        {
            "type": "position_update",
            "channel": "positions",
            "data": {
                "positionId": f"pos_{inst.id}",
                "pair": inst.symbol,
                "venue": inst.venue,
                "side": "short" if position.qty < 0 else "long",
                "size": _qty(inst, abs(position.qty)),
                "entryPrice": None if entry is None else fixed(entry, inst.price_decimals),
                "markPrice": _price(inst, position.mark_price),
                "pnl": None
                if pnl is None
                else signed(inst.quote.from_units(pnl), inst.price_decimals),
                "pnlPercent": percent(n["pnl_ppm"]),
                "margin": _money(inst, position.margin),
                "marginRatio": None if n["ratio_ppm"] is None else ratio(n["ratio_ppm"]),
                "liquidationPrice": _price(inst, position.liquidation_price),
                "leverage": position.leverage,
                "realizedPnl": signed(
                    inst.quote.from_units(position.realized_pnl), inst.price_decimals
                ),
                "marginMode": "margin" if position.margin_mode else "spot",
            },
            "timestamp": position.ts,
        }
    )
