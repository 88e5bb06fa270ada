"""Typed dialect tables: channels, message types and order types (spec 004).

Invariants:
- ``CHANNELS`` is the one table from spec 004 channel types to neutral channels
  (``PUBLIC_CHANNELS`` market-wide, then ``PRIVATE_CHANNELS`` per user); ``SUPPORTED``
  names them all, in that order, for ``INVALID_SUBSCRIPTION`` error details.
- ``orderbook`` and ``trades`` channels need a ``pair`` (``_PAIRED``); ``price`` needs a
  ``symbol``.
- ``TYPES`` are the message types a client may send; ``ORDER_TYPES`` the ``orderType``
  values of ``place_order``; ``REASON_CODES`` the error code of each venue reason
  (total over ``Reason``). Pure data, no logic.
"""

from __future__ import annotations

from typing import Final

from openpit.core.enums import Reason
from openpit.gateway.model import Channel

PUBLIC_CHANNELS: Final = {
    "orderbook": Channel.BOOK,
    "trades": Channel.TRADES,
    "price": Channel.PRICE,
    "arbitrage": Channel.ARBITRAGE,
    "risk_alerts": Channel.RISK_ALERTS,
}
PRIVATE_CHANNELS: Final = {
    "portfolio": Channel.PORTFOLIO,
    "orders": Channel.ORDERS,
    "positions": Channel.POSITIONS,
    "margin_calls": Channel.MARGIN_CALLS,
}
CHANNELS: Final = {**PUBLIC_CHANNELS, **PRIVATE_CHANNELS}
SUPPORTED: Final = "Supported channels: " + ", ".join(CHANNELS)
_PAIRED: Final = ("orderbook", "trades")  # need "pair"

TYPES: Final = (
    "authenticate",
    "subscribe",
    "unsubscribe",
    "place_order",
    "cancel_order",
    "ping",
    "pong",
    "connection_stats",
)
ORDER_TYPES: Final = ("limit", "market", "stop_loss", "oco")
REASON_CODES: Final[dict[Reason, str]] = {
    r: "INSUFFICIENT_BALANCE" if r is Reason.INSUFFICIENT_FUNDS else "ORDER_FAILED" for r in Reason
}
"""Venue reason of a failed ``place_order``/``cancel_order`` -> spec 004 code (total)."""
CATEGORIES: Final = {
    "authenticate": "auth",
    "subscribe": "subscribe",
    "unsubscribe": "subscribe",
    "place_order": "order",
    "cancel_order": "order",
}
"""Rate-limit category of each type ("order commands per minute"); else other. Every
message also takes from the shared ``*`` bucket (50 messages/s)."""
