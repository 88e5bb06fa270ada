"""Binance's WebSocket API at ``/binance/ws-api/v3``: ``{id, method, params}`` requests.

Invariants:
- A signed request carries ``apiKey``, ``timestamp`` and ``signature`` = hex HMAC-SHA256
  over its other parameters sorted by name as ``k=v&...`` (web-socket-api.md, HMAC);
  ``session.logon`` binds the connection to that key, after which ``apiKey`` and
  ``signature`` may be left out. Trading goes through the REST surface's ``Trading``
  (same venue commands, same replies as ``/api/v3``).
- Replies: ``{"id", "status": 200, "result", "rateLimits"}`` or ``{"id", "status",
  "error": {"code", "msg"}}``; user-data events after
  ``userDataStream.subscribe[.signature]`` arrive as ``{"subscriptionId", "event"}``
  and only for the subscribing key's user.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from typing import TYPE_CHECKING

import msgspec
from aiohttp import WSMsgType, web

from openpit.api.binance.fanout import Client, Fanout, messages, open_socket
from openpit.binance import SURFACE
from openpit.binance import errors as e
from openpit.binance.request import check_signature, check_timing
from openpit.binance.trading import Caller
from openpit.core.access import ApiKey

if TYPE_CHECKING:
    from openpit.binance.routes import Surface

_enc = msgspec.json.Encoder()


class _Request(msgspec.Struct, frozen=True):
    method: str
    id: int | str | None = None
    params: dict[str, object] = msgspec.field(default_factory=dict)


def _text(v: object) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, list):
        return _enc.encode(v).decode()
    return str(v)


def wire_params(params: Mapping[str, object]) -> dict[str, str]:
    """JSON parameters as the text Binance signs: ``100`` -> ``"100"``, ``true`` -> ``"true"``."""
    return {k: _text(v) for k, v in params.items()}


def usage(surface: Surface, used: int) -> list[dict[str, object]]:
    """``rateLimits`` of a reply: the request-weight limit with this minute's ``count``."""
    return [
        {**limit, "count": used}
        for limit in surface.limits
        if limit.get("rateLimitType") == "REQUEST_WEIGHT"
    ]


def signing_payload(params: Mapping[str, str]) -> str:
    """``apiKey=...&symbol=BTCUSDT&timestamp=...``: every parameter but ``signature``,
    sorted by name."""
    return "&".join(f"{k}={v}" for k, v in sorted(params.items()) if k != "signature")


def active_key(surface: Surface, key_id: str | None) -> ApiKey:
    """The active openpit API key ``key_id`` (-2014 when absent, -2015 when unknown)."""
    if not key_id:
        raise e.bad_api_key_format()
    key = surface.store.get_api_key(key_id)
    if key is None or not key.active:
        raise e.rejected_key()
    return key


class _Session:
    def __init__(self, client: Client) -> None:
        self.client = client
        self.key_id: str | None = None  # session.logon
        self.next_sub = 0
        self.logon_subs: set[int] = set()  # opened by userDataStream.subscribe (logon)


class WsApi:
    def __init__(self, app: web.Application, fanout: Fanout, clock_ms: Callable[[], int]) -> None:
        self.app, self.fanout, self.clock_ms = app, fanout, clock_ms

    async def handle(self, request: web.Request) -> web.StreamResponse:
        client = await open_socket(request, combined=False)
        assert client.ws is not None
        ws, session = client.ws, _Session(client)
        try:
            async for msg in messages(client):
                if msg.type is WSMsgType.TEXT:
                    reply = await self.dispatch(session, msg.data, request.remote or "")
                    self.fanout.send(session.client, reply)
        finally:
            self.fanout.remove(session.client)
        return ws

    async def dispatch(self, session: _Session, frame: str, ip: str) -> bytes:
        """``{"id":"1","method":"order.status","params":{"symbol":"BTCUSDT","orderId":1,
        "apiKey":"...","timestamp":1,"signature":"..."}}`` -> ``{"id":"1","status":200,
        "result":{...},"rateLimits":[...]}``."""
        rid: int | str | None = None
        surface: Surface | None = self.app.get(SURFACE)
        try:
            try:
                req = msgspec.json.decode(frame, type=_Request)
            except (msgspec.DecodeError, msgspec.ValidationError):
                raise e.BinanceError(-1013, "Invalid JSON or request shape.") from None
            rid = req.id
            if surface is None:
                raise e.BinanceError(-1000, "the Binance surface is not enabled", 404)
            params = wire_params(req.params)
            now = self.clock_ms()
            used = surface.weights.charge(ip, 1, now)
            result = await self.call(surface, session, req.method, params, now, ip)
            if isinstance(result, tuple):
                result = result[0]
            return _enc.encode(
                {"id": rid, "status": 200, "result": result, "rateLimits": usage(surface, used)}
            )
        except e.BinanceError as exc:
            return _enc.encode({"id": rid, "status": exc.status, "error": exc.body()})

    def caller(
        self, surface: Surface, session: _Session, params: dict[str, str], now: int, ip: str
    ) -> Caller:
        key_id = params.get("apiKey") or session.key_id
        if not key_id:
            raise e.mandatory("apiKey")
        key = active_key(surface, key_id)
        if "signature" in params or session.key_id != key_id:
            check_signature(key.secret, signing_payload(params), params.get("signature"))
        check_timing(params, now)
        return Caller(key.user, key.permissions, now, ip)

    async def call(
        self,
        surface: Surface,
        session: _Session,
        method: str,
        params: dict[str, str],
        now: int,
        ip: str,
    ) -> object:
        if method == "ping":
            return {}
        if method == "time":
            return {"serverTime": now}
        t = surface.trading
        signed: dict[str, Callable[[Mapping[str, str], Caller], Awaitable[object]]] = {
            "order.place": t.place,
            "order.status": t.query,
            "order.cancel": t.cancel,
            "openOrders.status": t.open_orders,
            "openOrders.cancelAll": t.cancel_all,
            "allOrders": t.all_orders,
            "account.status": t.account,
            "myTrades": t.my_trades,
            "account.rateLimits.orders": t.order_count,
        }
        if method == "order.test":
            caller = self.caller(surface, session, params, now, ip)
            return await t.place(self._trade_params(params), caller, test=True)
        if method in signed:
            caller = self.caller(surface, session, params, now, ip)
            return await signed[method](self._trade_params(params), caller)
        if method == "session.logon":
            caller = self.caller(surface, session, params, now, ip)
            session.key_id = params["apiKey"]
            return self._status(session, now)
        if method == "session.status":
            return self._status(session, now)
        if method == "session.logout":  # ends the logon subscriptions only
            session.key_id = None
            self._end(session, sorted(session.logon_subs), now)
            return self._status(session, now)
        if method == "session.subscriptions":
            return [{"subscriptionId": sub} for sub in sorted(session.client.wsapi)]
        if method in ("userDataStream.subscribe", "userDataStream.subscribe.signature"):
            if method == "userDataStream.subscribe":  # the logged-on key, no parameters
                if session.key_id is None:
                    msg = "You are not authorized to execute this request."
                    raise e.BinanceError(-1002, msg, 401)
                user = active_key(surface, session.key_id).user
            else:
                user = self.caller(surface, session, params, now, ip).user
            sub = session.next_sub
            session.next_sub += 1
            session.client.wsapi[sub] = user
            if method == "userDataStream.subscribe":
                session.logon_subs.add(sub)
            self.fanout.add_user(session.client, user)
            return {"subscriptionId": sub}
        if method == "userDataStream.unsubscribe":
            sid = params.get("subscriptionId")
            if sid is None:
                self._end(session, sorted(session.client.wsapi), now)
            elif sid.isdigit():
                self._end(session, [int(sid)], now)
            return {}
        raise e.BinanceError(-1020, f"Unsupported method {method!r}.")

    def _end(self, session: _Session, subs: list[int], now: int) -> None:
        """Close ``subs``: each gets ``{"subscriptionId": n, "event":
        {"e": "eventStreamTerminated", "E": now}}`` (user-data-stream.md)."""
        for sub in subs:
            if session.client.wsapi.pop(sub, None) is None:
                continue
            session.logon_subs.discard(sub)
            event = {"e": "eventStreamTerminated", "E": now}
            self.fanout.send(session.client, _enc.encode({"subscriptionId": sub, "event": event}))

    @staticmethod
    def _trade_params(params: Mapping[str, str]) -> dict[str, str]:
        return {k: v for k, v in params.items() if k not in ("apiKey", "signature")}

    def _status(self, session: _Session, now: int) -> dict[str, object]:
        return {
            "apiKey": session.key_id,
            "authorizedSince": now if session.key_id else None,
            "connectedSince": now,
            "returnRateLimits": True,
            "serverTime": now,
            "userDataStream": bool(session.client.wsapi),
        }
