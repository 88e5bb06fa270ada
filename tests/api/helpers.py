"""A live venue + gateway + REST API on 127.0.0.1:0 with a SQLite store, and a signing client."""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator, Callable, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp

from openpit.api import add_rest_routes, signed_headers
from openpit.api.local import token_issuer
from openpit.config import load_demo_config
from openpit.gateway import (
    GatewaySettings,
    RateLimit,
    RunningGateway,
    create_app,
    start_gateway,
)
from openpit.gateway.auth import JwtAuthenticator
from openpit.marketdata import MarketData
from openpit.store import HistoryWriter, Permission, SqliteStore
from openpit.store.keys import StoreKeyStore, new_key
from openpit.venue import Venue
from openpit.venue.service import VenueService

JWT_SECRET = "j" * 64


@dataclass(frozen=True)
class Creds:
    api_key: str
    api_secret: str


@dataclass
class RestEnv:
    gateway: RunningGateway
    session: aiohttp.ClientSession
    store: SqliteStore
    service: VenueService
    keys: dict[str, Creds]
    last_headers: Mapping[str, str] = field(default_factory=dict)
    last_stamp: int = 0  # signed requests get strictly increasing ms stamps

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.gateway.port}"

    async def call(
        self,
        method: str,
        path: str,
        who: str | Creds | None = None,
        body: Any = None,
        *,
        raw: bytes | None = None,
        ts: int | None = None,
        signature: str | None = None,
        session: aiohttp.ClientSession | None = None,
    ) -> tuple[int, Any]:
        """One request; the reply's headers are kept in ``last_headers``."""
        data = raw if raw is not None else b"" if body is None else json.dumps(body).encode()
        headers = {"Content-Type": "application/json"} if data else {}
        if who is not None:
            creds = self.keys[who] if isinstance(who, str) else who
            if ts is None:  # like a real client: never the same stamp twice (replay guard)
                stamp = self.last_stamp = max(time.time_ns() // 1_000_000, self.last_stamp + 1)
            else:
                stamp = ts
            headers.update(
                signed_headers(creds.api_key, creds.api_secret, stamp, method, path, data)
            )
            if signature is not None:
                headers["X-OPENPIT-SIGNATURE"] = signature
        async with (session or self.session).request(
            method, self.base + path, data=data or None, headers=headers
        ) as resp:
            text = await resp.read()
            self.last_headers = dict(resp.headers)
            assert resp.content_type == "application/json", (resp.status, text[:200])
            return resp.status, json.loads(text)


def add_key(store: SqliteStore, user: str, *perms: Permission) -> Creds:
    if store.get_user(user) is None:
        store.create_user(user, 1)
    key = new_key(user, frozenset(perms), 1)
    store.create_api_key(key)
    return Creds(key.key_id, key.secret)


@asynccontextmanager
async def rest_env(
    tmp: Path,
    *,
    rest_rates: Mapping[str, RateLimit] | None = None,
    rate_clock: Callable[[], float] = time.monotonic,
) -> AsyncIterator[RestEnv]:
    """The server; ``rest_rates`` overrides the REST rate limits, ``rate_clock`` their clock."""
    config = load_demo_config()
    venue = Venue(config)
    service = VenueService(config, venue)
    for command in venue.genesis_commands():
        await service.submit(command)
    marketdata = MarketData(config)
    service.attach_marketdata(marketdata)
    store = SqliteStore(tmp / "store.sqlite3")
    history = HistoryWriter(store.path)
    service.add_listener(lambda result: history.submit(result.events))
    keys = {
        "admin": add_key(store, "admin", Permission.ADMIN),
        "alice": add_key(store, "alice", Permission.READ, Permission.TRADE),
        "bob": add_key(store, "bob", Permission.READ, Permission.TRADE),
        "reader": add_key(store, "alice", Permission.READ),
    }
    settings = GatewaySettings(close_timeout=1.0, book_interval=0.02, ticker_interval=0.02)
    if rest_rates is not None:
        settings = settings.with_(rest_rates={**settings.rest_rates, **rest_rates})
    directory = StoreKeyStore(store)  # as ``openpit serve``: tokens die with their key
    authenticator = JwtAuthenticator(JWT_SECRET, directory=directory)
    app = create_app(service, marketdata, directory, settings, authenticator=authenticator)
    add_rest_routes(
        app,
        service,
        marketdata,
        store,
        history=history,
        issue_token=token_issuer(JWT_SECRET),
        rate_clock=rate_clock,
    )
    gateway = await start_gateway(app, "127.0.0.1", 0)
    session = aiohttp.ClientSession()
    try:
        yield RestEnv(gateway, session, store, service, keys)
    finally:
        await session.close()
        await gateway.stop()
        history.close()
        store.close()
