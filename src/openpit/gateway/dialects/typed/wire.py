"""Typed dialect wire values: JSON encoding, decimal strings, ids and status names.

Invariants:
- Numbers are decimal *strings* rendered from ticks/lots/units through ``Decimal``:
  prices with the instrument's price precision, amounts with its quantity precision,
  quote money with the price precision (rounded half-even unless told otherwise).
  Signed changes carry ``+``/``-``; percentages are ``"+2.50%"``; ratios have 4
  decimals, rounded down. Never ``"-0.00"``, never float arithmetic.
- Order ids are rendered ``"order_<n>"``; a resting order's status is ``pending``.
"""

from __future__ import annotations

from decimal import ROUND_FLOOR, ROUND_HALF_EVEN, Decimal
from typing import Final

import msgspec

from openpit.core.instrument import PPM, Instrument

_encode = msgspec.json.Encoder().encode


def order_id_text(order_id: int | None) -> str | None:
    return None if order_id is None else f"order_{order_id}"


def fixed(value: Decimal, places: int, rounding: str = ROUND_HALF_EVEN) -> str:
    """``value`` with exactly ``places`` decimals: ``"1000.50"``; never ``"-0.00"``."""
    q = value.quantize(Decimal(1).scaleb(-places), rounding=rounding)
    if q == 0:
        q = abs(q)
    return format(q, "f")


def signed(value: Decimal, places: int) -> str:
    """``"+125.00"`` / ``"-3.10"``; zero is ``"+0.00"``."""
    text = fixed(value, places)
    return text if text.startswith("-") else "+" + text


def percent(ppm: int | None, sign: bool = True) -> str | None:
    """Parts per million as a percentage with 2 decimals: ``"+2.50%"`` (or ``"1.50%"``)."""
    if ppm is None:
        return None
    value = Decimal(ppm) / 10_000
    return (signed(value, 2) if sign else fixed(value, 2)) + "%"


def ratio(ppm: int) -> str:
    """A ratio (ppm) as a fraction with 4 decimals, rounded down: ``"0.0850"``."""
    return fixed(Decimal(ppm) / PPM, 4, ROUND_FLOOR)


def _price(inst: Instrument, ticks: int | None) -> str | None:
    return None if ticks is None else fixed(inst.ticks_to_price(ticks), inst.price_decimals)


def _qty(inst: Instrument, lots: int) -> str:
    return fixed(inst.lots_to_qty(lots), inst.qty_decimals)


def _money(inst: Instrument, units: int, rounding: str = ROUND_HALF_EVEN) -> str:
    """Quote units of ``inst`` at its price precision."""
    return fixed(inst.quote.from_units(units), inst.price_decimals, rounding)


_STATUS: Final = {"new": "pending"}


def status_text(status: str) -> str:
    """Venue order status as typed shows it: a resting order is ``pending`` (as the spec)."""
    return _STATUS.get(status, status)
