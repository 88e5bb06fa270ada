"""Token price updates (spec 004 ``price_update``) and market capitalisation.

Invariants:
- A price update describes one asset through one instrument that quotes it (its
  *pricing instrument*): ``price`` is that instrument's last trade (ticks) and the
  24 h fields are its ticker window.
- ``market_cap = price × circulating_supply`` in quote units, floored, when the
  asset has ``circulating_supply`` in the config; else None. Integer arithmetic:
  ``ticks * supply_units * notional_units // lot_units``.
- Symbol resolution: an instrument id / symbol / alias resolves through the config
  (first-declared wins across venues); a bare asset symbol resolves to the
  first-declared instrument whose base is that asset.
"""

from __future__ import annotations

from decimal import ROUND_FLOOR, Decimal

import msgspec

from openpit.core.instrument import Instrument


class PriceUpdate(msgspec.Struct, frozen=True, kw_only=True):
    symbol: str  # the base asset, e.g. "LUXURY001"
    instrument: str
    price: int | None  # ticks of ``instrument``
    change_ppm: int | None  # 24 h change, parts per million, truncated toward zero
    volume: int  # 24 h lots
    quote_volume: int  # 24 h quote units
    high: int | None
    low: int | None
    market_cap: int | None  # quote units
    ts: int


def supply_units(instrument: Instrument) -> int | None:
    """Circulating supply of the base asset in its units (floored), or None."""
    supply = instrument.base.circulating_supply
    if supply is None:
        return None
    return int((supply / instrument.base.unit).to_integral_value(rounding=ROUND_FLOOR))


def market_cap(instrument: Instrument, supply: int | None, price_ticks: int | None) -> int | None:
    if supply is None or price_ticks is None:
        return None
    return price_ticks * supply * instrument.notional_units // instrument.lot_units


def as_decimal(instrument: Instrument, quote_units: int) -> Decimal:
    return instrument.quote.from_units(quote_units)
