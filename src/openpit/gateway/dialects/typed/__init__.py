"""The ``typed`` dialect (spec 004): ``{"type": ...}`` in, ``{"type", "channel", "data"}`` out.

Invariants:
- Pure: frame text in, one neutral ``Request`` out; neutral data in, JSON bytes out.
  Never raises on client input: anything malformed is a ``BadRequest`` naming the
  field and the problem (``action`` = the message type, so errors get the right code).
- Numbers are decimal *strings* rendered from ticks/lots/units through ``Decimal``:
  prices with the instrument's price precision, amounts with its quantity precision,
  quote money (totals, PnL, margin, deposits, profits) with the price precision
  (rounded half-even; a required deposit rounds up), balances with the asset's
  decimals. Signed changes carry ``+``/``-``; percentages are ``"+2.50%"``; ratios
  have 4 decimals. Never float arithmetic.
- Every message carries a server ``timestamp`` (ms); stream messages carry the event's.
- Channel names are ``orderbook_<pair>``, ``trades_<pair>``, ``price_<asset>``,
  ``portfolio``, ``orders``, ``positions``, ``margin_calls``, ``arbitrage``,
  ``risk_alerts``. Choices where the spec is silent: docs/dialects.md (typed).
Layout (this module is the dialect the gateway loads; it re-exports the rest):
``tables`` channels, message types and order types; ``inbound`` ``parse``; ``wire``
decimal strings, ids and status names; ``replies`` answers to requests (errors, acks,
subscriptions, stats); ``streams`` market data, order and portfolio messages;
``positions`` position numbers and ``positions`` messages; ``alerts`` margin calls,
arbitrage and risk alerts.
"""

from __future__ import annotations

from typing import Final

from openpit.gateway.dialects.base import DialectSpec, Group, Heartbeat
from openpit.gateway.dialects.typed.alerts import (
    render_alert,
    render_arbitrage,
    render_arbitrage_closed,
    render_margin_call,
    render_risk_alert,
)
from openpit.gateway.dialects.typed.inbound import (
    head,
    parse,
)
from openpit.gateway.dialects.typed.positions import (
    position_numbers,
    render_position,
)
from openpit.gateway.dialects.typed.replies import (
    channel_names,
    error_code,
    render_authenticated,
    render_close,
    render_error,
    render_order_ack,
    render_ping,
    render_pong,
    render_stats,
    render_subscribed,
    render_unsubscribed,
)
from openpit.gateway.dialects.typed.streams import (
    render_book,
    render_instrument_status,
    render_order,
    render_portfolio,
    render_price,
    render_ticker,
    render_trade,
    render_venue_status,
)
from openpit.gateway.dialects.typed.tables import (
    CHANNELS,
    ORDER_TYPES,
    PRIVATE_CHANNELS,
    PUBLIC_CHANNELS,
    REASON_CODES,
    SUPPORTED,
    TYPES,
)
from openpit.gateway.dialects.typed.wire import (
    fixed,
    order_id_text,
    percent,
    ratio,
    signed,
    status_text,
)
from openpit.gateway.model import CloseReason

name: Final = "typed"

close_codes: Final = {
    CloseReason.NORMAL: 1000,
    CloseReason.GOING_AWAY: 1001,
    CloseReason.POLICY: 1008,
    CloseReason.TOO_BIG: 1009,
    CloseReason.HEARTBEAT: 1001,
    CloseReason.INTERNAL: 1011,
    CloseReason.UNSUPPORTED: 1011,
    CloseReason.AUTH_FAILED: 1008,
    CloseReason.RATE_LIMITED: 1008,
    CloseReason.INVALID_SUBSCRIPTION: 1008,
    CloseReason.DUPLICATE: 1008,
}

field_names: Final = {
    "qty": "amount",
    "price": "price",
    "stop_price": "stopPrice",
    "stop_limit_price": "limitPrice",
    "instrument": "pair",
    "venue": "venue",
}

strikes: Final = {
    CloseReason.AUTH_FAILED: 1,  # an invalid token: immediate disconnection
    CloseReason.RATE_LIMITED: 20,  # the 20th rate-limited message closes with 1008
}

spec: Final = DialectSpec(
    name=name,
    endpoints=("/", "/ws"),
    close_codes=close_codes,
    field_names=field_names,
    strikes=strikes,
    heartbeat=Heartbeat.FRAMES,  # WebSocket ping frames every 15 s (spec 004)
    compress=True,  # permessage-deflate when the client offers it (spec 004)
    max_subscriptions=20,  # per connection (spec 004 "Rate Limiting")
    groups=frozenset({Group.STATS, Group.PRICES, Group.PORTFOLIO}),
)

__all__ = [
    "CHANNELS",
    "ORDER_TYPES",
    "PRIVATE_CHANNELS",
    "PUBLIC_CHANNELS",
    "REASON_CODES",
    "SUPPORTED",
    "TYPES",
    "channel_names",
    "close_codes",
    "error_code",
    "field_names",
    "fixed",
    "head",
    "name",
    "order_id_text",
    "parse",
    "percent",
    "position_numbers",
    "ratio",
    "render_alert",
    "render_arbitrage",
    "render_arbitrage_closed",
    "render_authenticated",
    "render_book",
    "render_close",
    "render_error",
    "render_instrument_status",
    "render_margin_call",
    "render_order",
    "render_order_ack",
    "render_ping",
    "render_pong",
    "render_portfolio",
    "render_position",
    "render_price",
    "render_risk_alert",
    "render_stats",
    "render_subscribed",
    "render_ticker",
    "render_trade",
    "render_unsubscribed",
    "render_venue_status",
    "signed",
    "spec",
    "status_text",
    "strikes",
]
