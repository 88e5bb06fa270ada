"""What one client message does: rate limits, login, subscriptions, order entry.

Invariants:
- The rate limit comes first and costs only the frame's head (``Dialect.head``); a
  refused frame gets the dialect's rate-limit error and one strike, and the dialect's
  ``strikes`` limit for ``RATE_LIMITED`` closes the connection (the flood policy).
  Once a connection is closing, its frames are dropped unread.
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
from typing import TypeVar

from openpit import requests
from openpit.alerts.custom import AlertError
from openpit.core.access import Permission
from openpit.core.commands import Batch, CancelOrder, Command, ModifyOrder, PlaceOrder
from openpit.core.enums import OrderType, Side, TimeInForce
from openpit.core.errors import OpenpitError
from openpit.core.events import OrderUpdate
from openpit.core.instrument import Instrument
from openpit.gateway.auth import AuthError
from openpit.gateway.connection import Connection
from openpit.gateway.hub import Hub, book_view, ticker_view
from openpit.gateway.model import (
    ALL_INSTRUMENTS,
    MARGIN_ONLY,
    AlertInfo,
    AlertRequest,
    BadRequest,
    BatchFailure,
    BatchItem,
    BatchRequest,
    CancelRequest,
    Channel,
    CloseReason,
    ConnStats,
    ErrorKind,
    ErrorReason,
    Head,
    KeyLogin,
    ModifyRequest,
    OrderAck,
    Ping,
    PlaceRequest,
    Pong,
    Request,
    StatsRequest,
    Subscribe,
    TokenLogin,
    Topic,
    Unsubscribe,
    reason_kind,
)
from openpit.gateway.subscriptions import Key
from openpit.marketdata.candles import INTERVALS
from openpit.venue import CommandResult

log = logging.getLogger("openpit.gateway")


class Refusal(OpenpitError):
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
    *,
    reason: ErrorReason | None = None,
    retry_after: float | None = None,
) -> None:
    conn.send(
        error_payload(hub, conn, kind, message, request, reason=reason, retry_after=retry_after)
    )


def error_payload(
    hub: Hub,
    conn: Connection,
    kind: ErrorKind,
    message: str,
    request: Request | None,
    *,
    reason: ErrorReason | None = None,
    retry_after: float | None = None,
) -> bytes:
    """The dialect's error reply (counted in the error stats)."""
    hub.stats.errors[kind.value] = hub.stats.errors.get(kind.value, 0) + 1
    return conn.dialect.core.render_error(
        kind, message, hub.clock_ms(), request, reason=reason, retry_after=retry_after
    )


async def handle(hub: Hub, conn: Connection, frame: str | bytes) -> None:
    """Process one inbound message of ``conn``.

    The rate limit is decided on the frame's head alone (``Dialect.head``: its action,
    nothing else decoded); a refused frame is answered and struck, never parsed. A
    closing connection reads nothing more.
    """
    if not conn.active:
        return
    now = time.monotonic()
    conn.last_rx = now
    conn.ping_sent = None
    hub.stats.messages_in += 1
    conn.messages_in += 1
    hub.stats.bytes_in += len(frame)
    dialect = conn.dialect
    try:
        head = dialect.core.head(frame)
    except Exception:  # a dialect bug, never the client's: logged, and still an answer
        log.exception("internal error reading the head of a %s message", dialect.name)
        head = Head("other")
    if not conn.limiter.allow(head.category, now):
        _refuse(hub, conn, head)
        return
    request: Request | None = None
    try:
        request = dialect.core.parse(frame)
        if dialect.screen is not None:  # e.g. envelope: the channels/actions of an endpoint
            request = dialect.screen.screen(conn.endpoint, request, conn.principal is not None)
        await _dispatch(hub, conn, request)
    except Refusal as exc:
        error(hub, conn, exc.kind, exc.message, request)
        if isinstance(request, KeyLogin | TokenLogin) and exc.kind is ErrorKind.UNAUTHORIZED:
            strike(hub, conn, CloseReason.AUTH_FAILED, "authentication failed repeatedly")
        elif isinstance(request, Subscribe) and exc.kind in _BAD_SUBSCRIPTION:
            strike(hub, conn, CloseReason.INVALID_SUBSCRIPTION, "invalid subscriptions")
    except Exception:
        log.exception("internal error handling a %s message", dialect.name)
        error(hub, conn, ErrorKind.INTERNAL, "Internal server error", request)


def _refuse(hub: Hub, conn: Connection, head: Head) -> None:
    """Answer a rate-limited frame from its head, and strike it (the flood policy)."""
    message, retry = conn.limiter.refusal()
    kind = ErrorKind.RATE_LIMITED
    error(
        hub,
        conn,
        kind,
        message,
        BadRequest(message, kind, head.action, head.ref),
        retry_after=retry,
    )
    strike(hub, conn, CloseReason.RATE_LIMITED, "rate limits exceeded repeatedly")


_BAD_SUBSCRIPTION = frozenset({ErrorKind.BAD_REQUEST, ErrorKind.NOT_FOUND})


def strike(hub: Hub, conn: Connection, reason: CloseReason, message: str) -> None:
    """Count one failure; close when the dialect's ``strikes`` limit for it is reached."""
    limits = conn.dialect.spec.strikes
    if reason not in limits or not conn.active:
        return
    n = conn.strikes[reason.value] = conn.strikes.get(reason.value, 0) + 1
    if n >= limits[reason]:
        hub.close(conn, reason, f"{message} ({n} times)")
        if reason is CloseReason.RATE_LIMITED:
            conn.abandon()  # a flooder: read nothing more, do not wait for its close


async def _dispatch(hub: Hub, conn: Connection, request: Request) -> None:
    if isinstance(request, BadRequest):
        error(hub, conn, request.kind, request.message, request)
        if request.action == "subscribe":
            strike(hub, conn, CloseReason.INVALID_SUBSCRIPTION, "invalid subscriptions")
    elif isinstance(request, Pong):
        pass
    elif isinstance(request, Ping):
        conn.send(conn.dialect.core.render_pong(hub.clock_ms(), request))
    elif isinstance(request, KeyLogin | TokenLogin):
        _login(hub, conn, request)
    elif isinstance(request, Subscribe):
        _subscribe(hub, conn, request)
    elif isinstance(request, Unsubscribe):
        _unsubscribe(hub, conn, request)
    elif isinstance(request, StatsRequest):
        _stats(hub, conn, request)
    elif isinstance(request, BatchRequest):
        await _batch(hub, conn, request)
    elif isinstance(request, AlertRequest):
        _alerts(hub, conn, request)
    elif isinstance(request, PlaceRequest | CancelRequest | ModifyRequest):
        _order(hub, conn, request)
    else:
        raise Refusal(ErrorKind.BAD_REQUEST, f"unsupported request {type(request).__name__}")


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
        hub.close(conn, CloseReason.DUPLICATE, f"connection limit of {limit} per API key reached")
        return
    conn.principal = principal
    conn.settle()
    if hub.streams is not None:
        hub.streams.watch_expiry(conn)
    conn.send(conn.dialect.core.render_authenticated(principal, hub.clock_ms(), request))


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
        if channel.instrumentless:
            keys.append(Key(channel.value, ALL_INSTRUMENTS, None))
            continue
        if channel is Channel.PRICE or channel is Channel.PORTFOLIO or topic.margin_only:
            keys.append(_typed_key(hub, conn, topic, check=check))
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
            keys.extend(Key(channel.value, iid, conn.user) for iid in ids)
            continue
        if not insts:
            raise Refusal(ErrorKind.BAD_REQUEST, f"channel {topic.wire!r} needs params.symbols")
        variant: int | str | None = None
        if channel is Channel.CANDLES:
            if topic.interval not in INTERVALS:
                raise Refusal(
                    ErrorKind.BAD_REQUEST,
                    f"channel {topic.wire!r}: unknown interval {topic.interval!r} "
                    f"(one of {', '.join(INTERVALS)})",
                )
            variant = topic.interval
        if channel is Channel.BOOK or channel is Channel.BOOK_DELTA:
            depth = topic.depth or hub.settings.default_depth
            if depth > hub.settings.max_depth:
                raise Refusal(
                    ErrorKind.BAD_REQUEST,
                    f"params.depth {depth} is too deep (at most {hub.settings.max_depth})",
                )
            variant = depth
        keys.extend(Key(channel.value, i.id, variant) for i in insts)
    return keys


def _subscribe(hub: Hub, conn: Connection, request: Subscribe) -> None:
    keys = _keys(hub, conn, request.topics, check=True)
    new = [k for k in dict.fromkeys(keys) if k not in conn.subscriptions]
    limit = conn.dialect.spec.max_subscriptions or hub.settings.max_subscriptions
    if len(conn.subscriptions) + len(new) > limit:
        raise Refusal(
            ErrorKind.LIMIT_EXCEEDED,
            f"Subscription limit reached: at most {limit} per connection "
            f"({len(conn.subscriptions)} active, {len(new)} requested)",
        )
    hub.flush()  # what was published before this subscription is not for it
    for key in new:
        hub.registry.add(key, conn)
    conn.settle()
    now = hub.clock_ms()
    dialect = conn.dialect
    conn.send(dialect.core.render_subscribed(request, now))
    for key in dict.fromkeys(keys):  # initial state, so the client starts from the present
        channel, iid, variant = key
        if channel == Channel.SYSTEM.value:
            for venue, status in hub.venue_status.items():
                conn.send(dialect.core.render_venue_status(venue, status, now))
        elif channel == Channel.BOOK.value:
            assert isinstance(variant, int)
            view = book_view(hub.marketdata.book_snapshot(iid, variant))
            conn.send(dialect.core.render_book(hub.config.instruments[iid], view, now))
        elif channel == Channel.TICKER.value:
            tick = ticker_view(hub.marketdata.ticker(iid))
            conn.send(dialect.core.render_ticker(hub.config.instruments[iid], tick, now))
        elif channel == Channel.BOOK_DELTA.value:  # the snapshot the deltas start from
            assert isinstance(variant, int)
            view = book_view(hub.marketdata.book_snapshot(iid, variant))
            conn.send(dialect.core.render_book(hub.config.instruments[iid], view, now))
        elif channel == Channel.CANDLES.value:
            candles = dialect.candles
            history = getattr(hub.marketdata, "history", None)
            if candles is not None and history is not None:
                for candle in history(iid, variant, limit=1):
                    conn.send(candles.render_candle(hub.config.instruments[iid], candle, now))
        elif channel in _STREAMED and hub.streams is not None:
            hub.streams.initial(conn, key)
        elif channel == Channel.ACCOUNT.value:
            renderer = dialect.account
            account = hub.account_view(conn.user) if conn.user is not None else None
            if renderer is not None and account is not None:
                conn.send(renderer.render_account(account, now))


_STREAMED = frozenset({Channel.PRICE.value, Channel.PORTFOLIO.value, Channel.POSITIONS.value})


def _typed_key(hub: Hub, conn: Connection, topic: Topic, *, check: bool) -> Key:
    """Keys of the gateway-derived typed streams (see ``openpit.gateway.streams``)."""
    streams = hub.streams
    if streams is None:
        raise Refusal(ErrorKind.BAD_REQUEST, f"channel {topic.wire!r} is not available")
    channel = topic.channel
    if channel is Channel.PRICE:
        symbol = topic.symbols[0] if topic.symbols else ""
        key = streams.price_key(symbol, topic.exchange)
        if key is None:
            raise Refusal(ErrorKind.NOT_FOUND, f"unknown symbol {symbol!r}")
        return key
    if conn.principal is None:
        if not check:
            raise Refusal(ErrorKind.UNAUTHORIZED, f"channel {topic.wire!r} is private")
        raise Refusal(
            ErrorKind.UNAUTHORIZED, f"channel {topic.wire!r} is private: authenticate first"
        )
    if check and not conn.principal.can(Permission.READ):
        raise Refusal(ErrorKind.FORBIDDEN, f"channel {topic.wire!r} needs the read permission")
    user = conn.principal.user
    if channel is Channel.PORTFOLIO:
        asset = streams.valuation_asset(topic.valuation_asset)
        if asset is None:
            raise Refusal(ErrorKind.NOT_FOUND, f"unknown currency {topic.valuation_asset!r}")
        slot = ALL_INSTRUMENTS if topic.valuation_asset is None else asset
        return Key(channel.value, slot, user)
    return Key(channel.value, MARGIN_ONLY, user)


def _stats(hub: Hub, conn: Connection, request: StatsRequest) -> None:
    renderer = conn.dialect.stats
    if renderer is None:
        raise Refusal(ErrorKind.BAD_REQUEST, "connection_stats is not part of this dialect")
    now = hub.clock_ms()
    connected_at = now - int((time.monotonic() - conn.connected) * 1000)
    stats = ConnStats(
        connected_at=connected_at,
        messages_received=conn.messages_in,
        messages_sent=conn.messages_out,
        subscriptions=len(conn.subscriptions),
        latency_ms=conn.latency_ms,
    )
    conn.send(renderer.render_stats(stats, now))


def _unsubscribe(hub: Hub, conn: Connection, request: Unsubscribe) -> None:
    for key in _keys(hub, conn, request.topics, check=False):
        hub.registry.remove(key, conn)
    conn.settle()
    conn.send(conn.dialect.core.render_unsubscribed(request, hub.clock_ms()))


# -- orders ----------------------------------------------------------------------------


E = TypeVar("E", Side, OrderType, TimeInForce)


def _enum(kind: type[E], value: str, wire: str) -> E:
    try:
        return kind(value.lower())
    except ValueError:
        allowed = ", ".join(m.value for m in kind)
        raise Refusal(ErrorKind.BAD_REQUEST, f"{wire} {value!r} is not one of: {allowed}") from None


def _order_instrument(hub: Hub, conn: Connection, exchange: str | None, symbol: str) -> Instrument:
    return _instruments(hub, Topic(Channel.ORDERS, exchange=exchange, symbols=(symbol,)))[0]


def _trader(conn: Connection) -> str:
    if conn.principal is None:
        raise Refusal(
            ErrorKind.UNAUTHORIZED, "order entry needs authentication: authenticate first"
        )
    if not conn.principal.can(Permission.TRADE):
        raise Refusal(ErrorKind.FORBIDDEN, "this API key lacks the trade permission")
    return conn.principal.user


OrderRequest = PlaceRequest | CancelRequest | ModifyRequest


def _order(hub: Hub, conn: Connection, request: OrderRequest) -> None:
    """Execute now, answer after the journal commit: the connection reads its next frame
    meanwhile (pipelining), and its replies keep request order (``Connection.hold``)."""
    user = _trader(conn)
    command, action, inst = _command(hub, conn, user, request)
    slot = conn.hold()

    def answer(result: CommandResult) -> None:
        try:
            payload = _order_reply(hub, conn, request, action, inst, result)
        except Exception:
            log.exception("internal error answering a %s order", conn.dialect.name)
            payload = error_payload(hub, conn, ErrorKind.INTERNAL, "Internal server error", request)
        conn.fill(slot, payload)

    hub.service.submit_deferred(command, answer)


def _order_reply(
    hub: Hub,
    conn: Connection,
    request: OrderRequest,
    action: str,
    inst: Instrument | None,
    result: CommandResult,
) -> bytes:
    if not result.ok:
        return error_payload(
            hub,
            conn,
            reason_kind(result.reason),
            result.message or result.reason.value,
            request,
            reason=result.reason,
        )
    ack = _ack(hub, request, action, inst, result)
    now = hub.clock_ms()
    return conn.dialect.core.render_order_ack(ack, _ack_inst(hub, ack, inst), now, request)


def _ack_inst(hub: Hub, ack: OrderAck, inst: Instrument | None) -> Instrument | None:
    if inst is None and ack.instrument is not None:
        return hub.config.instruments.get(ack.instrument)
    return inst


def _ack(
    hub: Hub, request: OrderRequest, action: str, inst: Instrument | None, result: CommandResult
) -> OrderAck:
    last: OrderUpdate | None = None
    for ev in result.events:
        if isinstance(ev, OrderUpdate) and ev.order_id == result.order_id:
            last = ev
    if inst is None and last is not None:
        inst = hub.config.instruments.get(last.instrument)
    return OrderAck(
        ok=True,
        action=action,
        order_id=result.order_id,
        client_order_id=last.client_order_id if last else getattr(request, "client_order_id", None),
        instrument=None if inst is None else inst.id,
        status=None if last is None else last.status.value,
        order=last,
    )


async def _batch(hub: Hub, conn: Connection, request: BatchRequest) -> None:
    """Each operation is converted and answered on its own; the valid ones go to the
    venue as one ``Batch`` command (each validated there on its own too)."""
    user = _trader(conn)
    items: list[tuple[BatchItem, Instrument | None] | None] = []
    ops: list[tuple[int, OrderRequest, str, Instrument | None]] = []
    commands: list[PlaceOrder | CancelOrder | ModifyOrder] = []
    for op in request.ops:
        if isinstance(op, BadRequest):
            items.append((BatchFailure(op.kind, op.message), None))
            continue
        try:
            command, action, inst = _command(hub, conn, user, op)
        except Refusal as exc:
            items.append((BatchFailure(exc.kind, exc.message), None))
            continue
        assert isinstance(command, PlaceOrder | CancelOrder | ModifyOrder)
        ops.append((len(items), op, action, inst))
        commands.append(command)
        items.append(None)
    if commands:
        result = await hub.service.submit(Batch(user=user, ops=commands))
        for (i, op, action, inst), sub in zip(ops, result.results, strict=True):
            if sub.ok:
                ack = _ack(hub, op, action, inst, sub)
                items[i] = (ack, _ack_inst(hub, ack, inst))
            else:
                kind = reason_kind(sub.reason)
                failure = BatchFailure(kind, sub.message or sub.reason.value, sub.reason)
                items[i] = (failure, inst)
    renderer = conn.dialect.batch
    if renderer is None:
        raise Refusal(ErrorKind.BAD_REQUEST, "batch operations are not part of this dialect")
    done = [item for item in items if item is not None]
    if conn.active:
        conn.send(renderer.render_batch(done, hub.clock_ms(), request))


def _alerts(hub: Hub, conn: Connection, request: AlertRequest) -> None:
    if conn.principal is None:
        raise Refusal(ErrorKind.UNAUTHORIZED, "alerts need authentication: authenticate first")
    manager = hub.alert_manager
    if manager is None:
        raise Refusal(ErrorKind.INTERNAL, "custom alerts are not enabled on this server")
    replies = conn.dialect.alert_replies
    if replies is None:
        raise Refusal(ErrorKind.BAD_REQUEST, "alerts are not part of this dialect")
    user = conn.principal.user
    infos: list[AlertInfo]
    try:
        if request.op == "create":
            info, fired = manager.create(
                user,
                request.name,
                request.condition,
                request.symbol,
                request.threshold,
                repeat=request.repeat,
                cooldown_ms=request.cooldown_ms,
            )
            infos = [info]
            for ev in fired:
                hub.publish_alert(ev)
        elif request.op == "list":
            infos = manager.list(user)
        else:
            assert request.alert_id is not None
            gone = manager.delete(user, request.alert_id)
            if gone is None:
                raise Refusal(ErrorKind.NOT_FOUND, f"no alert {request.alert_id} for this user")
            infos = [gone]
    except AlertError as exc:
        kind = ErrorKind.LIMIT_EXCEEDED if exc.code == "limit_exceeded" else ErrorKind.BAD_REQUEST
        raise Refusal(kind, str(exc)) from None
    conn.send(replies.render_alert_reply(request.op, infos, hub.clock_ms(), request))


def _command(
    hub: Hub, conn: Connection, user: str, request: OrderRequest
) -> tuple[Command, str, Instrument | None]:
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
        live = hub.service.order(user, request.order_id, request.client_order_id)
        if live is None:
            raise Refusal(ErrorKind.NOT_FOUND, "unknown order (not live for this user)")
        inst = hub.config.instruments[live.instrument]
        try:
            command = requests.modify(
                user,
                live.order_id,
                inst,
                amount=request.amount,
                price=request.price,
                stop_price=request.stop_price,
                names=conn.dialect.spec.field_names,
            )
        except requests.RequestError as exc:
            raise Refusal(ErrorKind.BAD_REQUEST, exc.message) from None
        action = "modify"
    return command, action, inst


def _place(
    hub: Hub, conn: Connection, user: str, inst: Instrument, request: PlaceRequest
) -> PlaceOrder:
    client_order_id = request.client_order_id
    fallback = request.default_client_order_id
    if (
        client_order_id is None
        and fallback is not None
        and hub.service.order(user, None, fallback) is None
    ):
        client_order_id = fallback
    try:
        return requests.place(
            user,
            inst,
            side=_enum(Side, request.side, "side"),
            type=_enum(OrderType, request.type, "type"),
            amount=request.amount,
            price=request.price,
            stop_price=request.stop_price,
            stop_limit_price=request.stop_limit_price,
            tif=_enum(TimeInForce, request.time_in_force, "time_in_force"),
            client_order_id=client_order_id,
            post_only=request.post_only,
            reduce_only=request.reduce_only,
            leverage=request.leverage,
            names=conn.dialect.spec.field_names,
        )
    except requests.RequestError as exc:
        raise Refusal(ErrorKind.BAD_REQUEST, exc.message) from None
