"""Typed dialect alerts: non-venue events (``Hub.publish_alert``) on typed channels.

Invariants:
- Margin calls go to ``margin_calls``, arbitrage opportunities (and our
  ``arbitrage_closed``) to ``arbitrage``, risk alerts to ``risk_alerts``; any other
  alert kind has no spec 004 channel and renders to None (so does a margin call or an
  opportunity without its instrument).
- A required deposit rounds up, an estimated profit rounds down; ratios have 4
  decimals; risk alert ``details`` show prices as decimal strings and ``*_ppm`` as
  percentages.
"""

from __future__ import annotations

from decimal import ROUND_CEILING, ROUND_FLOOR
from typing import Final

from openpit.alerts.events import (
    AnyAlertEvent,
    ArbitrageOpportunity,
    ArbitrageWithdrawn,
    MarginCallAlert,
    RiskAlert,
)
from openpit.core.instrument import Instrument
from openpit.gateway.dialects.typed.wire import _encode, _money, _price, fixed, percent, ratio


def render_margin_call(inst: Instrument, call: MarginCallAlert) -> bytes:
    """{"type": "margin_call", "channel": "margin_calls", "data": {"positionId":
    "pos_123456789", "severity": "warning", "currentMarginRatio": "0.05",
    "requiredMarginRatio": "0.10", "requiredDeposit": "50000.00", "liquidationPrice":
    "950.00", "timeToLiquidation": "3600", "message": "Margin call: Please deposit
    additional funds or reduce position size"}, "timestamp": 1640995200000}"""
    ttl = call.time_to_liquidation_s
    return _encode(
        {
            "type": "margin_call",
            "channel": "margin_calls",
            "data": {
                "positionId": call.position_id,
                "pair": inst.symbol,
                "venue": inst.venue,
                "severity": call.severity,
                "currentMarginRatio": ratio(call.current_margin_ratio_ppm),
                "requiredMarginRatio": ratio(call.required_margin_ratio_ppm),
                "requiredDeposit": _money(inst, call.required_deposit, ROUND_CEILING),
                "markPrice": _price(inst, call.mark_price),
                "liquidationPrice": _price(inst, call.liquidation_price),
                "timeToLiquidation": None if ttl is None else str(ttl),
                "message": call.message,
            },
            "timestamp": call.ts,
        }
    )


def render_arbitrage(opp: ArbitrageOpportunity, buy: Instrument, sell: Instrument) -> bytes:
    """{"type": "arbitrage_opportunity", "channel": "arbitrage", "data": {"opportunityId":
    "arb_123456789", "tokenPair": "LUXURY001", "xrplPrice": "1000.00", "flarePrice":
    "1015.00", "spreadPercent": "1.50%", "estimatedProfit": "15.00", "minAmount":
    "100.00", "maxAmount": "10000.00", "expiresAt": 1640995800000, "confidence": "high"},
    "timestamp": 1640995200000}

    ``<venue>Price`` for the buy venue (its best ask) and the sell venue (its best bid).
    """
    base = buy.base

    def amount(units: int) -> str:
        return fixed(base.from_units(units), buy.qty_decimals)

    return _encode(
        {
            "type": "arbitrage_opportunity",
            "channel": "arbitrage",
            "data": {
                "opportunityId": f"arb_{opp.id}",
                "tokenPair": opp.base,
                "pair": opp.symbol,
                f"{opp.buy_venue}Price": _price(buy, opp.buy_price),
                f"{opp.sell_venue}Price": _price(sell, opp.sell_price),
                "buyVenue": opp.buy_venue,
                "sellVenue": opp.sell_venue,
                "spreadPercent": percent(opp.spread_ppm, sign=False),
                "netSpreadPercent": percent(opp.net_spread_ppm, sign=False),
                "estimatedProfit": _money(sell, opp.estimated_profit, ROUND_FLOOR),
                "minAmount": amount(opp.min_amount),
                "maxAmount": amount(opp.max_amount),
                "expiresAt": opp.expires_at,
                "confidence": opp.confidence.value,
            },
            "timestamp": opp.ts,
        }
    )


def render_arbitrage_closed(gone: ArbitrageWithdrawn) -> bytes:
    """Our extension: {"type": "arbitrage_closed", "channel": "arbitrage", "data":
    {"opportunityId": "arb_123456789", "reason": "closed"}, "timestamp": 1640995200000}"""
    return _encode(
        {
            "type": "arbitrage_closed",
            "channel": "arbitrage",
            "data": {
                "opportunityId": f"arb_{gone.id}",
                "tokenPair": gone.symbol,
                "reason": gone.reason,
            },
            "timestamp": gone.ts,
        }
    )


_PRICE_DETAILS: Final = ("reference_price", "last_price", "price")


def render_risk_alert(alert: RiskAlert, inst: Instrument | None) -> bytes:
    """Our shape (the spec lists the channel only): {"type": "risk_alert", "channel":
    "risk_alerts", "data": {"alertId": "risk_7", "alertType": "circuit_breaker",
    "severity": "critical", "pair": "BTCUSDT", "message": "...", "details": {...}},
    "timestamp": 1640995200000}

    ``details``: prices as decimal strings, ``*_ppm`` as percentages, the rest as given.
    """
    details: dict[str, object] = {}
    for key, value in alert.details.items():
        if isinstance(value, int) and inst is not None and key in _PRICE_DETAILS:
            details[key] = _price(inst, value)
        elif isinstance(value, int) and key.endswith("_ppm"):
            details[key.removesuffix("_ppm") + "_percent"] = percent(value, sign=False)
        else:
            details[key] = value
    return _encode(
        {
            "type": "risk_alert",
            "channel": "risk_alerts",
            "data": {
                "alertId": f"risk_{alert.id}",
                "alertType": alert.type.value,
                "severity": alert.severity.value,
                "pair": None if inst is None else inst.symbol,
                "venue": None if inst is None else inst.venue,
                "message": alert.message,
                "details": details,
            },
            "timestamp": alert.ts,
        }
    )


def render_alert(event: AnyAlertEvent, inst: Instrument | None) -> bytes | None:
    """Non-venue events on typed channels; None for the kinds spec 004 has no channel for.

    For arbitrage, ``inst`` is the buy listing; the sell listing is looked up by the
    hub through ``render_arbitrage`` when it can (see ``render_arbitrage``).
    """
    if isinstance(event, MarginCallAlert) and inst is not None:
        return render_margin_call(inst, event)
    if isinstance(event, RiskAlert):
        return render_risk_alert(event, inst)
    if isinstance(event, ArbitrageOpportunity) and inst is not None:
        return render_arbitrage(event, inst, inst)
    if isinstance(event, ArbitrageWithdrawn):
        return render_arbitrage_closed(event)
    return None
