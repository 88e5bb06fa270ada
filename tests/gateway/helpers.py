"""Helpers for gateway tests: a live venue + gateway on 127.0.0.1:0, and a JSON client."""

from __future__ import annotations

import asyncio
import functools
import json
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, TypeVar

from websockets.asyncio.client import ClientConnection, connect

from openpit.config.loader import VenueConfig, load_demo_config
from openpit.core.commands import PlaceOrder
from openpit.core.enums import OrderType, Side
from openpit.gateway import (
    ApiKey,
    GatewaySettings,
    InMemoryKeyStore,
    Permission,
    RunningGateway,
    create_app,
    sign,
    start_gateway,
)
from openpit.marketdata import MarketData
from openpit.venue import CommandResult, Venue
from openpit.venue.service import VenueService

T = TypeVar("T")

FAST = GatewaySettings(
    ping_interval=30.0,
    pong_timeout=10.0,
    close_timeout=2.0,
    book_interval=0.02,
    ticker_interval=0.02,
)

KEYS = {
    "alice": ApiKey("alice-key", "alice-secret", "alice"),
    "bob": ApiKey("bob-key", "bob-secret", "bob"),
    "reader": ApiKey("reader-key", "reader-secret", "demo", frozenset({Permission.READ})),
    "nobody": ApiKey("nobody-key", "nobody-secret", "demo", frozenset()),
    "spec": ApiKey("your_api_key", "spec-secret", "demo"),
}


def run_async(fn: Callable[..., Coroutine[Any, Any, T]]) -> Callable[..., T]:
    """Run an async test function in a fresh event loop (no pytest plugin needed)."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> T:
        return asyncio.run(asyncio.wait_for(fn(*args, **kwargs), timeout=60))

    return wrapper


@dataclass
class Env:
    config: VenueConfig
    venue: Venue
    service: VenueService
    marketdata: MarketData
    keys: InMemoryKeyStore
    gateway: RunningGateway
    clients: list[Client] = field(default_factory=list)

    @property
    def url(self) -> str:
        return f"ws://127.0.0.1:{self.gateway.port}/ws"

    @property
    def http(self) -> str:
        return f"http://127.0.0.1:{self.gateway.port}"

    async def client(self, path: str = "/ws", **kwargs: Any) -> Client:
        ws = await connect(
            f"ws://127.0.0.1:{self.gateway.port}{path}",
            compression=None,
            ping_interval=None,
            max_size=None,
            **kwargs,
        )
        c = Client(ws)
        self.clients.append(c)
        return c

    async def login(self, who: str) -> Client:
        c = await self.client()
        await c.authenticate(KEYS[who])
        return c

    async def place(
        self,
        user: str,
        side: str,
        qty: str,
        price: str | None,
        instrument: str = "BTCUSDT",
        kind: OrderType = OrderType.LIMIT,
    ) -> CommandResult:
        inst = self.config.instruments[instrument]
        return await self.service.submit(
            PlaceOrder(
                user=user,
                instrument=instrument,
                side=Side(side),
                type=kind,
                qty=inst.qty_to_lots(Decimal(qty)),
                price=None if price is None else inst.price_to_ticks(Decimal(price)),
            )
        )


@asynccontextmanager
async def live(settings: GatewaySettings = FAST, **kwargs: Any) -> AsyncIterator[Env]:
    config = load_demo_config()
    venue = Venue(config)
    for cmd in venue.genesis_commands():
        venue.execute(cmd, 0)
    md = MarketData(config)
    service = VenueService(config, venue, marketdata=md)
    keys = InMemoryKeyStore(KEYS.values())
    app = create_app(service, md, keys, settings, **kwargs)
    gw = await start_gateway(app, "127.0.0.1", 0)
    env = Env(config, venue, service, md, keys, gw)
    try:
        yield env
    finally:
        for c in env.clients:
            await c.ws.close()
        await gw.stop()


def now_ms() -> int:
    return time.time_ns() // 1_000_000


_last_stamp = [0]


def fresh_ms() -> int:
    """Now in ms, never the same twice (the replay guard refuses a reused stamp)."""
    stamp = max(now_ms(), _last_stamp[0] + 1)
    _last_stamp[0] = stamp
    return stamp


def auth_message(key: ApiKey, ts: int | None = None, secret: str | None = None) -> dict[str, Any]:
    ts = fresh_ms() if ts is None else ts
    return {
        "action": "authenticate",
        "api_key": key.key_id,
        "timestamp": ts,
        "signature": sign(key.secret if secret is None else secret, key.key_id, ts),
    }


class Client:
    def __init__(self, ws: ClientConnection) -> None:
        self.ws = ws
        self.seen: list[dict[str, Any]] = []

    async def send(self, message: dict[str, Any] | str) -> None:
        await self.ws.send(message if isinstance(message, str) else json.dumps(message))

    async def recv(self, timeout: float = 5.0) -> dict[str, Any]:
        raw = await asyncio.wait_for(self.ws.recv(), timeout)
        msg: dict[str, Any] = json.loads(raw)
        self.seen.append(msg)
        return msg

    async def expect(
        self, pred: Callable[[dict[str, Any]], bool], timeout: float = 5.0
    ) -> dict[str, Any]:
        """Skip messages until one matches ``pred``."""

        async def loop() -> dict[str, Any]:
            while True:
                msg = await self.recv(timeout)
                if pred(msg):
                    return msg

        return await asyncio.wait_for(loop(), timeout)

    async def request(self, message: dict[str, Any]) -> dict[str, Any]:
        """Send and return the next reply that is not stream data."""
        await self.send(message)
        return await self.expect(lambda m: "event" in m and "channel" not in m)

    async def authenticate(self, key: ApiKey) -> dict[str, Any]:
        reply = await self.request(auth_message(key))
        assert reply["event"] == "authenticated", reply
        return reply

    async def closed(self, timeout: float = 10.0) -> tuple[int | None, str | None]:
        """Read until the server closes; returns (code, reason)."""

        async def drain() -> None:
            try:
                while True:
                    raw = await self.ws.recv()
                    self.seen.append(json.loads(raw))
            except Exception:
                return

        await asyncio.wait_for(drain(), timeout)
        rcvd = self.ws.protocol.close_rcvd
        return (rcvd.code, rcvd.reason) if rcvd else (None, None)


async def eventually(check: Callable[[], Awaitable[bool]] | Callable[[], bool]) -> None:
    for _ in range(500):
        result = check()
        if asyncio.iscoroutine(result):
            result = await result
        if result:
            return
        await asyncio.sleep(0.01)
    raise AssertionError("condition never became true")
