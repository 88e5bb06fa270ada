"""Margin risk: equity, margin ratio, liquidation price and margin-call levels.

With ``n = |qty|`` lots, ``nu = notional_units`` and mark ``m`` (ticks):

    value  = notional(m, n)                      (the position's size in quote units)
    long:  equity = value + quote - debt         (debt in quote)
    short: equity = quote - value                (debt = n * lot_units base, worth value)
    margin ratio = equity / value                (ppm, floor; may be negative)

Levels compare exactly (``equity * 1e6 < threshold * value``, no rounding):
0 healthy, 1 ``warning`` (< warning_ppm), 2 ``critical`` (< critical_ppm),
3 ``liquidation`` (< maintenance_ppm).

Liquidation price (``k`` = maintenance ppm), from ``equity < k * value``:

    long:  due iff m < (debt - quote) * 1e6 / (n * nu * (1e6 - k))   → reported rounded up
    short: due iff m > quote * 1e6 / (n * nu * (1e6 + k))            → reported rounded down

so "long: due iff mark < liquidation_price", "short: due iff mark > liquidation_price"
hold exactly in integers. A long with no net debt cannot be liquidated (None).

``required_deposit`` is the quote that brings the ratio back to ``warning_ppm``
(a deposit raises equity one for one and leaves value unchanged).
"""

from __future__ import annotations

from openpit.config.loader import RiskSettings
from openpit.core.instrument import Instrument
from openpit.ledger.margin import MarginPosition
from openpit.ledger.money import PPM, ceil_div

SEVERITY = {1: "warning", 2: "critical", 3: "liquidation"}


def value(pos: MarginPosition, inst: Instrument, mark: int) -> int:
    return inst.notional(mark, abs(pos.qty))


def equity(pos: MarginPosition, inst: Instrument, mark: int) -> int:
    if pos.qty > 0:
        return value(pos, inst, mark) + pos.quote - pos.debt
    return pos.quote - value(pos, inst, mark)


def ratio_ppm(pos: MarginPosition, inst: Instrument, mark: int) -> int | None:
    v = value(pos, inst, mark)
    return None if v <= 0 else equity(pos, inst, mark) * PPM // v


def level(pos: MarginPosition, inst: Instrument, mark: int, risk: RiskSettings) -> int:
    if pos.qty == 0:
        return 0
    scaled = equity(pos, inst, mark) * PPM
    v = value(pos, inst, mark)
    if scaled < risk.maintenance_ppm * v:
        return 3
    if scaled < risk.critical_ppm * v:
        return 2
    if scaled < risk.warning_ppm * v:
        return 1
    return 0


def required_deposit(pos: MarginPosition, inst: Instrument, mark: int, risk: RiskSettings) -> int:
    target = ceil_div(risk.warning_ppm * value(pos, inst, mark), PPM)
    return max(0, target - equity(pos, inst, mark))


def liquidation_price(pos: MarginPosition, inst: Instrument, risk: RiskSettings) -> int | None:
    n = abs(pos.qty)
    if n == 0:
        return None
    k = risk.maintenance_ppm
    if pos.qty > 0:
        owed = pos.debt - pos.quote
        if owed <= 0:
            return None
        return ceil_div(owed * PPM, n * inst.notional_units * (PPM - k))
    return pos.quote * PPM // (n * inst.notional_units * (PPM + k))
