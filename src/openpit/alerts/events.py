"""Alert, notification and risk events: what ``openpit.alerts`` hands to the dialects.

Invariants:
- Plain data, integers only: prices in ticks and quantities in lots of ``instrument``,
  money in asset units, ratios in parts per million, times in ms. Dialects render
  decimals at the edge (``render_value`` helps with the per-condition units).
- Every event carries ``ts``, the time of the input that produced it; nothing here
  reads a clock.
- Private events carry ``user`` and must only ever be delivered to that user.
- Events are tagged msgspec Structs (``tag_field="alert"``) so they can be encoded,
  journalled or pushed over a bus as they are.
"""

from __future__ import annotations

from decimal import Decimal
from enum import StrEnum

import msgspec

from openpit.core.instrument import Instrument


class AlertCondition(StrEnum):
    """Custom alert conditions. Units of threshold and value: see ``METRIC_UNITS``."""

    PRICE_ABOVE = "price_above"  # last trade price, ticks
    PRICE_BELOW = "price_below"
    PERCENT_CHANGE_ABOVE = "percent_change_above"  # 24 h change, ppm
    PERCENT_CHANGE_BELOW = "percent_change_below"
    VOLUME_ABOVE = "volume_above"  # 24 h base volume, lots


class NotificationLevel(StrEnum):
    INFO = "info"
    WARNING = "warning"
    CRITICAL = "critical"


class ConnectionState(StrEnum):
    CONNECTING = "connecting"
    CONNECTED = "connected"
    DISCONNECTED = "disconnected"
    HALTED = "halted"
    RESUMED = "resumed"


class RiskAlertType(StrEnum):
    CIRCUIT_BREAKER = "circuit_breaker"
    TRADING_HALT = "trading_halt"  # a halt (or resume) not decided by the circuit breaker
    VOLATILITY_SPIKE = "volatility_spike"
    LARGE_LIQUIDATION = "large_liquidation"


class Confidence(StrEnum):
    HIGH = "high"
    MEDIUM = "medium"
    LOW = "low"


class AlertEvent(msgspec.Struct, kw_only=True, frozen=True, tag=True, tag_field="alert"):
    ts: int


# -- private (per user) -----------------------------------------------------------------


class CustomAlertTriggered(AlertEvent, kw_only=True, frozen=True, tag="custom_alert"):
    """A user's custom alert fired (spec 001 ``custom_alerts``)."""

    alert_id: int
    user: str
    name: str
    condition: AlertCondition
    instrument: str
    threshold: int  # condition units (ticks / ppm / lots)
    current_value: int
    triggered_at: int


class UserNotification(AlertEvent, kw_only=True, frozen=True, tag="user_notification"):
    """A notification about the user's own account (spec 001 ``user_notifications``).

    ``kind`` says what produced it: ``margin_call``, ``liquidation``, ``alert``,
    ``order_rejected``.
    """

    id: int
    user: str
    level: NotificationLevel
    title: str
    message: str
    link: str | None = None
    kind: str = ""
    instrument: str | None = None


class MarginCallAlert(AlertEvent, kw_only=True, frozen=True, tag="margin_call"):
    """Spec 004 ``margin_calls`` data for one isolated margin position.

    ``severity``: warning | critical | liquidation. Ratios in ppm, ``required_deposit``
    in quote units, prices in ticks. ``time_to_liquidation_s`` is an estimate (see
    ``openpit.alerts.margin``); None when the position cannot be liquidated.
    """

    user: str
    position_id: str
    instrument: str
    severity: str
    current_margin_ratio_ppm: int
    required_margin_ratio_ppm: int
    required_deposit: int
    mark_price: int
    liquidation_price: int | None
    time_to_liquidation_s: int | None
    message: str


# -- public -----------------------------------------------------------------------------


class SystemNotification(AlertEvent, kw_only=True, frozen=True, tag="system_notification"):
    """An operator notice to everyone (spec 001 ``system_notifications``)."""

    id: int
    level: NotificationLevel
    title: str
    message: str
    link: str | None = None


class ExchangeConnectionStatus(
    AlertEvent, kw_only=True, frozen=True, tag="exchange_connection_status"
):
    """Spec 000 ``system_events``: the state of one venue (``exchange`` = venue id)."""

    exchange: str
    status: ConnectionState


class RiskAlert(AlertEvent, kw_only=True, frozen=True, tag="risk_alert"):
    """Spec 004 ``risk_alerts``. ``details`` holds integers (ticks, ppm, ms, units) and
    short strings only."""

    id: int
    severity: NotificationLevel
    type: RiskAlertType
    instrument: str | None
    message: str
    details: dict[str, int | str | None] = msgspec.field(default_factory=dict)


class ArbitrageOpportunity(AlertEvent, kw_only=True, frozen=True, tag="arbitrage_opportunity"):
    """Spec 004 ``arbitrage``: buy ``base`` on ``buy_venue`` at its best ask, sell it on
    ``sell_venue`` at its best bid.

    Prices are ticks of the respective instrument; amounts are base-asset units;
    ``estimated_profit`` is quote-asset units after both taker fees for ``max_amount``.
    ``spread_ppm`` is the gross best-bid/best-ask spread relative to the ask,
    ``net_spread_ppm`` the same after fees. Re-sent with the same ``id`` when it changes.
    """

    id: int
    symbol: str
    base: str
    quote: str
    buy_venue: str
    buy_instrument: str
    buy_price: int
    sell_venue: str
    sell_instrument: str
    sell_price: int
    spread_ppm: int
    net_spread_ppm: int
    estimated_profit: int
    min_amount: int
    max_amount: int
    expires_at: int
    confidence: Confidence
    first_seen: int


class ArbitrageWithdrawn(AlertEvent, kw_only=True, frozen=True, tag="arbitrage_withdrawn"):
    """A published opportunity is gone (``reason``: ``closed`` or ``expired``)."""

    id: int
    symbol: str
    reason: str


AnyAlertEvent = (
    CustomAlertTriggered
    | UserNotification
    | MarginCallAlert
    | SystemNotification
    | ExchangeConnectionStatus
    | RiskAlert
    | ArbitrageOpportunity
    | ArbitrageWithdrawn
)

PRIVATE_EVENTS = (CustomAlertTriggered, UserNotification, MarginCallAlert)


def render_value(condition: AlertCondition, instrument: Instrument, value: int) -> Decimal:
    """A threshold or current value as the client sees it: a price, a percentage
    (5% -> ``Decimal("5")``) or a base quantity."""
    if condition in (AlertCondition.PRICE_ABOVE, AlertCondition.PRICE_BELOW):
        return instrument.ticks_to_price(value)
    if condition is AlertCondition.VOLUME_ABOVE:
        return instrument.lots_to_qty(value)
    d = Decimal(value).scaleb(-4).normalize()
    return d.quantize(Decimal(1)) if d == d.to_integral_value() else d
