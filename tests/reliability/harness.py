"""Shared pieces of the reliability suite: a real ``openpit serve`` (demo config, keys for
demo/alice/bob) with rate limits raised for load, and small JSON WebSocket clients.

Reuses ``tests/durability/server_harness.py`` (the subprocess, keys, config).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp

from openpit.api.signing import signed_headers
from openpit.gateway import sign
from tests.durability.server_harness import Server, create_keys, write_config

WIDE = "[1000000000, 1000000000]"
# every bucket of every dialect out of the way (the fuzz and privacy runs are load)
FAST_GATEWAY = f"""
[gateway]
max_connections_per_key = 200
max_anonymous_per_address = 100000
anonymous_rate = {WIDE}
rates = {{ auth = {WIDE}, subscribe = {WIDE}, order = {WIDE}, other = {WIDE} }}
rest_rates = {{ public = {WIDE}, signed = {WIDE} }}

[gateway.dialect_rates]
flat = {{ auth = {WIDE}, subscribe = {WIDE}, order = {WIDE}, other = {WIDE} }}
envelope = {{ auth = {WIDE}, subscribe = {WIDE}, order = {WIDE}, other = {WIDE} }}
typed = {{ "*" = {WIDE}, order = {WIDE}, auth = {WIDE}, subscribe = {WIDE}, other = {WIDE} }}
"""

Key = tuple[str, str]


@dataclass
class Venue:
    server: Server
    keys: dict[str, Key]

    @property
    def base(self) -> str:
        return self.server.base

    def tracebacks(self) -> list[str]:
        text = self.server.log_text()
        return [chunk[:2000] for chunk in text.split("Traceback")[1:]]


def prepare(tmp_path: Path, extra: str = FAST_GATEWAY) -> Venue:
    """A server not yet started (``await v.server.start()``), keys created."""
    config = write_config(tmp_path / "openpit.toml", 100_000, extra)
    data = tmp_path / "data"
    data.mkdir(exist_ok=True)
    keys = create_keys(data)
    return Venue(Server(data, config, tmp_path / "server.log"), keys)


@contextlib.asynccontextmanager
async def venue(tmp_path: Path, extra: str = FAST_GATEWAY) -> AsyncIterator[Venue]:
    """A started server; SIGTERM on exit."""
    config = write_config(tmp_path / "openpit.toml", 100_000, extra)
    data = tmp_path / "data"
    server = Server(data, config, tmp_path / "server.log")
    data.mkdir(exist_ok=True)
    keys = create_keys(data)
    await server.start()
    try:
        yield Venue(server, keys)
    finally:
        if server.proc is not None:
            await server.stop()


async def healthz(http: aiohttp.ClientSession, base: str) -> tuple[int, Any]:
    async with http.get(f"http://{base}/healthz") as resp:
        return resp.status, await resp.json()


async def rest(
    http: aiohttp.ClientSession,
    base: str,
    key: Key,
    method: str,
    path: str,
    body: bytes = b"",
    ts: int | None = None,
    headers: dict[str, str] | None = None,
) -> tuple[int, Any]:
    """A signed REST call (``ts`` and ``headers`` to forge one)."""
    stamp = int(time.time() * 1000) if ts is None else ts
    hdrs = signed_headers(key[0], key[1], stamp, method, path, body)
    hdrs["Content-Type"] = "application/json"
    hdrs.update(headers or {})
    async with http.request(method, f"http://{base}{path}", data=body or None, headers=hdrs) as r:
        text = await r.text()
        try:
            return r.status, json.loads(text)
        except ValueError:
            return r.status, text


async def mint_jwt(http: aiohttp.ClientSession, base: str, key: Key, ttl: int = 3600) -> str:
    status, data = await rest(
        http, base, key, "POST", "/api/v1/tokens", json.dumps({"ttl_seconds": ttl}).encode()
    )
    assert status in (200, 201), data
    return str(data["token"])


_last_ts = 0


def fresh_ts() -> int:
    """A login timestamp never used before in this process (replay guard)."""
    global _last_ts
    _last_ts = max(int(time.time() * 1000), _last_ts + 1)
    return _last_ts


def flat_auth(key: Key, ts: int | None = None, secret: str | None = None) -> dict[str, Any]:
    stamp = fresh_ts() if ts is None else ts
    return {
        "action": "authenticate",
        "api_key": key[0],
        "timestamp": stamp,
        "signature": sign(secret or key[1], key[0], stamp),
    }


def envelope_auth(key: Key, ts: int | None = None, secret: str | None = None) -> dict[str, Any]:
    frame = flat_auth(key, ts, secret)
    del frame["action"]
    return {"action": "authenticate", "data": frame, "id": "auth"}


@dataclass
class Conn:
    """A WebSocket connection that records every text frame it receives (JSON), in order;
    ``ask`` sends and returns the next reply that is not a stream message."""

    ws: aiohttp.ClientWebSocketResponse
    name: str = ""
    seen: list[dict[str, Any]] = field(default_factory=list)
    raw: list[str] = field(default_factory=list)
    replies: asyncio.Queue[dict[str, Any] | None] = field(default_factory=asyncio.Queue)
    close_code: int | None = None
    reader: asyncio.Task[None] | None = None
    arrived: asyncio.Event = field(default_factory=asyncio.Event)

    def start(self) -> Conn:
        self.reader = asyncio.create_task(self._read())
        return self

    async def _read(self) -> None:
        try:
            async for msg in self.ws:
                if msg.type is not aiohttp.WSMsgType.TEXT:
                    continue
                self.raw.append(msg.data)
                data = json.loads(msg.data)
                self.seen.append(data)
                self.arrived.set()
                if _is_stream(data):
                    continue
                self.replies.put_nowait(data)
        finally:
            self.close_code = self.ws.close_code
            self.replies.put_nowait(None)
            self.arrived.set()

    async def send(self, frame: dict[str, Any] | str) -> None:
        await self.ws.send_str(frame if isinstance(frame, str) else json.dumps(frame))

    async def ask(self, frame: dict[str, Any] | str, timeout: float = 15.0) -> dict[str, Any]:
        await self.send(frame)
        return await self.next_reply(timeout)

    async def next_reply(self, timeout: float = 15.0) -> dict[str, Any]:
        reply = await asyncio.wait_for(self.replies.get(), timeout)
        return reply if reply is not None else {"closed": self.close_code}

    async def wait_for(self, pred: Any, timeout: float = 15.0) -> dict[str, Any]:
        """The first frame (stream or reply, past or future) matching ``pred``."""
        deadline = asyncio.get_running_loop().time() + timeout
        checked = 0
        while True:
            for data in self.seen[checked:]:
                if pred(data):
                    return data
            checked = len(self.seen)
            if self.close_code is not None and self.reader is not None and self.reader.done():
                raise AssertionError(f"{self.name} closed ({self.close_code}) before a match")
            self.arrived.clear()
            left = deadline - asyncio.get_running_loop().time()
            if left <= 0:
                raise AssertionError(f"{self.name}: no matching frame in {timeout} s")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.arrived.wait(), left)

    async def closed(self, timeout: float = 15.0) -> int | None:
        """Wait for the server to close; the close code (None: no close frame seen)."""
        assert self.reader is not None
        await asyncio.wait_for(asyncio.shield(self.reader), timeout)
        return self.close_code

    async def close(self) -> None:
        if not self.ws.closed:
            await self.ws.close()
        if self.reader is not None:
            with contextlib.suppress(asyncio.CancelledError):
                await self.reader


def _is_stream(data: dict[str, Any]) -> bool:
    """Heartbeats, close notices and channel messages; a reply echoes an id or has none."""
    if data.get("event") in ("ping", "close") or data.get("type") in STREAM_TYPES:
        return True
    if data.get("id") is not None and "type" in data:  # envelope replies echo the id
        return False
    return "channel" in data and "error" not in (data.get("type"), data.get("event"))


STREAM_TYPES = frozenset({"heartbeat", "ping", "close", "connected", "welcome"})


async def connect(http: aiohttp.ClientSession, base: str, path: str, name: str = "") -> Conn:
    ws = await http.ws_connect(f"ws://{base}{path}", autoping=True)
    return Conn(ws, name or path).start()
