"""The aiohttp application: HTTP and every WebSocket endpoint on one port.

Invariants:
- ``/ws`` speaks flat or typed, chosen by the first frame (``action`` → flat,
  ``type`` → typed) unless ``?dialect=`` forces one; ``/ws/market-data``,
  ``/ws/trading``, ``/ws/notifications``, ``/ws/custom`` speak envelope; ``/`` with
  an upgrade speaks typed. A dialect whose module is not built answers once in its
  spec's error shape and closes with 1011.
- Per connection the asyncio layer is thin: read a frame, hand it to ``session``;
  everything written goes through the connection's outbox (see ``hub``).
- One sweeper task per app drives heartbeats for every connection.
- ``shutdown`` stops accepting, tells every client in its dialect, closes each with
  1001 and waits (bounded) for the closes; the caller then flushes the journal.
- ``/healthz`` answers 200 ``{"status": "ok", ...}`` while every component on the
  app's ``HEALTH`` board is healthy, and 503 ``{"status": "unhealthy", "unhealthy":
  [{"component", "state", "detail"}...], ...}`` naming each one that is dead, stuck or
  failing (``openpit.core.health``; docs/reliability.md "Worker health").
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib
import logging
import signal
import ssl
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import cast

import msgspec
from aiohttp import (
    WebSocketError,
    WSCloseCode,
    WSMessage,
    WSMsgType,
    hdrs,
    web,
)
from aiohttp.web_log import AccessLogger
from aiohttp.web_request import BaseRequest

from openpit.core.health import HealthBoard
from openpit.gateway import ip_limits, unsupported
from openpit.gateway.auth import Authenticator, KeyStore
from openpit.gateway.connection import Connection
from openpit.gateway.dialects.base import Bound, bind
from openpit.gateway.dialects.frame_limits import nesting_problem
from openpit.gateway.frames import Deflater
from openpit.gateway.hub import AccountSource, Hub, MarketSource, Service, wall_ms
from openpit.gateway.limits import RateLimiter
from openpit.gateway.metrics import make_registry, render
from openpit.gateway.model import CloseReason
from openpit.gateway.origins import origin_allowed
from openpit.gateway.session import handle
from openpit.gateway.settings import GatewaySettings
from openpit.gateway.streams import Streams
from openpit.gateway.tls_site import TlsSite

log = logging.getLogger("openpit.gateway")

# The dialect registry: one line per dialect package under ``gateway/dialects/``.
DIALECT_NAMES = ("flat", "envelope", "typed")
ENVELOPE_PATHS = ("/ws/market-data", "/ws/trading", "/ws/notifications", "/ws/custom")

HUB = web.AppKey("openpit.gateway.hub", Hub)
HEALTH = web.AppKey("openpit.gateway.health", HealthBoard)  # set by the server (optional)
_SWEEPER = web.AppKey("openpit.gateway.sweeper", asyncio.Task[None])
_SOCKETS = web.AppKey("openpit.gateway.sockets", set[web.WebSocketResponse])
_CLOSED = web.AppKey("openpit.gateway.shut", list[bool])

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
ABORTED = 499  # access-log status of an upgrade the client abandoned before the 101


class QuietAccessLogger(AccessLogger):
    """aiohttp's access log without upgrades the client abandoned before the 101: an
    expected client fault, already one debug line of ``openpit.gateway``."""

    def log(self, request: BaseRequest, response: web.StreamResponse, time: float) -> None:
        if response.status != ABORTED:
            super().log(request, response, time)


def load_dialects(names: tuple[str, ...] = DIALECT_NAMES) -> dict[str, Bound]:
    """Every registered dialect package that exists under ``openpit.gateway.dialects``,
    checked against the contract (``dialects.base.bind``): one that does not implement
    what its spec declares raises ``ContractError`` here, at start-up."""
    out: dict[str, Bound] = {}
    for name in names:
        module_name = f"openpit.gateway.dialects.{name}"
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as exc:
            if exc.name == module_name:
                continue
            raise
        out[name] = bind(name, module)
    return out


class _Head(msgspec.Struct):
    action: object = None
    type: object = None


_head = msgspec.json.Decoder(_Head)


def sniff(frame: str | bytes) -> str:
    """Dialect of a first frame on ``/ws``: ``type`` → typed, otherwise flat."""
    if nesting_problem(frame) is not None:
        return "flat"  # flat will answer with a clear 400
    try:
        head = _head.decode(frame)
    except (msgspec.DecodeError, msgspec.ValidationError):
        return "flat"  # flat will answer with a clear 400
    return "typed" if head.action is None and head.type is not None else "flat"


def create_app(
    service: Service,
    marketdata: MarketSource,
    keys: KeyStore,
    settings: GatewaySettings | None = None,
    *,
    authenticator: Authenticator | None = None,
    root_handler: Handler | None = None,
    clock_ms: Callable[[], int] = wall_ms,
    accounts: AccountSource | None = None,
) -> web.Application:
    """The gateway as an aiohttp application (HTTP + WebSocket on one port).

    ``marketdata`` is read only: the venue service applies every result to it before it
    publishes (``VenueService(..., marketdata=...)``).
    ``root_handler``: serves plain HTTP ``GET /`` (e.g. the dashboard).
    ``accounts``: balances/positions for account streams (default: the service's queries).
    """
    settings = settings or GatewaySettings()
    hub = Hub(
        service,
        marketdata,
        keys,
        settings,
        load_dialects(),
        authenticator=authenticator,
        clock_ms=clock_ms,
        accounts=accounts,
    )
    hub.streams = Streams(hub)
    app = web.Application()
    app[HUB] = hub
    ip_limits.install(app, settings, lambda: hub.count_close(ip_limits.LIMIT_REASON))
    app[_SOCKETS] = set()
    app[_CLOSED] = []
    registry = make_registry(hub.snapshot_stats)

    async def healthz(request: web.Request) -> web.Response:
        body: dict[str, object] = {
            "status": "ok" if hub.accepting else "shutting_down",
            "connections": len(hub.connections),
            "dialects": sorted(hub.dialects),
        }
        board = request.app.get(HEALTH)
        problems = [] if board is None else board.problems()
        if not problems:
            return web.json_response(body)
        body["status"] = "unhealthy"
        body["unhealthy"] = [
            {"component": p.name, "state": p.state.value, "detail": p.detail} for p in problems
        ]
        return web.json_response(body, status=503)

    async def metrics(request: web.Request) -> web.Response:
        return web.Response(body=render(registry), content_type="text/plain", charset="utf-8")

    def endpoint(forced: str | None) -> Handler:
        async def serve(request: web.Request) -> web.StreamResponse:
            return await _serve(request, forced)

        return serve

    async def root(request: web.Request) -> web.StreamResponse:
        probe = web.WebSocketResponse()
        if probe.can_prepare(request).ok:
            return await _serve(request, "typed")
        if root_handler is not None:
            return await root_handler(request)
        return web.Response(text="openpit gateway: WebSocket at /ws, health at /healthz\n")

    app.router.add_get("/healthz", healthz)
    app.router.add_get("/metrics", metrics)
    app.router.add_get("/ws", endpoint(None))
    for path in ENVELOPE_PATHS:
        app.router.add_get(path, endpoint("envelope"))
    app.router.add_get("/", root)
    app.on_startup.append(_start)
    app.on_shutdown.append(shutdown)
    app.on_cleanup.append(_cleanup)
    return app


async def _start(app: web.Application) -> None:
    hub = app[HUB]
    s = hub.settings
    tick = max(0.01, min(1.0, s.ping_interval / 4, s.pong_timeout / 4))

    async def sweep() -> None:
        while True:
            await asyncio.sleep(tick)
            try:
                hub.sweep(time.monotonic())
            except Exception:  # pragma: no cover - never let heartbeats die silently
                log.exception("heartbeat sweep failed")

    app[_SWEEPER] = asyncio.get_running_loop().create_task(sweep())
    if hub.streams is not None:
        hub.streams.start()


async def _cleanup(app: web.Application) -> None:
    task = app.get(_SWEEPER)
    if task is not None:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
    streams = app[HUB].streams
    if streams is not None:
        await streams.stop()
    app[HUB].detach()


async def shutdown(app: web.Application) -> None:
    """Graceful stop: refuse new connections, say goodbye in each dialect, close 1001."""
    if app[_CLOSED]:
        return
    app[_CLOSED].append(True)
    hub = app[HUB]
    hub.accepting = False
    conns = list(hub.connections)
    for conn in conns:
        hub.close(conn, CloseReason.GOING_AWAY, "Server shutting down")
    await asyncio.sleep(0)  # let those closes start with the dialect's code (envelope: 4004)
    others = [ws for ws in app[_SOCKETS] if not ws.closed]
    for ws in others:
        with contextlib.suppress(Exception):
            await ws.close(code=1001, message=b"Server shutting down", drain=False)
    waits = [asyncio.ensure_future(c.closed.wait()) for c in conns]
    if waits:
        _, pending = await asyncio.wait(waits, timeout=hub.settings.close_timeout + 1)
        for w in pending:
            w.cancel()


async def _serve(request: web.Request, forced: str | None) -> web.StreamResponse:
    app = request.app
    hub = app[HUB]
    if not hub.accepting:
        return web.Response(status=503, text="shutting down\n")
    wanted = request.query.get("dialect")
    if wanted is not None:
        if wanted not in DIALECT_NAMES:
            return web.Response(
                status=400, text=f"unknown dialect {wanted!r} (one of {', '.join(DIALECT_NAMES)})\n"
            )
        forced = wanted
    s = hub.settings
    # typed (spec 004) compresses when the client offers permessage-deflate; ``/ws`` may
    # turn out typed, so it accepts the offer too (a flat client never gets a compressed
    # frame: uncompressed messages stay valid on a deflate connection, RFC 7692)
    typed_ok = s.compress_typed and "typed" in hub.dialects and forced in (None, "typed")
    ws = web.WebSocketResponse(
        max_msg_size=s.max_frame_bytes,
        compress=s.compress or typed_ok,
        timeout=s.close_timeout,
        autoping=False,  # we answer pings ourselves and time the pongs (latency)
        decode_text=False,  # ``_run`` decodes: invalid UTF-8 closes 1007 via ``_linger``
    )
    if not ws.can_prepare(request).ok:
        return web.Response(status=426, text="WebSocket upgrade required\n")
    origin = request.headers.get(hdrs.ORIGIN)
    if not origin_allowed(origin, request.headers.get(hdrs.HOST), s.allowed_origins):
        log.debug("WebSocket upgrade from origin %r refused (host %r)", origin, request.host)
        hub.count_close("origin_refused")
        return web.Response(status=403, text="origin not allowed\n")
    try:
        await ws.prepare(request)
    except ConnectionError as exc:  # the client went away before the 101
        log.debug("WebSocket upgrade aborted by the client: %s", exc or type(exc).__name__)
        return web.Response(status=ABORTED, text="client gone\n")  # never sent, not logged
    app[_SOCKETS].add(ws)
    try:
        name = forced
        first: str | bytes | None = None
        connected = time.monotonic()
        if name is None:
            try:  # a client silent for a whole ping interval is a flat client (spec 000)
                msg = await _receive(ws, s.ping_interval)
            except TimeoutError:
                name = "flat"
            else:
                if msg.type not in (WSMsgType.TEXT, WSMsgType.BINARY):
                    if _too_big(msg):
                        hub.count_close(CloseReason.TOO_BIG.value)
                    return ws
                first = cast(bytes, msg.data)  # TEXT too: ``decode_text=False``
                if msg.type is WSMsgType.TEXT:
                    try:
                        first = cast(bytes, msg.data).decode()
                    except UnicodeDecodeError:
                        hub.count_close("protocol_error")
                        await _linger(ws, 1007, "Invalid UTF-8 text message")
                        return ws
                name = sniff(first)
        dialect = hub.dialects.get(name)
        if dialect is None:
            await ws.send_str(unsupported.error_payload(name, hub.clock_ms()).decode())
            await ws.close(code=unsupported.CLOSE_CODE, message=f"{name} not available".encode())
            hub.count_close(CloseReason.UNSUPPORTED.value)
            return ws
        await _run(hub, ws, request, dialect, first, connected)
        return ws
    except ConnectionError as exc:  # reset or closed under us: the client's doing
        log.debug("WebSocket connection lost: %s", exc or type(exc).__name__)
        return ws
    finally:
        app[_SOCKETS].discard(ws)


async def _receive(ws: web.WebSocketResponse, timeout: float | None = None) -> WSMessage:
    """The next data/close message; pings are answered, pongs dropped (no connection yet)."""
    while True:
        msg = await ws.receive(timeout=timeout)
        if msg.type is WSMsgType.PING:
            await ws.pong(msg.data)
        elif msg.type is not WSMsgType.PONG:
            return msg


def _deflater(ws: web.WebSocketResponse, dialect: Bound) -> Deflater | None:
    """Our own permessage-deflate context when negotiated and the dialect compresses."""
    bits = ws.compress
    if not bits or not dialect.spec.compress:
        return None
    notakeover = bool(getattr(getattr(ws, "_writer", None), "notakeover", False))
    return Deflater(15 if bits is True else int(bits), notakeover)


def _too_big(msg: WSMessage) -> bool:
    return (
        msg.type is WSMsgType.ERROR
        and isinstance(msg.data, WebSocketError)
        and msg.data.code == WSCloseCode.MESSAGE_TOO_BIG
    )


async def _run(
    hub: Hub,
    ws: web.WebSocketResponse,
    request: web.Request,
    dialect: Bound,
    first: str | bytes | None,
    connected: float,
) -> None:
    transport = request.transport
    assert transport is not None
    now = connected
    conn = Connection(
        hub.next_id(),
        dialect,
        transport,
        hub,
        RateLimiter(hub.settings.rates_for(dialect.name), now),
        hub.settings.send_budget_bytes,
        now,
    )
    conn.endpoint = request.path
    ip_limits.attach(request, conn)  # unauthenticated: its address's frame bucket too
    conn.deflater = _deflater(ws, dialect)

    task = asyncio.current_task()
    assert task is not None
    state = _CloseState()

    def closer(code: int, message: str) -> None:
        # The close itself runs in this handler (``_linger``), never in a task of its
        # own: aiohttp's ``close`` from another task while ``receive`` waits would drop
        # the transport at once, and a client still sending would get a reset instead
        # of our close frame. Waiting in ``receive``: wake the handler; otherwise the
        # loop sees the request when the frame being handled is done.
        if state.request is None:
            state.request = (code, message)
            if state.receiving:
                task.cancel()

    conn.closer = closer
    hub.register(conn)
    request.app[_SOCKETS].discard(ws)  # closed through the hub from now on
    reason = "client"
    try:
        if first is not None:
            await handle(hub, conn, first)
        while state.request is None:
            state.receiving = True
            try:
                msg = await ws.receive()
            except asyncio.CancelledError:
                if state.request is None or task.uncancel() > 0:
                    raise
                break  # woken by ``closer``
            finally:
                state.receiving = False
            if msg.type is WSMsgType.TEXT:
                try:  # decoded here, not by aiohttp, so that a bad frame closes cleanly
                    text = cast(bytes, msg.data).decode()
                except UnicodeDecodeError:
                    reason = "protocol_error"
                    state.request = (1007, "Invalid UTF-8 text message")
                    break
                await handle(hub, conn, text)
                continue
            if msg.type is WSMsgType.BINARY:
                await handle(hub, conn, cast(bytes, msg.data))
                continue
            if msg.type is WSMsgType.PING:
                await ws.pong(msg.data)
                continue
            if msg.type is WSMsgType.PONG:
                if hub.streams is not None:
                    hub.streams.on_pong(conn, cast(bytes, msg.data))
                continue
            if msg.type is WSMsgType.ERROR:
                reason = CloseReason.TOO_BIG.value if ws.close_code == 1009 else "protocol_error"
            break
        if state.request is not None:
            conn.flush()  # the replies of this tick go before the close frame
            await _linger(ws, *state.request)
    except asyncio.CancelledError:
        reason = "cancelled"
        raise
    finally:
        hub.unregister(conn, reason)


class _CloseState:
    """A connection's close request and whether its handler waits in ``receive``."""

    __slots__ = ("receiving", "request")

    def __init__(self) -> None:
        self.receiving = False
        self.request: tuple[int, str] | None = None


async def _linger(ws: web.WebSocketResponse, code: int, message: str) -> None:
    """Send our close frame, then read and drop what the client still sends until its
    close frame arrives (or ``close_timeout``): closing a socket with unread input would
    reset it, and the client would lose our close frame."""
    with contextlib.suppress(ConnectionError):
        await ws.close(code=code, message=message.encode()[:120], drain=False)


# -- running -------------------------------------------------------------------------------


@dataclass
class RunningGateway:
    runner: web.AppRunner
    host: str
    port: int
    tls: bool = False  # https:// and wss:// (``openpit.gateway.tls_site``)

    @property
    def app(self) -> web.Application:
        return self.runner.app

    @property
    def urls(self) -> dict[str, str]:
        host = f"[{self.host}]" if ":" in self.host else self.host
        base = f"{host}:{self.port}"
        ws, http = ("wss", "https") if self.tls else ("ws", "http")
        return {
            "flat/typed": f"{ws}://{base}/ws",
            "envelope": f"{ws}://{base}/ws/market-data",
            "typed": f"{ws}://{base}/",
            "health": f"{http}://{base}/healthz",
            "metrics": f"{http}://{base}/metrics",
        }

    async def stop(self) -> None:
        await shutdown(self.app)
        await self.runner.cleanup()


async def start_gateway(
    app: web.Application,
    host: str | None = None,
    port: int | None = None,
    *,
    ssl_context: ssl.SSLContext | None = None,
) -> RunningGateway:
    """Listen on ``host:port`` (defaults from the settings; port 0 picks a free one).

    ``ssl_context``: serve https:// and wss:// only; plain HTTP gets a 400 (``TlsSite``).
    """
    hub = app[HUB]
    host = hub.settings.host if host is None else host
    port = hub.settings.port if port is None else port
    runner = web.AppRunner(
        app,
        handle_signals=False,
        shutdown_timeout=hub.settings.close_timeout,
        access_log_class=QuietAccessLogger,
    )
    await runner.setup()
    site = (
        web.TCPSite(runner, host, port)
        if ssl_context is None
        else TlsSite(runner, host, port, ssl_context)
    )
    await site.start()
    bound = port
    for addr in runner.addresses:
        if isinstance(addr, tuple):
            bound = int(addr[1])
            break
    return RunningGateway(runner, host, bound, tls=ssl_context is not None)


async def run_gateway(
    app: web.Application,
    host: str | None = None,
    port: int | None = None,
    *,
    stop: asyncio.Event | None = None,
    print_fn: Callable[[str], None] = print,
) -> None:
    """Serve until SIGTERM/SIGINT (or ``stop`` is set), then shut down gracefully.

    Prints the URLs once listening. Returns after every client was told and closed;
    the caller then flushes the journal and exits 0.
    """
    running = await start_gateway(app, host, port)
    for name, url in running.urls.items():
        print_fn(f"openpit gateway {name:10} {url}")
    stop = stop or asyncio.Event()
    loop = asyncio.get_running_loop()
    installed = []
    for sig in (signal.SIGTERM, signal.SIGINT):
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(sig, stop.set)
            installed.append(sig)
    try:
        await stop.wait()
    finally:
        for sig in installed:
            loop.remove_signal_handler(sig)
        print_fn("openpit gateway: shutting down")
        await running.stop()
