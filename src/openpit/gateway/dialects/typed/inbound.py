"""Typed dialect inbound: one client frame to one neutral ``Request``.

Invariants:
- Pure: frame text in, one ``Request`` out. Never raises on client input: anything
  malformed is a ``BadRequest`` naming the field and the problem (``action`` = the
  message type, so errors get the right code); so is a frame past the parser limits
  of ``frame_limits`` (nesting, int64 integers, significant digits). ``head`` decodes
  only ``type``.
- A channel may be given as an object (``{"type": "orderbook", "pair": ...}``) or as a
  name (``"portfolio"``, ``"orderbook_<pair>"``, ``"price_<asset>"``); both parse to
  the same ``Topic``.
- ``stop_loss`` is a stop (stop-market), or a stop-limit when it has a limit price;
  order ids are parsed from ``"order_<n>"`` (bare digits too). The request ``ref`` of
  an order request is ``(type, orderType)`` / ``(type, orderId as sent)``.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any, Final

import msgspec

from openpit.gateway.dialects.frame_limits import (
    Int64,
    digits_id,
    digits_problem,
    nesting_problem,
)
from openpit.gateway.dialects.typed.tables import _PAIRED, CATEGORIES, CHANNELS, ORDER_TYPES, TYPES
from openpit.gateway.model import (
    BadRequest,
    CancelRequest,
    Channel,
    Head,
    Ping,
    PlaceRequest,
    Pong,
    Request,
    StatsRequest,
    Subscribe,
    TokenLogin,
    Topic,
    Unsubscribe,
)


class _Head(msgspec.Struct):
    type: str | None = None


class _Authenticate(msgspec.Struct):
    token: str


class _ChannelSpec(msgspec.Struct, forbid_unknown_fields=False):
    type: str
    pair: str | None = None
    symbol: str | None = None
    venue: str | None = None
    exchange: str | None = None
    depth: Int64 | None = None
    currency: str | None = None  # portfolio valuation asset


class _Subscribe(msgspec.Struct):
    channels: list[_ChannelSpec | str]


class _OrderData(msgspec.Struct, forbid_unknown_fields=False):
    pair: str
    side: str
    amount: Decimal
    price: Decimal | None = None
    stopPrice: Decimal | None = None
    limitPrice: Decimal | None = None
    targetPrice: Decimal | None = None
    timeInForce: str = "GTC"
    leverage: Int64 = 1
    venue: str | None = None
    exchange: str | None = None
    clientOrderId: str | None = None
    postOnly: bool = False
    reduceOnly: bool = False


class _Place(msgspec.Struct):
    orderType: str
    orderData: _OrderData


class _Cancel(msgspec.Struct):
    orderId: str | Int64 | None = None
    clientOrderId: str | None = None


_head = msgspec.json.Decoder(_Head)
_decoders: Final[dict[str, msgspec.json.Decoder[Any]]] = {
    "authenticate": msgspec.json.Decoder(_Authenticate),
    "subscribe": msgspec.json.Decoder(_Subscribe),
    "unsubscribe": msgspec.json.Decoder(_Subscribe),
    "place_order": msgspec.json.Decoder(_Place),
    "cancel_order": msgspec.json.Decoder(_Cancel),
}


def head(frame: str | bytes) -> Head:
    """The message type of a frame and its rate-limit category, nothing else decoded.

    >>> head('{"type": "place_order", "orderType": "limit", "orderData": {"pair": "BTC"}}')
    Head(category='order', action='place_order', ref=None)
    """
    if nesting_problem(frame) is not None:
        return Head("other")
    try:
        kind = _head.decode(frame).type
    except (msgspec.ValidationError, msgspec.DecodeError):
        return Head("other")
    if kind is None or kind not in TYPES:
        return Head("other")
    return Head(CATEGORIES.get(kind, "other"), kind)


def parse(frame: str | bytes) -> Request:
    """One client frame to one request.

    >>> parse('{"type": "authenticate", "token": "your-jwt-token"}')
    TokenLogin(token='your-jwt-token', ref='authenticate')
    """
    problem = nesting_problem(frame)
    if problem is not None:
        return BadRequest(problem)
    try:
        head = _head.decode(frame)
    except msgspec.ValidationError as exc:
        return BadRequest(f"invalid message: {exc}")
    except msgspec.DecodeError as exc:
        return BadRequest(f"malformed JSON: {exc}")
    kind = head.type
    if kind is None:
        return BadRequest('missing "type"')
    if kind not in TYPES:
        return BadRequest(f"unknown message type {kind!r} (supported: {', '.join(TYPES)})")
    if kind == "ping":
        return Ping(ref=kind)
    if kind == "pong":
        return Pong(ref=kind)
    if kind == "connection_stats":
        return StatsRequest(ref=kind)
    try:
        body = _decoders[kind].decode(frame)
    except msgspec.ValidationError as exc:
        return BadRequest(f"invalid {kind} message: {exc}", action=kind)
    except msgspec.DecodeError as exc:  # pragma: no cover - head already parsed
        return BadRequest(f"malformed JSON: {exc}", action=kind)
    if isinstance(body, _Authenticate):
        return TokenLogin(body.token, ref=kind)
    if isinstance(body, _Subscribe):
        return _subscription(kind, body)
    if isinstance(body, _Place):
        return _place(body)
    return _cancel(body)


def _channel_spec(raw: _ChannelSpec | str) -> _ChannelSpec:
    """A channel given as a name: ``"portfolio"``, ``"orderbook_LUXURY001/XRP"``."""
    if isinstance(raw, _ChannelSpec):
        return raw
    if raw in CHANNELS:
        return _ChannelSpec(type=raw)
    prefix, _, rest = raw.partition("_")
    if prefix in ("orderbook", "trades") and rest:
        return _ChannelSpec(type=prefix, pair=rest)
    if prefix == "price" and rest:
        return _ChannelSpec(type=prefix, symbol=rest)
    return _ChannelSpec(type=raw)


def _subscription(kind: str, body: _Subscribe) -> Request:
    if not body.channels:
        return BadRequest(f"{kind}: channels must not be empty", action=kind)
    topics = []
    for raw in body.channels:
        spec = _channel_spec(raw)
        channel = CHANNELS.get(spec.type)
        if channel is None:
            return BadRequest(f"Channel {spec.type!r} is not supported", action=kind)
        venue = spec.venue or spec.exchange
        if spec.type in _PAIRED or spec.type == "price":
            target = spec.pair if spec.type in _PAIRED else (spec.symbol or spec.pair)
            if not target:
                need = "pair" if spec.type in _PAIRED else "symbol"
                return BadRequest(f"Channel {spec.type!r} needs {need!r}", action=kind)
            if spec.depth is not None and spec.depth < 1:
                return BadRequest("depth must be a positive integer", action=kind)
            topics.append(
                Topic(
                    channel,
                    exchange=venue,
                    symbols=(target,),
                    depth=spec.depth if channel is Channel.BOOK else None,
                    wire=spec.type,
                )
            )
            continue
        topics.append(
            Topic(
                channel,
                wire=spec.type,
                valuation_asset=spec.currency if channel is Channel.PORTFOLIO else None,
                margin_only=channel is Channel.POSITIONS,
            )
        )
    if kind == "subscribe":
        return Subscribe(tuple(topics), ref=kind)
    return Unsubscribe(tuple(topics), ref=kind)


_TIF: Final = {"gtc": "gtc", "ioc": "ioc", "fok": "fok", "day": "day"}


def _place(body: _Place) -> Request:
    d = body.orderData
    order_type = body.orderType
    ref = ("place_order", order_type)

    def bad(message: str) -> BadRequest:
        return BadRequest(message, action="place_order", ref=ref)

    digits = digits_problem(
        amount=d.amount,
        price=d.price,
        stopPrice=d.stopPrice,
        limitPrice=d.limitPrice,
        targetPrice=d.targetPrice,
    )
    if digits is not None:
        return bad(f"orderData.{digits}")

    if order_type not in ORDER_TYPES:
        return bad(f"orderType {order_type!r} is not one of: {', '.join(ORDER_TYPES)}")
    kind, price, stop, stop_limit = order_type, d.price, None, None
    if order_type == "limit" and price is None:
        return bad("a limit order needs orderData.price")
    if order_type == "market":
        price = None
    elif order_type == "stop_loss":
        if d.stopPrice is None:
            return bad("a stop_loss order needs orderData.stopPrice")
        stop = d.stopPrice
        limit = d.limitPrice if d.limitPrice is not None else d.price
        kind, price = ("stop_limit", limit) if limit is not None else ("stop", None)
    elif order_type == "oco":
        if d.targetPrice is None or d.stopPrice is None:
            return bad("an oco order needs orderData.targetPrice and orderData.stopPrice")
        price, stop, stop_limit = d.targetPrice, d.stopPrice, d.limitPrice
    tif = _TIF.get(d.timeInForce.lower(), d.timeInForce)
    return PlaceRequest(
        exchange=d.venue or d.exchange,
        symbol=d.pair,
        side=d.side,
        type=kind,
        amount=d.amount,
        price=price,
        stop_price=stop,
        stop_limit_price=stop_limit,
        time_in_force=tif,
        client_order_id=d.clientOrderId,
        post_only=d.postOnly,
        reduce_only=d.reduceOnly,
        leverage=d.leverage,
        ref=ref,
    )


def _order_id(raw: str | int | None) -> int | BadRequest | None:
    if raw is None or isinstance(raw, int):
        return raw
    oid = digits_id(raw.removeprefix("order_"))
    if oid is not None:
        return oid
    return BadRequest(
        f"orderId {raw!r} is not an order id (order_<digits>)",
        action="cancel_order",
        ref=("cancel_order", raw),
    )


def _cancel(body: _Cancel) -> Request:
    ref = ("cancel_order", body.orderId)
    oid = _order_id(body.orderId)
    if isinstance(oid, BadRequest):
        return oid
    if oid is None and body.clientOrderId is None:
        return BadRequest("cancel_order needs orderId", action="cancel_order", ref=ref)
    return CancelRequest(oid, body.clientOrderId, ref=ref)
