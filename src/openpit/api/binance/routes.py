"""aiohttp handlers of the Binance streams: raw, combined, SUBSCRIBE, listenKey, WS API.

Invariants:
- Every path is under ``/binance``; the REST surface (``app[SURFACE]``) provides the
  key store and weights, so its keys and limits hold here too.
- Frames to a client leave only through ``Fanout`` (one outbox, one write per tick), so
  a control reply never overtakes or splits a stream event.
- A listenKey is an unguessable token bound to one user; it lives ``LISTEN_KEY_MS``
  from its creation or last ``PUT``.
"""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import Callable
from dataclasses import dataclass

from aiohttp import WSMsgType, web

from openpit.api.binance.fanout import Client, Fanout, messages, open_socket
from openpit.api.binance.wsapi import WsApi, active_key
from openpit.binance import SURFACE
from openpit.binance import errors as e
from openpit.binance.request import split_params
from openpit.gateway.dialects.binance import streams as s

PREFIX = "/binance"
LISTEN_KEY_MS = 60 * 60 * 1000
SWEEP_S = 10.0
MAX_STREAMS = 1024


@dataclass
class ListenKey:
    user: str
    key_id: str
    expires: int


class StreamRoutes:
    def __init__(self, app: web.Application, fanout: Fanout, clock_ms: Callable[[], int]) -> None:
        self.app, self.fanout, self.clock_ms = app, fanout, clock_ms
        self.keys: dict[str, ListenKey] = {}
        self._sweep: asyncio.TimerHandle | None = None
        self.wsapi = WsApi(app, fanout, clock_ms)

    def register(self) -> None:
        r = self.app.router
        r.add_get(PREFIX + "/ws", self.ws)
        r.add_get(PREFIX + "/ws/{name}", self.ws)
        r.add_get(PREFIX + "/stream", self.stream)
        r.add_get(PREFIX + "/ws-api/v3", self.wsapi.handle)
        for method in ("POST", "PUT", "DELETE"):
            r.add_route(method, PREFIX + "/api/v3/userDataStream", self.user_data_stream)

    # -- listenKey REST -------------------------------------------------------------------
    def sweep(self) -> None:
        """Expire listenKeys: ``listenKeyExpired`` to their connections, which then close."""
        self._sweep = None
        now = self.clock_ms()
        for token, lk in list(self.keys.items()):
            if lk.expires < now:
                del self.keys[token]
                for c in list(self.fanout.users.get(lk.user, ())):
                    if c.listen_key == token:
                        self.fanout.send(c, s.listen_key_expired(token, now))
                        c.close(1000, "listenKey expired")
        self._arm()

    def _arm(self) -> None:
        if self.keys and self._sweep is None:
            self._sweep = asyncio.get_running_loop().call_later(SWEEP_S, self.sweep)

    def live_key(self, token: str) -> ListenKey | None:
        lk = self.keys.get(token)
        if lk is not None and lk.expires < self.clock_ms():
            del self.keys[token]
            return None
        return lk

    async def user_data_stream(self, request: web.Request) -> web.Response:
        """``POST`` -> ``{"listenKey": "pqia91ma19a5s61cv6a81va65sdf19v8a65a1..."}``;
        ``PUT``/``DELETE`` with ``listenKey`` -> ``{}``."""
        surface = request.app.get(SURFACE)
        headers: dict[str, str] = {}
        try:
            if surface is None:
                raise e.BinanceError(-1000, "the Binance surface is not enabled", 404)
            now = self.clock_ms()
            headers["X-MBX-USED-WEIGHT-1M"] = str(
                surface.weights.charge(request.remote or "", 2, now)
            )
            key = active_key(surface, request.headers.get("X-MBX-APIKEY"))
            key_id = key.key_id
            body = (await request.read()).decode("ascii", "replace")
            params = split_params(request.raw_path.partition("?")[2], body)
            if request.method == "POST":
                for token, lk in self.keys.items():
                    if lk.key_id == key_id and lk.expires >= now:
                        lk.expires = now + LISTEN_KEY_MS
                        return web.json_response({"listenKey": token}, headers=headers)
                token = secrets.token_urlsafe(48)
                self.keys[token] = ListenKey(key.user, key_id, now + LISTEN_KEY_MS)
                self._arm()
                return web.json_response({"listenKey": token}, headers=headers)
            token = params.get("listenKey", "")
            if not token:
                raise e.mandatory("listenKey")
            found = self.live_key(token)
            if found is None or found.key_id != key_id:
                raise e.BinanceError(-1125, "This listenKey does not exist.")
            if request.method == "PUT":
                found.expires = now + LISTEN_KEY_MS
            else:
                del self.keys[token]
                for c in list(self.fanout.users.get(found.user, ())):
                    if c.listen_key == token:
                        c.close(1000, "listenKey deleted")
            return web.json_response({}, headers=headers)
        except e.BinanceError as exc:
            return web.json_response(exc.body(), status=exc.status, headers=headers)

    # -- market and user-data streams ----------------------------------------------------
    async def ws(self, request: web.Request) -> web.StreamResponse:
        name = request.match_info.get("name", "")
        initial: list[str] = []
        user: tuple[str, str] | None = None
        if name:
            lk = self.live_key(name)
            if lk is not None:
                user = (lk.user, name)
            elif not name.isdigit():  # ccxt connects to /ws/<n> and then subscribes
                initial = [name]
        return await self._serve(request, initial, combined=False, user=user)

    async def stream(self, request: web.Request) -> web.StreamResponse:
        names = [n for n in request.query.get("streams", "").split("/") if n]
        return await self._serve(request, names, combined=True, user=None)

    async def _serve(
        self,
        request: web.Request,
        names: list[str],
        *,
        combined: bool,
        user: tuple[str, str] | None,
    ) -> web.StreamResponse:
        for n in names:
            try:
                self.fanout.check(n)
            except s.BadStream:
                return web.json_response(
                    {"code": -1121, "msg": f"Invalid symbol or stream {n!r}."}, status=400
                )
        client = await open_socket(request, combined)
        assert client.ws is not None
        ws = client.ws
        if user is not None:
            client.user, client.listen_key = user
            self.fanout.add_user(client, user[0])
        try:
            for n in names:
                self.fanout.subscribe(client, n)
            async for msg in messages(client):
                if msg.type is WSMsgType.TEXT:
                    self.control(client, msg.data)
                elif msg.type is WSMsgType.BINARY:
                    self.fanout.send(client, s.control_error(3, "Invalid JSON: binary frame"))
        finally:
            self.fanout.remove(client)
        return ws

    def control(self, client: Client, frame: str) -> None:
        """``{"method":"SUBSCRIBE","params":["btcusdt@aggTrade","btcusdt@depth"],"id":1}``
        -> ``{"result":null,"id":1}``."""
        f = self.fanout
        try:
            c = s.parse_control(frame)
            if c.method == "LIST_SUBSCRIPTIONS":
                f.send(client, s.control_result(c.id, sorted(client.streams)))
                return
            if c.method == "GET_PROPERTY":
                f.send(client, s.control_result(c.id, client.combined))
                return
            if c.method == "SET_PROPERTY":
                value = c.params[1] if len(c.params) == 2 else None
                if c.params[:1] != ["combined"] or not isinstance(value, bool):
                    raise s.ControlError(0, "Unknown property", c.id)
                client.combined = value
                f.send(client, s.control_result(c.id))
                return
            names = [str(p) for p in c.params]
            if c.method == "SUBSCRIBE":
                if len(client.streams) + len(names) > MAX_STREAMS:
                    raise s.ControlError(2, f"Invalid request: over {MAX_STREAMS} streams", c.id)
                for n in names:
                    lk = self.live_key(n)
                    if lk is not None:
                        client.user, client.listen_key = lk.user, n
                        f.add_user(client, lk.user)
                        continue
                    try:
                        f.check(n)
                    except s.BadStream:
                        raise s.ControlError(
                            2, f"Invalid request: invalid stream name {n!r}", c.id
                        ) from None
                # reply first: ccxt fetches the REST snapshot on this reply, and events
                # of the new streams must follow it
                f.send(client, s.control_result(c.id))
                for n in names:
                    if self.live_key(n) is None:
                        f.subscribe(client, n)
                return
            for n in names:
                f.unsubscribe(client, n)
            f.send(client, s.control_result(c.id))
        except s.ControlError as exc:
            f.send(client, s.control_error(exc.code, exc.msg, exc.request_id))
