"""A TLS listener that answers plain HTTP on the TLS port with a clear 400.

``web.TCPSite(ssl_context=...)`` hands every accepted socket straight to the TLS
layer: a client that speaks plain HTTP (or ``ws://``) to it gets its connection
dropped with no reply at all. ``TlsSite`` accepts connections itself, peeks at the
first byte without consuming it, and then

- ``0x16`` (a TLS handshake record): the socket goes to aiohttp's server through
  ``loop.connect_accepted_socket(..., ssl=context)``, exactly as ``TCPSite`` would;
- anything else: one ``HTTP/1.1 400`` reply saying the port speaks TLS (``use
  https:// or wss://``), then the socket is closed. Nothing of it reaches the app.

Invariants:
- Only public asyncio APIs; a socket is owned by nobody until the peek decides.
- A client that connects and sends nothing is closed after ``HELLO_TIMEOUT_S``; a
  handshake that does not finish in ``HANDSHAKE_TIMEOUT_S`` is aborted by asyncio.
- ``stop`` stops accepting and closes the listening sockets; established
  connections belong to aiohttp's server, which the runner shuts down as usual.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
import ssl

from aiohttp import web

log = logging.getLogger("openpit.gateway.tls")

HELLO_TIMEOUT_S = 10.0
HANDSHAKE_TIMEOUT_S = 10.0
TLS_HANDSHAKE = 0x16
PLAIN_BODY = b"openpit: this port speaks TLS: use https:// or wss:// instead\n"
PLAIN_REPLY = (
    b"HTTP/1.1 400 Bad Request\r\n"
    b"Content-Type: text/plain; charset=utf-8\r\n"
    b"Connection: close\r\n"
    b"Content-Length: %d\r\n"
    b"\r\n" % len(PLAIN_BODY)
) + PLAIN_BODY


class _Listener:
    """What ``BaseSite``/``BaseRunner`` need of an ``asyncio.Server``."""

    def __init__(self, sockets: list[socket.socket], task: asyncio.Task[None]) -> None:
        self.sockets = sockets
        self._task = task

    def close(self) -> None:
        self._task.cancel()
        for sock in self.sockets:
            sock.close()

    async def wait_closed(self) -> None:
        with contextlib.suppress(asyncio.CancelledError):
            await self._task


def _listening_sockets(host: str | None, port: int, backlog: int) -> list[socket.socket]:
    infos = socket.getaddrinfo(host or None, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    out: list[socket.socket] = []
    seen: set[tuple[int, object]] = set()
    try:
        for family, kind, proto, _, addr in infos:
            if (family, addr) in seen:
                continue
            seen.add((family, addr))
            sock = socket.socket(family, kind, proto)
            out.append(sock)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            if family == socket.AF_INET6:
                sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
            if port == 0 and len(out) > 1:  # every family on the port the first one got
                addr = (addr[0], out[0].getsockname()[1], *addr[2:])
            sock.bind(addr)
            sock.listen(backlog)
            sock.setblocking(False)
    except BaseException:
        for sock in out:
            sock.close()
        raise
    return out


class TlsSite(web.TCPSite):
    """``TCPSite`` with TLS, plus a clear refusal of plain HTTP (module docstring)."""

    __slots__ = ("_tasks",)

    def __init__(
        self, runner: web.BaseRunner, host: str | None, port: int, ssl_context: ssl.SSLContext
    ) -> None:
        super().__init__(runner, host, port, ssl_context=ssl_context)
        self._tasks: set[asyncio.Task[None]] = set()

    async def start(self) -> None:
        self._runner._reg_site(self)  # BaseSite.start, without TCPSite's create_server
        sockets = _listening_sockets(self._host, self._port, self._backlog)
        task = asyncio.get_running_loop().create_task(self._accept_all(sockets))
        self._server = _Listener(sockets, task)  # type: ignore[assignment]
        self._bound_port = sockets[0].getsockname()[1]

    async def stop(self) -> None:
        await super().stop()
        for task in list(self._tasks):
            task.cancel()

    async def _accept_all(self, sockets: list[socket.socket]) -> None:
        await asyncio.gather(*(self._accept(sock) for sock in sockets))

    async def _accept(self, listener: socket.socket) -> None:
        loop = asyncio.get_running_loop()
        while True:
            try:
                conn, _ = await loop.sock_accept(listener)
            except OSError as exc:  # e.g. EMFILE: back off instead of spinning
                log.warning("accept failed: %s", exc)
                await asyncio.sleep(0.1)
                continue
            task = loop.create_task(self._route(conn))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    async def _route(self, conn: socket.socket) -> None:
        loop = asyncio.get_running_loop()
        handed_over = False
        try:
            conn.setblocking(False)
            readable: asyncio.Future[None] = loop.create_future()

            def ready() -> None:
                if not readable.done():
                    readable.set_result(None)

            loop.add_reader(conn.fileno(), ready)
            try:
                await asyncio.wait_for(readable, HELLO_TIMEOUT_S)
            finally:
                loop.remove_reader(conn.fileno())
            head = conn.recv(1, socket.MSG_PEEK)
            if not head:
                return
            if head[0] != TLS_HANDSHAKE:
                log.debug("plain connection to the TLS port refused")
                with contextlib.suppress(OSError):
                    await loop.sock_sendall(conn, PLAIN_REPLY)
                    conn.shutdown(socket.SHUT_WR)
                return
            server = self._runner.server
            assert server is not None
            handed_over = True
            await loop.connect_accepted_socket(
                server,
                conn,
                ssl=self._ssl_context,
                ssl_handshake_timeout=HANDSHAKE_TIMEOUT_S,
            )
        except (OSError, TimeoutError) as exc:  # a client fault: bad handshake, reset, silent
            log.debug("TLS connection dropped: %s", exc or type(exc).__name__)
        finally:
            if not handed_over:
                conn.close()
