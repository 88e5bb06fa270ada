"""Gateway-derived streams and connection housekeeping for the typed dialect (spec 004).

What the venue does not publish as events but spec 004 streams:
- ``price_update`` per pricing instrument, at most one per ``price_interval`` (the first
  change after a quiet period at once, a trailing one with the final state);
- ``portfolio_update`` per (user, valuation asset): after every change of the user's
  balances or positions (coalesced per loop tick) and every ``portfolio_interval``;
- margin ``position_update`` re-marked at each trade of the instrument (the ledger only
  emits a position when it changes; its mark, PnL and margin ratio move with the price).

Connection housekeeping (dialects whose spec has ``heartbeat=Heartbeat.FRAMES``):
- a WebSocket ping frame every ``frame_ping_interval``; the pong's round trip is the
  connection's ``latency`` and counts as inbound traffic;
- a token login whose ``exp`` passes while connected: the private subscriptions end,
  an ``AUTH_FAILED`` error is sent and the connection closes (policy).

Invariants: everything is published through ``Hub.publish`` (rendered once per
dialect and key, framed once); private keys carry the user as variant, as everywhere.
Runs on the loop; nothing here blocks.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import struct
import time
from collections.abc import Callable
from typing import TYPE_CHECKING

import msgspec

from openpit.core.events import Position, Trade
from openpit.gateway.connection import Connection
from openpit.gateway.dialects.base import Bound, Heartbeat
from openpit.gateway.frames import ping_frame
from openpit.gateway.model import (
    ALL_INSTRUMENTS,
    MARGIN_ONLY,
    Channel,
    CloseReason,
    ErrorKind,
    SessionReason,
)
from openpit.gateway.subscriptions import Key
from openpit.venue.views import Publication

if TYPE_CHECKING:
    from openpit.gateway.hub import Hub

log = logging.getLogger("openpit.gateway")

_PRICE = Channel.PRICE.value
_PORTFOLIO = Channel.PORTFOLIO.value
_POSITIONS = Channel.POSITIONS.value


class Streams:
    def __init__(self, hub: Hub) -> None:
        self.hub = hub
        self.config = hub.config
        # instrument -> user -> latest open margin position
        self.positions: dict[str, dict[str, Position]] = {}
        self._price_last: dict[str, float] = {}
        self._price_handles: dict[str, asyncio.Handle] = {}
        self._dirty_users: dict[str, None] = {}
        self._portfolio_scheduled = False
        self._expiry: dict[Connection, asyncio.TimerHandle] = {}
        self._task: asyncio.Task[None] | None = None
        hub.service.add_listener(self.on_result)  # after the hub: market data is applied

    # -- lifecycle ----------------------------------------------------------------------
    def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self._run())

    async def stop(self) -> None:
        self.hub.service.remove_listener(self.on_result)
        for handle in [*self._price_handles.values(), *self._expiry.values()]:
            handle.cancel()
        self._price_handles.clear()
        self._expiry.clear()
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def _run(self) -> None:
        s = self.hub.settings
        tick = max(0.01, min(1.0, s.frame_ping_interval / 4, s.portfolio_interval / 4))
        last_portfolio = time.monotonic()
        while True:
            await asyncio.sleep(tick)
            try:
                now = time.monotonic()
                self.ping_frames(now)
                if now - last_portfolio >= s.portfolio_interval:
                    last_portfolio = now
                    self.publish_portfolios(None)
            except Exception:  # pragma: no cover - never let the timer die silently
                log.exception("typed streams timer failed")

    # -- venue results --------------------------------------------------------------------
    def on_result(self, result: Publication) -> None:
        traded: dict[str, int] = {}
        published: set[tuple[str, str]] = set()
        for ev in result.events:
            if type(ev) is Trade:
                assert isinstance(ev, Trade)
                traded[ev.instrument] = ev.price
            elif type(ev) is Position:
                assert isinstance(ev, Position)
                if ev.margin_mode:
                    self._track(ev)
                    published.add((ev.instrument, ev.user))
                    self._publish_position(ev)
        for iid, price in traded.items():
            self.touch_price(iid)
            for user, pos in list(self.positions.get(iid, {}).items()):
                marked = msgspec.structs.replace(pos, mark_price=price, ts=result.ts)
                self.positions[iid][user] = marked
                if (iid, user) not in published:
                    self._publish_position(marked)
        users = result.accounts
        if users:
            self._dirty_users.update(dict.fromkeys(users))
            if not self._portfolio_scheduled:
                self._portfolio_scheduled = True
                self.hub.loop.call_soon(self._flush_portfolios)

    def _track(self, pos: Position) -> None:
        per = self.positions.setdefault(pos.instrument, {})
        if pos.qty:
            per[pos.user] = pos
        else:
            per.pop(pos.user, None)
            if not per:
                del self.positions[pos.instrument]

    def _publish_position(self, pos: Position) -> None:
        key = Key(_POSITIONS, MARGIN_ONLY, pos.user)
        if key not in self.hub.registry.subs:
            return
        inst = self.config.instruments[pos.instrument]
        self.hub.publish_private(key, pos.user, lambda d: d.core.render_position(inst, pos))

    def margin_positions(self, user: str) -> list[Position]:
        return [per[user] for per in self.positions.values() if user in per]

    # -- price updates --------------------------------------------------------------------
    def price_key(self, symbol: str, venue: str | None) -> Key | None:
        """The key of ``price_<symbol>``: its pricing instrument (None: unknown)."""
        inst = self.config.resolve(symbol, venue)
        if inst is None and venue is None:
            inst = next(
                (i for i in self.config.instruments.values() if i.base.symbol == symbol), None
            )
        return None if inst is None else Key(_PRICE, inst.id, None)

    def touch_price(self, iid: str) -> None:
        if not self.hub.registry.watched(Channel.PRICE, iid) or iid in self._price_handles:
            return
        loop = self.hub.loop
        delay = self._price_last.get(iid, -1e18) + self.hub.settings.price_interval - loop.time()
        if delay <= 0:
            self._price_handles[iid] = loop.call_soon(self._emit_price, iid)
        else:
            self._price_handles[iid] = loop.call_later(delay, self._emit_price, iid)

    def _emit_price(self, iid: str) -> None:
        self._price_handles.pop(iid, None)
        self._price_last[iid] = self.hub.loop.time()
        render = self.price_render(iid)
        if render is not None:
            self.hub.publish(Key(_PRICE, iid, None), render)

    def price_render(self, iid: str) -> Callable[[Bound], bytes | None] | None:
        price = getattr(self.hub.marketdata, "price", None)
        update = None if price is None else price(iid)
        if update is None:
            return None
        inst = self.config.instruments[iid]
        now = self.hub.clock_ms()
        return lambda d: d.prices.render_price(inst, update, now) if d.prices else None

    # -- portfolios -----------------------------------------------------------------------
    def _flush_portfolios(self) -> None:
        self._portfolio_scheduled = False
        users, self._dirty_users = self._dirty_users, {}
        self.publish_portfolios(users)

    def publish_portfolios(self, users: dict[str, None] | None) -> None:
        """Portfolio updates for ``users`` (None: every subscribed user)."""
        keys = [
            k
            for k in self.hub.registry.subs
            if k.channel == _PORTFOLIO and (users is None or k.variant in users)
        ]
        for key in keys:
            render = self.portfolio_render(key)
            if render is not None:
                assert isinstance(key.variant, str)
                self.hub.publish_private(key, key.variant, render)

    def valuation_asset(self, asset: str | None) -> str | None:
        """The asset a portfolio is valued in (None: unknown asset)."""
        if asset is None or asset == ALL_INSTRUMENTS:
            return (
                getattr(self.hub.marketdata, "valuation_asset", None)
                or next(iter(self.config.instruments.values())).quote.symbol
            )
        return asset if asset in self.config.assets else None

    def places(self, asset: str) -> int:
        """Display decimals of money in ``asset``: the price precision of the first
        instrument quoted in it, else the asset's decimals."""
        for inst in self.config.instruments.values():
            if inst.quote.symbol == asset:
                return inst.price_decimals
        return self.config.assets[asset].decimals

    def portfolio_render(self, key: Key) -> Callable[[Bound], bytes | None] | None:
        portfolio = getattr(self.hub.marketdata, "portfolio", None)
        user = key.variant
        asset = self.valuation_asset(key.instrument)
        if portfolio is None or asset is None or not isinstance(user, str):
            return None
        value = portfolio(user, asset)
        assets = self.config.assets
        places = self.places(asset)
        now = self.hub.clock_ms()
        return lambda d: (
            d.portfolio.render_portfolio(value, assets, places, now) if d.portfolio else None
        )

    # -- subscription snapshots -----------------------------------------------------------
    def initial(self, conn: Connection, key: Key) -> None:
        """What a new subscriber of ``key`` gets first (price, portfolio, positions)."""
        render: Callable[[Bound], bytes | None] | None = None
        channel, iid, variant = key
        if channel == _PRICE:
            render = self.price_render(iid)
        elif channel == _PORTFOLIO:
            render = self.portfolio_render(key)
        elif channel == _POSITIONS and iid == MARGIN_ONLY and isinstance(variant, str):
            for pos in self.margin_positions(variant):
                inst = self.config.instruments[pos.instrument]
                conn.send(conn.dialect.core.render_position(inst, pos))
        if render is not None:
            payload = render(conn.dialect)
            if payload is not None:
                conn.send(payload)

    # -- connection housekeeping ------------------------------------------------------------
    def ping_frames(self, now: float) -> None:
        """A WebSocket ping frame every ``frame_ping_interval`` to ``frames`` dialects."""
        interval = self.hub.settings.frame_ping_interval
        for conn in list(self.hub.connections):
            if not conn.active or conn.dialect.spec.heartbeat is not Heartbeat.FRAMES:
                continue
            if now - conn.last_beat >= interval:
                conn.last_beat = now
                conn.push_frame(ping_frame(struct.pack("!Q", time.monotonic_ns())))

    def on_pong(self, conn: Connection, data: bytes) -> None:
        """A pong frame: inbound traffic; the round trip of our ping is the latency."""
        now = time.monotonic()
        conn.last_rx = now
        conn.ping_sent = None
        if len(data) == 8:
            (sent,) = struct.unpack("!Q", data)
            rtt = (time.monotonic_ns() - sent) // 1_000_000
            if 0 <= rtt < 3_600_000:
                conn.latency_ms = rtt

    def watch_expiry(self, conn: Connection) -> None:
        """End the session when the token of ``conn`` expires."""
        p = conn.principal
        if p is None or p.expires_ms is None:
            return
        delay = max(0.0, (p.expires_ms - self.hub.clock_ms()) / 1000)
        self._expiry[conn] = self.hub.loop.call_later(delay, self._expire, conn)

    def forget(self, conn: Connection) -> None:
        handle = self._expiry.pop(conn, None)
        if handle is not None:
            handle.cancel()

    def _expire(self, conn: Connection) -> None:
        self._expiry.pop(conn, None)
        if not conn.active:
            return
        hub = self.hub
        for key in [k for k in conn.subscriptions if Channel(k.channel).private]:
            hub.registry.remove(key, conn)
        message = "Token expired: private subscriptions ended"
        hub.stats.errors[ErrorKind.UNAUTHORIZED.value] = (
            hub.stats.errors.get(ErrorKind.UNAUTHORIZED.value, 0) + 1
        )
        conn.send(
            conn.dialect.core.render_error(
                ErrorKind.UNAUTHORIZED,
                message,
                hub.clock_ms(),
                None,
                reason=SessionReason.AUTH_FAILED,
            )
        )
        hub.close(conn, CloseReason.AUTH_FAILED, "token expired")
