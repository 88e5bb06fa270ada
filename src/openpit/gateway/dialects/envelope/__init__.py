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
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Final

import msgspec

from openpit.alerts.events import (
    AnyAlertEvent,
    CustomAlertTriggered,
    SystemNotification,
    UserNotification,
    render_value,
)
from openpit.core.enums import Reason
from openpit.core.events import Fill, InstrumentStatus, OrderUpdate, Position, Trade
from openpit.core.instrument import Instrument
from openpit.gateway.auth import Principal
from openpit.gateway.model import (
    AccountView,
    AlertInfo,
    AlertRequest,
    BadRequest,
    BatchFailure,
    BatchItem,
    BatchRequest,
    BookView,
    CancelRequest,
    Channel,
    CloseReason,
    ErrorKind,
    KeyLogin,
    ModifyRequest,
    OrderAck,
    OrderFee,
    Ping,
    PlaceRequest,
    Pong,
    Request,
    Subscribe,
    TickerView,
    TokenLogin,
    Topic,
    Unsubscribe,
)
from openpit.marketdata.book import BookDelta
from openpit.marketdata.candles import INTERVALS, Candle

name: Final = "envelope"
heartbeat: Final = "periodic"  # {"type":"heartbeat"} every ping_interval; idle_timeout closes

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
}
"""Venue reason -> spec 001 error code (anything else: ``invalid_parameter``)."""

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

MAX_BATCH = 50

_encode = msgspec.json.Encoder().encode


@dataclass(frozen=True, slots=True)
class Ref:
    """What a reply needs from its request: the client's id, the action, and (for
    problems found while parsing) the spec error code."""

    id: str | int | None
    action: str | None
    code: str | None = None
    channels: tuple[str, ...] = ()


# -- inbound ----------------------------------------------------------------------------


class _Envelope(msgspec.Struct):
    action: Any = None
    data: msgspec.Raw = msgspec.Raw(b"null")
    id: Any = None


class _Authenticate(msgspec.Struct):
    api_key: str
    timestamp: int
    signature: str


class _Channels(msgspec.Struct):
    channels: list[str]


class _Submit(msgspec.Struct):
    symbol: str
    side: str
    type: str
    quantity: Decimal
    price: Decimal | None = None
    stop_price: Decimal | None = None
    time_in_force: str | None = None
    client_order_id: str | None = None
    post_only: bool = False
    reduce_only: bool = False
    leverage: int = 1
    exchange: str | None = None
    operation: str | None = None  # inside batch_orders


class _Cancel(msgspec.Struct):
    order_id: str | int | None = None
    client_order_id: str | None = None
    operation: str | None = None


class _Modify(msgspec.Struct):
    order_id: str | int | None = None
    client_order_id: str | None = None
    quantity: Decimal | None = None
    price: Decimal | None = None
    stop_price: Decimal | None = None
    operation: str | None = None


class _Operation(msgspec.Struct):
    operation: Any = None


class _Batch(msgspec.Struct):
    operations: list[msgspec.Raw]


class _CreateAlert(msgspec.Struct):
    condition: str
    symbol: str
    threshold: Decimal
    name: str = ""
    repeat: bool = False
    cooldown_ms: int = 0


class _DeleteAlert(msgspec.Struct):
    alert_id: str | int


_envelope = msgspec.json.Decoder(_Envelope)
_operation = msgspec.json.Decoder(_Operation)
_DECODERS: Final[dict[str, msgspec.json.Decoder[Any]]] = {
    "authenticate": msgspec.json.Decoder(_Authenticate),
    "subscribe": msgspec.json.Decoder(_Channels),
    "unsubscribe": msgspec.json.Decoder(_Channels),
    "submit_order": msgspec.json.Decoder(_Submit),
    "cancel_order": msgspec.json.Decoder(_Cancel),
    "modify_order": msgspec.json.Decoder(_Modify),
    "batch_orders": msgspec.json.Decoder(_Batch),
    "create_alert": msgspec.json.Decoder(_CreateAlert),
    "delete_alert": msgspec.json.Decoder(_DeleteAlert),
}
_OPERATIONS: Final = {"submit": "submit_order", "cancel": "cancel_order", "modify": "modify_order"}


def _bad(message: str, ref: Ref, code: str = INVALID_PARAMETER) -> BadRequest:
    kind = ErrorKind.BAD_REQUEST
    return BadRequest(message, kind, ref.action, Ref(ref.id, ref.action, code, ref.channels))


def parse(frame: str | bytes) -> Request:
    """One client frame to one request.

    >>> parse('{"action": "subscribe", "data": {"channels": ["trades:AAPL"]}, "id": "sub-1"}')
    ... # doctest: +ELLIPSIS
    Subscribe(topics=(Topic(channel=<Channel.TRADES: 'trades'>, ...
    """
    try:
        env = _envelope.decode(frame)
    except msgspec.ValidationError as exc:
        return _bad(f"invalid message: {exc}", Ref(None, None))
    except msgspec.DecodeError as exc:
        return _bad(f"malformed JSON: {exc}", Ref(None, None))
    rid = env.id if isinstance(env.id, str | int) and not isinstance(env.id, bool) else None
    action = env.action
    if not isinstance(action, str):
        return _bad('missing "action"', Ref(rid, None), INVALID_ACTION)
    ref = Ref(rid, action)
    if action not in _ACTIONS:
        return _bad(
            f"unknown action {action!r} (supported: {', '.join(_ACTIONS)})", ref, INVALID_ACTION
        )
    if action == "pong":
        return Pong(ref=ref)
    if action == "ping":
        return Ping(ref=ref)
    if action == "list_alerts":
        return AlertRequest("list", ref=ref)
    raw = bytes(env.data)
    if raw.strip() == b"null":
        return _bad(f'{action} needs "data"', ref)
    return _parse_data(action, raw, ref)


def _decode(action: str, raw: bytes | memoryview, ref: Ref) -> Any:
    try:
        return _DECODERS[action].decode(raw)
    except msgspec.ValidationError as exc:
        return _bad(f"invalid {action} data: {exc}", ref)
    except msgspec.DecodeError as exc:  # pragma: no cover - the envelope parsed
        return _bad(f"malformed JSON: {exc}", ref)


def _parse_data(action: str, raw: bytes | memoryview, ref: Ref) -> Request:
    body = _decode(action, raw, ref)
    if isinstance(body, BadRequest):
        return body
    if isinstance(body, _Authenticate):
        return KeyLogin(body.api_key, body.timestamp, body.signature, ref=ref)
    if isinstance(body, _Channels):
        return _subscription(action, body, ref)
    if isinstance(body, _Batch):
        return _batch(body, ref)
    if isinstance(body, _CreateAlert):
        return AlertRequest(
            "create",
            name=body.name,
            condition=body.condition,
            symbol=body.symbol,
            threshold=body.threshold,
            repeat=body.repeat,
            cooldown_ms=body.cooldown_ms,
            ref=ref,
        )
    if isinstance(body, _DeleteAlert):
        aid = _number_id(body.alert_id, "a-")
        if aid is None:
            return _bad(f"alert_id {body.alert_id!r} is not an alert id (a-<n>)", ref)
        return AlertRequest("delete", alert_id=aid, ref=ref)
    return _order(body, ref)


def _order(body: _Submit | _Cancel | _Modify, ref: Ref) -> Request:
    if isinstance(body, _Submit):
        tif = body.time_in_force or ("ioc" if body.type.lower() == "market" else "gtc")
        default_cid = None
        if body.client_order_id is None and ref.id is not None:
            default_cid = str(ref.id)
        return PlaceRequest(
            exchange=body.exchange,
            symbol=body.symbol,
            side=body.side,
            type=body.type,
            amount=body.quantity,
            price=body.price,
            stop_price=body.stop_price,
            time_in_force=tif,
            client_order_id=body.client_order_id,
            post_only=body.post_only,
            reduce_only=body.reduce_only,
            leverage=body.leverage,
            ref=ref,
            default_client_order_id=default_cid,
        )
    oid: int | None = None
    if body.order_id is not None:
        oid = _number_id(body.order_id, "o-")
        if oid is None:
            return _bad(f"order_id {body.order_id!r} is not an order id (o-<n>)", ref)
    if oid is None and body.client_order_id is None:
        return _bad(f"{ref.action} needs order_id or client_order_id", ref)
    if isinstance(body, _Cancel):
        return CancelRequest(oid, body.client_order_id, ref=ref)
    if body.quantity is None and body.price is None and body.stop_price is None:
        return _bad("modify_order needs quantity, price or stop_price", ref)
    return ModifyRequest(
        oid, body.client_order_id, body.quantity, body.price, body.stop_price, ref=ref
    )


def _number_id(raw: str | int, prefix: str) -> int | None:
    if isinstance(raw, int):
        return raw if raw >= 0 else None
    text = raw[len(prefix) :] if raw.startswith(prefix) else raw
    return int(text) if text.isdigit() else None


def _batch(body: _Batch, ref: Ref) -> Request:
    if not body.operations:
        return _bad("batch_orders needs at least one operation", ref)
    if len(body.operations) > MAX_BATCH:
        return _bad(f"batch_orders takes at most {MAX_BATCH} operations", ref)
    ops: list[PlaceRequest | CancelRequest | ModifyRequest | BadRequest] = []
    for i, raw in enumerate(body.operations):
        oref = Ref(ref.id, None)
        try:
            head = _operation.decode(raw)
        except (msgspec.ValidationError, msgspec.DecodeError) as exc:
            ops.append(_bad(f"operation {i}: {exc}", oref))
            continue
        action = _OPERATIONS.get(head.operation) if isinstance(head.operation, str) else None
        if action is None:
            ops.append(
                _bad(
                    f"operation {i}: operation {head.operation!r} is not one of "
                    f"{', '.join(_OPERATIONS)}",
                    oref,
                )
            )
            continue
        oref = Ref(ref.id, action)
        body_i = _decode(action, raw, oref)
        if isinstance(body_i, BadRequest):
            ops.append(body_i)
            continue
        op = _order(body_i, oref)
        assert isinstance(op, PlaceRequest | CancelRequest | ModifyRequest | BadRequest)
        if isinstance(op, PlaceRequest):  # no request id per operation: no default
            op = PlaceRequest(**{**_fields(op), "default_client_order_id": None})
        ops.append(op)
    return BatchRequest(tuple(ops), ref=ref)


def _fields(op: PlaceRequest) -> dict[str, Any]:
    return {f: getattr(op, f) for f in PlaceRequest.__slots__}


def _topic(wire: str) -> Topic | str:
    """A channel string to a topic, or what is wrong with it."""
    if not isinstance(wire, str):
        return f"channel {wire!r} is not a string"
    named = NAMED_CHANNELS.get(wire)
    if named is not None:
        return Topic(named, wire=wire)
    head, _, rest = wire.partition(":")
    channel = SYMBOL_CHANNELS.get(head)
    if channel is None:
        return (
            f"unknown channel {wire!r} (channels: trades:SYM, orderbook:SYM:DEPTH, ticker:SYM, "
            f"candles:SYM:INTERVAL, {', '.join(NAMED_CHANNELS)})"
        )
    parts = rest.split(":") if rest else []
    if not parts or not parts[0]:
        return f"invalid channel {wire!r}: missing symbol ({head}:SYMBOL...)"
    symbol = parts[0]
    if channel is Channel.BOOK_DELTA:
        if len(parts) > 2 or (len(parts) == 2 and not parts[1].isdigit()):
            return f"invalid channel {wire!r}: expected orderbook:SYMBOL:DEPTH"
        depth = int(parts[1]) if len(parts) == 2 else None
        if depth is not None and depth < 1:
            return f"invalid channel {wire!r}: depth must be at least 1"
        return Topic(channel, symbols=(symbol,), depth=depth, wire=wire)
    if channel is Channel.CANDLES:
        if len(parts) != 2 or parts[1] not in INTERVALS:
            return (
                f"invalid channel {wire!r}: expected candles:SYMBOL:INTERVAL with INTERVAL "
                f"one of {', '.join(INTERVALS)}"
            )
        return Topic(channel, symbols=(symbol,), interval=parts[1], wire=wire)
    if len(parts) != 1:
        return f"invalid channel {wire!r}: expected {head}:SYMBOL"
    return Topic(channel, symbols=(symbol,), wire=wire)


def _subscription(action: str, body: _Channels, ref: Ref) -> Request:
    ref = Ref(ref.id, ref.action, None, tuple(str(c) for c in body.channels))
    if not body.channels:
        return _bad(f"{action}: channels must not be empty", ref)
    topics = []
    for wire in body.channels:
        topic = _topic(wire)
        if isinstance(topic, str):
            return _bad(topic, ref)
        topics.append(topic)
    if action == "subscribe":
        return Subscribe(tuple(topics), ref=ref)
    return Unsubscribe(tuple(topics), ref=ref)


def _action(request: Request) -> str | None:
    ref = getattr(request, "ref", None)
    if isinstance(ref, Ref):
        return ref.action
    if isinstance(request, BadRequest):
        return request.action
    return None


def screen(endpoint: str, request: Request, authenticated: bool) -> Request:
    """Hold a parsed request against the endpoint it arrived on (``ENDPOINTS``).

    ``/ws?dialect=envelope`` (no endpoint of its own) may use every channel and action.
    """
    spec = ENDPOINTS.get(endpoint)
    if spec is None or isinstance(request, BadRequest):
        return request
    ref = request.ref if isinstance(request.ref, Ref) else Ref(None, _action(request))
    action = ref.action or ""
    if action not in spec.actions:
        where = [p for p, e in ENDPOINTS.items() if action in e.actions]
        hint = f" (use {where[0]})" if where else ""
        return _bad(f"action {action!r} is not available on {endpoint}{hint}", ref, INVALID_ACTION)
    if spec.auth and not authenticated and action not in ("authenticate", "pong", "ping"):
        return BadRequest(
            f"{endpoint} requires authentication: authenticate first",
            ErrorKind.UNAUTHORIZED,
            action,
            Ref(ref.id, action, AUTHENTICATION_REQUIRED, ref.channels),
        )
    if isinstance(request, Subscribe | Unsubscribe):
        for topic in request.topics:
            if topic.channel not in spec.channels:
                here = [p for p, e in ENDPOINTS.items() if topic.channel in e.channels]
                hint = f" (it belongs to {here[0]})" if here else ""
                return _bad(f"channel {topic.wire!r} is not available on {endpoint}{hint}", ref)
    return request


# -- numbers ----------------------------------------------------------------------------


def num(value: Decimal | None) -> msgspec.Raw | None:
    """An exact JSON number without trailing zeros: 100, 0.15, -2.75."""
    if value is None:
        return None
    text = format(value.normalize(), "f") if value else "0"
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    if text in ("-0", ""):
        text = "0"
    return msgspec.Raw(text.encode())


def _price(inst: Instrument, ticks: int | None) -> msgspec.Raw | None:
    """A price at the instrument's tick precision: 150.00."""
    if ticks is None:
        return None
    return msgspec.Raw(format(inst.ticks_to_price(ticks), f".{inst.price_decimals}f").encode())


def _exact(inst: Instrument, value: Decimal | None) -> msgspec.Raw | None:
    """A price that need not be on the tick (averages): tick precision, or more if needed."""
    if value is None:
        return None
    text = format(value, "f")
    whole, _, frac = text.partition(".")
    frac = frac.rstrip("0").ljust(inst.price_decimals, "0")
    return msgspec.Raw((whole + ("." + frac if frac else "")).encode())


def _qty(inst: Instrument, lots: int) -> msgspec.Raw | None:
    return num(inst.lots_to_qty(lots))


def _oid(order_id: int | None) -> str | None:
    return None if order_id is None else f"o-{order_id}"


def _channel(kind: str, inst: Instrument, suffix: object = None) -> str:
    return f"{kind}:{inst.id}" + ("" if suffix is None else f":{suffix}")


# -- replies ----------------------------------------------------------------------------


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


def error_code(kind: ErrorKind, request: Request | None, reason: str | None) -> str:
    """The spec 001 code for an error of ``kind`` about ``request``."""
    ref = _ref(request)
    if ref.code is not None:
        return ref.code
    if reason is not None:
        try:
            return REASON_CODES.get(Reason(reason), KIND_CODES[kind])
        except ValueError:
            pass
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
    reason: str | None = None,
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
        data["reason"] = reason
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
                err["reason"] = item.reason
            results.append({"index": i, "operation": opname, "status": "error", "error": err})
        else:
            entry = {"index": i, "operation": opname, **_ack_data(item, inst, op)}
            results.append(entry)
    ok = sum(1 for r in results if r["status"] != "error")
    status = "completed" if ok == len(results) else "partial" if ok else "failed"
    return _reply("batch_response", {"status": status, "results": results}, ts, request)


# -- streams ----------------------------------------------------------------------------


def _stream(kind: str, channel: str, data: dict[str, Any], ts: int) -> bytes:
    return _encode({"type": kind, "data": data, "channel": channel, "timestamp": ts})


def render_trade(inst: Instrument, trade: Trade) -> bytes:
    """{"type": "trade", "data": {"symbol": "AAPL", "price": 150.25, "size": 100,
    "side": "buy", "trade_id": "t-12345", "trade_time": 1625097600000},
    "channel": "trades:AAPL", "timestamp": 1625097600000}"""
    data = {
        "symbol": inst.symbol,
        "price": _price(inst, trade.price),
        "size": _qty(inst, trade.qty),
        "side": trade.taker_side.value,
        "trade_id": f"t-{trade.trade_id}",
        "trade_time": trade.ts,
    }
    return _stream("trade", _channel("trades", inst), data, trade.ts)


def _levels(inst: Instrument, levels: Sequence[tuple[int, int]]) -> list[list[Any]]:
    return [[_price(inst, p), _qty(inst, q)] for p, q in levels]


def render_book(inst: Instrument, book: BookView, ts: int) -> bytes:
    """The snapshot a subscription starts from:
    {"type": "orderbook", "data": {"symbol": "AAPL", "bids": [[150.00, 500]],
    "asks": [[150.05, 300]], "sequence": 12345}, "channel": "orderbook:AAPL:10",
    "timestamp": 1625097600000}"""
    data = {
        "symbol": inst.symbol,
        "bids": _levels(inst, book.bids),
        "asks": _levels(inst, book.asks),
        "sequence": book.sequence or 0,
        "checksum": book.checksum,
    }
    return _stream("orderbook", _channel("orderbook", inst, book.depth), data, ts)


def render_book_delta(inst: Instrument, delta: BookDelta) -> bytes:
    """{"type": "orderbook_update", "data": {"symbol": "AAPL", "bids": [[150.00, 600],
    [149.85, 500]], "asks": [[150.05, 0]], "sequence": 12346, "prev_sequence": 12345},
    "channel": "orderbook:AAPL:10", "timestamp": 1625097601000}"""
    data = {
        "symbol": inst.symbol,
        "bids": _levels(inst, delta.bids),
        "asks": _levels(inst, delta.asks),
        "sequence": delta.sequence,
        "prev_sequence": delta.prev_sequence,
        "checksum": delta.checksum,
    }
    return _stream("orderbook_update", _channel("orderbook", inst, delta.depth), data, delta.ts)


def render_ticker(inst: Instrument, ticker: TickerView, ts: int) -> bytes:
    """{"type": "ticker", "data": {"symbol": "AAPL", "last_price": 150.25, "last_size": 100,
    "bid": 150.20, "ask": 150.30, "volume": 1250000, "daily_change": 2.75,
    "daily_change_percent": 1.86, "high": 151.00, "low": 148.50, "open": 149.00},
    "channel": "ticker:AAPL", "timestamp": 1625097600000}"""
    pct = None
    if ticker.change_ppm is not None:
        pct = (Decimal(ticker.change_ppm) / 10_000).quantize(Decimal("0.01"))
    data = {
        "symbol": inst.symbol,
        "last_price": _price(inst, ticker.last),
        "last_size": None if ticker.last_qty is None else _qty(inst, ticker.last_qty),
        "bid": _price(inst, ticker.bid),
        "ask": _price(inst, ticker.ask),
        "volume": _qty(inst, ticker.volume),
        "daily_change": None if ticker.change is None else num(inst.ticks_to_price(ticker.change)),
        "daily_change_percent": num(pct),
        "high": _price(inst, ticker.high),
        "low": _price(inst, ticker.low),
        "open": _price(inst, ticker.open),
    }
    return _stream("ticker", _channel("ticker", inst), data, ts)


def render_candle(inst: Instrument, candle: Candle, ts: int) -> bytes:
    """{"type": "candle", "data": {"symbol": "AAPL", "interval": "1m", "open": 150.00,
    "high": 150.30, "low": 149.90, "close": 150.25, "volume": 12500,
    "start_time": 1625097540000, "end_time": 1625097600000}, "channel": "candles:AAPL:1m",
    "timestamp": 1625097600000}"""
    data = {
        "symbol": inst.symbol,
        "interval": candle.interval,
        "open": _price(inst, candle.open),
        "high": _price(inst, candle.high),
        "low": _price(inst, candle.low),
        "close": _price(inst, candle.close),
        "volume": _qty(inst, candle.volume),
        "start_time": candle.start,
        "end_time": candle.end,
        "closed": candle.closed,
    }
    return _stream("candle", _channel("candles", inst, candle.interval), data, ts)


def _average(inst: Instrument, value_ticks_lots: int, lots: int) -> Decimal | None:
    if not lots:
        return None
    cost = inst.quote.from_units(value_ticks_lots * inst.notional_units)
    return (cost / inst.lots_to_qty(lots)).quantize(Decimal(1).scaleb(-(inst.price_decimals + 8)))


def render_order(inst: Instrument, order: OrderUpdate, fee: OrderFee) -> bytes:
    """{"type": "order_update", "data": {"order_id": "o-67890", "client_id": "order-1",
    "symbol": "AAPL", "side": "buy", "type": "limit", "quantity": 100,
    "filled_quantity": 50, "remaining_quantity": 50, "price": 150.00,
    "status": "partially_filled", "time_in_force": "gtc", "created_at": 1625097600000,
    "updated_at": 1625097630000}, "channel": "user_orders", "timestamp": 1625097630000}"""
    data = _order_fields(inst, order)
    data.update(
        filled_quantity=_qty(inst, order.filled),
        remaining_quantity=_qty(inst, order.remaining),
        status=order.status.value,
        created_at=order.created_ts or order.ts,
        updated_at=order.ts,
        stop_price=_price(inst, order.stop_price),
        average_price=_exact(inst, _average(inst, order.filled_value, order.filled)),
        fee=num(inst.quote.from_units(fee.units)),
        fee_currency=fee.asset or inst.quote.symbol,
        reason=None if order.reason is Reason.OK else order.reason.value,
    )
    return _stream("order_update", "user_orders", data, order.ts)


def render_fill(inst: Instrument, fill: Fill) -> bytes:
    """{"type": "user_trade", "data": {"trade_id": "t-12345", "order_id": "o-67890",
    "symbol": "AAPL", "side": "buy", "price": 150.00, "quantity": 50, "fee": 0.15,
    "fee_currency": "USD", "trade_time": 1625097630000}, "channel": "user_trades",
    "timestamp": 1625097630000}"""
    data = {
        "trade_id": f"t-{fill.trade_id}",
        "order_id": _oid(fill.order_id),
        "client_id": fill.client_order_id,
        "symbol": inst.symbol,
        "side": fill.side.value,
        "price": _price(inst, fill.price),
        "quantity": _qty(inst, fill.qty),
        "fee": num(inst.quote.from_units(fill.fee)),
        "fee_currency": fill.fee_asset or inst.quote.symbol,
        "liquidity": fill.liquidity.value,
        "trade_time": fill.ts,
    }
    return _stream("user_trade", "user_trades", data, fill.ts)


def _position(inst: Instrument, p: Position) -> dict[str, Any]:
    qty = abs(p.qty)
    amount = inst.lots_to_qty(qty)
    cost = inst.quote.from_units(p.cost)
    average = pnl = None
    if qty:
        average = cost / amount
        if p.mark_price is not None:
            value = inst.ticks_to_price(p.mark_price) * amount
            pnl = value - cost if p.qty > 0 else cost - value
    return {
        "symbol": inst.symbol,
        "quantity": num(inst.lots_to_qty(p.qty)),
        "average_price": _exact(inst, None if average is None else _round(average, inst)),
        "unrealized_pnl": num(None if pnl is None else _round(pnl, inst)),
        "realized_pnl": num(inst.quote.from_units(p.realized_pnl)),
        "type": "margin" if p.margin_mode else "spot",
    }


def _round(value: Decimal, inst: Instrument) -> Decimal:
    return value.quantize(Decimal(1).scaleb(-(inst.price_decimals + 8)))


def render_account(account: AccountView, ts: int) -> bytes:
    """{"type": "account_update", "data": {"account_id": "acc-12345", "balances": [
    {"currency": "USD", "available": 10000.00, "reserved": 15000.00, "total": 25000.00}],
    "positions": [{"symbol": "AAPL", "quantity": 150, "average_price": 149.75,
    "unrealized_pnl": 75.00, "realized_pnl": 0.00}]}, "channel": "account_updates",
    "timestamp": 1625097630000}"""
    balances = [
        {
            "currency": asset.symbol,
            "available": num(asset.from_units(avail)),
            "reserved": num(asset.from_units(reserved)),
            "total": num(asset.from_units(avail + reserved)),
        }
        for asset, avail, reserved in account.balances
    ]
    positions = [_position(inst, p) for inst, p in account.positions]
    data = {"account_id": f"acc-{account.user}", "balances": balances, "positions": positions}
    return _stream("account_update", "account_updates", data, ts)


def render_position(inst: Instrument, position: Position) -> bytes:
    """Spec 001 has no positions channel (positions ride on ``account_updates``)."""
    return _stream("position", "account_updates", _position(inst, position), position.ts)


def render_venue_status(venue: str, status: str, ts: int) -> bytes:
    """Spec 001 has no venue status channel; shaped like a system notification."""
    data = {"exchange": venue, "status": status}
    return _stream("exchange_status", "system_notifications", data, ts)


def render_instrument_status(inst: Instrument, status: InstrumentStatus) -> bytes:
    """Spec 001 has no instrument status channel; shaped like a system notification."""
    data = {
        "symbol": inst.symbol,
        "status": "halted" if status.halted else "trading",
        "reason": status.reason,
    }
    return _stream("instrument_status", "system_notifications", data, status.ts)


def render_alert(event: AnyAlertEvent, inst: Instrument | None) -> bytes | None:
    """System / user notifications and custom alerts (other alert events: None).

    {"type": "system_notification", "data": {"id": "n-12345", "level": "info",
    "title": "Market Hours Update", "message": "...", "link": "https://..."},
    "channel": "system_notifications", "timestamp": 1625097600000}
    {"type": "custom_alert", "data": {"alert_id": "a-12345", "name": "AAPL Price Alert",
    "condition": "price_above", "symbol": "AAPL", "threshold": 150.00,
    "current_value": 150.25, "triggered_at": 1625097600000}, "channel": "custom_alerts",
    "timestamp": 1625097600000}"""
    if isinstance(event, SystemNotification | UserNotification):
        kind = (
            "system_notification" if isinstance(event, SystemNotification) else "user_notification"
        )
        data = {
            "id": f"n-{event.id}",
            "level": event.level.value,
            "title": event.title,
            "message": event.message,
            "link": event.link,
        }
        return _stream(kind, kind + "s", data, event.ts)
    if isinstance(event, CustomAlertTriggered) and inst is not None:
        alert: dict[str, Any] = {
            "alert_id": f"a-{event.alert_id}",
            "name": event.name,
            "condition": event.condition.value,
            "symbol": inst.symbol,
            "threshold": _alert_value(event.condition, inst, event.threshold),
            "current_value": _alert_value(event.condition, inst, event.current_value),
            "triggered_at": event.triggered_at,
        }
        return _stream("custom_alert", "custom_alerts", alert, event.ts)
    return None


def _alert_value(condition: Any, inst: Instrument, value: int) -> msgspec.Raw | None:
    rendered = render_value(condition, inst, value)
    if condition.value.startswith("price_"):
        return msgspec.Raw(format(rendered, f".{inst.price_decimals}f").encode())
    return num(rendered)


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
