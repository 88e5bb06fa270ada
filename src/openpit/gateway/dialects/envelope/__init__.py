"""The ``envelope`` dialect (spec 001): ``{"action","data","id"}`` in,
``{"type","data","channel","timestamp","id"}`` out, on four endpoints.

Invariants:
- Pure: frame text in, one neutral ``Request`` out; neutral data in, JSON bytes out.
  Never raises on client input: anything malformed is a ``BadRequest`` whose ``ref``
  carries the request's ``id``, its action and the spec error code to answer with.
- Every reply to a request echoes the request's ``id`` (when it had one); stream
  messages never carry an ``id``. Errors are ``{"type":"error","data":{"code",
  "message","request_id","request_action"}}`` with the spec's codes; ``REASON_CODES``
  is the one table from venue reason codes to those codes.
- ``screen`` confines each endpoint to its channels and actions (``ENDPOINTS``); a
  channel of another endpoint or a malformed channel string is ``invalid_parameter``
  naming the channel. ``/ws/trading``, ``/ws/notifications`` and ``/ws/custom``
  need authentication before anything but ``authenticate``/``pong``/``ping``.
- Order ids are rendered ``"o-<n>"`` and parsed back (bare digits too); trade ids
  ``"t-<n>"``, notification ids ``"n-<n>"``, alert ids ``"a-<n>"``.
- Numbers are exact JSON number literals from ticks/lots/units through ``Decimal``:
  prices at the instrument's tick precision (``150.00``), everything else without
  trailing zeros (``100``, ``0.15``); never float arithmetic.
- Order book channels are delta-style: a ``orderbook`` snapshot with the view's
  ``sequence``, then ``orderbook_update`` messages with only the changed levels
  (quantity 0 deletes) and consecutive sequences (``prev_sequence`` = previous).
Choices where the spec is silent: docs/dialects.md (envelope).
Layout (this module is the dialect the gateway loads; it re-exports the rest):
``tables`` endpoints, channels, actions and error codes; ``inbound`` ``parse`` and
``screen``; ``wire`` exact numbers, ids and channel names; ``replies`` answers to
requests (errors, acks, batches, alert management); ``streams`` market data, account
and notification messages.
"""

from __future__ import annotations

from typing import Final

from openpit.gateway.dialects.base import DialectSpec, Group, Heartbeat
from openpit.gateway.dialects.envelope.inbound import (
    head,
    parse,
    screen,
)
from openpit.gateway.dialects.envelope.replies import (
    error_code,
    render_alert_reply,
    render_authenticated,
    render_batch,
    render_close,
    render_error,
    render_order_ack,
    render_ping,
    render_pong,
    render_subscribed,
    render_unsubscribed,
)
from openpit.gateway.dialects.envelope.streams import (
    render_account,
    render_alert,
    render_book,
    render_book_delta,
    render_candle,
    render_fill,
    render_instrument_status,
    render_order,
    render_position,
    render_ticker,
    render_trade,
    render_venue_status,
)
from openpit.gateway.dialects.envelope.tables import (
    ALERT_ACTIONS,
    AUTHENTICATION_REQUIRED,
    COMMON_ACTIONS,
    CUSTOM,
    DUPLICATE_CLIENT_ORDER_ID,
    ENDPOINTS,
    INSUFFICIENT_FUNDS,
    INTERNAL_ERROR,
    INVALID_ACTION,
    INVALID_CREDENTIALS,
    INVALID_PARAMETER,
    KIND_CODES,
    MARKET_CLOSED,
    MARKET_DATA,
    MAX_BATCH,
    NAMED_CHANNELS,
    NOTIFICATIONS,
    ORDER_ACTIONS,
    ORDER_NOT_FOUND,
    RATE_LIMIT_EXCEEDED,
    REASON_CODES,
    SYMBOL_CHANNELS,
    TRADING,
    Endpoint,
    Ref,
)
from openpit.gateway.dialects.envelope.wire import (
    num,
)
from openpit.gateway.model import CloseReason

name: Final = "envelope"
close_codes: Final = {
    CloseReason.NORMAL: 1000,
    CloseReason.GOING_AWAY: 4004,  # "Server restarting: reconnect with backoff"
    CloseReason.POLICY: 1008,
    CloseReason.TOO_BIG: 1009,
    CloseReason.HEARTBEAT: 1000,
    CloseReason.INTERNAL: 1011,
    CloseReason.UNSUPPORTED: 1011,
    CloseReason.AUTH_FAILED: 4000,
    CloseReason.RATE_LIMITED: 4001,
    CloseReason.INVALID_SUBSCRIPTION: 4002,
    CloseReason.DUPLICATE: 4003,
}

strikes: Final = {
    CloseReason.AUTH_FAILED: 3,  # the third failed authenticate closes with 4000
    CloseReason.RATE_LIMITED: 20,  # the 20th rate-limited message closes with 4001
    CloseReason.INVALID_SUBSCRIPTION: 10,  # the 10th invalid (un)subscribe closes with 4002
}

field_names: Final = {
    "qty": "quantity",
    "price": "price",
    "stop_price": "stop_price",
    "instrument": "symbol",
    "venue": "exchange",
}

spec: Final = DialectSpec(
    name=name,
    endpoints=tuple(ENDPOINTS),
    close_codes=close_codes,
    field_names=field_names,
    strikes=strikes,
    heartbeat=Heartbeat.PERIODIC,  # {"type":"heartbeat"} every ping_interval; idle_timeout closes
    groups=frozenset(
        {
            Group.FILLS,
            Group.ACCOUNT,
            Group.CANDLES,
            Group.BOOK_DELTAS,
            Group.BATCH,
            Group.ALERT_REPLIES,
            Group.SCREEN,
        }
    ),
)

__all__ = [
    "ALERT_ACTIONS",
    "AUTHENTICATION_REQUIRED",
    "COMMON_ACTIONS",
    "CUSTOM",
    "DUPLICATE_CLIENT_ORDER_ID",
    "ENDPOINTS",
    "INSUFFICIENT_FUNDS",
    "INTERNAL_ERROR",
    "INVALID_ACTION",
    "INVALID_CREDENTIALS",
    "INVALID_PARAMETER",
    "KIND_CODES",
    "MARKET_CLOSED",
    "MARKET_DATA",
    "MAX_BATCH",
    "NAMED_CHANNELS",
    "NOTIFICATIONS",
    "ORDER_ACTIONS",
    "ORDER_NOT_FOUND",
    "RATE_LIMIT_EXCEEDED",
    "REASON_CODES",
    "SYMBOL_CHANNELS",
    "TRADING",
    "Endpoint",
    "Ref",
    "close_codes",
    "error_code",
    "field_names",
    "head",
    "name",
    "num",
    "parse",
    "render_account",
    "render_alert",
    "render_alert_reply",
    "render_authenticated",
    "render_batch",
    "render_book",
    "render_book_delta",
    "render_candle",
    "render_close",
    "render_error",
    "render_fill",
    "render_instrument_status",
    "render_order",
    "render_order_ack",
    "render_ping",
    "render_pong",
    "render_position",
    "render_subscribed",
    "render_ticker",
    "render_trade",
    "render_unsubscribed",
    "render_venue_status",
    "screen",
    "spec",
    "strikes",
]
