"""Fan-out of the Binance streams: one venue listener, rendered once, framed once.

Invariants:
- One listener on the venue service sees every ``Publication`` in sequence order; each
  stream event is rendered once (``gateway.dialects.binance.streams``) and framed once
  per wrapping (raw, combined ``{"stream","data"}``); the frames of one loop tick are
  appended to each subscriber's outbox and written with one ``transport.write`` per
  connection (``flush``, scheduled by the first push of the tick).
- Diff depth: while any depth-family stream of an instrument is subscribed the full-book
  deltas are on (``MarketData.subscribe_depth(iid, 0)``) and every delta is merged into
  the 100 ms and the 1000 ms window of that instrument; a window is emitted with ``U`` =
  first delta's ``prev_sequence + 1`` and ``u`` = last delta's ``sequence``, so a
  stream never skips a sequence and matches the REST ``lastUpdateId``.
- Private events go only to connections of the user who owns them (listenKey or a
  WebSocket API subscription).
- A connection whose unsent bytes pass ``BUDGET_BYTES`` is closed (1008): memory never
  grows without bound and no depth event is ever dropped silently.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import defaultdict
from collections.abc import AsyncIterator, Callable, Coroutine
from dataclasses import dataclass, field
from typing import Protocol

from aiohttp import WSMessage, WSMsgType, web

from openpit.binance.symbols import Listing, SymbolMap, fixed
from openpit.core.events import Balance, Fill, OrderUpdate
from openpit.gateway.dialects.binance import streams as s
from openpit.gateway.frames import text_frame
from openpit.marketdata import MarketData
from openpit.marketdata.facade import InstrumentUpdate
from openpit.marketdata.ticker import Ticker
from openpit.venue.service import VenueService
from openpit.venue.views import Publication

log = logging.getLogger("openpit.binance.streams")
BUDGET_BYTES = 8 * 1024 * 1024
TICK_S = 0.1
DEPTH_KINDS = (s.Kind.DEPTH, s.Kind.PARTIAL, s.Kind.BOOK_TICKER)


class Transport(Protocol):
    def write(self, data: bytes) -> None: ...

    def get_write_buffer_size(self) -> int: ...

    def is_closing(self) -> bool: ...


@dataclass(eq=False)
class Client:
    """One WebSocket connection of the stream surface."""

    transport: Transport
    combined: bool
    close: Callable[[int, str], None]
    streams: set[str] = field(default_factory=set)
    outbox: list[bytes] = field(default_factory=list)
    user: str | None = None  # listenKey connections
    listen_key: str | None = None
    wsapi: dict[int, str] = field(default_factory=dict)  # subscriptionId -> user (WS API)
    ws: web.WebSocketResponse | None = None
    spawn: Callable[[Coroutine[object, object, object]], None] = lambda coro: None

    def push(self, frame: bytes) -> bool:
        self.outbox.append(frame)
        return len(self.outbox) == 1


@dataclass
class _Window:
    first: int = -1
    last: int = -1
    bids: dict[int, int] = field(default_factory=dict)
    asks: dict[int, int] = field(default_factory=dict)


PING_S = 20.0
PONG_WAIT_S = 60.0
LIFETIME_S = 24 * 3600.0
MAX_FRAME = 64 * 1024


async def open_socket(request: web.Request, combined: bool) -> Client:
    """Upgrade ``request``; the prepared socket's ``Client`` (its ``ws``), or a 426 reply."""
    ws = web.WebSocketResponse(autoping=False, max_msg_size=MAX_FRAME)
    if not ws.can_prepare(request).ok:
        raise web.HTTPUpgradeRequired(text="WebSocket upgrade required\n")
    await ws.prepare(request)
    transport = request.transport
    assert transport is not None
    loop = asyncio.get_running_loop()
    closing: set[asyncio.Task[object]] = set()

    def spawn(coro: Coroutine[object, object, object]) -> None:
        task = loop.create_task(coro)
        closing.add(task)
        task.add_done_callback(closing.discard)

    def close(code: int, message: str) -> None:
        spawn(ws.close(code=code, message=message.encode()))

    client = Client(transport, combined, close, ws=ws)
    client.spawn = spawn
    return client


async def messages(client: Client) -> AsyncIterator[WSMessage]:
    """The client's data frames until it closes. As Binance: the server pings every
    ``PING_S`` and closes a connection that sent no pong for ``PONG_WAIT_S``; it answers
    pings with the same payload; a connection lives ``LIFETIME_S`` at most."""
    ws = client.ws
    assert ws is not None
    loop = asyncio.get_running_loop()
    last_pong = loop.time()
    timer: asyncio.TimerHandle | None = None

    def beat() -> None:
        nonlocal timer
        if loop.time() - last_pong > PONG_WAIT_S:
            client.close(1008, "no pong")
            return
        client.spawn(ws.ping())
        timer = loop.call_later(PING_S, beat)

    timer = loop.call_later(PING_S, beat)
    lifetime = loop.call_later(LIFETIME_S, client.close, 1000, "24 hour connection lifetime")
    try:
        while True:
            msg = await ws.receive()
            if msg.type is WSMsgType.PING:
                await ws.pong(msg.data)
            elif msg.type is WSMsgType.PONG:
                last_pong = loop.time()
            elif msg.type in (WSMsgType.TEXT, WSMsgType.BINARY):
                yield msg
            else:
                return
    finally:
        if timer is not None:
            timer.cancel()
        lifetime.cancel()


class Fanout:
    def __init__(
        self,
        service: VenueService,
        marketdata: MarketData,
        symbols: Callable[[], SymbolMap | None],
        default_stp: Callable[[], str],
        clock_ms: Callable[[], int],
    ) -> None:
        self.service, self.md, self.symbols = service, marketdata, symbols
        self.default_stp, self.clock_ms = default_stp, clock_ms
        self.subs: dict[str, set[Client]] = defaultdict(set)
        self.parsed: dict[str, s.Stream] = {}
        self.users: dict[str, set[Client]] = defaultdict(set)
        self.totals: dict[str, dict[str, int]] = {}  # watched user -> asset -> total units
        self.book_watch: dict[str, int] = defaultdict(int)  # iid -> depth-family streams
        self.windows: dict[tuple[str, int], _Window] = {}
        self.book_seq: dict[str, int] = {}
        self.book_dirty: dict[int, set[str]] = {100: set(), 1000: set()}
        self.ticker_dirty: set[str] = set()
        self.kline_dirty: set[str] = set()
        self.dirty: list[Client] = []
        self._flush_scheduled = False
        self._ticks = 0
        self._task: asyncio.Task[None] | None = None
        service.add_listener(self.on_publication)

    # -- subscriptions --------------------------------------------------------------------
    def listing(self, stream: s.Stream) -> Listing | None:
        symbols = self.symbols()
        if symbols is None:
            return None
        try:
            return symbols.get(stream.symbol)
        except Exception:
            return None

    def check(self, name: str) -> s.Stream:
        """A stream name this surface serves, or ``BadStream``."""
        stream = self.parsed.get(name) or s.parse_stream(name)
        if stream.symbol and self.listing(stream) is None:
            raise s.BadStream(name)
        return stream

    def subscribe(self, client: Client, name: str) -> None:
        stream = self.check(name)
        if name in client.streams:
            return
        self.parsed[name] = stream
        client.streams.add(name)
        self.subs[name].add(client)
        lst = self.listing(stream) if stream.symbol else None
        if lst is not None and stream.kind in DEPTH_KINDS:
            iid = lst.inst.id
            self.book_watch[iid] += 1
            if self.book_watch[iid] == 1:
                snap = self.md.subscribe_depth(iid, 0)
                self.book_seq[iid] = snap.sequence
        self._start()

    def unsubscribe(self, client: Client, name: str) -> None:
        if name not in client.streams:
            return
        client.streams.discard(name)
        subs = self.subs.get(name)
        if subs is not None:
            subs.discard(client)
            if not subs:
                del self.subs[name]
        stream = self.parsed.get(name)
        lst = self.listing(stream) if stream is not None and stream.symbol else None
        if stream is not None and lst is not None and stream.kind in DEPTH_KINDS:
            iid = lst.inst.id
            self.book_watch[iid] -= 1
            if self.book_watch[iid] <= 0:
                del self.book_watch[iid]
                self.md.unsubscribe_depth(iid, 0)
                for speed in (100, 1000):
                    self.windows.pop((iid, speed), None)

    def add_user(self, client: Client, user: str) -> None:
        if user not in self.users:
            self.totals[user] = {a: f + r for a, (f, r) in self.service.balances(user).items()}
        self.users[user].add(client)

    def remove(self, client: Client) -> None:
        for name in list(client.streams):
            self.unsubscribe(client, name)
        for user, clients in list(self.users.items()):
            clients.discard(client)
            if not clients:
                del self.users[user]
                self.totals.pop(user, None)

    # -- pushing --------------------------------------------------------------------------
    def send(self, client: Client, payload: bytes) -> None:
        self._push(client, text_frame(payload))

    def _push(self, client: Client, frame: bytes) -> None:
        if client.push(frame):
            self.dirty.append(client)
            if not self._flush_scheduled:
                self._flush_scheduled = True
                asyncio.get_running_loop().call_soon(self.flush)

    def publish(self, name: str, payload: bytes) -> None:
        clients = self.subs.get(name)
        if not clients:
            return
        raw = wrapped = None
        for c in clients:
            if c.combined:
                if wrapped is None:
                    wrapped = text_frame(s.combined(name, payload))
                self._push(c, wrapped)
            else:
                if raw is None:
                    raw = text_frame(payload)
                self._push(c, raw)

    def flush(self) -> None:
        self._flush_scheduled = False
        dirty, self.dirty = self.dirty, []
        for c in dirty:
            data = b"".join(c.outbox)
            c.outbox.clear()
            if c.transport.is_closing():
                continue
            c.transport.write(data)
            if c.transport.get_write_buffer_size() > BUDGET_BYTES:
                c.close(1008, "slow consumer")

    # -- the venue listener --------------------------------------------------------------
    def on_publication(self, pub: Publication) -> None:
        symbols = self.symbols()
        if symbols is None:
            return
        if pub.updates is not None and (self.subs or self.book_watch):
            ts = pub.updates.ts
            for iid, u in pub.updates.instruments.items():
                try:
                    lst = symbols.of(iid)
                except KeyError:
                    continue
                self._market(lst, u, ts)
        if self.users and pub.result is not None:
            self._private(symbols, pub)

    def _market(self, lst: Listing, u: InstrumentUpdate, ts: int) -> None:
        iid, sym = lst.inst.id, lst.symbol.lower()
        delta = u.book
        if delta is not None and iid in self.book_watch:
            for speed in (100, 1000):
                w = self.windows.setdefault((iid, speed), _Window())
                if w.first < 0:
                    w.first = delta.prev_sequence + 1
                w.last = delta.sequence
                for p, q in delta.bids:
                    w.bids[p] = q
                for p, q in delta.asks:
                    w.asks[p] = q
                self.book_dirty[speed].add(iid)
            self.book_seq[iid] = delta.sequence
            if f"{sym}@bookTicker" in self.subs:
                bt = self.md.ticker(iid)
                self.publish(f"{sym}@bookTicker", s.book_ticker(lst, bt, delta.sequence))
        for t in u.trades:
            if f"{sym}@trade" in self.subs:
                self.publish(f"{sym}@trade", s.trade(lst, t, ts))
            if f"{sym}@aggTrade" in self.subs:
                self.publish(f"{sym}@aggTrade", s.agg_trade(lst, t, ts))
        if u.ticker_changed or u.trades:
            self.ticker_dirty.add(iid)
        if u.candles_changed or u.closed:
            self.kline_dirty.add(iid)
            for c in u.closed:
                self.publish(f"{sym}@kline_{c.interval}", s.kline(lst, c, ts))

    def _private(self, symbols: SymbolMap, pub: Publication) -> None:
        fills: dict[tuple[str, int], list[Fill]] = defaultdict(list)
        balances: dict[str, dict[str, tuple[str, str]]] = defaultdict(dict)
        trading: set[str] = set()  # users with order events: their balance moves are trades
        moves: list[tuple[str, str, int]] = []
        assets = self.service.config.assets
        for ev in pub.events:
            t = type(ev)
            if t is OrderUpdate or t is Fill:
                assert isinstance(ev, OrderUpdate | Fill)
                trading.add(ev.user)
                if t is Fill and ev.user in self.users:
                    assert isinstance(ev, Fill)
                    fills[(ev.user, ev.order_id)].append(ev)
            elif t is Balance:
                assert isinstance(ev, Balance)
                if ev.user not in self.users:
                    continue
                a = assets.get(ev.asset)
                if a is not None:
                    balances[ev.user][ev.asset] = (
                        fixed(a.from_units(ev.available), a.decimals),
                        fixed(a.from_units(ev.reserved), a.decimals),
                    )
                totals = self.totals.setdefault(ev.user, {})
                before = totals.get(ev.asset, 0)
                totals[ev.asset] = ev.total
                if ev.total != before:
                    moves.append((ev.user, ev.asset, ev.total - before))
        stp = self.default_stp()
        for ev in pub.events:
            if type(ev) is not OrderUpdate or ev.user not in self.users:
                continue
            try:
                lst = symbols.of(ev.instrument)
            except KeyError:
                continue
            queue = fills.get((ev.user, ev.order_id))
            fill = queue.pop(0) if queue and ev.last_fill_qty > 0 else None
            report = s.execution_report(lst, ev, fill, pub.ts, stp)
            self.send_user(ev.user, report)
        for user, bal in balances.items():
            self.send_user(user, s.account_position(bal, pub.ts, pub.ts))
        for user, asset, units in moves:  # a deposit or withdrawal: no order moved it
            a = assets.get(asset)
            if user not in trading and a is not None:
                delta = fixed(a.from_units(units), a.decimals)
                self.send_user(user, s.balance_update(asset, delta, pub.ts))

    def send_user(self, user: str, event: dict[str, object]) -> None:
        payload = s.encode(event)
        raw = None
        for c in self.users.get(user, ()):
            if c.user == user:
                if raw is None:
                    raw = text_frame(payload)
                self._push(c, raw)
            for sub_id, owner in c.wsapi.items():
                if owner == user:
                    body = b'{"subscriptionId":%d,"event":' % sub_id + payload + b"}"
                    self._push(c, text_frame(body))

    # -- the timer: 100 ms and 1000 ms streams --------------------------------------------
    def _start(self) -> None:
        if self._task is None or self._task.done():
            self._task = asyncio.get_running_loop().create_task(self._run())

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def _run(self) -> None:
        while True:
            await asyncio.sleep(TICK_S)
            try:
                self.tick()
            except Exception:
                log.exception("binance stream tick failed")

    def tick(self) -> None:
        symbols = self.symbols()
        if symbols is None:
            return
        self._ticks += 1
        now = self.clock_ms()
        self._emit_book(symbols, 100, now)
        if self._ticks % 10:
            return
        self._emit_book(symbols, 1000, now)
        self._emit_tickers(symbols, now)

    def _emit_book(self, symbols: SymbolMap, speed: int, now: int) -> None:
        dirty, self.book_dirty[speed] = self.book_dirty[speed], set()
        suffix = "@100ms" if speed == 100 else ""
        for iid in dirty:
            lst = symbols.of(iid)
            sym = lst.symbol.lower()
            w = self.windows.pop((iid, speed), None)
            name = f"{sym}@depth{suffix}"
            if w is not None and w.first >= 0 and name in self.subs:
                bids = sorted(w.bids.items(), reverse=True)
                asks = sorted(w.asks.items())
                self.publish(name, s.depth_update(lst, w.first, w.last, bids, asks, now))
            for n in s.PARTIAL_LEVELS:
                pname = f"{sym}@depth{n}{suffix}"
                if pname in self.subs:
                    snap = self.md.book_snapshot(iid, n)
                    seq = self.book_seq.get(iid, snap.sequence)
                    self.publish(pname, s.partial_depth(lst, seq, snap.bids, snap.asks))

    def _emit_tickers(self, symbols: SymbolMap, now: int) -> None:
        dirty, self.ticker_dirty = self.ticker_dirty, set()
        pairs: list[tuple[Listing, Ticker]] = []
        for iid in sorted(dirty):
            lst = symbols.of(iid)
            sym = lst.symbol.lower()
            t = self.md.ticker(iid)
            pairs.append((lst, t))
            if f"{sym}@ticker" in self.subs:
                self.publish(f"{sym}@ticker", s.ticker(lst, t, now))
            if f"{sym}@miniTicker" in self.subs:
                self.publish(f"{sym}@miniTicker", s.ticker(lst, t, now, mini=True))
        if pairs:
            if s.Kind.ALL_TICKER.value in self.subs:
                self.publish(s.Kind.ALL_TICKER.value, s.all_tickers(pairs, now, mini=False))
            if s.Kind.ALL_MINI.value in self.subs:
                self.publish(s.Kind.ALL_MINI.value, s.all_tickers(pairs, now, mini=True))
        kdirty, self.kline_dirty = self.kline_dirty, set()
        for iid in sorted(kdirty):
            lst = symbols.of(iid)
            sym = lst.symbol.lower()
            for c in self.md.live_candles(iid):
                name = f"{sym}@kline_{c.interval}"
                if name in self.subs:
                    self.publish(name, s.kline(lst, c, now))
