"""Envelope dialect replies: answers to one request, each echoing its ``id``.

Invariants:
- Every reply to a request echoes the request's ``id`` (when it had one).
- Errors are ``{"type":"error","data":{"code","message","request_id",
  "request_action"}}``; ``error_code`` picks the code: the one set while parsing,
  else ``REASON_CODES`` for a venue reason, else ``KIND_CODES`` (refined for logins
  and order requests).
- Order acks answer ``accepted``/``cancelled``/``modified``; a batch answers one result
  per operation, in order, and ``completed``/``partial``/``failed`` overall.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any, Final

from openpit.core.access import Principal
from openpit.core.enums import Reason
from openpit.core.events import OrderUpdate
from openpit.core.instrument import Instrument
from openpit.gateway.dialects.envelope.inbound import _OPERATIONS, _action
from openpit.gateway.dialects.envelope.tables import (
    INVALID_CREDENTIALS,
    KIND_CODES,
    ORDER_NOT_FOUND,
    REASON_CODES,
    Ref,
)
from openpit.gateway.dialects.envelope.wire import _encode, _oid, _price, _qty, num
from openpit.gateway.model import (
    AlertInfo,
    BadRequest,
    BatchFailure,
    BatchItem,
    BatchRequest,
    CancelRequest,
    ErrorKind,
    ErrorReason,
    KeyLogin,
    ModifyRequest,
    OrderAck,
    PlaceRequest,
    Request,
    Subscribe,
    TokenLogin,
    Unsubscribe,
)


def _ref(request: Request | None) -> Ref:
    ref = getattr(request, "ref", None)
    if isinstance(ref, Ref):
        return ref
    return Ref(None, None if request is None else _action(request))


def _reply(kind: str, data: dict[str, Any], ts: int, request: Request | None) -> bytes:
    out: dict[str, Any] = {"type": kind, "data": data, "timestamp": ts}
    rid = _ref(request).id
    if rid is not None:
        out["id"] = rid
    return _encode(out)


def error_code(kind: ErrorKind, request: Request | None, reason: ErrorReason | None) -> str:
    """The spec 001 code for an error of ``kind`` about ``request``."""
    ref = _ref(request)
    if ref.code is not None:
        return ref.code
    if isinstance(reason, Reason):
        return REASON_CODES[reason]
    if kind is ErrorKind.UNAUTHORIZED and isinstance(request, KeyLogin | TokenLogin):
        return INVALID_CREDENTIALS
    if kind is ErrorKind.NOT_FOUND and isinstance(request, CancelRequest | ModifyRequest):
        return ORDER_NOT_FOUND
    return KIND_CODES[kind]


def render_error(
    kind: ErrorKind,
    message: str,
    ts: int,
    request: Request | None = None,
    *,
    reason: ErrorReason | None = None,
    retry_after: float | None = None,
) -> bytes:
    """{"type": "error", "data": {"code": "invalid_parameter", "message": "Invalid parameter:
    price must be greater than 0", "request_id": "order-1", "request_action": "submit_order"},
    "timestamp": 1625097600000, "id": "order-1"}"""
    ref = _ref(request)
    data: dict[str, Any] = {
        "code": error_code(kind, request, reason),
        "message": message,
        "request_id": ref.id,
        "request_action": ref.action,
    }
    if retry_after is not None:
        data["retry_after"] = max(1, math.ceil(retry_after))
    if reason is not None:
        data["reason"] = reason.value
    return _reply("error", data, ts, request)


def render_authenticated(principal: Principal, ts: int, request: Request) -> bytes:
    """{"type": "auth_response", "status": "success", "data": {"status": "success", ...}}

    Both spec examples work: the connection example reads ``data.status`` of the parsed
    message (the top level), the client classes read ``response.data.status``."""
    message = "Authentication successful"
    out: dict[str, Any] = {
        "type": "auth_response",
        "status": "success",
        "message": message,
        "data": {"status": "success", "message": message, "user_id": principal.user},
        "timestamp": ts,
    }
    rid = _ref(request).id
    if rid is not None:
        out["id"] = rid
    return _encode(out)


def _subscription_reply(request: Subscribe | Unsubscribe, ts: int, action: str) -> bytes:
    ref = _ref(request)
    channels = list(ref.channels) if ref.channels else [t.wire for t in request.topics]
    data = {"status": "success", "channels": channels, "action": action}
    return _reply("subscription_response", data, ts, request)


def render_subscribed(request: Subscribe, ts: int) -> bytes:
    """{"type": "subscription_response", "data": {"status": "success",
    "channels": ["trades:AAPL", "orderbook:AAPL:10"]}, "timestamp": 1625097600000,
    "id": "sub-1"}"""
    return _subscription_reply(request, ts, "subscribe")


def render_unsubscribed(request: Unsubscribe, ts: int) -> bytes:
    """As ``render_subscribed``, with ``"action": "unsubscribe"`` in ``data``."""
    return _subscription_reply(request, ts, "unsubscribe")


def render_ping(ts: int) -> bytes:
    """{"type": "heartbeat", "timestamp": 1625097600000}"""
    return _encode({"type": "heartbeat", "timestamp": ts})


def render_pong(ts: int, request: Request) -> bytes:
    """Reply to {"action": "ping"}: {"type": "pong", "data": {}, "timestamp": ..., "id": ...}."""
    return _reply("pong", {}, ts, request)


def render_close(code: int, message: str, ts: int) -> bytes:
    """Sent just before the server closes: {"type": "close", "data": {"code": 4004,
    "message": "Server shutting down"}, "timestamp": 1625097600000}"""
    return _encode({"type": "close", "data": {"code": code, "message": message}, "timestamp": ts})


_ACK_STATUS: Final = {"submit": "accepted", "cancel": "cancelled", "modify": "modified"}


def _order_fields(inst: Instrument, order: OrderUpdate) -> dict[str, Any]:
    return {
        "order_id": _oid(order.order_id),
        "client_id": order.client_order_id,
        "symbol": inst.symbol,
        "side": order.side.value,
        "type": order.type.value,
        "quantity": _qty(inst, order.qty),
        "price": _price(inst, order.price),
        "time_in_force": order.tif.value,
    }


def _ack_data(ack: OrderAck, inst: Instrument | None, request: Request | None) -> dict[str, Any]:
    data: dict[str, Any] = {"status": _ACK_STATUS[ack.action], "order_id": _oid(ack.order_id)}
    data["client_id"] = ack.client_order_id
    if inst is not None and ack.order is not None:
        data.update(_order_fields(inst, ack.order))
        data["stop_price"] = _price(inst, ack.order.stop_price)
        data["filled_quantity"] = _qty(inst, ack.order.filled)
        data["order_status"] = ack.order.status.value
    elif isinstance(request, PlaceRequest):
        data.update(
            symbol=request.symbol,
            side=request.side,
            type=request.type,
            quantity=num(request.amount),
            price=num(request.price),
            time_in_force=request.time_in_force,
        )
    return data


def render_order_ack(ack: OrderAck, inst: Instrument | None, ts: int, request: Request) -> bytes:
    """{"type": "order_response", "data": {"status": "accepted", "order_id": "o-67890",
    "client_id": "order-1", "symbol": "AAPL", "side": "buy", "type": "limit",
    "quantity": 100, "price": 150.00, "time_in_force": "gtc"}, "timestamp": 1625097600000,
    "id": "order-1"}

    Cancel and modify answer the same way with ``status`` ``cancelled`` / ``modified``.
    """
    return _reply("order_response", _ack_data(ack, inst, request), ts, request)


_OP_NAMES: Final[dict[type, str]] = {
    PlaceRequest: "submit",
    CancelRequest: "cancel",
    ModifyRequest: "modify",
}


def render_batch(
    items: Sequence[tuple[BatchItem, Instrument | None]], ts: int, request: Request
) -> bytes:
    """{"type": "batch_response", "data": {"status": "completed", "results": [
    {"operation": "submit", "status": "accepted", "order_id": "o-67891", ...},
    {"operation": "cancel", "status": "error", "error": {"code": "order_not_found",
    "message": "..."}}]}, "timestamp": 1625097600000, "id": "batch-1"}"""
    ops = request.ops if isinstance(request, BatchRequest) else ()
    results = []
    for i, (item, inst) in enumerate(items):
        op = ops[i] if i < len(ops) else None
        if isinstance(op, BadRequest):
            opname = _ref(op).action or "unknown"
            opname = next((k for k, v in _OPERATIONS.items() if v == opname), opname)
        else:
            opname = _OP_NAMES.get(type(op), "unknown")
        if isinstance(item, BatchFailure):
            code = error_code(item.kind, op, item.reason)
            err: dict[str, Any] = {"code": code, "message": item.message}
            if item.reason is not None:
                err["reason"] = item.reason.value
            results.append({"index": i, "operation": opname, "status": "error", "error": err})
        else:
            entry = {"index": i, "operation": opname, **_ack_data(item, inst, op)}
            results.append(entry)
    ok = sum(1 for r in results if r["status"] != "error")
    status = "completed" if ok == len(results) else "partial" if ok else "failed"
    return _reply("batch_response", {"status": status, "results": results}, ts, request)


def _alert(info: AlertInfo) -> dict[str, Any]:
    return {
        "alert_id": f"a-{info.alert_id}",
        "name": info.name,
        "condition": info.condition,
        "symbol": info.symbol,
        "threshold": num(info.threshold),
        "repeat": info.repeat,
        "cooldown_ms": info.cooldown_ms,
        "state": info.state,
        "created_at": info.created,
        "last_triggered": info.last_triggered,
    }


def render_alert_reply(op: str, alerts: Sequence[AlertInfo], ts: int, request: Request) -> bytes:
    """Our alert management replies (``/ws/custom``):
    create → {"type": "alert_response", "data": {"status": "created", "alert": {...}}};
    list → {"type": "alert_list", "data": {"alerts": [...]}};
    delete → {"type": "alert_response", "data": {"status": "deleted", "alert": {...}}}."""
    if op == "list":
        return _reply("alert_list", {"alerts": [_alert(a) for a in alerts]}, ts, request)
    status = "created" if op == "create" else "deleted"
    return _reply("alert_response", {"status": status, "alert": _alert(alerts[0])}, ts, request)
