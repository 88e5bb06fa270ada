"""The hub: fans venue results out to subscribers, flushes outboxes, closes connections.

Invariants:
- Frame once, write once per tick: every stream message is rendered once per dialect
  and variant and framed once; the frames of one key in one loop tick are joined
  once and that block is appended to each subscriber's outbox at the end of the tick
  (``flush``, scheduled with ``loop.call_soon`` by the first publish or reply), which
  then writes each dirty outbox with a single ``transport.write``. Order is kept per
  key and per connection; across keys within one tick it is by key.
- Private events (orders, positions) are published under a key whose variant is the
  owning user and each receiver's user is checked again before the push: a
  connection never receives another user's private data.
- Snapshot-style streams (order book top-N, ticker) are conflated per instrument to
  at most one message per interval, and a trailing message always carries the
  state after the last change.
- The hub renders what the venue published (``Publication``: the result, its market
  updates, order updates carrying their fees) and computes no venue numbers: market data
  is applied by the venue service, orders are resolved by the venue's indexes, and the
  hub keeps no shadow of either.
- Slow consumers are closed with the dialect's policy close; their outbox is dropped
  (they will resubscribe); other connections are not affected.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Protocol

from openpit.alerts.events import (
    AnyAlertEvent,
    ArbitrageOpportunity,
    ArbitrageWithdrawn,
    CustomAlertTriggered,
    ExchangeConnectionStatus,
    MarginCallAlert,
    RiskAlert,
    SystemNotification,
    UserNotification,
)
from openpit.config.loader import VenueConfig
from openpit.core.commands import Command
from openpit.core.events import (
    BookLevel,
    Fill,
    InstrumentStatus,
    OrderUpdate,
    Position,
    Trade,
)
from openpit.core.instrument import Instrument
from openpit.gateway.auth import Authenticator, HmacAuthenticator, KeyStore
from openpit.gateway.connection import Connection, ConnState
from openpit.gateway.dialects.base import Bound, Heartbeat
from openpit.gateway.frames import text_frame
from openpit.gateway.limits import KeyConnections
from openpit.gateway.model import (
    ALL_INSTRUMENTS,
    AccountView,
    AlertInfo,
    BookView,
    Channel,
    CloseReason,
    ErrorKind,
    OrderFee,
    SessionReason,
    TickerView,
)
from openpit.gateway.settings import GatewaySettings
from openpit.gateway.subscriptions import Key, Registry
from openpit.marketdata import Candle, MarketUpdates
from openpit.venue import CommandResult
from openpit.venue.views import Publication

if TYPE_CHECKING:
    from openpit.gateway.streams import Streams

log = logging.getLogger("openpit.gateway")

_PRIVATE = frozenset(c.value for c in Channel if c.private)

# which channel each non-venue event goes to (private ones: to ``event.user`` only)
ALERT_CHANNELS: dict[type, Channel] = {
    CustomAlertTriggered: Channel.CUSTOM_ALERTS,
    UserNotification: Channel.USER_NOTIFICATIONS,
    MarginCallAlert: Channel.MARGIN_CALLS,
    SystemNotification: Channel.SYSTEM_NOTIFICATIONS,
    ExchangeConnectionStatus: Channel.SYSTEM,
    RiskAlert: Channel.RISK_ALERTS,
    ArbitrageOpportunity: Channel.ARBITRAGE,
    ArbitrageWithdrawn: Channel.ARBITRAGE,
}


# -- what the hub needs from its neighbours -----------------------------------------------


class Service(Protocol):
    """``openpit.venue.service.VenueService`` as the gateway uses it."""

    config: VenueConfig

    async def submit(self, command: Command) -> CommandResult: ...

    def submit_deferred(
        self, command: Command, done: Callable[[CommandResult], None]
    ) -> CommandResult: ...

    def add_listener(self, listener: Callable[[Publication], None]) -> None: ...

    def remove_listener(self, listener: Callable[[Publication], None]) -> None: ...

    def order(
        self, user: str, order_id: int | None, client_order_id: str | None
    ) -> OrderUpdate | None: ...

    def balances(self, user: str) -> dict[str, tuple[int, int]]: ...

    def positions(self, user: str) -> list[Position]: ...


class BookLike(Protocol):
    @property
    def bids(self) -> Sequence[tuple[int, int]]: ...

    @property
    def asks(self) -> Sequence[tuple[int, int]]: ...

    @property
    def ts(self) -> int: ...


class TickerLike(Protocol):
    @property
    def last_price(self) -> int | None: ...

    @property
    def volume(self) -> int: ...

    @property
    def bid(self) -> int | None: ...

    @property
    def ask(self) -> int | None: ...

    @property
    def high(self) -> int | None: ...

    @property
    def low(self) -> int | None: ...

    @property
    def ts(self) -> int: ...


class MarketSource(Protocol):
    """``openpit.marketdata.MarketData`` as the gateway uses it.

    Delta-style books (``Channel.BOOK_DELTA``) also need ``subscribe_depth`` /
    ``unsubscribe_depth``, candles ``history`` and ``advance`` (``MarketData`` has all).
    """

    def book_snapshot(self, instrument: str, depth: int = 0) -> BookLike: ...

    def ticker(self, instrument: str) -> TickerLike: ...

    def live_candles(self, instrument: str) -> list[Candle]: ...


class AccountSource(Protocol):
    """The ledger as the gateway reads it (``Venue.ledger``)."""

    def balances(self, user: str) -> dict[str, tuple[int, int]]: ...

    def positions(self, user: str) -> list[Position]: ...


class AlertManager(Protocol):
    """Custom alert management for ``AlertRequest`` (the server wires ``RiskServices``).

    ``create`` raises ``openpit.alerts.AlertError`` on bad input and returns the new
    alert with any events its creation produced (published by the caller)."""

    def create(
        self,
        user: str,
        name: str,
        condition: str,
        symbol: str,
        threshold: object,
        *,
        repeat: bool = False,
        cooldown_ms: int = 0,
    ) -> tuple[AlertInfo, list[AnyAlertEvent]]: ...

    def list(self, user: str) -> list[AlertInfo]: ...

    def delete(self, user: str, alert_id: int) -> AlertInfo | None: ...


@dataclass(slots=True)
class Stats:
    connections: dict[str, int] = field(default_factory=dict)  # dialect -> open now
    accepted: int = 0
    messages_in: int = 0
    bytes_in: int = 0
    messages_out: int = 0
    bytes_out: int = 0
    closes: dict[str, int] = field(default_factory=dict)  # reason -> count
    errors: dict[str, int] = field(default_factory=dict)  # error kind -> count


class _Throttle:
    __slots__ = ("handle", "last")

    def __init__(self) -> None:
        self.last = -1e18
        self.handle: asyncio.Handle | None = None


def book_view(book: BookLike) -> BookView:
    return BookView(
        tuple(book.bids),
        tuple(book.asks),
        book.ts,
        getattr(book, "sequence", None),
        getattr(book, "checksum", None),
        getattr(book, "depth", None),
    )


def ticker_view(t: TickerLike) -> TickerView:
    return TickerView(
        t.last_price,
        t.volume,
        t.bid,
        t.ask,
        t.high,
        t.low,
        t.ts,
        getattr(t, "last_qty", None),
        getattr(t, "open", None),
        getattr(t, "change", None),
        getattr(t, "change_ppm", None),
    )


def wall_ms() -> int:
    return time.time_ns() // 1_000_000


class Hub:
    def __init__(
        self,
        service: Service,
        marketdata: MarketSource,
        keys: KeyStore,
        settings: GatewaySettings,
        dialects: Mapping[str, Bound],
        *,
        authenticator: Authenticator | None = None,
        clock_ms: Callable[[], int] = wall_ms,
        accounts: AccountSource | None = None,
    ) -> None:
        self.service = service
        self.config = service.config
        self.marketdata = marketdata
        self.settings = settings
        self.dialects = dict(dialects)
        self.hmac = HmacAuthenticator(keys, settings.signature_window_ms)
        self.authenticator = authenticator
        self.clock_ms = clock_ms
        self.registry = Registry(on_open=self._key_opened, on_close=self._key_closed)
        self.accounts: AccountSource = service if accounts is None else accounts
        self.alert_manager: AlertManager | None = None
        self.streams: Streams | None = None  # typed-dialect derived streams (create_app)
        self.key_connections = KeyConnections(settings.max_connections_per_key)
        self.connections: dict[Connection, None] = {}
        self.stats = Stats()
        self.venue_status: dict[str, str] = dict.fromkeys(self.config.venues, "connected")
        self.accepting = True
        self._dirty: list[Connection] = []
        self._pending: dict[Key, dict[str, list[bytes]]] = {}
        self._flush_scheduled = False
        self._throttles: dict[tuple[Channel, str], _Throttle] = {}
        self._next_id = 0
        self._loop: asyncio.AbstractEventLoop | None = None
        service.add_listener(self.on_publication)

    @property
    def loop(self) -> asyncio.AbstractEventLoop:
        if self._loop is None:
            self._loop = asyncio.get_running_loop()
        return self._loop

    def detach(self) -> None:
        self.service.remove_listener(self.on_publication)
        for throttle in self._throttles.values():
            if throttle.handle is not None:
                throttle.handle.cancel()
        self._throttles.clear()

    # -- connections ------------------------------------------------------------------
    def next_id(self) -> int:
        self._next_id += 1
        return self._next_id

    def register(self, conn: Connection) -> None:
        self.connections[conn] = None
        self.stats.accepted += 1
        name = conn.dialect.name
        self.stats.connections[name] = self.stats.connections.get(name, 0) + 1
        conn.transition(ConnState.OPEN)

    def unregister(self, conn: Connection, reason: str = "client") -> None:
        if conn not in self.connections:
            return
        del self.connections[conn]
        if self.streams is not None:
            self.streams.forget(conn)
        if conn.active:
            self.count_close(reason)
        self.registry.remove_all(conn)
        if conn.principal is not None and conn.principal.key_id is not None:
            self.key_connections.release(conn.principal.key_id)
        name = conn.dialect.name
        self.stats.connections[name] = self.stats.connections.get(name, 1) - 1
        self.stats.bytes_out += conn.bytes_out
        self.stats.messages_out += conn.messages_out
        conn.bytes_out = conn.messages_out = 0
        conn.outbox.clear()
        conn.transition(ConnState.CLOSED)
        conn.closed.set()

    def count_close(self, reason: str) -> None:
        self.stats.closes[reason] = self.stats.closes.get(reason, 0) + 1

    def close(self, conn: Connection, reason: CloseReason, message: str) -> None:
        """Tell the client why (in its dialect), then close with the dialect's code."""
        if not conn.active:
            return
        codes = conn.dialect.spec.close_codes
        code = codes[reason] if reason in codes else codes[CloseReason.POLICY]
        notice = text_frame(conn.dialect.core.render_close(code, message, self.clock_ms()))
        if reason is CloseReason.POLICY and conn.pending + conn.buffered > conn.budget // 2:
            conn.outbox.clear()  # the backlog that broke the budget: dropped, and we say so
            conn.pending = 0
        conn.outbox.append(notice)
        conn.pending += len(notice)
        self._flush_one(conn)
        conn.transition(ConnState.CLOSING)
        self.count_close(reason.value)
        conn.close_code = code
        conn.close_reason = message
        if conn.closer is not None:
            conn.closer(code, message)

    def close_key(self, key_id: str, message: str = "API key revoked") -> int:
        """Close every live connection authenticated with ``key_id`` (policy close), or
        with a token minted with it (an ``AUTH_FAILED`` error, then the dialect's
        auth-failure close, as when a token expires); how many."""
        closed = 0
        for conn in list(self.connections):
            p = conn.principal
            if not conn.active or p is None:
                continue
            if p.key_id == key_id:
                self.close(conn, CloseReason.POLICY, message)
            elif p.token_key == key_id:
                text = f"{message}: the token of this session is no longer valid"
                self.stats.errors[ErrorKind.UNAUTHORIZED.value] = (
                    self.stats.errors.get(ErrorKind.UNAUTHORIZED.value, 0) + 1
                )
                conn.send(
                    conn.dialect.core.render_error(
                        ErrorKind.UNAUTHORIZED,
                        text,
                        self.clock_ms(),
                        None,
                        reason=SessionReason.AUTH_FAILED,
                    )
                )
                self.close(conn, CloseReason.AUTH_FAILED, message)
            else:
                continue
            closed += 1
        return closed

    # -- output -------------------------------------------------------------------------
    def mark_dirty(self, conn: Connection) -> None:
        self._dirty.append(conn)
        if not self._flush_scheduled:
            self._flush_scheduled = True
            self.loop.call_soon(self.flush)

    def over_budget(self, conn: Connection) -> None:
        conn.refresh_buffered()
        self.close(
            conn,
            CloseReason.POLICY,
            f"slow consumer: more than {conn.budget} bytes waiting to be sent",
        )

    def flush(self) -> None:
        """End of tick: hand each key's frames to its subscribers, then one write each."""
        pending, self._pending = self._pending, {}
        subs = self.registry.subs
        for key, per_dialect in pending.items():
            groups = subs.get(key)
            if not groups:
                continue
            owner = key.variant if key.channel in _PRIVATE else None
            for name, frames in per_dialect.items():
                conns = groups.get(name)
                if not conns:
                    continue
                block = frames[0] if len(frames) == 1 else b"".join(frames)
                for conn in conns:
                    if owner is None or conn.user == owner:  # never trust one check
                        conn.push_frame(block)
        dirty, self._dirty = self._dirty, []
        for conn in dirty:
            self._flush_one(conn)
        self._flush_scheduled = False

    def _flush_one(self, conn: Connection) -> None:
        if not conn.outbox:
            return
        try:
            conn.flush()
        except Exception:  # a broken transport: the reader side will notice and clean up
            log.debug("write failed on %r", conn, exc_info=True)
            conn.outbox.clear()
            conn.pending = 0

    def publish(self, key: Key, render: Callable[[Bound], bytes | None]) -> None:
        """Render once per dialect and frame once; subscribers get it at the tick's flush.

        Frames of one key are joined once per tick and that one block is appended to
        each subscriber's outbox, so the per-subscriber cost is per tick, not per message.
        """
        groups = self.registry.subs.get(key)
        if not groups:
            return
        per_dialect = self._pending.get(key)
        if per_dialect is None:
            per_dialect = self._pending[key] = {}
            if not self._flush_scheduled:
                self._flush_scheduled = True
                self.loop.call_soon(self.flush)
        for name in groups:
            payload = render(self.dialects[name])
            if payload is None:  # this dialect does not render that message
                continue
            frames = per_dialect.get(name)
            if frames is None:
                frames = per_dialect[name] = []
            frames.append(text_frame(payload))

    def publish_private(self, key: Key, user: str, render: Callable[[Bound], bytes | None]) -> None:
        assert key.variant == user
        self.publish(key, render)

    # -- venue results ------------------------------------------------------------------
    def on_publication(self, publication: Publication) -> None:
        updates = publication.updates
        if updates is not None:
            self.on_updates(updates)
        result = publication.result
        if result is None:  # a market-data clock step: 24 h windows moved too
            if updates is not None:
                for iid, u in updates.instruments.items():
                    if u.ticker_changed:
                        self.touch(Channel.TICKER, iid)
            return
        events = result.events
        if not events:
            return
        insts = self.config.instruments
        for ev in events:
            t = type(ev)
            if t is Trade:
                assert isinstance(ev, Trade)
                inst = insts[ev.instrument]
                self.publish(
                    Key(Channel.TRADES.value, ev.instrument, None),
                    lambda d, i=inst, e=ev: d.core.render_trade(i, e),  # type: ignore[misc]
                )
                self.touch(Channel.TICKER, ev.instrument)
            elif t is BookLevel:
                assert isinstance(ev, BookLevel)
                self.touch(Channel.BOOK, ev.instrument)
                self.touch(Channel.TICKER, ev.instrument)
            elif t is OrderUpdate:
                assert isinstance(ev, OrderUpdate)
                self._on_order(insts[ev.instrument], ev)
            elif t is Position:
                assert isinstance(ev, Position)
                inst = insts[ev.instrument]
                for ikey in (ev.instrument, ALL_INSTRUMENTS):
                    self.publish_private(
                        Key(Channel.POSITIONS.value, ikey, ev.user),
                        ev.user,
                        lambda d, i=inst, e=ev: d.core.render_position(i, e),  # type: ignore[misc]
                    )
            elif t is InstrumentStatus:
                assert isinstance(ev, InstrumentStatus)
                inst = insts[ev.instrument]
                self.publish(
                    Key(Channel.SYSTEM.value, ALL_INSTRUMENTS, None),
                    lambda d, i=inst, e=ev: d.core.render_instrument_status(i, e),  # type: ignore[misc]
                )
            elif t is Fill:
                assert isinstance(ev, Fill)
                self.publish_private(
                    Key(Channel.FILLS.value, ALL_INSTRUMENTS, ev.user),
                    ev.user,
                    lambda d, i=insts[ev.instrument], e=ev: (
                        d.fills.render_fill(i, e) if d.fills else None
                    ),  # type: ignore[misc]
                )
        for user in publication.accounts:
            key = Key(Channel.ACCOUNT.value, ALL_INSTRUMENTS, user)
            if key in self.registry.subs:
                view = self.account_view(user)
                if view is not None:
                    now = result.ts
                    self.publish_private(
                        key,
                        user,
                        lambda d, v=view, t=now: (
                            d.account.render_account(v, t) if d.account else None
                        ),  # type: ignore[misc]
                    )

    def account_view(self, user: str) -> AccountView | None:
        """Balances and positions of ``user`` as the venue holds them now."""
        assets, insts = self.config.assets, self.config.instruments
        balances = tuple(
            (assets[asset], avail, reserved)
            for asset, (avail, reserved) in sorted(self.accounts.balances(user).items())
            if asset in assets
        )
        positions = tuple(
            (insts[p.instrument], p) for p in self.accounts.positions(user) if p.instrument in insts
        )
        return AccountView(user, balances, positions)

    # -- market data updates (delta books, candles) -----------------------------------
    def on_updates(self, updates: MarketUpdates) -> None:
        """Publish what ``MarketData.apply``/``advance`` produced for delta-style streams."""
        insts = self.config.instruments
        for iid, u in updates.instruments.items():
            inst = insts.get(iid)
            if inst is None:
                continue
            for depth, delta in u.depth.items():
                self.publish(
                    Key(Channel.BOOK_DELTA.value, iid, depth),
                    lambda d, i=inst, e=delta: (
                        d.book_deltas.render_book_delta(i, e) if d.book_deltas else None
                    ),  # type: ignore[misc]
                )
            if not self.registry.watched(Channel.CANDLES, iid):
                continue
            ts = updates.ts
            live = self.marketdata.live_candles(iid) if u.candles_changed else []
            for candle in [*u.closed, *live]:
                self.publish(
                    Key(Channel.CANDLES.value, iid, candle.interval),
                    lambda d, i=inst, c=candle, t=ts: (
                        d.candles.render_candle(i, c, t) if d.candles else None
                    ),  # type: ignore[misc]
                )

    def _key_opened(self, key: Key) -> None:
        if key.channel == Channel.BOOK_DELTA.value:
            assert isinstance(key.variant, int)
            self.marketdata.subscribe_depth(key.instrument, key.variant)  # type: ignore[attr-defined]

    def _key_closed(self, key: Key) -> None:
        if key.channel == Channel.BOOK_DELTA.value:
            assert isinstance(key.variant, int)
            self.marketdata.unsubscribe_depth(key.instrument, key.variant)  # type: ignore[attr-defined]

    # -- non-venue events -------------------------------------------------------------
    def publish_alert(self, event: AnyAlertEvent) -> None:
        """Publish a notification / alert / risk / arbitrage / connection event.

        Private events (those with a ``user``) go to that user's subscribers only; each
        dialect renders it with its optional ``render_alert`` (None: not in its spec).
        """
        channel = ALERT_CHANNELS.get(type(event))
        if channel is None:
            return
        if isinstance(event, ExchangeConnectionStatus):
            self.venue_status[event.exchange] = event.status.value
        iid = getattr(event, "instrument", None) or getattr(event, "buy_instrument", None)
        inst = self.config.instruments.get(iid) if isinstance(iid, str) else None
        if channel.private:
            user = getattr(event, "user", None)
            assert isinstance(user, str)
            self.publish_private(
                Key(channel.value, ALL_INSTRUMENTS, user),
                user,
                lambda d: d.core.render_alert(event, inst),
            )
        else:
            self.publish(
                Key(channel.value, ALL_INSTRUMENTS, None),
                lambda d: d.core.render_alert(event, inst),
            )

    def _on_order(self, inst: Instrument, order: OrderUpdate) -> None:
        fee = OrderFee(order.fee, inst.quote.symbol, order.fee_rate_ppm)
        for ikey in (order.instrument, ALL_INSTRUMENTS):
            self.publish_private(
                Key(Channel.ORDERS.value, ikey, order.user),
                order.user,
                lambda d, e=order, f=fee: d.core.render_order(inst, e, f),  # type: ignore[misc]
            )

    # -- conflated snapshot streams ------------------------------------------------------
    def touch(self, channel: Channel, instrument: str) -> None:
        """A book/ticker changed: schedule a (throttled) snapshot for its subscribers."""
        if not self.registry.watched(channel, instrument):
            return
        key = (channel, instrument)
        throttle = self._throttles.get(key)
        if throttle is None:
            throttle = self._throttles[key] = _Throttle()
        if throttle.handle is not None:
            return
        interval = (
            self.settings.book_interval
            if channel is Channel.BOOK
            else self.settings.ticker_interval
        )
        delay = throttle.last + interval - self.loop.time()
        if delay <= 0:
            throttle.handle = self.loop.call_soon(self._emit, channel, instrument)
        else:
            throttle.handle = self.loop.call_later(delay, self._emit, channel, instrument)

    def _emit(self, channel: Channel, instrument: str) -> None:
        throttle = self._throttles.get((channel, instrument))
        if throttle is None:
            return
        throttle.handle = None
        throttle.last = self.loop.time()
        inst = self.config.instruments[instrument]
        now = self.clock_ms()
        if channel is Channel.BOOK:
            for depth in self.registry.variants(Channel.BOOK, instrument):
                assert isinstance(depth, int)
                view = book_view(self.marketdata.book_snapshot(instrument, depth))
                self.publish(
                    Key(Channel.BOOK.value, instrument, depth),
                    lambda d, v=view: d.core.render_book(inst, v, now),  # type: ignore[misc]
                )
        else:
            tick = ticker_view(self.marketdata.ticker(instrument))
            self.publish(
                Key(Channel.TICKER.value, instrument, None),
                lambda d: d.core.render_ticker(inst, tick, now),
            )
        if not self.registry.watched(channel, instrument):
            del self._throttles[(channel, instrument)]

    # -- system -------------------------------------------------------------------------
    def set_venue_status(self, venue: str, status: str) -> None:
        """Announce a venue connection status change on ``system_events``."""
        if self.venue_status.get(venue) == status:
            return
        self.venue_status[venue] = status
        now = self.clock_ms()
        self.publish(
            Key(Channel.SYSTEM.value, ALL_INSTRUMENTS, None),
            lambda d: d.core.render_venue_status(venue, status, now),
        )

    # -- heartbeats ---------------------------------------------------------------------
    def sweep(self, now: float) -> None:
        """Send pings to quiet connections; close those that did not answer in time."""
        ping_after, pong_within = self.settings.ping_interval, self.settings.pong_timeout
        idle = self.settings.idle_timeout
        for conn in list(self.connections):
            if not conn.active:
                continue
            if conn.dialect.spec.heartbeat is Heartbeat.PERIODIC:
                if now - conn.last_rx >= idle:
                    self.close(
                        conn,
                        CloseReason.HEARTBEAT,
                        f"Heartbeat timeout: nothing received for {idle:g} s",
                    )
                elif now - max(conn.last_beat, conn.connected) >= ping_after:
                    conn.last_beat = now
                    conn.send(conn.dialect.core.render_ping(self.clock_ms()))
                continue
            if conn.ping_sent is None:
                if now - conn.last_rx >= ping_after:
                    conn.ping_sent = now
                    conn.send(conn.dialect.core.render_ping(self.clock_ms()))
            elif now - conn.ping_sent >= pong_within:
                self.close(
                    conn,
                    CloseReason.HEARTBEAT,
                    f"Session timeout: no pong within {pong_within:g} s of the ping",
                )

    def snapshot_stats(self) -> Stats:
        """Totals including bytes still attributed to live connections."""
        s = self.stats
        live_bytes = sum(c.bytes_out for c in self.connections)
        live_msgs = sum(c.messages_out for c in self.connections)
        return Stats(
            connections=dict(s.connections),
            accepted=s.accepted,
            messages_in=s.messages_in,
            bytes_in=s.bytes_in,
            messages_out=s.messages_out + live_msgs,
            bytes_out=s.bytes_out + live_bytes,
            closes=dict(s.closes),
            errors=dict(s.errors),
        )
