"""Envelope dialect tables: endpoints, channels, actions and error codes (spec 001).

Invariants:
- ``ENDPOINTS`` is the one table of what each URL path allows: its channels, its
  actions and whether it needs authentication before anything but
  ``authenticate``/``pong``/``ping``. ``/ws/market-data`` needs none.
- ``NAMED_CHANNELS`` are channel strings without a symbol (``user_orders``, ...);
  ``SYMBOL_CHANNELS`` are the heads of ``<kind>:SYMBOL[:DEPTH|:INTERVAL]`` strings.
- ``REASON_CODES`` is the one table from venue reason codes to spec 001 error codes;
  ``KIND_CODES`` maps neutral error kinds to them where no reason refines the code.
- ``Ref`` is everything a reply needs from its request (``id``, action, a code set
  while parsing, the channel strings as sent); it is frozen and carries no logic.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from openpit.core.enums import Reason
from openpit.gateway.model import Channel, ErrorKind

MARKET_DATA = "/ws/market-data"
TRADING = "/ws/trading"
NOTIFICATIONS = "/ws/notifications"
CUSTOM = "/ws/custom"

NAMED_CHANNELS: Final = {
    "user_orders": Channel.ORDERS,
    "user_trades": Channel.FILLS,
    "account_updates": Channel.ACCOUNT,
    "system_notifications": Channel.SYSTEM_NOTIFICATIONS,
    "user_notifications": Channel.USER_NOTIFICATIONS,
    "custom_alerts": Channel.CUSTOM_ALERTS,
}
SYMBOL_CHANNELS: Final = {
    "trades": Channel.TRADES,
    "orderbook": Channel.BOOK_DELTA,
    "ticker": Channel.TICKER,
    "candles": Channel.CANDLES,
}

ORDER_ACTIONS: Final = ("submit_order", "cancel_order", "modify_order", "batch_orders")
ALERT_ACTIONS: Final = ("create_alert", "list_alerts", "delete_alert")
COMMON_ACTIONS: Final = ("authenticate", "subscribe", "unsubscribe", "pong", "ping")
_ACTIONS: Final = COMMON_ACTIONS + ORDER_ACTIONS + ALERT_ACTIONS
CATEGORIES: Final = {
    "authenticate": "auth",
    "subscribe": "subscribe",
    "unsubscribe": "subscribe",
    **{action: "order" for action in ORDER_ACTIONS},
}
"""Rate-limit category of each action (spec 001 "Message Rate Limits"); else other."""


@dataclass(frozen=True, slots=True)
class Endpoint:
    channels: frozenset[Channel]
    actions: frozenset[str]
    auth: bool


ENDPOINTS: Final = {
    MARKET_DATA: Endpoint(
        frozenset({Channel.TRADES, Channel.BOOK_DELTA, Channel.TICKER, Channel.CANDLES}),
        frozenset(COMMON_ACTIONS),
        auth=False,
    ),
    TRADING: Endpoint(
        frozenset({Channel.ORDERS, Channel.FILLS, Channel.ACCOUNT}),
        frozenset(COMMON_ACTIONS + ORDER_ACTIONS),
        auth=True,
    ),
    NOTIFICATIONS: Endpoint(
        frozenset({Channel.SYSTEM_NOTIFICATIONS, Channel.USER_NOTIFICATIONS}),
        frozenset(COMMON_ACTIONS),
        auth=True,
    ),
    CUSTOM: Endpoint(
        frozenset({Channel.CUSTOM_ALERTS}), frozenset(COMMON_ACTIONS + ALERT_ACTIONS), auth=True
    ),
}

# -- error codes: one table from venue reasons, one from neutral kinds ----------------------

AUTHENTICATION_REQUIRED = "authentication_required"
INVALID_CREDENTIALS = "invalid_credentials"
INVALID_PARAMETER = "invalid_parameter"
INVALID_ACTION = "invalid_action"
RATE_LIMIT_EXCEEDED = "rate_limit_exceeded"
INSUFFICIENT_FUNDS = "insufficient_funds"
ORDER_NOT_FOUND = "order_not_found"
DUPLICATE_CLIENT_ORDER_ID = "duplicate_client_order_id"
MARKET_CLOSED = "market_closed"
INTERNAL_ERROR = "internal_error"

REASON_CODES: Final[dict[Reason, str]] = {
    Reason.INSUFFICIENT_FUNDS: INSUFFICIENT_FUNDS,
    Reason.UNKNOWN_ORDER: ORDER_NOT_FOUND,
    Reason.ORDER_NOT_MODIFIABLE: ORDER_NOT_FOUND,  # no longer live
    Reason.DUPLICATE_CLIENT_ORDER_ID: DUPLICATE_CLIENT_ORDER_ID,
    Reason.MARKET_CLOSED: MARKET_CLOSED,
    Reason.TRADING_HALTED: MARKET_CLOSED,
    Reason.UNKNOWN_USER: INSUFFICIENT_FUNDS,  # an account that was never funded
    Reason.UNKNOWN_INSTRUMENT: INVALID_PARAMETER,
    Reason.INVALID_PRICE: INVALID_PARAMETER,
    Reason.INVALID_QUANTITY: INVALID_PARAMETER,
    Reason.BELOW_MIN_QUANTITY: INVALID_PARAMETER,
    Reason.INVALID_PARAMETER: INVALID_PARAMETER,
    Reason.POST_ONLY_WOULD_TAKE: INVALID_PARAMETER,
    Reason.FOK_NOT_FILLABLE: INVALID_PARAMETER,
    Reason.NO_LIQUIDITY: INVALID_PARAMETER,
    Reason.PRICE_BAND: INVALID_PARAMETER,
    Reason.SELF_TRADE: INVALID_PARAMETER,
    Reason.REDUCE_ONLY: INVALID_PARAMETER,
    Reason.LEVERAGE_NOT_ALLOWED: INVALID_PARAMETER,
    Reason.DEADLINE_PASSED: INVALID_PARAMETER,
    # why an order ended, never a rejection of a request; total all the same
    Reason.OK: INVALID_PARAMETER,
    Reason.IOC_REMAINDER: INVALID_PARAMETER,
    Reason.USER_CANCELLED: INVALID_PARAMETER,
    Reason.OCO_SIBLING: INVALID_PARAMETER,
    Reason.DAY_EXPIRED: INVALID_PARAMETER,
    Reason.LIQUIDATION: INVALID_PARAMETER,
}
"""Venue reason -> spec 001 error code; total over ``Reason`` (a test keeps it so)."""

KIND_CODES: Final[dict[ErrorKind, str]] = {
    ErrorKind.BAD_REQUEST: INVALID_PARAMETER,
    ErrorKind.UNAUTHORIZED: AUTHENTICATION_REQUIRED,  # invalid_credentials for logins
    ErrorKind.FORBIDDEN: AUTHENTICATION_REQUIRED,
    ErrorKind.NOT_FOUND: INVALID_PARAMETER,  # order_not_found for order requests
    ErrorKind.RATE_LIMITED: RATE_LIMIT_EXCEEDED,
    ErrorKind.LIMIT_EXCEEDED: RATE_LIMIT_EXCEEDED,
    ErrorKind.REJECTED: INVALID_PARAMETER,  # refined by REASON_CODES
    ErrorKind.INTERNAL: INTERNAL_ERROR,
}

MAX_BATCH = 50


@dataclass(frozen=True, slots=True)
class Ref:
    """What a reply needs from its request: the client's id, the action, and (for
    problems found while parsing) the spec error code."""

    id: str | int | None
    action: str | None
    code: str | None = None
    channels: tuple[str, ...] = ()
