"""The ``flat`` dialect (spec 000): ``{"action": ...}`` in, ``{"event"|"channel": ...}`` out.

Invariants:
- Pure: frame text in, one neutral ``Request`` out; neutral data in, JSON bytes out.
  Never raises on client input: anything malformed is a ``BadRequest`` naming the
  field and the problem; so is a frame past the parser limits (``frame_limits``:
  nesting, int64 integers, significant digits). ``head`` decodes only ``action``.
- Numbers are JSON numbers rendered from ticks/lots/units through ``Decimal`` and
  written as decimal literals straight into the JSON (``msgspec.Raw``), always with
  a fractional part (``42650.0``) so clients get a float consistently; never float
  arithmetic.
- Every reply carries a server ``timestamp`` (ms); stream messages carry the venue
  timestamp of the event.
- Order entry (``submit_order``/``cancel_order``/``modify_order``) is our extension
  in the same flat style; see docs/dialects.md.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any, Final

import msgspec

from openpit.alerts.events import AnyAlertEvent, ExchangeConnectionStatus
from openpit.core.access import Principal
from openpit.core.enums import Reason
from openpit.core.events import InstrumentStatus, OrderUpdate, Position, Trade
from openpit.core.instrument import PPM, Instrument
from openpit.gateway.dialects.base import DialectSpec, Heartbeat
from openpit.gateway.dialects.frame_limits import (
    Int64,
    digits_id,
    digits_problem,
    nesting_problem,
)
from openpit.gateway.model import (
    BadRequest,
    BookView,
    CancelRequest,
    Channel,
    CloseReason,
    ErrorKind,
    ErrorReason,
    Head,
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
    Topic,
    Unsubscribe,
)

name: Final = "flat"

CHANNELS: Final = {
    "market_data": Channel.TICKER,
    "orderbook": Channel.BOOK,
    "trades": Channel.TRADES,
    "orders": Channel.ORDERS,
    "positions": Channel.POSITIONS,
    "system_events": Channel.SYSTEM,
}
MARKET_DATA_TYPES: Final = ("ticker",)

ERROR_CODES: Final = {
    ErrorKind.BAD_REQUEST: 400,
    ErrorKind.UNAUTHORIZED: 401,
    ErrorKind.FORBIDDEN: 403,
    ErrorKind.NOT_FOUND: 404,
    ErrorKind.RATE_LIMITED: 429,
    ErrorKind.LIMIT_EXCEEDED: 429,
    ErrorKind.REJECTED: 400,
    ErrorKind.INTERNAL: 500,
}

close_codes: Final = {
    CloseReason.NORMAL: 1000,
    CloseReason.GOING_AWAY: 1001,
    CloseReason.POLICY: 1008,
    CloseReason.TOO_BIG: 1009,
    CloseReason.HEARTBEAT: 1000,  # the spec's "Session timeout" example uses 1000
    CloseReason.INTERNAL: 1011,
    CloseReason.UNSUPPORTED: 1011,
    CloseReason.RATE_LIMITED: 1008,  # the spec's only policy code
}

REASON_CODES: Final[dict[Reason, str]] = {r: r.value for r in Reason}
"""Venue reason -> the ``reason`` of an error: spec 000 has no rejection codes of its
own, so flat sends openpit's (``code`` is the HTTP-style number of the error kind)."""

strikes: Final = {CloseReason.RATE_LIMITED: 20}  # the 20th rate-limited message closes

field_names: Final = {
    "qty": "amount",
    "price": "price",
    "stop_price": "stop_price",
    "instrument": "symbol",
    "venue": "exchange",
}

spec: Final = DialectSpec(
    name=name,
    endpoints=("/ws",),
    close_codes=close_codes,
    field_names=field_names,
    strikes=strikes,
    heartbeat=Heartbeat.IDLE,
)

_encode = msgspec.json.Encoder().encode


# -- inbound ----------------------------------------------------------------------------


class _Head(msgspec.Struct):
    action: str | None = None


class _Authenticate(msgspec.Struct, forbid_unknown_fields=False):
    api_key: str
    timestamp: Int64
    signature: str


class _Params(msgspec.Struct, omit_defaults=True):
    exchange: str | None = None
    symbols: list[str] | None = None
    type: str | None = None
    depth: Int64 | None = None


class _Subscribe(msgspec.Struct):
    channels: list[str]
    params: _Params | None = None


class _Submit(msgspec.Struct):
    symbol: str
    side: str
    amount: Decimal
    type: str = "limit"
    exchange: str | None = None
    price: Decimal | None = None
    stop_price: Decimal | None = None
    time_in_force: str = "gtc"
    client_order_id: str | None = None
    post_only: bool = False
    reduce_only: bool = False
    leverage: Int64 = 1


class _Cancel(msgspec.Struct):
    order_id: str | Int64 | None = None
    client_order_id: str | None = None
    exchange: str | None = None
    symbol: str | None = None


class _Modify(msgspec.Struct):
    order_id: str | Int64 | None = None
    client_order_id: str | None = None
    amount: Decimal | None = None
    price: Decimal | None = None
    stop_price: Decimal | None = None
    exchange: str | None = None
    symbol: str | None = None


_ACTIONS: Final = (
    "authenticate",
    "subscribe",
    "unsubscribe",
    "pong",
    "ping",
    "submit_order",
    "cancel_order",
    "modify_order",
)
_CATEGORIES: Final = {
    "authenticate": "auth",
    "subscribe": "subscribe",
    "unsubscribe": "subscribe",
    "submit_order": "order",
    "cancel_order": "order",
    "modify_order": "order",
}
"""Rate-limit category of each action; anything else (and any malformed frame): other."""
_head = msgspec.json.Decoder(_Head)
_decoders: Final[dict[str, msgspec.json.Decoder[Any]]] = {
    "authenticate": msgspec.json.Decoder(_Authenticate),
    "subscribe": msgspec.json.Decoder(_Subscribe),
    "unsubscribe": msgspec.json.Decoder(_Subscribe),
    "submit_order": msgspec.json.Decoder(_Submit),
    "cancel_order": msgspec.json.Decoder(_Cancel),
    "modify_order": msgspec.json.Decoder(_Modify),
}


def head(frame: str | bytes) -> Head:
    """The action of a frame and its rate-limit category, nothing else decoded.

    >>> head('{"action": "submit_order", "symbol": "BTCUSDT", "amount": 0.1}')
    Head(category='order', action='submit_order', ref=None)
    """
    if nesting_problem(frame) is not None:
        return Head("other")
    try:
        action = _head.decode(frame).action
    except (msgspec.ValidationError, msgspec.DecodeError):
        return Head("other")
    if action is None:
        return Head("other")
    return Head(_CATEGORIES.get(action, "other"), action)


def parse(frame: str | bytes) -> Request:
    """One client frame to one request.

    >>> parse('{"action": "authenticate", "api_key": "your_api_key", '
    ...       '"timestamp": 1647356789123, "signature": "your_signature"}')
    ... # doctest: +ELLIPSIS
    KeyLogin(api_key='your_api_key', timestamp=1647356789123, signature='your_signature', ...)
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
    action = head.action
    if action is None:
        return BadRequest('missing "action"')
    if action not in _ACTIONS:
        return BadRequest(
            f"unknown action {action!r} (supported: {', '.join(_ACTIONS)})", action=action
        )
    if action in ("pong", "ping"):
        return Pong(ref=action) if action == "pong" else Ping(ref=action)
    try:
        body = _decoders[action].decode(frame)
    except msgspec.ValidationError as exc:
        return BadRequest(f"invalid {action} message: {exc}", action=action)
    except msgspec.DecodeError as exc:  # pragma: no cover - head already parsed
        return BadRequest(f"malformed JSON: {exc}", action=action)
    if isinstance(body, _Authenticate):
        return KeyLogin(body.api_key, body.timestamp, body.signature, ref=action)
    if isinstance(body, _Subscribe):
        return _subscription(action, body)
    if isinstance(body, _Submit):
        digits = digits_problem(amount=body.amount, price=body.price, stop_price=body.stop_price)
        if digits is not None:
            return BadRequest(digits, action=action)
        return PlaceRequest(
            exchange=body.exchange,
            symbol=body.symbol,
            side=body.side,
            type=body.type,
            amount=body.amount,
            price=body.price,
            stop_price=body.stop_price,
            time_in_force=body.time_in_force,
            client_order_id=body.client_order_id,
            post_only=body.post_only,
            reduce_only=body.reduce_only,
            leverage=body.leverage,
            ref=action,
        )
    oid = _order_id(body.order_id)
    if isinstance(oid, BadRequest):
        return oid
    if oid is None and body.client_order_id is None:
        return BadRequest(f"{action} needs order_id or client_order_id", action=action)
    if isinstance(body, _Cancel):
        return CancelRequest(oid, body.client_order_id, ref=action)
    if body.amount is None and body.price is None and body.stop_price is None:
        return BadRequest("modify_order needs amount, price or stop_price", action=action)
    digits = digits_problem(amount=body.amount, price=body.price, stop_price=body.stop_price)
    if digits is not None:
        return BadRequest(digits, action=action)
    return ModifyRequest(
        oid, body.client_order_id, body.amount, body.price, body.stop_price, ref=action
    )


def _order_id(raw: str | int | None) -> int | BadRequest | None:
    if raw is None:
        return None
    if isinstance(raw, int):
        return raw
    oid = digits_id(raw)
    if oid is not None:
        return oid
    return BadRequest(f"order_id {raw!r} is not an order id (digits)")


def _subscription(action: str, body: _Subscribe) -> Request:
    if not body.channels:
        return BadRequest(f"{action}: channels must not be empty", action=action)
    params = body.params or _Params()
    if params.type is not None and params.type not in MARKET_DATA_TYPES:
        return BadRequest(
            f"unsupported market_data type {params.type!r} (supported: ticker)", action=action
        )
    if params.depth is not None and params.depth < 1:
        return BadRequest("params.depth must be a positive integer", action=action)
    topics = []
    for wire in body.channels:
        channel = CHANNELS.get(wire)
        if channel is None:
            return BadRequest(
                f"unknown channel {wire!r} (supported: {', '.join(CHANNELS)})", action=action
            )
        if channel is Channel.SYSTEM:
            topics.append(Topic(channel, wire=wire))
            continue
        topics.append(
            Topic(
                channel,
                exchange=params.exchange,
                symbols=tuple(params.symbols or ()),
                depth=params.depth if channel is Channel.BOOK else None,
                wire=wire,
            )
        )
    echo = (body.channels, body.params)
    if action == "subscribe":
        return Subscribe(tuple(topics), ref=echo)
    return Unsubscribe(tuple(topics), ref=echo)


# -- numbers ----------------------------------------------------------------------------


def num(value: Decimal | None) -> msgspec.Raw | None:
    """A Decimal as a JSON number literal with a fractional part: 42650.5, 1.0, 0.00001."""
    if value is None:
        return None
    text = format(value, "f")
    if "." in text:
        text = text.rstrip("0")
        if text.endswith("."):
            text += "0"
    else:
        text += ".0"
    if text.startswith("-0") and text.strip("-0.") == "":
        text = "0.0"
    return msgspec.Raw(text.encode())


def _price(inst: Instrument, ticks: int | None) -> msgspec.Raw | None:
    return None if ticks is None else num(inst.ticks_to_price(ticks))


def _qty(inst: Instrument, lots: int) -> msgspec.Raw | None:
    return num(inst.lots_to_qty(lots))


# -- replies ----------------------------------------------------------------------------


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

    {"event": "error", "message": "Invalid symbol format", "code": 400, "timestamp": 1647356789125}
    """
    out: dict[str, object] = {"event": "error", "message": message, "code": ERROR_CODES[kind]}
    action = _action_of(request)
    if action is not None:
        out["action"] = action
    if reason is not None:
        out["reason"] = REASON_CODES[reason] if isinstance(reason, Reason) else reason.value
    if isinstance(request, PlaceRequest) and request.client_order_id is not None:
        out["client_order_id"] = request.client_order_id
    if retry_after is not None:
        out["retry_after"] = round(retry_after, 3)
    out["timestamp"] = ts
    return _encode(out)


def _action_of(request: Request | None) -> str | None:
    if request is None:
        return None
    if isinstance(request, BadRequest):
        return request.action
    return request.ref if isinstance(request.ref, str) else _ACTION_NAMES.get(type(request))


_ACTION_NAMES: Final[dict[type, str]] = {Subscribe: "subscribe", Unsubscribe: "unsubscribe"}


def render_authenticated(principal: Principal, ts: int, request: Request) -> bytes:
    """{"event": "authenticated", "success": true, "timestamp": 1647356789124}"""
    return _encode({"event": "authenticated", "success": True, "timestamp": ts})


def _echo(event: str, request: Subscribe | Unsubscribe, ts: int) -> bytes:
    out: dict[str, object] = {"event": event}
    if isinstance(request.ref, tuple):
        channels, params = request.ref
        out["channels"] = channels
        if params is not None:
            out["params"] = params
    else:
        out["channels"] = [t.wire for t in request.topics]
    out["timestamp"] = ts
    return _encode(out)


def render_subscribed(request: Subscribe, ts: int) -> bytes:
    """{"event": "subscribed", "channels": ["market_data", "orders", "positions"],
    "params": {"exchange": "binance", "symbols": ["BTCUSDT", "ETHUSDT"]},
    "timestamp": 1647356789125}"""
    return _echo("subscribed", request, ts)


def render_unsubscribed(request: Unsubscribe, ts: int) -> bytes:
    """{"event": "unsubscribed", "channels": ["positions"],
    "params": {"exchange": "binance", "symbols": ["BTCUSDT"]}, "timestamp": 1647356789126}"""
    return _echo("unsubscribed", request, ts)


def render_ping(ts: int) -> bytes:
    """{"event": "ping", "timestamp": 1647356789125}"""
    return _encode({"event": "ping", "timestamp": ts})


def render_pong(ts: int, request: Request) -> bytes:
    """Reply to a client's {"action": "ping"}: {"event": "pong", "timestamp": ...}."""
    return _encode({"event": "pong", "timestamp": ts})


def render_close(code: int, message: str, ts: int) -> bytes:
    """{"event": "close", "message": "Session timeout", "code": 1000, "timestamp": 1647356789125}"""
    return _encode({"event": "close", "message": message, "code": code, "timestamp": ts})


_ACK_EVENTS: Final = {
    "submit": "order_accepted",
    "cancel": "order_cancelled",
    "modify": "order_modified",
}


def render_order_ack(ack: OrderAck, inst: Instrument | None, ts: int, request: Request) -> bytes:
    """Our order-entry extension.

    {"event": "order_accepted", "id": "42", "client_order_id": "my-1", "exchange": "binance",
     "symbol": "BTCUSDT", "status": "new", "timestamp": 1647356789125}
    A rejection is an error: {"event": "error", "code": 400, "reason": "insufficient_funds", ...}
    """
    out: dict[str, object] = {
        "event": _ACK_EVENTS[ack.action],
        "id": None if ack.order_id is None else str(ack.order_id),
        "client_order_id": ack.client_order_id,
    }
    if inst is not None:
        out["exchange"] = inst.venue
        out["symbol"] = inst.symbol
    if ack.status is not None:
        out["status"] = ack.status
    out.update(ack.extra)
    out["timestamp"] = ts
    return _encode(out)


# -- streams ----------------------------------------------------------------------------


def render_trade(inst: Instrument, trade: Trade) -> bytes:
    """{"channel": "trades", "exchange": "binance", "symbol": "BTCUSDT",
    "data": {"id": "123456789", "price": 42650.5, "amount": 0.1, "side": "buy",
    "timestamp": 1647356789123}, "timestamp": 1647356789123}"""
    return _encode(
        {
            "channel": "trades",
            "exchange": inst.venue,
            "symbol": inst.symbol,
            "data": {
                "id": str(trade.trade_id),
                "price": _price(inst, trade.price),
                "amount": _qty(inst, trade.qty),
                "side": trade.taker_side.value,
                "timestamp": trade.ts,
            },
            "timestamp": trade.ts,
        }
    )


def render_book(inst: Instrument, book: BookView, ts: int) -> bytes:
    """{"channel": "orderbook", "exchange": "binance", "symbol": "BTCUSDT",
    "data": {"bids": [[42650.0, 1.5], [42649.5, 2.3]], "asks": [[42651.0, 0.8],
    [42652.5, 1.2]], "timestamp": 1647356789123}, "timestamp": 1647356789123}"""
    bids = [[_price(inst, p), _qty(inst, q)] for p, q in book.bids]
    asks = [[_price(inst, p), _qty(inst, q)] for p, q in book.asks]
    stamp = book.ts or ts
    return _encode(
        {
            "channel": "orderbook",
            "exchange": inst.venue,
            "symbol": inst.symbol,
            "data": {"bids": bids, "asks": asks, "timestamp": stamp},
            "timestamp": ts,
        }
    )


def render_ticker(inst: Instrument, ticker: TickerView, ts: int) -> bytes:
    """{"channel": "market_data", "type": "ticker", "exchange": "binance", "symbol": "BTCUSDT",
    "data": {"price": 42650.5, "volume": 2541.34, "timestamp": 1647356789123, "bid": 42650.0,
    "ask": 42651.0, "high": 43100.0, "low": 42500.0}, "timestamp": 1647356789123}"""
    return _encode(
        {
            "channel": "market_data",
            "type": "ticker",
            "exchange": inst.venue,
            "symbol": inst.symbol,
            "data": {
                "price": _price(inst, ticker.last),
                "volume": _qty(inst, ticker.volume),
                "timestamp": ticker.ts or ts,
                "bid": _price(inst, ticker.bid),
                "ask": _price(inst, ticker.ask),
                "high": _price(inst, ticker.high),
                "low": _price(inst, ticker.low),
            },
            "timestamp": ts,
        }
    )


def render_order(inst: Instrument, order: OrderUpdate, fee: OrderFee) -> bytes:
    """{"channel": "orders", "exchange": "binance", "symbol": "BTCUSDT", "event": "update",
    "data": {"id": "123456789", "symbol": "BTCUSDT", "exchange": "binance",
    "timestamp": 1647356789123, "type": "limit", "side": "buy", "amount": 0.1,
    "price": 42500.0, "cost": 4250.0, "filled": 0.05, "remaining": 0.05,
    "status": "partially_filled", "fee": {"cost": 2.125, "currency": "USDT", "rate": 0.001}},
    "timestamp": 1647356789123}

    ``cost`` is the filled notional (filled x average price), as in ccxt.
    """
    cost = inst.quote.from_units(order.filled_value * inst.notional_units)
    average = None
    if order.filled:
        average = (cost / inst.lots_to_qty(order.filled)).quantize(
            Decimal(1).scaleb(-(inst.price_decimals + 8))
        )
    return _encode(
        {
            "channel": "orders",
            "exchange": inst.venue,
            "symbol": inst.symbol,
            "event": "update",
            "data": {
                "id": str(order.order_id),
                "client_order_id": order.client_order_id,
                "symbol": inst.symbol,
                "exchange": inst.venue,
                "timestamp": order.ts,
                "type": order.type.value,
                "side": order.side.value,
                "time_in_force": order.tif.value,
                "amount": _qty(inst, order.qty),
                "price": _price(inst, order.price),
                "stop_price": _price(inst, order.stop_price),
                "average": num(average),
                "cost": num(cost),
                "filled": _qty(inst, order.filled),
                "remaining": _qty(inst, order.remaining),
                "status": order.status.value,
                "reason": None if order.reason.value == "ok" else order.reason.value,
                "fee": {
                    "cost": num(inst.quote.from_units(fee.units)),
                    "currency": fee.asset or inst.quote.symbol,
                    "rate": num(Decimal(fee.rate_ppm) / PPM),
                },
            },
            "timestamp": order.ts,
        }
    )


def render_position(inst: Instrument, position: Position) -> bytes:
    """{"channel": "positions", "exchange": "binance", "symbol": "BTCUSDT", "event": "update",
    "data": {"symbol": "BTCUSDT", "exchange": "binance", "timestamp": 1647356789123,
    "type": "spot", "side": "long", "amount": 0.5, "cost": 21325.0, "average_price": 42650.0,
    "unrealized_pnl": 125.0, "unrealized_pnl_percentage": 0.58, "liquidation_price": null,
    "stop_loss": 41000.0, "take_profit": 45000.0, "trailing_stop": 2.5},
    "timestamp": 1647356789123}"""
    qty = abs(position.qty)
    amount = inst.lots_to_qty(qty)
    cost = inst.quote.from_units(position.cost)
    average = pnl = pct = None
    if qty:
        average = (cost / amount).quantize(Decimal(1).scaleb(-(inst.price_decimals + 8)))
        if position.mark_price is not None:
            value = inst.ticks_to_price(position.mark_price) * amount
            pnl = value - cost if position.qty > 0 else cost - value
            if cost:
                pct = (pnl / cost * 100).quantize(Decimal("0.01"))
    trailing = None
    if position.trailing_stop_ppm is not None:
        trailing = Decimal(position.trailing_stop_ppm) / 10_000  # percent
    return _encode(
        {
            "channel": "positions",
            "exchange": inst.venue,
            "symbol": inst.symbol,
            "event": "update",
            "data": {
                "symbol": inst.symbol,
                "exchange": inst.venue,
                "timestamp": position.ts,
                "type": "margin" if position.margin_mode else "spot",
                "side": "short" if position.qty < 0 else "long",
                "amount": num(amount),
                "cost": num(cost),
                "average_price": num(average),
                "unrealized_pnl": num(pnl),
                "unrealized_pnl_percentage": num(pct),
                "realized_pnl": num(inst.quote.from_units(position.realized_pnl)),
                "leverage": position.leverage,
                "liquidation_price": _price(inst, position.liquidation_price),
                "stop_loss": _price(inst, position.stop_loss),
                "take_profit": _price(inst, position.take_profit),
                "trailing_stop": num(trailing),
            },
            "timestamp": position.ts,
        }
    )


def render_venue_status(venue: str, status: str, ts: int) -> bytes:
    """{"channel": "system_events", "event": "exchange_connection_status",
    "data": {"exchange": "binance", "status": "connected", "timestamp": 1647356789123},
    "timestamp": 1647356789123}"""
    return _encode(
        {
            "channel": "system_events",
            "event": "exchange_connection_status",
            "data": {"exchange": venue, "status": status, "timestamp": ts},
            "timestamp": ts,
        }
    )


def render_instrument_status(inst: Instrument, status: InstrumentStatus) -> bytes:
    """Our extension on system_events: {"channel": "system_events", "event": "instrument_status",
    "data": {"exchange": "binance", "symbol": "BTCUSDT", "status": "halted", "reason": "...",
    "timestamp": 1647356789123}, "timestamp": 1647356789123}"""
    return _encode(
        {
            "channel": "system_events",
            "event": "instrument_status",
            "data": {
                "exchange": inst.venue,
                "symbol": inst.symbol,
                "status": "halted" if status.halted else "trading",
                "reason": status.reason,
                "timestamp": status.ts,
            },
            "timestamp": status.ts,
        }
    )


def render_alert(event: AnyAlertEvent, inst: Instrument | None) -> bytes | None:
    """Non-venue events: ``system_events`` carries ``ExchangeConnectionStatus`` (as
    ``render_venue_status``); spec 000 has no channel for the others (None)."""
    if isinstance(event, ExchangeConnectionStatus):
        return render_venue_status(event.exchange, event.status.value, event.ts)
    return None
