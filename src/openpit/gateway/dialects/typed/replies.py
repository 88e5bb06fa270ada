"""Typed dialect replies: answers to one request.

Invariants:
- Every reply carries a server ``timestamp`` (ms).
- Errors are ``{"type":"error","error":{"code","message","details"},"requestType",
  "timestamp"}``; ``error_code`` is the one table from neutral error kinds (and venue
  reasons) to spec 004 codes (docs/dialects.md). A cancel's error echoes the
  ``orderId`` as sent.
- Order acks are ``order_placed`` (with the ``orderType`` as sent) and
  ``order_cancelled`` (with the ``orderId`` as sent, else ``"order_<n>"``).
"""

from __future__ import annotations

from openpit.core.access import Principal
from openpit.core.enums import Reason
from openpit.core.instrument import Instrument
from openpit.gateway.dialects.typed.tables import REASON_CODES, SUPPORTED
from openpit.gateway.dialects.typed.wire import _encode, order_id_text, status_text
from openpit.gateway.model import (
    BadRequest,
    CancelRequest,
    Channel,
    ConnStats,
    ErrorKind,
    ErrorReason,
    OrderAck,
    Request,
    SessionReason,
    Subscribe,
    TokenLogin,
    Topic,
    Unsubscribe,
)


def _kind_of(request: Request | None) -> str | None:
    if request is None:
        return None
    if isinstance(request, BadRequest):
        return request.action
    ref = request.ref
    if isinstance(ref, tuple):
        return str(ref[0])
    return ref if isinstance(ref, str) else None


def error_code(kind: ErrorKind, request: Request | None, reason: ErrorReason | None = None) -> str:
    """The spec 004 error code for a neutral error (table in docs/dialects.md)."""
    what = _kind_of(request)
    if kind is ErrorKind.RATE_LIMITED:
        return "RATE_LIMIT_EXCEEDED"
    if kind is ErrorKind.INTERNAL:
        return "INTERNAL_ERROR"
    if kind is ErrorKind.UNAUTHORIZED:
        if (
            isinstance(request, TokenLogin)
            or what == "authenticate"
            or reason is SessionReason.AUTH_FAILED
        ):
            return "AUTH_FAILED"
        return "AUTH_REQUIRED"
    if kind is ErrorKind.FORBIDDEN:
        return "AUTH_FAILED"
    if what in ("subscribe", "unsubscribe"):
        return "INVALID_SUBSCRIPTION"
    if kind is ErrorKind.LIMIT_EXCEEDED:
        return "RATE_LIMIT_EXCEEDED"
    if what in ("place_order", "cancel_order"):
        return REASON_CODES[reason] if isinstance(reason, Reason) else "ORDER_FAILED"
    if what == "authenticate":
        return "AUTH_FAILED"
    return "INVALID_MESSAGE"


def render_error(
    kind: ErrorKind,
    message: str,
    ts: int,
    request: Request | None = None,
    *,
    reason: ErrorReason | None = None,
    retry_after: float | None = None,
) -> bytes:
    """An error reply.

    {"type": "error", "error": {"code": "INVALID_SUBSCRIPTION", "message": "Channel
    'invalid_channel' is not supported", "details": "Supported channels: orderbook,
    trades, price, portfolio"}, "timestamp": 1640995200000}
    """
    code = error_code(kind, request, reason)
    err: dict[str, object] = {"code": code, "message": message}
    if code == "INVALID_SUBSCRIPTION":
        err["details"] = SUPPORTED
    elif retry_after is not None:
        err["details"] = f"Retry after {retry_after:.3f} s"
    elif isinstance(reason, Reason):
        err["details"] = reason.value
    out: dict[str, object] = {"type": "error", "error": err}
    what = _kind_of(request)
    if what is not None:
        out["requestType"] = what
    ref = request.ref if isinstance(request, CancelRequest | BadRequest) else None
    if isinstance(ref, tuple) and ref[0] == "cancel_order" and ref[1] is not None:
        out["orderId"] = ref[1]
    out["timestamp"] = ts
    return _encode(out)


def render_authenticated(principal: Principal, ts: int, request: Request) -> bytes:
    """Our reply (the spec shows none): {"type": "authenticated", "data": {"userId":
    "alice", "expiresAt": 1640998800000}, "timestamp": 1640995200000}"""
    expires = getattr(principal, "expires_ms", None)
    return _encode(
        {
            "type": "authenticated",
            "data": {"userId": principal.user, "expiresAt": expires},
            "timestamp": ts,
        }
    )


def channel_names(topics: tuple[Topic, ...]) -> list[str]:
    out = []
    for t in topics:
        if t.channel in (Channel.BOOK, Channel.TRADES) and t.symbols:
            out.append(f"{t.wire}_{t.symbols[0]}")
        elif t.channel is Channel.PRICE and t.symbols:
            out.append(f"price_{t.symbols[0]}")
        else:
            out.append(t.wire)
    return out


def render_subscribed(request: Subscribe, ts: int) -> bytes:
    """Our reply (the spec shows none): {"type": "subscribed", "channels":
    ["orderbook_LUXURY001/XRP", "portfolio"], "timestamp": 1640995200000}"""
    return _encode(
        {"type": "subscribed", "channels": channel_names(request.topics), "timestamp": ts}
    )


def render_unsubscribed(request: Unsubscribe, ts: int) -> bytes:
    """{"type": "unsubscribed", "channels": ["orderbook_LUXURY001/XRP"], "timestamp": ...}"""
    return _encode(
        {"type": "unsubscribed", "channels": channel_names(request.topics), "timestamp": ts}
    )


def render_ping(ts: int) -> bytes:
    """{"type": "ping", "timestamp": 1640995200000} (the server normally pings with frames)."""
    return _encode({"type": "ping", "timestamp": ts})


def render_pong(ts: int, request: Request) -> bytes:
    """{"type": "pong", "timestamp": 1640995200000}"""
    return _encode({"type": "pong", "timestamp": ts})


def render_close(code: int, message: str, ts: int) -> bytes:
    """Before the server closes: {"type": "close", "code": 1001, "message": "Server shutting
    down", "timestamp": 1640995200000}"""
    return _encode({"type": "close", "code": code, "message": message, "timestamp": ts})


def render_order_ack(ack: OrderAck, inst: Instrument | None, ts: int, request: Request) -> bytes:
    """{"type": "order_placed", "orderType": "limit", "result": {"orderId":
    "order_123456789", "status": "pending", "message": "Order placed successfully"},
    "timestamp": 1640995200000}

    {"type": "order_cancelled", "orderId": "order_123456789", "result": {"status":
    "cancelled", "message": "Order cancelled successfully"}, "timestamp": 1640995200000}
    """
    ref = getattr(request, "ref", None)
    if ack.action == "cancel":
        sent = ref[1] if isinstance(ref, tuple) and ref[1] is not None else None
        return _encode(
            {
                "type": "order_cancelled",
                "orderId": sent if sent is not None else order_id_text(ack.order_id),
                "result": {
                    "status": status_text(ack.status or "cancelled"),
                    "message": "Order cancelled successfully",
                },
                "timestamp": ts,
            }
        )
    order_type = ref[1] if isinstance(ref, tuple) else None
    result: dict[str, object] = {
        "orderId": order_id_text(ack.order_id),
        "status": status_text(ack.status or "pending"),
        "message": "Order placed successfully",
    }
    if ack.client_order_id is not None:
        result["clientOrderId"] = ack.client_order_id
    if inst is not None:
        result["pair"] = inst.symbol
        result["venue"] = inst.venue
    return _encode(
        {"type": "order_placed", "orderType": order_type, "result": result, "timestamp": ts}
    )


def render_stats(stats: ConnStats, ts: int) -> bytes:
    """{"type": "connection_stats", "data": {"connectedAt": 1640995000000,
    "messagesReceived": 1250, "messagesSent": 850, "subscriptions": 5, "latency": 45},
    "timestamp": 1640995200000}"""
    return _encode(
        {
            "type": "connection_stats",
            "data": {
                "connectedAt": stats.connected_at,
                "messagesReceived": stats.messages_received,
                "messagesSent": stats.messages_sent,
                "subscriptions": stats.subscriptions,
                "latency": stats.latency_ms,
            },
            "timestamp": ts,
        }
    )
