"""Envelope dialect inbound: one client frame to one neutral ``Request``, and the
per-endpoint screen of what was parsed.

Invariants:
- Pure: frame text in, one ``Request`` out. Never raises on client input: anything
  malformed is a ``BadRequest`` whose ``ref`` (a ``Ref``) carries the request's ``id``,
  its action and the spec error code to answer with.
- Order ids are parsed from ``"o-<n>"`` (bare digits too), alert ids from ``"a-<n>"``.
- The parser limits of ``frame_limits`` (nesting, int64 integers, significant digits)
  hold before anything is decoded; ``head`` decodes only ``action`` and ``id``.
- ``submit_order`` without ``client_order_id`` defaults it to the request ``id``; the
  operations of ``batch_orders`` (at most ``MAX_BATCH``) get no such default.
- ``screen`` confines each endpoint to its channels and actions (``ENDPOINTS``); a
  channel of another endpoint or a malformed channel string is ``invalid_parameter``
  naming the channel; a missing login is ``authentication_required``.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any, Final

import msgspec

from openpit.gateway.dialects.envelope.tables import (
    _ACTIONS,
    AUTHENTICATION_REQUIRED,
    CATEGORIES,
    ENDPOINTS,
    INVALID_ACTION,
    INVALID_PARAMETER,
    MAX_BATCH,
    NAMED_CHANNELS,
    SYMBOL_CHANNELS,
    Ref,
)
from openpit.gateway.dialects.frame_limits import (
    Int64,
    digits_id,
    digits_problem,
    nesting_problem,
)
from openpit.gateway.model import (
    AlertRequest,
    BadRequest,
    BatchRequest,
    CancelRequest,
    Channel,
    ErrorKind,
    Head,
    KeyLogin,
    ModifyRequest,
    Ping,
    PlaceRequest,
    Pong,
    Request,
    Subscribe,
    Topic,
    Unsubscribe,
)
from openpit.marketdata.candles import INTERVALS


class _Envelope(msgspec.Struct):
    action: Any = None
    data: msgspec.Raw = msgspec.Raw(b"null")
    id: Any = None


class _Authenticate(msgspec.Struct):
    api_key: str
    timestamp: Int64
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
    leverage: Int64 = 1
    exchange: str | None = None
    operation: str | None = None  # inside batch_orders


class _Cancel(msgspec.Struct):
    order_id: str | Int64 | None = None
    client_order_id: str | None = None
    operation: str | None = None


class _Modify(msgspec.Struct):
    order_id: str | Int64 | None = None
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
    cooldown_ms: Int64 = 0


class _DeleteAlert(msgspec.Struct):
    alert_id: str | Int64


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


def _request_id(raw: object) -> str | int | None:
    return raw if isinstance(raw, str | int) and not isinstance(raw, bool) else None


def head(frame: str | bytes) -> Head:
    """The envelope of a frame (``action`` and ``id``; ``data`` is skipped, not decoded)
    and its rate-limit category.

    >>> head('{"action": "submit_order", "data": {"symbol": "AAPL"}, "id": "order-1"}')
    Head(category='order', action='submit_order', ref=Ref(id='order-1', \
action='submit_order', code=None, channels=()))
    """
    if nesting_problem(frame) is not None:
        return Head("other", None, Ref(None, None))
    try:
        env = _envelope.decode(frame)
    except (msgspec.ValidationError, msgspec.DecodeError):
        return Head("other", None, Ref(None, None))
    action = env.action if isinstance(env.action, str) else None
    ref = Ref(_request_id(env.id), action)
    if action is None:
        return Head("other", None, ref)
    return Head(CATEGORIES.get(action, "other"), action, ref)


def parse(frame: str | bytes) -> Request:
    """One client frame to one request.

    >>> parse('{"action": "subscribe", "data": {"channels": ["trades:AAPL"]}, "id": "sub-1"}')
    ... # doctest: +ELLIPSIS
    Subscribe(topics=(Topic(channel=<Channel.TRADES: 'trades'>, ...
    """
    problem = nesting_problem(frame)
    if problem is not None:
        return _bad(problem, Ref(None, None))
    try:
        env = _envelope.decode(frame)
    except msgspec.ValidationError as exc:
        return _bad(f"invalid message: {exc}", Ref(None, None))
    except msgspec.DecodeError as exc:
        return _bad(f"malformed JSON: {exc}", Ref(None, None))
    rid = _request_id(env.id)
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
        digits = digits_problem(threshold=body.threshold)
        if digits is not None:
            return _bad(digits, ref)
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
    if not isinstance(body, _Cancel):
        digits = digits_problem(
            quantity=body.quantity, price=body.price, stop_price=body.stop_price
        )
        if digits is not None:
            return _bad(digits, ref)
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
    return digits_id(raw.removeprefix(prefix))


def _batch(body: _Batch, ref: Ref) -> Request:
    if not body.operations:
        return _bad("batch_orders needs at least one operation", ref)
    if len(body.operations) > MAX_BATCH:
        return _bad(f"batch_orders takes at most {MAX_BATCH} operations", ref)
    ops: list[PlaceRequest | CancelRequest | ModifyRequest | BadRequest] = []
    for i, raw in enumerate(body.operations):
        oref = Ref(ref.id, None)
        try:
            op_head = _operation.decode(raw)
        except (msgspec.ValidationError, msgspec.DecodeError) as exc:
            ops.append(_bad(f"operation {i}: {exc}", oref))
            continue
        action = _OPERATIONS.get(op_head.operation) if isinstance(op_head.operation, str) else None
        if action is None:
            ops.append(
                _bad(
                    f"operation {i}: operation {op_head.operation!r} is not one of "
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
