"""Typed dialect (spec 004) end to end: the spec's own Python client, the margin flow,
every error code, token expiry, compression, ping frames and latency."""

from __future__ import annotations

import asyncio
import json
import re
from typing import Any

import websockets

from openpit.gateway import HUB
from tests.gateway.helpers import run_async
from tests.gateway.typed_env import SETTINGS, TClient, token, typed_client, typed_live

PAIR = "LUXURY001/XRP"
XRPL = "LUXURY001-XRP-XRPL"


class NexVestXRWebSocket:
    """The spec 004 Python client class, as written; only ``self.uri`` differs."""

    def __init__(self, token, uri):  # type: ignore[no-untyped-def]
        self.token = token
        self.uri = uri  # spec: "wss://api.nexvestxr.com/ws"
        self.websocket = None
        self.subscriptions = []  # type: ignore[var-annotated]

    async def connect(self):  # type: ignore[no-untyped-def]
        self.websocket = await websockets.connect(self.uri)

        # Authenticate
        await self.websocket.send(json.dumps({"type": "authenticate", "token": self.token}))

    async def subscribe(self, channels):  # type: ignore[no-untyped-def]
        if self.websocket:
            await self.websocket.send(json.dumps({"type": "subscribe", "channels": channels}))
            self.subscriptions.extend(channels)

    async def listen(self, callback):  # type: ignore[no-untyped-def]
        async for message in self.websocket:  # type: ignore[attr-defined]
            data = json.loads(message)
            await callback(data)

    async def place_order(self, order_type, order_data):  # type: ignore[no-untyped-def]
        if self.websocket:
            await self.websocket.send(
                json.dumps(
                    {"type": "place_order", "orderType": order_type, "orderData": order_data}
                )
            )


@run_async
async def test_typed_spec_client_connects_subscribes_trades_and_cancels_unchanged() -> None:
    async with typed_live() as env:
        ws = NexVestXRWebSocket(token("demo"), f"ws://127.0.0.1:{env.gateway.port}/ws")
        await ws.connect()
        await ws.subscribe([{"type": "orderbook", "pair": PAIR}, {"type": "portfolio"}])
        seen: list[dict[str, Any]] = []
        got: asyncio.Queue[dict[str, Any]] = asyncio.Queue()

        async def message_handler(data: dict[str, Any]) -> None:
            seen.append(data)
            await got.put(data)

        listener = asyncio.ensure_future(ws.listen(message_handler))

        async def wait(pred: Any) -> dict[str, Any]:
            while True:
                msg = await asyncio.wait_for(got.get(), 5)
                if pred(msg):
                    return msg

        await wait(lambda m: m["type"] == "authenticated")
        await wait(lambda m: m["type"] == "subscribed")
        await wait(lambda m: m["type"] == "portfolio_update")
        await ws.place_order(
            "limit",
            {
                "pair": PAIR,
                "side": "buy",
                "amount": "100.00",
                "price": "995.00",
                "timeInForce": "GTC",
            },
        )
        placed = await wait(lambda m: m["type"] == "order_placed")
        book = await wait(lambda m: m["type"] == "orderbook_update" and m["data"]["bids"])
        assert book["data"]["bids"][0] == {
            "price": "995.00",
            "amount": "100.00",
            "total": "99500.00",
        }
        portfolio = await wait(lambda m: m["type"] == "portfolio_update")
        assert portfolio["channel"] == "portfolio"
        order_id = placed["result"]["orderId"]
        assert ws.websocket is not None
        await ws.websocket.send(json.dumps({"type": "cancel_order", "orderId": order_id}))
        cancelled = await wait(lambda m: m["type"] == "order_cancelled")
        assert cancelled["orderId"] == order_id and cancelled["result"]["status"] == "cancelled"
        await wait(lambda m: m["type"] == "orderbook_update" and not m["data"]["bids"])
        # the spec says compression is on by default: the websockets client offers it
        assert ws.websocket.protocol.extensions, "permessage-deflate was not negotiated"
        conns = list(env.gateway.app[HUB].connections)
        assert conns and all(c.deflater is not None for c in conns)
        listener.cancel()
        await ws.websocket.close()


@run_async
async def test_typed_margin_flow_position_update_then_margin_call_then_liquidation() -> None:
    async with typed_live() as env:
        alice = await typed_client(env)
        await alice.login("alice")
        await alice.send(
            {"type": "subscribe", "channels": [{"type": "positions"}, {"type": "margin_calls"}]}
        )
        await alice.type("subscribed")
        await env.place("bob", "sell", "1", "42650")
        await alice.send(
            {
                "type": "place_order",
                "orderType": "limit",
                "orderData": {
                    "pair": "BTCUSDT",
                    "side": "buy",
                    "amount": "1.00000",
                    "price": "42650.00",
                    "leverage": 5,
                },
            }
        )
        opened = await alice.type("position_update")
        assert opened["data"]["size"] == "1.00000" and opened["data"]["side"] == "long"
        assert opened["data"]["entryPrice"] == "42650.00"
        # trades between other users move the price against the long
        await env.place("demo", "buy", "0.1", "36800")
        await env.place("bob", "sell", "0.1", "36800")
        marked = await alice.type("position_update")
        assert marked["data"]["markPrice"] == "36800.00"
        assert marked["data"]["pnl"].startswith("-")
        call = await alice.type("margin_call")
        assert call["data"]["severity"] == "critical"
        assert call["data"]["positionId"] == "pos_BTCUSDT"
        await env.place("demo", "buy", "2", "35400")
        await env.place("demo", "buy", "0.1", "35500")
        await env.place("bob", "sell", "0.1", "35500")
        liquidation = await alice.expect(
            lambda m: m["type"] == "margin_call" and m["data"]["severity"] == "liquidation"
        )
        assert liquidation["data"]["timeToLiquidation"] == "0"
        closed = [
            m
            for m in alice.seen
            if m["type"] == "position_update" and m["data"]["size"] == "0.00000"
        ]
        assert closed, "the liquidation did not close the position"
        kinds = [m["type"] for m in alice.seen]
        first_call = kinds.index("margin_call")
        assert "position_update" in kinds[:first_call]


async def _error(c: TClient, message: dict[str, Any] | str) -> dict[str, Any]:
    await c.send(message)
    return await c.type("error")


@run_async
async def test_typed_errors_auth_required_invalid_subscription_order_failed_balance() -> None:
    async with typed_live() as env:
        c = await typed_client(env)
        err = await _error(c, {"type": "subscribe", "channels": [{"type": "portfolio"}]})
        assert err["error"]["code"] == "AUTH_REQUIRED"
        err = await _error(
            c,
            {
                "type": "place_order",
                "orderType": "limit",
                "orderData": {"pair": PAIR, "side": "buy", "amount": "1.00", "price": "995.00"},
            },
        )
        assert err["error"]["code"] == "AUTH_REQUIRED"
        err = await _error(c, {"type": "subscribe", "channels": [{"type": "invalid_channel"}]})
        assert err["error"]["code"] == "INVALID_SUBSCRIPTION"
        assert "orderbook" in err["error"]["details"] and "margin_calls" in err["error"]["details"]
        err = await _error(
            c, {"type": "subscribe", "channels": [{"type": "orderbook", "pair": "NOPE/XRP"}]}
        )
        assert err["error"]["code"] == "INVALID_SUBSCRIPTION"
        await c.login("demo")
        err = await _error(
            c,
            {
                "type": "place_order",
                "orderType": "limit",
                "orderData": {"pair": PAIR, "side": "buy", "amount": "1.00"},
            },
        )
        assert err["error"]["code"] == "ORDER_FAILED"
        err = await _error(
            c,
            {
                "type": "place_order",
                "orderType": "limit",
                "orderData": {"pair": PAIR, "side": "buy", "amount": "1.001", "price": "995.00"},
            },
        )
        assert err["error"]["code"] == "ORDER_FAILED" and "lot size" in err["error"]["message"]
        err = await _error(
            c,
            {
                "type": "place_order",
                "orderType": "limit",
                "orderData": {
                    "pair": PAIR,
                    "side": "buy",
                    "amount": "100000.00",
                    "price": "995.00",
                },
            },
        )
        assert err["error"]["code"] == "INSUFFICIENT_BALANCE"
        assert re.fullmatch(
            r"needs 99\d{6}(\.\d+)? XRP, \d+(\.\d+)? XRP available", err["error"]["message"]
        ), err
        many = [{"type": "trades", "pair": i} for i in env.config.instruments]
        many += [{"type": "orderbook", "pair": i} for i in env.config.instruments]
        many += [{"type": "price", "symbol": i} for i in env.config.instruments]
        assert len(many) > 20
        err = await _error(c, {"type": "subscribe", "channels": many})
        assert err["error"]["code"] == "INVALID_SUBSCRIPTION" and "20" in err["error"]["message"]


@run_async
async def test_typed_rate_limit_exceeded_past_50_messages() -> None:
    async with typed_live() as env:
        c = await typed_client(env)
        for _ in range(120):
            await c.send({"type": "ping"})
        err = await c.type("error")
        assert err["error"]["code"] == "RATE_LIMIT_EXCEEDED"


@run_async
async def test_typed_invalid_token_auth_failed_and_closed_at_once() -> None:
    async with typed_live() as env:
        c = await typed_client(env)
        await c.send({"type": "authenticate", "token": token("demo", secret="wrong-secret-" * 4)})
        err = await c.type("error")
        assert err["error"]["code"] == "AUTH_FAILED"
        assert await c.closed() == 1008
        c = await typed_client(env)
        await c.send({"type": "authenticate", "token": token("demo", ttl=-5)})
        err = await c.type("error")
        assert err["error"]["code"] == "AUTH_FAILED" and "expired" in err["error"]["message"]
        assert await c.closed() == 1008


@run_async
async def test_typed_token_expiring_while_connected_ends_private_streams_and_closes() -> None:
    async with typed_live() as env:
        c = await typed_client(env)
        await c.send({"type": "authenticate", "token": token("demo", ttl=2)})
        await c.type("authenticated")
        await c.send({"type": "subscribe", "channels": [{"type": "orders"}]})
        await c.type("subscribed")
        err = await c.type("error", timeout=5)
        assert err["error"]["code"] == "AUTH_FAILED"
        assert await c.closed() == 1008


@run_async
async def test_typed_sixth_connection_of_a_user_is_refused() -> None:
    async with typed_live() as env:
        five = [await typed_client(env) for _ in range(5)]
        for c in five:
            await c.login("bob")
        c = await typed_client(env)
        await c.send({"type": "authenticate", "token": token("bob")})
        err = await c.type("error")
        assert err["error"]["code"] == "RATE_LIMIT_EXCEEDED"


@run_async
async def test_typed_ping_frames_measure_latency_in_connection_stats() -> None:
    async with typed_live(SETTINGS.with_(frame_ping_interval=0.05)) as env:
        c = await typed_client(env)
        await c.send({"type": "ping"})
        pong = await c.type("pong")
        assert pong["timestamp"] > 0
        hub = env.gateway.app[HUB]

        def measured() -> bool:
            return all(conn.latency_ms is not None for conn in hub.connections)

        for _ in range(300):
            if measured():
                break
            await asyncio.sleep(0.01)
        await c.send({"type": "connection_stats"})
        stats = await c.type("connection_stats")
        data = stats["data"]
        assert data["latency"] is not None and data["latency"] >= 0
        assert data["messagesReceived"] == 2 and data["subscriptions"] == 0
        assert data["messagesSent"] >= 1 and data["connectedAt"] <= stats["timestamp"]


@run_async
async def test_typed_uncompressed_client_gets_plain_frames() -> None:
    async with typed_live() as env:
        c = await typed_client(env, compression=None)
        await c.login("demo")
        assert not c.ws.protocol.extensions
        assert all(conn.deflater is None for conn in env.gateway.app[HUB].connections)


@run_async
async def test_typed_venue_field_selects_the_listing() -> None:
    async with typed_live() as env:
        c = await typed_client(env)
        await c.login("demo")
        await c.send(
            {
                "type": "place_order",
                "orderType": "limit",
                "orderData": {
                    "pair": PAIR,
                    "venue": "flare",
                    "side": "buy",
                    "amount": "1.00",
                    "price": "990.00",
                },
            }
        )
        placed = await c.type("order_placed")
        assert placed["result"]["venue"] == "flare"
        await c.send(
            {
                "type": "place_order",
                "orderType": "limit",
                "orderData": {"pair": PAIR, "side": "buy", "amount": "1.00", "price": "990.00"},
            }
        )
        placed = await c.type("order_placed")
        assert placed["result"]["venue"] == "xrpl"
