"""Client mistakes and limits over real sockets: each refusal is a clear error or close."""

from __future__ import annotations

import asyncio
import socket

from websockets.asyncio.client import connect

from openpit.gateway import HUB
from tests.gateway.helpers import FAST, Client, eventually, live, run_async

SUB_TRADES = {
    "action": "subscribe",
    "channels": ["trades"],
    "params": {"exchange": "binance", "symbols": ["BTCUSDT"]},
}


@run_async
async def test_frame_oversized_closes_1009() -> None:
    async with live() as env:
        c = await env.client()
        await c.send("x" * (1024 * 1024 + 10))
        code, _ = await c.closed()
        assert code == 1009
        hub = env.gateway.app[HUB]
        await eventually(lambda: hub.stats.closes.get("too_big", 0) == 1)


@run_async
async def test_message_malformed_json_is_400() -> None:
    async with live() as env:
        c = await env.client()
        await c.send('{"action": "subscribe", ')
        reply = await c.recv()
        assert reply["event"] == "error" and reply["code"] == 400
        assert "malformed JSON" in reply["message"]
        # the connection survives a mistake
        assert (await c.request({"action": "ping"}))["event"] == "pong"


@run_async
async def test_message_unknown_action_is_400_naming_it() -> None:
    async with live() as env:
        c = await env.client()
        reply = await c.request({"action": "fly"})
        assert reply["code"] == 400 and "'fly'" in reply["message"]


@run_async
async def test_message_wrong_field_type_is_400_naming_field() -> None:
    async with live() as env:
        c = await env.client()
        reply = await c.request({"action": "subscribe", "channels": "trades"})
        assert reply["code"] == 400 and "$.channels" in reply["message"]


@run_async
async def test_flood_past_rate_limit_is_429() -> None:
    async with live() as env:
        c = await env.client()
        sent = 200 + 19  # the "other" burst, then 19 refusals: one short of the close
        for _ in range(sent):
            await c.send({"action": "ping"})
        codes = []
        for _ in range(sent):
            m = await c.recv()
            codes.append(m.get("code"))
        assert 1 <= codes.count(429) <= 19  # the bucket may refill a little meanwhile
        assert c.ws.close_code is None  # under the strike limit: still open
        limited = next(m for m in c.seen if m.get("code") == 429)
        assert "Rate limit exceeded for other messages" in limited["message"]
        assert limited["action"] == "ping" and limited["retry_after"] > 0


@run_async
async def test_subscribe_unknown_symbol_is_404_and_unknown_exchange_is_404() -> None:
    async with live() as env:
        c = await env.client()
        reply = await c.request(
            {
                "action": "subscribe",
                "channels": ["trades"],
                "params": {"exchange": "binance", "symbols": ["AAPL"]},
            }
        )
        assert reply["code"] == 404 and "'AAPL' on exchange 'binance'" in reply["message"]
        reply = await c.request(
            {
                "action": "subscribe",
                "channels": ["trades"],
                "params": {"exchange": "kraken", "symbols": ["BTCUSDT"]},
            }
        )
        assert reply["code"] == 404 and "kraken" in reply["message"]
        reply = await c.request({"action": "subscribe", "channels": ["weather"]})
        assert reply["code"] == 400 and "weather" in reply["message"]


@run_async
async def test_subscribe_private_without_auth_is_401_and_nothing_subscribed() -> None:
    async with live() as env:
        c = await env.client()
        reply = await c.request(
            {
                "action": "subscribe",
                "channels": ["trades", "orders"],
                "params": {"exchange": "binance", "symbols": ["BTCUSDT"]},
            }
        )
        assert reply["code"] == 401 and "orders" in reply["message"]
        assert env.gateway.app[HUB].registry.subscriber_count() == 0


@run_async
async def test_subscribe_private_without_read_permission_is_403() -> None:
    async with live() as env:
        c = await env.login("nobody")
        reply = await c.request(
            {
                "action": "subscribe",
                "channels": ["positions"],
                "params": {"exchange": "binance", "symbols": ["BTCUSDT"]},
            }
        )
        assert reply["code"] == 403


@run_async
async def test_subscribe_past_subscription_limit_is_refused() -> None:
    async with live(FAST.with_(max_subscriptions=2)) as env:
        c = await env.client()
        reply = await c.request(
            {
                "action": "subscribe",
                "channels": ["trades", "market_data"],
                "params": {"exchange": "binance", "symbols": ["BTCUSDT", "ETHUSDT"]},
            }
        )
        assert reply["code"] == 429 and "at most 2" in reply["message"]


@run_async
async def test_slow_consumer_past_budget_closed_1008_others_unaffected() -> None:
    budget = 64 * 1024
    async with live(FAST.with_(send_budget_bytes=budget)) as env:
        sock = socket.socket()
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        sock.setblocking(False)
        await asyncio.get_running_loop().sock_connect(sock, ("127.0.0.1", env.gateway.port))
        ws = await connect(env.url, sock=sock, compression=None, ping_interval=None, max_queue=1)
        slow = Client(ws)
        env.clients.append(slow)
        assert (await slow.request(SUB_TRADES))["event"] == "subscribed"
        fast = await env.client()
        assert (await fast.request(SUB_TRADES))["event"] == "subscribed"
        hub = env.gateway.app[HUB]
        # keep the kernel from soaking up the backlog: small buffers at both ends
        server_side = next(c for c in hub.connections if c.id == 1)
        server_sock = server_side.transport.get_extra_info("socket")  # type: ignore[attr-defined]
        server_sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 4096)

        async def read_fast(n: int) -> int:
            got = 0
            while got < n:
                m = await fast.recv()
                got += m.get("channel") == "trades"
            return got

        n = 1500
        reader = asyncio.ensure_future(read_fast(n))
        for _ in range(n):
            await env.place("alice", "buy", "0.001", "42650")
            await env.place("bob", "sell", "0.001", "42650")
            await asyncio.sleep(0)  # without a journal submit never yields; a real feed does
        assert await reader == n  # the fast client got every trade
        await eventually(lambda: hub.stats.closes.get("policy", 0) == 1)
        code, reason = await slow.closed()
        assert code == 1008 and "slow consumer" in (reason or "")
        notice = [m for m in slow.seen if m.get("event") == "close"]
        assert notice and notice[-1]["code"] == 1008
