"""Decimal conversion helpers for the dialects (the only place market data meets Decimal).

Invariants: exact conversions via ``Instrument.ticks_to_price`` / ``lots_to_qty`` /
``Asset.from_units``; nothing here rounds except ``ppm_to_percent``, which
quantizes a parts-per-million ratio to the requested number of decimals (half-even).
"""

from __future__ import annotations

from decimal import ROUND_HALF_EVEN, Decimal

from openpit.core.instrument import Asset, Instrument
from openpit.marketdata.book import Level


def price(instrument: Instrument, ticks: int) -> Decimal:
    return instrument.ticks_to_price(ticks)


def qty(instrument: Instrument, lots: int) -> Decimal:
    return instrument.lots_to_qty(lots)


def units(asset: Asset, amount: int) -> Decimal:
    return asset.from_units(amount)


def levels(instrument: Instrument, rows: list[Level]) -> list[tuple[Decimal, Decimal]]:
    """[(price, qty)] as decimals at instrument precision."""
    tp, lq = instrument.ticks_to_price, instrument.lots_to_qty
    return [(tp(p), lq(q)) for p, q in rows]


def ppm_to_percent(ppm: int, places: int = 2) -> Decimal:
    """1_860_000 ppm -> Decimal('186.00'); 18_600 -> Decimal('1.86')."""
    return (Decimal(ppm) / Decimal(10_000)).quantize(
        Decimal(1).scaleb(-places), rounding=ROUND_HALF_EVEN
    )
