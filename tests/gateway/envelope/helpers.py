"""Envelope (spec 001) test helpers: a live venue + gateway + alerts on 127.0.0.1:0.

The venue clock starts inside New York trading hours (``T0``) so AAPL trades; the
gateway keeps wall time (signatures are checked against it).
"""

from __future__ import annotations

import itertools
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

from websockets.asyncio.client import connect

from openpit.alerts import RiskServices
from openpit.config.loader import VenueConfig, load_demo_config
from openpit.gateway import (
    HUB,
    ApiKey,
    GatewaySettings,
    InMemoryKeyStore,
    RunningGateway,
    create_app,
    sign,
    start_gateway,
)
from openpit.gateway.hub import Hub
from openpit.marketdata import MarketData
from openpit.server.risk import RiskWiring, wire_risk
from openpit.venue import Venue
from openpit.venue.service import VenueService
from tests.gateway.helpers import FAST, KEYS, Client, fresh_ms
from tests.venue.helpers import T0

MARKET, TRADING, NOTIFY, CUSTOM = (
    "/ws/market-data",
    "/ws/trading",
    "/ws/notifications",
    "/ws/custom",
)
_ids = itertools.count(1)


class VenueClock:
    """Venue time: T0 (Tuesday 10:00 New York) plus the real time elapsed since start."""

    def __init__(self) -> None:
        self.start = time.monotonic()

    def __call__(self) -> int:
        return T0 + int((time.monotonic() - self.start) * 1000)


class EClient(Client):
    async def request(self, message: dict[str, Any]) -> dict[str, Any]:
        """Send (with an ``id`` if it has none) and return the reply with that id."""
        if "id" not in message:
            message = {**message, "id": f"r-{next(_ids)}"}
        await self.send(message)
        rid = message["id"]
        return await self.expect(lambda m: m.get("id") == rid)

    async def login(self, key: ApiKey) -> dict[str, Any]:
        reply = await self.request(auth(key))
        assert reply["type"] == "auth_response", reply
        return reply

    async def subscribe(self, *channels: str) -> dict[str, Any]:
        reply = await self.request({"action": "subscribe", "data": {"channels": list(channels)}})
        assert reply["type"] == "subscription_response", reply
        return reply

    async def drain(self, quiet: float = 0.2) -> None:
        """Read until nothing arrives for ``quiet`` seconds."""
        while True:
            try:
                await self.recv(quiet)
            except TimeoutError:
                return

    def of_type(self, kind: str) -> list[dict[str, Any]]:
        return [m for m in self.seen if m.get("type") == kind]


def auth(key: ApiKey, rid: str = "auth-1", ts: int | None = None) -> dict[str, Any]:
    ts = fresh_ms() if ts is None else ts
    return {
        "action": "authenticate",
        "data": {
            "api_key": key.key_id,
            "signature": sign(key.secret, key.key_id, ts),
            "timestamp": ts,
        },
        "id": rid,
    }


@dataclass
class EnvelopeEnv:
    config: VenueConfig
    venue: Venue
    service: VenueService
    marketdata: MarketData
    gateway: RunningGateway
    risk: RiskWiring
    clients: list[EClient] = field(default_factory=list)

    @property
    def hub(self) -> Hub:
        return self.gateway.app[HUB]

    @property
    def base(self) -> str:
        return f"ws://127.0.0.1:{self.gateway.port}"

    async def client(self, path: str) -> EClient:
        ws = await connect(self.base + path, compression=None, ping_interval=None, max_size=None)
        c = EClient(ws)
        self.clients.append(c)
        return c

    async def login(self, path: str, who: str) -> EClient:
        c = await self.client(path)
        await c.login(KEYS[who])
        return c


@asynccontextmanager
async def envelope_env(
    settings: GatewaySettings = FAST, *, next_order_id: int | None = None
) -> AsyncIterator[EnvelopeEnv]:
    config = load_demo_config()
    venue = Venue(config)
    for cmd in venue.genesis_commands():
        venue.execute(cmd, T0)
    if next_order_id is not None:
        venue.next_order_id = next_order_id
    md = MarketData(config)
    service = VenueService(config, venue, clock=VenueClock(), marketdata=md)
    app = create_app(service, md, InMemoryKeyStore(KEYS.values()), settings)
    risk = wire_risk(RiskServices(config), service, md, app[HUB], tick_s=0.05)
    gw = await start_gateway(app, "127.0.0.1", 0)
    risk.start()
    env = EnvelopeEnv(config, venue, service, md, gw, risk)
    try:
        yield env
    finally:
        for c in env.clients:
            await c.ws.close()
        await risk.stop()
        await gw.stop()
