"""What one client message does: rate limits, login, subscriptions, order entry.

Invariants:
- Every inbound message gets exactly one reply or stream effect; a client mistake is
  an error reply in the client's dialect, never an exception escaping the connection
  (an unexpected failure is an INTERNAL error reply and a log line).
- Subscriptions are validated as a whole before any is added: one bad channel,
  exchange or symbol rejects the request and changes nothing.
- Private channels need an authenticated connection (else UNAUTHORIZED) whose key
  has ``read`` (else FORBIDDEN); order entry needs ``trade``.
- Prices and quantities are converted from Decimal to ticks/lots here, rejecting
  non-multiples with an error naming the field; the venue validates the rest.
"""

from __future__ import annotations

import logging
import time
from decimal import Decimal
from typing import TypeVar

from openpit.core.commands import CancelOrder, Command, ModifyOrder, PlaceOrder
from openpit.core.enums import OrderType, Side, TimeInForce
from openpit.core.events import OrderUpdate
from openpit.core.instrument import Instrument, NotAMultiple
from openpit.gateway.auth import AuthError, Permission
from openpit.gateway.connection import Connection
from openpit.gateway.hub import Hub, book_view, ticker_view
from openpit.gateway.model import (
    ALL_INSTRUMENTS,
    BadRequest,
    CancelRequest,
    Channel,
    CloseReason,
    ErrorKind,
    KeyLogin,
    ModifyRequest,
    OrderAck,
    Ping,
    PlaceRequest,
    Pong,
    Request,
    Subscribe,
    TokenLogin,
    Topic,
    Unsubscribe,
    category,
    reason_kind,
)
from openpit.gateway.subscriptions import Key

log = logging.getLogger("openpit.gateway")


class Refusal(Exception):
    def __init__(self, kind: ErrorKind, message: str) -> None:
        super().__init__(message)
        self.kind = kind
        self.message = message


def error(
    hub: Hub,
    conn: Connection,
    kind: ErrorKind,
    message: str,
    request: Request | None,
    **extra: object,
) -> None:
    hub.stats.errors[kind.value] = hub.stats.errors.get(kind.value, 0) + 1
    reason = extra.get("reason")
    retry = extra.get("retry_after")
    conn.send(
        conn.dialect.render_error(
            kind,
            message,
            hub.clock_ms(),
            request,
            reason=reason if isinstance(reason, str) else None,
            retry_after=retry if isinstance(retry, float) else None,
        )
    )


async def handle(hub: Hub, conn: Connection, frame: str | bytes) -> None:
    """Process one inbound message of ``conn``."""
    now = time.monotonic()
    conn.last_rx = now
    conn.ping_sent = None
    hub.stats.messages_in += 1
    hub.stats.bytes_in += len(frame)
    request = conn.dialect.parse(frame)
    cat = category(request)
    if not conn.limiter.allow(cat, now):
        bucket = conn.limiter.buckets.get(cat) or conn.limiter.buckets.get("other")
        retry = bucket.retry_after() if bucket is not None else 1.0
        error(
            hub,
            conn,
            ErrorKind.RATE_LIMITED,
            f"Rate limit exceeded for {conn.limiter.describe(cat)}",
            request,
            retry_after=float(retry),
        )
        return
    try:
        await _dispatch(hub, conn, request)
    except Refusal as exc:
        error(hub, conn, exc.kind, exc.message, request)
    except Exception:
        log.exception("internal error handling a %s message", conn.dialect.name)
        error(hub, conn, ErrorKind.INTERNAL, "Internal server error", request)


async def _dispatch(hub: Hub, conn: Connection, request: Request) -> None:
    if isinstance(request, BadRequest):
        error(hub, conn, request.kind, request.message, request)
    elif isinstance(request, Pong):
        pass
    elif isinstance(request, Ping):
        conn.send(conn.dialect.render_pong(hub.clock_ms(), request))
    elif isinstance(request, KeyLogin | TokenLogin):
        _login(hub, conn, request)
    elif isinstance(request, Subscribe):
        _subscribe(hub, conn, request)
    elif isinstance(request, Unsubscribe):
        _unsubscribe(hub, conn, request)
    else:
        await _order(hub, conn, request)


# -- login ----------------------------------------------------------------------------


def _login(hub: Hub, conn: Connection, request: KeyLogin | TokenLogin) -> None:
    if conn.principal is not None:
        raise Refusal(ErrorKind.BAD_REQUEST, "already authenticated on this connection")
    try:
        if isinstance(request, KeyLogin):
            principal = hub.hmac.verify(
                request.api_key, request.timestamp, request.signature, hub.clock_ms()
            )
        elif hub.authenticator is None:
            raise AuthError("token authentication is not enabled on this server")
        else:
            principal = hub.authenticator.authenticate_token(request.token, hub.clock_ms())
    except AuthError as exc:
        raise Refusal(ErrorKind.UNAUTHORIZED, f"Authentication failed: {exc}") from exc
    if principal.key_id is not None and not hub.key_connections.acquire(principal.key_id):
        limit = hub.key_connections.limit
        error(
            hub,
            conn,
            ErrorKind.LIMIT_EXCEEDED,
            f"Too many connections for this API key (limit {limit})",
            request,
        )
        hub.close(conn, CloseReason.POLICY, f"connection limit of {limit} per API key reached")
        return
    conn.principal = principal
    conn.settle()
    conn.send(conn.dialect.render_authenticated(principal, hub.clock_ms(), request))


# -- subscriptions ---------------------------------------------------------------------


def _instruments(hub: Hub, topic: Topic) -> list[Instrument]:
    config = hub.config
    if topic.exchange is not None and topic.exchange not in config.venues:
        raise Refusal(
            ErrorKind.NOT_FOUND,
            f"unknown exchange {topic.exchange!r} (known: {', '.join(config.venues)})",
        )
    out = []
    for symbol in topic.symbols:
        inst = config.resolve(symbol, topic.exchange)
        if inst is None:
            where = f" on exchange {topic.exchange!r}" if topic.exchange else ""
            raise Refusal(ErrorKind.NOT_FOUND, f"unknown symbol {symbol!r}{where}")
        out.append(inst)
    return out


def _keys(hub: Hub, conn: Connection, topics: tuple[Topic, ...], *, check: bool) -> list[Key]:
    keys: list[Key] = []
    for topic in topics:
        channel = topic.channel
        if channel is Channel.SYSTEM:
            keys.append((channel.value, ALL_INSTRUMENTS, None))
            continue
        if channel.private and check:
            if conn.principal is None:
                raise Refusal(
                    ErrorKind.UNAUTHORIZED,
                    f"channel {topic.wire!r} is private: authenticate first",
                )
            if not conn.principal.can(Permission.READ):
                raise Refusal(
                    ErrorKind.FORBIDDEN,
                    f"channel {topic.wire!r} needs an API key with the read permission",
                )
        insts = _instruments(hub, topic)
        if channel.private:
            ids = [i.id for i in insts] or [ALL_INSTRUMENTS]
            keys.extend((channel.value, iid, conn.user) for iid in ids)
            continue
        if not insts:
            raise Refusal(ErrorKind.BAD_REQUEST, f"channel {topic.wire!r} needs params.symbols")
        variant: object = None
        if channel is Channel.BOOK:
            depth = topic.depth or hub.settings.default_depth
            if depth > hub.settings.max_depth:
                raise Refusal(
                    ErrorKind.BAD_REQUEST,
                    f"params.depth {depth} is too deep (at most {hub.settings.max_depth})",
                )
            variant = depth
        keys.extend((channel.value, i.id, variant) for i in insts)
    return keys


def _subscribe(hub: Hub, conn: Connection, request: Subscribe) -> None:
    keys = _keys(hub, conn, request.topics, check=True)
    new = [k for k in dict.fromkeys(keys) if k not in conn.subscriptions]
    limit = hub.settings.max_subscriptions
    if len(conn.subscriptions) + len(new) > limit:
        raise Refusal(
            ErrorKind.LIMIT_EXCEEDED,
            f"Subscription limit reached: at most {limit} per connection "
            f"({len(conn.subscriptions)} active, {len(new)} requested)",
        )
    for key in new:
        hub.registry.add(key, conn)
    conn.settle()
    now = hub.clock_ms()
    dialect = conn.dialect
    conn.send(dialect.render_subscribed(request, now))
    for key in dict.fromkeys(keys):  # initial state, so the client starts from the present
        channel, iid, variant = key
        if channel == Channel.SYSTEM.value:
            for venue, status in hub.venue_status.items():
                conn.send(dialect.render_venue_status(venue, status, now))
        elif channel == Channel.BOOK.value:
            assert isinstance(variant, int)
            view = book_view(hub.marketdata.book_snapshot(iid, variant))
            conn.send(dialect.render_book(hub.config.instruments[iid], view, now))
        elif channel == Channel.TICKER.value:
            tick = ticker_view(hub.marketdata.ticker(iid))
            conn.send(dialect.render_ticker(hub.config.instruments[iid], tick, now))


def _unsubscribe(hub: Hub, conn: Connection, request: Unsubscribe) -> None:
    for key in _keys(hub, conn, request.topics, check=False):
        hub.registry.remove(key, conn)
    conn.settle()
    conn.send(conn.dialect.render_unsubscribed(request, hub.clock_ms()))


# -- orders ----------------------------------------------------------------------------


def _steps(hub: Hub, conn: Connection, value: Decimal, neutral: str, inst: Instrument) -> int:
    wire = conn.dialect.field_names.get(neutral, neutral)
    if not value.is_finite() or value <= 0:
        raise Refusal(ErrorKind.BAD_REQUEST, f"{wire} must be a positive number, got {value}")
    try:
        if neutral == "qty":
            return inst.qty_to_lots(value)
        return inst.price_to_ticks(value)
    except NotAMultiple:
        step = inst.lot_size if neutral == "qty" else inst.tick_size
        what = "lot size" if neutral == "qty" else "tick size"
        raise Refusal(
            ErrorKind.BAD_REQUEST,
            f"{wire} {value} is not a multiple of the {what} {step} for {inst.symbol}",
        ) from None


E = TypeVar("E", Side, OrderType, TimeInForce)


def _enum(kind: type[E], value: str, wire: str) -> E:
    try:
        return kind(value.lower())
    except ValueError:
        allowed = ", ".join(m.value for m in kind)
        raise Refusal(ErrorKind.BAD_REQUEST, f"{wire} {value!r} is not one of: {allowed}") from None


def _order_instrument(hub: Hub, conn: Connection, exchange: str | None, symbol: str) -> Instrument:
    return _instruments(hub, Topic(Channel.ORDERS, exchange=exchange, symbols=(symbol,)))[0]


async def _order(
    hub: Hub, conn: Connection, request: PlaceRequest | CancelRequest | ModifyRequest
) -> None:
    if conn.principal is None:
        raise Refusal(
            ErrorKind.UNAUTHORIZED, "order entry needs authentication: authenticate first"
        )
    if not conn.principal.can(Permission.TRADE):
        raise Refusal(ErrorKind.FORBIDDEN, "this API key lacks the trade permission")
    user = conn.principal.user
    inst: Instrument | None = None
    command: Command
    if isinstance(request, PlaceRequest):
        inst = _order_instrument(hub, conn, request.exchange, request.symbol)
        command = _place(hub, conn, user, inst, request)
        action = "submit"
    elif isinstance(request, CancelRequest):
        command = CancelOrder(
            user=user, order_id=request.order_id, client_order_id=request.client_order_id
        )
        action = "cancel"
    else:
        oid = hub.find_order(user, request.order_id, request.client_order_id)
        if oid is None:
            raise Refusal(ErrorKind.NOT_FOUND, "unknown order (not live for this user)")
        inst = hub.config.instruments[hub.orders[oid].instrument]
        command = ModifyOrder(
            user=user,
            order_id=oid,
            qty=None if request.amount is None else _steps(hub, conn, request.amount, "qty", inst),
            price=None
            if request.price is None
            else _steps(hub, conn, request.price, "price", inst),
            stop_price=None
            if request.stop_price is None
            else _steps(hub, conn, request.stop_price, "stop_price", inst),
        )
        action = "modify"
    result = await hub.service.submit(command)
    now = hub.clock_ms()
    if not result.ok:
        error(
            hub,
            conn,
            reason_kind(result.reason),
            result.message or result.reason.value,
            request,
            reason=result.reason.value,
        )
        return
    last: OrderUpdate | None = None
    for ev in result.events:
        if isinstance(ev, OrderUpdate) and ev.order_id == result.order_id:
            last = ev
    if inst is None and last is not None:
        inst = hub.config.instruments.get(last.instrument)
    ack = OrderAck(
        ok=True,
        action=action,
        order_id=result.order_id,
        client_order_id=last.client_order_id if last else getattr(request, "client_order_id", None),
        instrument=None if inst is None else inst.id,
        status=None if last is None else last.status.value,
    )
    if conn.active:
        conn.send(conn.dialect.render_order_ack(ack, inst, now, request))


def _place(
    hub: Hub, conn: Connection, user: str, inst: Instrument, request: PlaceRequest
) -> PlaceOrder:
    def opt(value: Decimal | None, neutral: str) -> int | None:
        return None if value is None else _steps(hub, conn, value, neutral, inst)

    if request.leverage < 1:
        raise Refusal(ErrorKind.BAD_REQUEST, f"leverage must be >= 1, got {request.leverage}")
    return PlaceOrder(
        user=user,
        instrument=inst.id,
        side=_enum(Side, request.side, "side"),
        type=_enum(OrderType, request.type, "type"),
        qty=_steps(hub, conn, request.amount, "qty", inst),
        price=opt(request.price, "price"),
        stop_price=opt(request.stop_price, "stop_price"),
        tif=_enum(TimeInForce, request.time_in_force, "time_in_force"),
        client_order_id=request.client_order_id,
        post_only=request.post_only,
        reduce_only=request.reduce_only,
        margin=request.leverage > 1,
        leverage=request.leverage,
    )
