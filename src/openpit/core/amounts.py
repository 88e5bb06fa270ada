"""Amounts as people read them, for human-readable messages only.

Invariants:
- Exact: the integer is converted with the asset's (or lot's) own step, never through
  float, and shown without trailing zeros or exponent notation (``"99699 XRP"``,
  ``"0.25 BTC"``).
- Never used for machine fields: those keep integers or each dialect's own decimal
  rendering.
"""

from __future__ import annotations

from decimal import Decimal

from openpit.core.instrument import Asset


def plain(value: Decimal) -> str:
    """``value`` in fixed-point text without trailing zeros (``"2.5"``, ``"100"``)."""
    return format(value.normalize(), "f") if value else "0"


def render_amount(asset: Asset, units: int) -> str:
    """``units`` of ``asset`` in the asset's own units: ``"99699 XRP"``."""
    return f"{plain(asset.from_units(units))} {asset.symbol}"


def render_lots(lots: int, lot_size: Decimal) -> str:
    """A quantity of ``lots`` as the base-asset amount it stands for (``"0.25"``)."""
    return plain(lots * lot_size)
