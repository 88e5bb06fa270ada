"""Origin allow list for WebSocket upgrades, and quiet logs for clients that vanish
around the handshake, over real sockets."""

from __future__ import annotations

import asyncio
import base64
import logging
import os
import socket
import struct

import aiohttp
import pytest

from openpit.gateway import GatewaySettings
from openpit.gateway.app import ENVELOPE_PATHS
from tests.gateway.helpers import FAST, live, run_async

PATHS = ["/ws", "/", *ENVELOPE_PATHS]


async def _upgrade_status(port: int, path: str, origin: str | None, host: str | None = None) -> int:
    headers = {} if origin is None else {"Origin": origin}
    if host is not None:
        headers["Host"] = host
    async with aiohttp.ClientSession() as http:
        try:
            ws = await http.ws_connect(f"http://127.0.0.1:{port}{path}", headers=headers)
        except aiohttp.WSServerHandshakeError as exc:
            return exc.status
        await ws.close()
        return 101


@run_async
async def test_origin_foreign_refused_403_on_every_endpoint() -> None:
    async with live() as env:
        for path in PATHS:
            status = await _upgrade_status(env.gateway.port, path, "https://evil.example")
            assert status == 403, path
        assert env.gateway.app  # the server kept serving
        assert await _upgrade_status(env.gateway.port, "/ws", None) == 101


@pytest.mark.parametrize(
    ("origin", "host"),
    [
        (None, None),  # not a browser
        ("http://localhost:5173", None),  # local development, any port
        ("http://127.0.0.1:9999", None),
        ("https://venue.example", "venue.example"),  # same origin behind a TLS proxy
        ("http://venue.example:8080", "venue.example:8080"),
    ],
)
@run_async
async def test_origin_default_allows_no_origin_same_origin_and_localhost(
    origin: str | None, host: str | None
) -> None:
    async with live() as env:
        for path in PATHS:
            assert await _upgrade_status(env.gateway.port, path, origin, host) == 101, path


@run_async
async def test_origin_configured_allow_list_admits_exactly_those() -> None:
    settings = FAST.with_(allowed_origins=("https://app.example",))
    async with live(settings) as env:
        port = env.gateway.port
        assert await _upgrade_status(port, "/ws", "https://app.example") == 101
        assert await _upgrade_status(port, "/ws", "https://other.example") == 403
        assert await _upgrade_status(port, "/ws", "null") == 403
    async with live(FAST.with_(allowed_origins=("*",))) as env:
        assert await _upgrade_status(env.gateway.port, "/ws", "https://any.example") == 101


def test_origin_settings_key_reads_a_list() -> None:
    settings = GatewaySettings.from_mapping({"allowed_origins": ["https://a.example"]})
    assert settings.allowed_origins == ("https://a.example",)
    with pytest.raises(ValueError, match="allowed_origins"):
        GatewaySettings.from_mapping({"allowed_origins": [1]})


def _reset(sock: socket.socket) -> None:
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    sock.close()  # RST instead of FIN


@run_async
async def test_client_reset_before_101_logs_nothing_above_debug(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    async with live() as env:
        loop = asyncio.get_running_loop()
        for i in range(40):
            sock = socket.socket()
            sock.setblocking(False)
            await loop.sock_connect(sock, ("127.0.0.1", env.gateway.port))
            key = base64.b64encode(os.urandom(16)).decode()
            request = (
                f"GET /ws HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\n"
                f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\n"
                "Sec-WebSocket-Version: 13\r\n\r\n"
            ).encode()
            await loop.sock_sendall(sock, request[: 30 if i % 4 == 3 else None])
            if i % 2:
                await asyncio.sleep(0)  # some resets land before the handler, some during
            _reset(sock)
        # a well-behaved client afterwards: the server is still there and answers
        c = await env.client()
        assert (await c.request({"action": "ping"}))["event"] == "pong"
    served = '" 101 '  # the access line of a session that did get its 101: not a fault
    loud = [r for r in caplog.records if r.levelno > logging.DEBUG and served not in r.getMessage()]
    assert loud == [], [r.getMessage() for r in loud]
    assert not [r for r in caplog.records if r.exc_info], "no tracebacks"
    aborted = [r for r in caplog.records if "aborted by the client" in r.getMessage()]
    assert all(r.levelno == logging.DEBUG for r in aborted)
