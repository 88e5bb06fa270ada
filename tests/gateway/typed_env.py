"""Typed-dialect (spec 004) test environment: a live venue + gateway with JWT logins and
the risk services (margin calls, arbitrage, risk alerts) wired to ``Hub.publish_alert``."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

from websockets.asyncio.client import ClientConnection, connect

from openpit.alerts import RiskServices
from openpit.config.loader import load_demo_config
from openpit.gateway import HUB, GatewaySettings, InMemoryKeyStore, create_app, start_gateway
from openpit.gateway.auth import JwtAuthenticator, create_token
from openpit.marketdata import MarketData
from openpit.venue import CommandResult, Venue
from openpit.venue.service import VenueService
from tests.gateway.helpers import KEYS, Env

SECRET = "typed-test-secret-0123456789abcdef0123456789"

SETTINGS = GatewaySettings(
    close_timeout=2.0,
    book_interval=0.02,
    ticker_interval=0.02,
    price_interval=0.02,
)


def token(
    user: str = "demo", ttl: int = 600, secret: str = SECRET, minted_with: str | None = None
) -> str:
    return create_token(secret, user, ttl, int(time.time()), minted_with=minted_with)


@asynccontextmanager
async def typed_live(
    settings: GatewaySettings = SETTINGS, *, directory: bool = False
) -> AsyncIterator[Env]:
    """The venue + gateway; ``directory``: token logins check their key and user against
    ``env.keys`` (as ``openpit serve`` checks its store)."""
    config = load_demo_config()
    venue = Venue(config)
    md = MarketData(config)
    for cmd in venue.genesis_commands():  # balances reach market data (portfolios)
        md.apply(venue.execute(cmd, 0).events)
    service = VenueService(config, venue, marketdata=md)
    keys = InMemoryKeyStore(KEYS.values())
    auth = JwtAuthenticator(SECRET, directory=keys if directory else None)
    app = create_app(service, md, keys, settings, authenticator=auth)
    hub = app[HUB]
    risk = RiskServices(config)

    def alerts(result: CommandResult) -> None:  # what ``openpit serve`` wires
        events, _ = risk.on_result(result.events, md, result.ts)
        for ev in events:
            hub.publish_alert(ev)

    service.add_listener(alerts)
    gw = await start_gateway(app, "127.0.0.1", 0)
    env = Env(config, venue, service, md, keys, gw)
    try:
        yield env
    finally:
        for c in env.clients:
            await c.ws.close()
        await gw.stop()


class TClient:
    """A spec 004 client: JSON text messages keyed by ``type``."""

    def __init__(self, ws: ClientConnection) -> None:
        self.ws = ws
        self.seen: list[dict[str, Any]] = []

    async def send(self, message: dict[str, Any] | str) -> None:
        await self.ws.send(message if isinstance(message, str) else json.dumps(message))

    async def recv(self, timeout: float = 5.0) -> dict[str, Any]:
        msg: dict[str, Any] = json.loads(await asyncio.wait_for(self.ws.recv(), timeout))
        self.seen.append(msg)
        return msg

    async def expect(
        self, pred: Callable[[dict[str, Any]], bool], timeout: float = 5.0
    ) -> dict[str, Any]:
        async def loop() -> dict[str, Any]:
            while True:
                msg = await self.recv(timeout)
                if pred(msg):
                    return msg

        return await asyncio.wait_for(loop(), timeout)

    async def type(self, kind: str, timeout: float = 5.0) -> dict[str, Any]:
        return await self.expect(lambda m: m.get("type") == kind, timeout)

    async def login(self, user: str = "demo") -> dict[str, Any]:
        await self.send({"type": "authenticate", "token": token(user)})
        reply = await self.expect(lambda m: m["type"] in ("authenticated", "error"))
        assert reply["type"] == "authenticated", reply
        return reply

    async def closed(self, timeout: float = 10.0) -> int | None:
        async def drain() -> None:
            try:
                while True:
                    self.seen.append(json.loads(await self.ws.recv()))
            except Exception:
                return

        await asyncio.wait_for(drain(), timeout)
        rcvd = self.ws.protocol.close_rcvd
        return rcvd.code if rcvd else None


async def typed_client(env: Env, path: str = "/", **kwargs: Any) -> TClient:
    ws = await connect(f"ws://127.0.0.1:{env.gateway.port}{path}", max_size=None, **kwargs)
    c = TClient(ws)
    env.clients.append(c)  # type: ignore[arg-type]  # closed by typed_live
    return c
