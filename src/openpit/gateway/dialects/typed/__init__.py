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
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import ROUND_CEILING, ROUND_FLOOR, ROUND_HALF_EVEN, Decimal
from typing import Any, Final

import msgspec

from openpit.alerts.events import (
    AnyAlertEvent,
    ArbitrageOpportunity,
    ArbitrageWithdrawn,
    MarginCallAlert,
    RiskAlert,
)
from openpit.core.events import InstrumentStatus, OrderUpdate, Position, Trade
from openpit.core.instrument import PPM, Asset, Instrument
from openpit.gateway.auth import Principal
from openpit.gateway.model import (
    BadRequest,
    BookView,
    CancelRequest,
    Channel,
    CloseReason,
    ConnStats,
    ErrorKind,
    OrderAck,
    OrderFee,
    Ping,
    PlaceRequest,
    Pong,
    Request,
    StatsRequest,
    Subscribe,
    TickerView,
    TokenLogin,
    Topic,
    Unsubscribe,
)
from openpit.marketdata.portfolio import Portfolio
from openpit.marketdata.prices import PriceUpdate

name: Final = "typed"

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

heartbeat: Final = "frames"  # WebSocket ping frames every 15 s (spec 004)
compress: Final = True  # permessage-deflate when the client offers it (spec 004)
max_subscriptions: Final = 20  # per connection (spec 004 "Rate Limiting")
strikes: Final = {CloseReason.AUTH_FAILED: 1}  # an invalid token: immediate disconnection

_encode = msgspec.json.Encoder().encode

# -- inbound ----------------------------------------------------------------------------


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
    depth: int | None = None
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
    leverage: int = 1
    venue: str | None = None
    exchange: str | None = None
    clientOrderId: str | None = None
    postOnly: bool = False
    reduceOnly: bool = False


class _Place(msgspec.Struct):
    orderType: str
    orderData: _OrderData


class _Cancel(msgspec.Struct):
    orderId: str | int | None = None
    clientOrderId: str | None = None


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
_head = msgspec.json.Decoder(_Head)
_decoders: Final[dict[str, msgspec.json.Decoder[Any]]] = {
    "authenticate": msgspec.json.Decoder(_Authenticate),
    "subscribe": msgspec.json.Decoder(_Subscribe),
    "unsubscribe": msgspec.json.Decoder(_Subscribe),
    "place_order": msgspec.json.Decoder(_Place),
    "cancel_order": msgspec.json.Decoder(_Cancel),
}


def parse(frame: str | bytes) -> Request:
    """One client frame to one request.

    >>> parse('{"type": "authenticate", "token": "your-jwt-token"}')
    TokenLogin(token='your-jwt-token', ref='authenticate')
    """
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


def order_id_text(order_id: int | None) -> str | None:
    return None if order_id is None else f"order_{order_id}"


def _order_id(raw: str | int | None) -> int | BadRequest | None:
    if raw is None or isinstance(raw, int):
        return raw
    digits = raw.removeprefix("order_")
    if digits.isdigit():
        return int(digits)
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


# -- numbers ----------------------------------------------------------------------------


def fixed(value: Decimal, places: int, rounding: str = ROUND_HALF_EVEN) -> str:
    """``value`` with exactly ``places`` decimals: ``"1000.50"``; never ``"-0.00"``."""
    q = value.quantize(Decimal(1).scaleb(-places), rounding=rounding)
    if q == 0:
        q = abs(q)
    return format(q, "f")


def signed(value: Decimal, places: int) -> str:
    """``"+125.00"`` / ``"-3.10"``; zero is ``"+0.00"``."""
    text = fixed(value, places)
    return text if text.startswith("-") else "+" + text


def percent(ppm: int | None, sign: bool = True) -> str | None:
    """Parts per million as a percentage with 2 decimals: ``"+2.50%"`` (or ``"1.50%"``)."""
    if ppm is None:
        return None
    value = Decimal(ppm) / 10_000
    return (signed(value, 2) if sign else fixed(value, 2)) + "%"


def ratio(ppm: int) -> str:
    """A ratio (ppm) as a fraction with 4 decimals, rounded down: ``"0.0850"``."""
    return fixed(Decimal(ppm) / PPM, 4, ROUND_FLOOR)


def _price(inst: Instrument, ticks: int | None) -> str | None:
    return None if ticks is None else fixed(inst.ticks_to_price(ticks), inst.price_decimals)


def _qty(inst: Instrument, lots: int) -> str:
    return fixed(inst.lots_to_qty(lots), inst.qty_decimals)


def _money(inst: Instrument, units: int, rounding: str = ROUND_HALF_EVEN) -> str:
    """Quote units of ``inst`` at its price precision."""
    return fixed(inst.quote.from_units(units), inst.price_decimals, rounding)


# -- replies ----------------------------------------------------------------------------


def _kind_of(request: Request | None) -> str | None:
    if request is None:
        return None
    if isinstance(request, BadRequest):
        return request.action
    ref = request.ref
    if isinstance(ref, tuple):
        return str(ref[0])
    return ref if isinstance(ref, str) else None


def error_code(kind: ErrorKind, request: Request | None, reason: str | None = None) -> str:
    """The spec 004 error code for a neutral error (table in docs/dialects.md)."""
    what = _kind_of(request)
    if kind is ErrorKind.RATE_LIMITED:
        return "RATE_LIMIT_EXCEEDED"
    if kind is ErrorKind.INTERNAL:
        return "INTERNAL_ERROR"
    if kind is ErrorKind.UNAUTHORIZED:
        if isinstance(request, TokenLogin) or what == "authenticate" or reason == "auth_failed":
            return "AUTH_FAILED"
        return "AUTH_REQUIRED"
    if kind is ErrorKind.FORBIDDEN:
        return "AUTH_FAILED"
    if what in ("subscribe", "unsubscribe"):
        return "INVALID_SUBSCRIPTION"
    if kind is ErrorKind.LIMIT_EXCEEDED:
        return "RATE_LIMIT_EXCEEDED"
    if what in ("place_order", "cancel_order"):
        if reason == "insufficient_funds":
            return "INSUFFICIENT_BALANCE"
        return "ORDER_FAILED"
    if what == "authenticate":
        return "AUTH_FAILED"
    return "INVALID_MESSAGE"


def render_error(
    kind: ErrorKind,
    message: str,
    ts: int,
    request: Request | None = None,
    *,
    reason: str | None = None,
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
    elif reason is not None and reason != "auth_failed":
        err["details"] = reason
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


_STATUS: Final = {"new": "pending"}


def status_text(status: str) -> str:
    """Venue order status as typed shows it: a resting order is ``pending`` (as the spec)."""
    return _STATUS.get(status, status)


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


# -- streams ----------------------------------------------------------------------------


def render_trade(inst: Instrument, trade: Trade) -> bytes:
    """{"type": "trade", "channel": "trades_LUXURY001/XRP", "data": {"pair": "LUXURY001/XRP",
    "tradeId": "trade_123456789", "price": "1000.25", "amount": "50.00", "side": "buy",
    "timestamp": 1640995200000, "sequence": 12346}, "timestamp": 1640995200000}"""
    return _encode(
        {
            "type": "trade",
            "channel": f"trades_{inst.symbol}",
            "data": {
                "pair": inst.symbol,
                "venue": inst.venue,
                "tradeId": f"trade_{trade.trade_id}",
                "price": _price(inst, trade.price),
                "amount": _qty(inst, trade.qty),
                "side": trade.taker_side.value,
                "timestamp": trade.ts,
                "sequence": trade.iseq,
            },
            "timestamp": trade.ts,
        }
    )


def _levels(inst: Instrument, rows: tuple[tuple[int, int], ...]) -> list[dict[str, str]]:
    out = []
    for p, q in rows:
        price = inst.ticks_to_price(p)
        amount = inst.lots_to_qty(q)
        out.append(
            {
                "price": fixed(price, inst.price_decimals),
                "amount": fixed(amount, inst.qty_decimals),
                "total": fixed(price * amount, inst.price_decimals),
            }
        )
    return out


def render_book(inst: Instrument, book: BookView, ts: int) -> bytes:
    """{"type": "orderbook_update", "channel": "orderbook_LUXURY001/XRP", "data": {"pair":
    "LUXURY001/XRP", "bids": [{"price": "1000.00", "amount": "500.00", "total":
    "500000.00"}], "asks": [{"price": "1000.50", "amount": "200.00", "total":
    "200100.00"}], "sequence": 12345, "spread": "0.50"}, "timestamp": 1640995200000}

    Every message is a full top-N snapshot (conflated to at most 10/s per pair).
    """
    spread = None
    if book.bids and book.asks:
        spread = _price(inst, book.asks[0][0] - book.bids[0][0])
    return _encode(
        {
            "type": "orderbook_update",
            "channel": f"orderbook_{inst.symbol}",
            "data": {
                "pair": inst.symbol,
                "venue": inst.venue,
                "bids": _levels(inst, book.bids),
                "asks": _levels(inst, book.asks),
                "sequence": book.sequence or 0,
                "spread": spread,
            },
            "timestamp": book.ts or ts,
        }
    )


def render_ticker(inst: Instrument, ticker: TickerView, ts: int) -> bytes:
    """Not a spec 004 stream (never subscribed in typed); a ticker in the typed style."""
    return _encode(
        {
            "type": "ticker",
            "channel": f"ticker_{inst.symbol}",
            "data": {
                "pair": inst.symbol,
                "price": _price(inst, ticker.last),
                "bid": _price(inst, ticker.bid),
                "ask": _price(inst, ticker.ask),
            },
            "timestamp": ticker.ts or ts,
        }
    )


def render_price(inst: Instrument, update: PriceUpdate, ts: int) -> bytes:
    """{"type": "price_update", "channel": "price_LUXURY001", "data": {"symbol": "LUXURY001",
    "price": "1000.25", "change24h": "+2.5%", "volume24h": "125000.00", "high24h":
    "1005.00", "low24h": "985.00", "marketCap": "50000000.00"}, "timestamp": 1640995200000}

    ``volume24h`` is the 24 h quote volume; ``change24h`` has 2 decimals ("+2.50%").
    """
    cap = update.market_cap
    return _encode(
        {
            "type": "price_update",
            "channel": f"price_{update.symbol}",
            "data": {
                "symbol": update.symbol,
                "pair": inst.symbol,
                "price": _price(inst, update.price),
                "change24h": percent(update.change_ppm if update.change_ppm is not None else 0),
                "volume24h": _money(inst, update.quote_volume),
                "high24h": _price(inst, update.high),
                "low24h": _price(inst, update.low),
                "marketCap": None if cap is None else _money(inst, cap),
            },
            "timestamp": update.ts or ts,
        }
    )


def render_portfolio(
    portfolio: Portfolio, assets: Mapping[str, Asset], places: int, ts: int
) -> bytes:
    """{"type": "portfolio_update", "channel": "portfolio", "data": {"totalValue":
    "1520000.00", "change": "+20000.00", "changePercent": "+1.33%", "positions":
    [{"symbol": "LUXURY001", "balance": "500.00", "value": "500125.00", "change":
    "+125.00"}]}, "timestamp": 1640995200000}

    Values are in ``currency`` (the valuation asset) with ``places`` decimals; balances
    with each asset's decimals; an unpriced asset has ``value`` and ``change`` null.
    """
    v = assets[portfolio.valuation_asset]

    def money(units: int) -> Decimal:
        return v.from_units(units)

    rows = []
    for a in portfolio.assets:
        asset = assets.get(a.asset)
        rows.append(
            {
                "symbol": a.asset,
                "balance": format(asset.from_units(a.units), "f") if asset else str(a.units),
                "value": None if a.value is None else fixed(money(a.value), places),
                "change": None if a.change is None else signed(money(a.change), places),
            }
        )
    margin = []
    for p in portfolio.positions:
        if not p.margin_mode:
            continue
        pnl = p.unrealized_pnl_value
        margin.append(
            {
                "instrument": p.instrument,
                "pnl": None if pnl is None else signed(money(pnl), places),
            }
        )
    return _encode(
        {
            "type": "portfolio_update",
            "channel": "portfolio",
            "data": {
                "totalValue": fixed(money(portfolio.total_value), places),
                "change": signed(money(portfolio.change), places),
                "changePercent": percent(portfolio.change_ppm or 0),
                "currency": portfolio.valuation_asset,
                "positions": rows,
                "marginPositions": margin,
                "unpriced": portfolio.unpriced,
            },
            "timestamp": ts,
        }
    )


_TYPE_NAMES: Final = {"stop": "stop_loss", "stop_limit": "stop_loss"}


def render_order(inst: Instrument, order: OrderUpdate, fee: OrderFee) -> bytes:
    """{"type": "order_update", "channel": "orders", "data": {"orderId": "order_123456789",
    "status": "partially_filled", "side": "buy", "type": "limit", "pair": "LUXURY001/XRP",
    "amount": "100.00", "filled": "25.00", "remaining": "75.00", "averagePrice": "1000.50",
    "lastFillPrice": "1000.25", "lastFillAmount": "25.00"}, "timestamp": 1640995200000}"""
    average = None
    if order.filled:
        avg = Decimal(order.filled_value) / order.filled * inst.tick_size
        average = fixed(avg, inst.price_decimals)
    last_qty = order.last_fill_qty
    return _encode(
        {
            "type": "order_update",
            "channel": "orders",
            "data": {
                "orderId": order_id_text(order.order_id),
                "clientOrderId": order.client_order_id,
                "status": status_text(order.status.value),
                "side": order.side.value,
                "type": _TYPE_NAMES.get(order.type.value, order.type.value),
                "pair": inst.symbol,
                "venue": inst.venue,
                "amount": _qty(inst, order.qty),
                "price": _price(inst, order.price),
                "stopPrice": _price(inst, order.stop_price),
                "filled": _qty(inst, order.filled),
                "remaining": _qty(inst, order.remaining),
                "averagePrice": average,
                "lastFillPrice": _price(inst, order.last_fill_price) if last_qty else None,
                "lastFillAmount": _qty(inst, last_qty) if last_qty else None,
                "fee": _money(inst, fee.units),
                "leverage": order.leverage,
                "reason": None if order.reason.value == "ok" else order.reason.value,
            },
            "timestamp": order.ts,
        }
    )


def position_numbers(inst: Instrument, position: Position) -> dict[str, Any]:
    """pnl, pnl %, entry, margin ratio of a position at its mark (quote units, ppm)."""
    qty = abs(position.qty)
    out: dict[str, Any] = {"pnl": None, "pnl_ppm": None, "entry": None, "ratio_ppm": None}
    if not qty:
        return out
    out["entry"] = Decimal(position.cost) / (qty * inst.notional_units) * inst.tick_size
    mark = position.mark_price
    if mark is None:
        return out
    value = inst.notional(mark, qty)
    pnl = value - position.cost if position.qty > 0 else position.cost - value
    out["pnl"] = pnl
    if position.cost:
        out["pnl_ppm"] = pnl * PPM // position.cost if pnl >= 0 else -(-pnl * PPM // position.cost)
    if position.margin_mode and value:
        out["ratio_ppm"] = (position.margin + pnl) * PPM // value
    return out


def render_position(inst: Instrument, position: Position) -> bytes:
    """{"type": "position_update", "channel": "positions", "data": {"positionId":
    "pos_123456789", "pair": "LUXURY001/XRP", "side": "long", "size": "1000.00",
    "entryPrice": "1000.00", "markPrice": "1005.00", "pnl": "+5000.00", "pnlPercent":
    "+0.50%", "margin": "100000.00", "marginRatio": "0.10", "liquidationPrice": "900.00"},
    "timestamp": 1640995200000}

    ``marginRatio`` = (margin + pnl) / mark value; ``pnlPercent`` = pnl / entry notional.
    """
    n = position_numbers(inst, position)
    entry = n["entry"]
    pnl = n["pnl"]
    return _encode(
        {
            "type": "position_update",
            "channel": "positions",
            "data": {
                "positionId": f"pos_{inst.id}",
                "pair": inst.symbol,
                "venue": inst.venue,
                "side": "short" if position.qty < 0 else "long",
                "size": _qty(inst, abs(position.qty)),
                "entryPrice": None if entry is None else fixed(entry, inst.price_decimals),
                "markPrice": _price(inst, position.mark_price),
                "pnl": None
                if pnl is None
                else signed(inst.quote.from_units(pnl), inst.price_decimals),
                "pnlPercent": percent(n["pnl_ppm"]),
                "margin": _money(inst, position.margin),
                "marginRatio": None if n["ratio_ppm"] is None else ratio(n["ratio_ppm"]),
                "liquidationPrice": _price(inst, position.liquidation_price),
                "leverage": position.leverage,
                "realizedPnl": signed(
                    inst.quote.from_units(position.realized_pnl), inst.price_decimals
                ),
                "marginMode": "margin" if position.margin_mode else "spot",
            },
            "timestamp": position.ts,
        }
    )


def render_venue_status(venue: str, status: str, ts: int) -> bytes:
    """Not a spec 004 stream (never subscribed in typed)."""
    return _encode(
        {"type": "venue_status", "data": {"venue": venue, "status": status}, "timestamp": ts}
    )


def render_instrument_status(inst: Instrument, status: InstrumentStatus) -> bytes:
    """Not a spec 004 stream (never subscribed in typed); halts reach typed clients as
    ``risk_alert`` messages."""
    return _encode(
        {
            "type": "instrument_status",
            "data": {
                "pair": inst.symbol,
                "venue": inst.venue,
                "status": "halted" if status.halted else "trading",
                "reason": status.reason,
            },
            "timestamp": status.ts,
        }
    )


# -- non-venue events (Hub.publish_alert) -----------------------------------------------


def render_margin_call(inst: Instrument, call: MarginCallAlert) -> bytes:
    """{"type": "margin_call", "channel": "margin_calls", "data": {"positionId":
    "pos_123456789", "severity": "warning", "currentMarginRatio": "0.05",
    "requiredMarginRatio": "0.10", "requiredDeposit": "50000.00", "liquidationPrice":
    "950.00", "timeToLiquidation": "3600", "message": "Margin call: Please deposit
    additional funds or reduce position size"}, "timestamp": 1640995200000}"""
    ttl = call.time_to_liquidation_s
    return _encode(
        {
            "type": "margin_call",
            "channel": "margin_calls",
            "data": {
                "positionId": call.position_id,
                "pair": inst.symbol,
                "venue": inst.venue,
                "severity": call.severity,
                "currentMarginRatio": ratio(call.current_margin_ratio_ppm),
                "requiredMarginRatio": ratio(call.required_margin_ratio_ppm),
                "requiredDeposit": _money(inst, call.required_deposit, ROUND_CEILING),
                "markPrice": _price(inst, call.mark_price),
                "liquidationPrice": _price(inst, call.liquidation_price),
                "timeToLiquidation": None if ttl is None else str(ttl),
                "message": call.message,
            },
            "timestamp": call.ts,
        }
    )


def render_arbitrage(opp: ArbitrageOpportunity, buy: Instrument, sell: Instrument) -> bytes:
    """{"type": "arbitrage_opportunity", "channel": "arbitrage", "data": {"opportunityId":
    "arb_123456789", "tokenPair": "LUXURY001", "xrplPrice": "1000.00", "flarePrice":
    "1015.00", "spreadPercent": "1.50%", "estimatedProfit": "15.00", "minAmount":
    "100.00", "maxAmount": "10000.00", "expiresAt": 1640995800000, "confidence": "high"},
    "timestamp": 1640995200000}

    ``<venue>Price`` for the buy venue (its best ask) and the sell venue (its best bid).
    """
    base = buy.base

    def amount(units: int) -> str:
        return fixed(base.from_units(units), buy.qty_decimals)

    return _encode(
        {
            "type": "arbitrage_opportunity",
            "channel": "arbitrage",
            "data": {
                "opportunityId": f"arb_{opp.id}",
                "tokenPair": opp.base,
                "pair": opp.symbol,
                f"{opp.buy_venue}Price": _price(buy, opp.buy_price),
                f"{opp.sell_venue}Price": _price(sell, opp.sell_price),
                "buyVenue": opp.buy_venue,
                "sellVenue": opp.sell_venue,
                "spreadPercent": percent(opp.spread_ppm, sign=False),
                "netSpreadPercent": percent(opp.net_spread_ppm, sign=False),
                "estimatedProfit": _money(sell, opp.estimated_profit, ROUND_FLOOR),
                "minAmount": amount(opp.min_amount),
                "maxAmount": amount(opp.max_amount),
                "expiresAt": opp.expires_at,
                "confidence": opp.confidence.value,
            },
            "timestamp": opp.ts,
        }
    )


def render_arbitrage_closed(gone: ArbitrageWithdrawn) -> bytes:
    """Our extension: {"type": "arbitrage_closed", "channel": "arbitrage", "data":
    {"opportunityId": "arb_123456789", "reason": "closed"}, "timestamp": 1640995200000}"""
    return _encode(
        {
            "type": "arbitrage_closed",
            "channel": "arbitrage",
            "data": {
                "opportunityId": f"arb_{gone.id}",
                "tokenPair": gone.symbol,
                "reason": gone.reason,
            },
            "timestamp": gone.ts,
        }
    )


_PRICE_DETAILS: Final = ("reference_price", "last_price", "price")


def render_risk_alert(alert: RiskAlert, inst: Instrument | None) -> bytes:
    """Our shape (the spec lists the channel only): {"type": "risk_alert", "channel":
    "risk_alerts", "data": {"alertId": "risk_7", "alertType": "circuit_breaker",
    "severity": "critical", "pair": "BTCUSDT", "message": "...", "details": {...}},
    "timestamp": 1640995200000}

    ``details``: prices as decimal strings, ``*_ppm`` as percentages, the rest as given.
    """
    details: dict[str, object] = {}
    for key, value in alert.details.items():
        if isinstance(value, int) and inst is not None and key in _PRICE_DETAILS:
            details[key] = _price(inst, value)
        elif isinstance(value, int) and key.endswith("_ppm"):
            details[key.removesuffix("_ppm") + "_percent"] = percent(value, sign=False)
        else:
            details[key] = value
    return _encode(
        {
            "type": "risk_alert",
            "channel": "risk_alerts",
            "data": {
                "alertId": f"risk_{alert.id}",
                "alertType": alert.type.value,
                "severity": alert.severity.value,
                "pair": None if inst is None else inst.symbol,
                "venue": None if inst is None else inst.venue,
                "message": alert.message,
                "details": details,
            },
            "timestamp": alert.ts,
        }
    )


def render_alert(event: AnyAlertEvent, inst: Instrument | None) -> bytes | None:
    """Non-venue events on typed channels; None for the kinds spec 004 has no channel for.

    For arbitrage, ``inst`` is the buy listing; the sell listing is looked up by the
    hub through ``render_arbitrage`` when it can (see ``render_arbitrage``).
    """
    if isinstance(event, MarginCallAlert) and inst is not None:
        return render_margin_call(inst, event)
    if isinstance(event, RiskAlert):
        return render_risk_alert(event, inst)
    if isinstance(event, ArbitrageOpportunity) and inst is not None:
        return render_arbitrage(event, inst, inst)
    if isinstance(event, ArbitrageWithdrawn):
        return render_arbitrage_closed(event)
    return None
