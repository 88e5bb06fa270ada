"""Per-address limits for anonymous WebSocket traffic (``gateway/ip_limits.py``, issue 20):
the cap+1-th unauthenticated connection from one address gets HTTP 429 while another
loopback address still connects; authenticated connections do not count; one frame
bucket per address for unauthenticated frames; X-Forwarded-For only from trusted proxies.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import InvalidStatus

from openpit.gateway import GatewaySettings
from openpit.gateway.ip_limits import client_address, networks
from openpit.gateway.settings import RateLimit

from .helpers import FAST, KEYS, Client, Env, live, run_async


async def _open(env: Env, source: str = "127.0.0.1") -> ClientConnection:
    return await connect(
        f"ws://127.0.0.1:{env.gateway.port}/ws?dialect=flat",
        compression=None,
        ping_interval=None,
        local_addr=(source, 0),
    )


@run_async
async def test_cap_plus_one_anonymous_refused_other_address_and_logins_not_counted() -> None:
    async with live(FAST.with_(max_anonymous_per_address=3)) as env:
        anon = [await _open(env) for _ in range(3)]
        with pytest.raises(InvalidStatus) as refused:
            await _open(env)
        assert refused.value.response.status_code == 429
        assert b"from this address" in refused.value.response.body

        other = await _open(env, "127.0.0.2")  # a different address is not affected
        await other.send(json.dumps({"action": "ping"}))
        assert json.loads(await other.recv())

        first = Client(anon[0])  # an authenticated connection leaves the address's count
        await first.authenticate(KEYS["alice"])
        fourth = await _open(env)
        with pytest.raises(InvalidStatus):  # 2 anonymous + the new one: the cap again
            await _open(env)
        await anon[1].close()  # a closed one frees its place
        fifth = await _open(env)

        for ws in (*anon, other, fourth, fifth):
            await ws.close()


def _message(reply: dict[str, Any]) -> str:
    return json.dumps(reply)


@run_async
async def test_unauthenticated_frames_share_one_bucket_per_address() -> None:
    settings = FAST.with_(anonymous_rate=RateLimit(burst=6, per_second=0.001))
    async with live(settings) as env:
        a, b, c = [Client(await _open(env)) for _ in range(3)]
        for _ in range(3):
            await a.send({"action": "ping"})
            await a.recv()
        await c.authenticate(KEYS["alice"])  # the 4th anonymous frame of the address
        for _ in range(2):
            await b.send({"action": "ping"})
            await b.recv()
        await b.send({"action": "ping"})  # the 7th: refused for the address
        refused = await b.recv()
        assert "from this address" in _message(refused), refused
        assert refused.get("event") == "error", refused
        for _ in range(3):  # the authenticated connection no longer takes from it
            await c.send({"action": "ping"})
            assert "error" not in _message(await c.recv())
        other = Client(await _open(env, "127.0.0.2"))
        await other.send({"action": "ping"})
        assert "error" not in _message(await other.recv())
        for x in (a, b, c, other):
            await x.ws.close()


def test_x_forwarded_for_only_from_trusted_proxies() -> None:
    trusted = networks(["10.0.0.0/8", "::1"])
    xff = "203.0.113.9, 10.1.2.3"
    assert client_address("198.51.100.7", xff, trusted) == "198.51.100.7"  # not a proxy
    assert client_address("10.0.0.1", xff, trusted) == "203.0.113.9"  # right-most untrusted
    assert client_address("10.0.0.1", "203.0.113.9, 198.51.100.1", trusted) == "198.51.100.1"
    assert client_address("::1", "[2001:db8::1]:443", trusted) == "2001:db8::1"
    assert client_address("10.0.0.1", "garbage", trusted) == "10.0.0.1"
    assert client_address("10.0.0.1", None, trusted) == "10.0.0.1"
    assert client_address("127.0.0.1", xff, ()) == "127.0.0.1"  # none configured: ignored


def test_settings_keys() -> None:
    s = GatewaySettings.from_mapping(
        {
            "max_anonymous_per_address": 7,
            "anonymous_rate": [10, 2],
            "trusted_proxies": ["127.0.0.1", "10.0.0.0/8"],
        }
    )
    assert s.max_anonymous_per_address == 7 and s.anonymous_rate == RateLimit(10, 2)
    assert s.trusted_proxies == ("127.0.0.1", "10.0.0.0/8")
    with pytest.raises(ValueError, match="trusted_proxies"):
        GatewaySettings.from_mapping({"trusted_proxies": ["not-an-ip"]})
    assert GatewaySettings().max_anonymous_per_address == 50
