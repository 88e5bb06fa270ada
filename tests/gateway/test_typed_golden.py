"""Golden transcripts: every JSON example of spec 004, sent as written against a live server
(real Venue + VenueService + MarketData + gateway), gets the reply the spec shows (by shape:
same keys, same JSON types, literal ``type``/``channel``)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.gateway.helpers import Env, run_async
from tests.gateway.test_golden import shape_problems
from tests.gateway.typed_env import TClient, typed_client, typed_live

DATA = json.loads((Path(__file__).parents[1] / "data" / "typed" / "spec_004.json").read_text())
CASES = {case["name"]: case for case in DATA["cases"]}
SERVER = [c["name"] for c in DATA["cases"] if c["kind"] == "server"]
CLIENT = [c["name"] for c in DATA["cases"] if c["kind"] == "client"]
LITERAL = {"type", "channel", "severity", "status", "side", "orderType", "code", "pair"}
# unpriced assets have no value; a spec example shows a number there
NULLABLE = {"value", "change", "latency", "averagePrice", "lastFillPrice", "lastFillAmount"}
PAIR = "LUXURY001/XRP"
XRPL, FLARE = "LUXURY001-XRP-XRPL", "LUXURY001-XRP-FLARE"


def example(name: str) -> dict[str, Any]:
    ex: dict[str, Any] = CASES[name]["example"]
    return ex


def check(name: str, actual: dict[str, Any]) -> None:
    expected = example(name)
    literal = set(LITERAL)
    if name == "error":  # the example's message is about its own channel
        literal = {"type", "code"}
    problems = shape_problems(expected, actual, literal, NULLABLE)
    assert not problems, (name, problems, actual)


async def _order(c: TClient, order_type: str, **data: Any) -> dict[str, Any]:
    await c.send({"type": "place_order", "orderType": order_type, "orderData": data})
    return await c.expect(lambda m: m["type"] in ("order_placed", "error"))


async def _server_case(env: Env, name: str) -> dict[str, Any]:
    c = await typed_client(env)
    await c.login("demo")
    kind = example(name)["type"]
    if name == "orderbook_update":
        await env.place("alice", "buy", "500", "1000.00", XRPL)
        await env.place("bob", "sell", "200", "1000.50", XRPL)
        await c.send(example("subscribe"))
        return await c.expect(lambda m: m["type"] == kind and m["data"]["bids"])
    if name == "trade":
        await c.send({"type": "subscribe", "channels": [{"type": "trades", "pair": PAIR}]})
        await c.type("subscribed")
        await env.place("bob", "sell", "50", "1000.25", XRPL)
        await env.place("alice", "buy", "50", "1000.25", XRPL)  # the taker buys
        return await c.type(kind)
    if name == "price_update":
        await c.send({"type": "subscribe", "channels": [{"type": "price", "symbol": "LUXURY001"}]})
        await c.type("subscribed")
        await env.place("alice", "buy", "50", "1000.25", XRPL)
        await env.place("bob", "sell", "50", "1000.25", XRPL)
        return await c.expect(lambda m: m["type"] == kind and m["data"]["price"] is not None)
    if name == "portfolio_update":
        await env.place("alice", "buy", "5", "1000.25", XRPL)
        await env.place("bob", "sell", "5", "1000.25", XRPL)
        await c.send({"type": "subscribe", "channels": [{"type": "portfolio", "currency": "XRP"}]})
        return await c.type(kind)
    if name == "order_update":
        await c.send({"type": "subscribe", "channels": [{"type": "orders"}]})
        await c.type("subscribed")
        placed = await _order(c, "limit", pair=PAIR, side="buy", amount="100.00", price="1000.50")
        assert placed["type"] == "order_placed", placed
        await env.place("bob", "sell", "25", "1000.50", XRPL)
        return await c.expect(
            lambda m: m["type"] == kind and m["data"]["status"] == "partially_filled"
        )
    if name in ("position_update", "margin_call"):
        await c.send({"type": "subscribe", "channels": [{"type": "positions"}, "margin_calls"]})
        await c.type("subscribed")
        await env.place("bob", "sell", "10", "1000.00", XRPL)
        placed = await _order(
            c, "limit", pair=PAIR, side="buy", amount="10.00", price="1000.00", leverage=10
        )
        assert placed["type"] == "order_placed", placed
        if name == "position_update":
            return await c.type(kind)
        await env.place("alice", "buy", "1", "990.00", XRPL)
        await env.place("bob", "sell", "1", "990.00", XRPL)
        return await c.type(kind)
    if name == "arbitrage_opportunity":
        await c.send({"type": "subscribe", "channels": [{"type": "arbitrage"}]})
        await c.type("subscribed")
        await env.place("bob", "sell", "50", "1000.00", XRPL)
        await env.place("alice", "buy", "80", "1015.00", FLARE)
        return await c.type(kind)
    if name == "order_placed":
        await c.send(example("place_order_limit"))
        return await c.expect(lambda m: m["type"] in (kind, "error"))
    if name == "order_cancelled":
        await c.send(example("place_order_limit"))
        placed = await c.type("order_placed")
        await c.send({"type": "cancel_order", "orderId": placed["result"]["orderId"]})
        return await c.expect(lambda m: m["type"] in (kind, "error"))
    if name == "pong":
        await c.send(example("ping"))
        return await c.type(kind)
    if name == "connection_stats":
        await c.send({"type": "connection_stats"})
        return await c.type(kind)
    if name == "error":
        await c.send({"type": "subscribe", "channels": [{"type": "invalid_channel"}]})
        return await c.type(kind)
    raise AssertionError(f"no scenario for {name}")


@pytest.mark.parametrize("name", SERVER)
@run_async
async def test_typed_golden_server_example_has_spec_shape(name: str) -> None:
    async with typed_live() as env:
        actual = await _server_case(env, name)
        check(name, actual)


@pytest.mark.parametrize("name", CLIENT)
@run_async
async def test_typed_golden_client_example_as_written_is_answered(name: str) -> None:
    async with typed_live() as env:
        c = await typed_client(env)
        await c.login("demo")
        ex = example(name)
        if name == "unsubscribe":
            await c.send(example("subscribe"))
            await c.type("subscribed")
        await c.send(ex)
        reply = await c.expect(
            lambda m: m["type"] not in ("orderbook_update", "portfolio_update", "order_update")
        )
        if name in ("subscribe", "unsubscribe"):
            assert reply["type"] == name + "d", reply
            assert reply["channels"] == [f"orderbook_{PAIR}", "portfolio"][: len(ex["channels"])]
        elif name.startswith("place_order"):
            check("order_placed", {**reply, "orderType": "limit"})  # the example's type
            assert reply["orderType"] == ex["orderType"]
            assert reply["result"]["orderId"].startswith("order_")
        elif name == "cancel_order":  # order_123456789 does not exist on a fresh venue
            assert reply["type"] == "error", reply
            assert reply["error"]["code"] == "ORDER_FAILED"
            assert reply["orderId"] == "order_123456789"
        elif name == "ping":
            check("pong", reply)
        else:
            raise AssertionError(name)


@run_async
async def test_typed_golden_authenticate_example_with_real_token_is_answered() -> None:
    async with typed_live() as env:
        c = await typed_client(env)
        reply = await c.login("alice")
        assert reply["data"]["userId"] == "alice" and reply["data"]["expiresAt"] > 0


def test_typed_golden_covers_every_spec_example() -> None:
    names = set(CASES)
    assert len(DATA["cases"]) == 20  # every ```json example of spec 004 but the template
    assert {"subscribe", "unsubscribe", "place_order_limit", "place_order_stop_loss"} <= names
    assert {"place_order_oco", "cancel_order", "ping", "error", "margin_call"} <= names
