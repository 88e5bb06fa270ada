"""End to end over real sockets: two users, real Venue + VenueService, privacy of streams."""

from __future__ import annotations

import re
from typing import Any

import pytest

from openpit.gateway import HUB
from tests.gateway.helpers import FAST, KEYS, Client, auth_message, live, run_async

BTC = {"exchange": "binance", "symbols": ["BTCUSDT"]}


def _order(side: str, amount: float, price: float, cid: str) -> dict[str, Any]:
    return {
        "action": "submit_order",
        "exchange": "binance",
        "symbol": "BTCUSDT",
        "side": side,
        "type": "limit",
        "amount": amount,
        "price": price,
        "time_in_force": "gtc",
        "client_order_id": cid,
    }


async def _subscribed(c: Client, channels: list[str]) -> None:
    reply = await c.request({"action": "subscribe", "channels": channels, "params": BTC})
    assert reply["event"] == "subscribed", reply


@run_async
async def test_two_users_each_see_only_own_orders_and_positions() -> None:
    async with live() as env:
        alice, bob = await env.login("alice"), await env.login("bob")
        for c in (alice, bob):
            await _subscribed(c, ["orders", "positions", "trades", "orderbook"])
        ack = await alice.request(_order("buy", 0.1, 42500.0, "a-1"))
        assert ack["event"] == "order_accepted" and ack["client_order_id"] == "a-1"
        assert ack["status"] == "new" and ack["id"]
        # bob sees alice's order only as public data: the book, then the trade
        book = await bob.expect(lambda m: m.get("channel") == "orderbook" and m["data"]["bids"])
        assert book["data"]["bids"][0] == [42500.0, 0.1]
        ack = await bob.request(_order("sell", 0.04, 42500.0, "b-1"))
        assert ack["event"] == "order_accepted"
        trade = await bob.expect(lambda m: m.get("channel") == "trades")
        assert trade["data"]["price"] == 42500.0 and trade["data"]["amount"] == 0.04
        mine = await alice.expect(
            lambda m: m.get("channel") == "orders" and m["data"]["status"] == "partially_filled"
        )
        assert mine["data"]["client_order_id"] == "a-1" and mine["data"]["filled"] == 0.04
        assert mine["data"]["fee"]["cost"] > 0
        pos = await alice.expect(lambda m: m.get("channel") == "positions")
        assert pos["data"]["side"] == "long" and pos["data"]["amount"] == 0.04
        if not any(m.get("channel") == "trades" for m in alice.seen):
            await alice.expect(lambda m: m.get("channel") == "trades")
        for c, own_cid in ((alice, "a-1"), (bob, "b-1")):
            while True:
                try:
                    await c.recv(0.2)
                except TimeoutError:
                    break
            for m in c.seen:
                if m.get("channel") == "orders":
                    assert m["data"]["client_order_id"] == own_cid, m
        alice_pos = [m for m in alice.seen if m.get("channel") == "positions"]
        assert all(m["data"]["amount"] == 0.04 for m in alice_pos)


@run_async
async def test_order_entry_cancel_and_modify_reply_in_flat_style() -> None:
    async with live() as env:
        alice = await env.login("alice")
        ack = await alice.request(_order("buy", 0.1, 42000.0, "c-1"))
        modified = await alice.request(
            {"action": "modify_order", "client_order_id": "c-1", "amount": 0.05}
        )
        assert modified["event"] == "order_modified" and modified["id"] == ack["id"]
        cancelled = await alice.request({"action": "cancel_order", "order_id": ack["id"]})
        assert cancelled["event"] == "order_cancelled" and cancelled["status"] == "cancelled"
        again = await alice.request({"action": "cancel_order", "order_id": ack["id"]})
        assert again["event"] == "error" and again["code"] == 404


@run_async
async def test_order_entry_bad_values_are_400_naming_the_field() -> None:
    async with live() as env:
        alice = await env.login("alice")
        r = await alice.request(_order("buy", 0.123456, 42000.0, "x"))
        assert r["code"] == 400 and "amount" in r["message"] and "lot size" in r["message"]
        r = await alice.request(_order("buy", 0.1, 42000.001, "x"))
        assert r["code"] == 400 and "price" in r["message"] and "tick size" in r["message"]
        r = await alice.request(_order("up", 0.1, 42000.0, "x"))
        assert r["code"] == 400 and "side" in r["message"]
        r = await alice.request(_order("buy", 1000.0, 42000.0, "x"))
        assert r["code"] == 400 and r["reason"] == "insufficient_funds"
        # amounts in USDT, not in minor units (1000 BTC at 42000 plus the fee cap)
        assert re.fullmatch(
            r"needs 420\d{5}(\.\d+)? USDT, \d+(\.\d+)? USDT available", r["message"]
        )


@run_async
async def test_order_entry_without_trade_permission_is_403_and_unauthenticated_401() -> None:
    async with live() as env:
        reader = await env.login("reader")
        r = await reader.request(_order("buy", 0.1, 42000.0, "x"))
        assert r["code"] == 403
        anon = await env.client()
        r = await anon.request(_order("buy", 0.1, 42000.0, "x"))
        assert r["code"] == 401


@run_async
async def test_orderbook_stream_ends_at_current_state() -> None:
    async with live(FAST.with_(book_interval=0.05)) as env:
        c = await env.client()
        await c.request(
            {"action": "subscribe", "channels": ["orderbook"], "params": {**BTC, "depth": 5}}
        )
        for i in range(30):
            await env.place("alice", "buy", "0.01", f"{42000 + i}")
        top = env.marketdata.book_snapshot("BTCUSDT", 5)
        want = [
            [float(env.config.instruments["BTCUSDT"].ticks_to_price(p)), 0.01] for p, _ in top.bids
        ]
        msg = await c.expect(
            lambda m: m.get("channel") == "orderbook" and m["data"]["bids"] == want
        )
        assert len(msg["data"]["bids"]) == 5
        books = [m for m in c.seen if m.get("channel") == "orderbook"]
        assert len(books) < 30  # conflated, not one per change
        assert env.gateway.app[HUB] is not None
        assert auth_message(KEYS["alice"])["api_key"] == "alice-key"


@run_async
async def test_order_updates_carry_the_fee_of_the_fills_they_report() -> None:
    """A taker filling across two levels reads new → partially_filled → filled, and each
    update's fee is the cumulative fee of the fills it reports (0 before any fill)."""
    async with live() as env:
        alice, bob = await env.login("alice"), await env.login("bob")
        await _subscribed(bob, ["orders"])
        await alice.request(_order("sell", 0.02, 42500.0, "s-1"))
        await alice.request(_order("sell", 0.03, 42501.0, "s-2"))
        ack = await bob.request(_order("buy", 0.05, 42501.0, "t-1"))
        assert ack["event"] == "order_accepted"
        await bob.expect(lambda m: m.get("channel") == "orders" and m["data"]["status"] == "filled")
        updates = [m["data"] for m in bob.seen if m.get("channel") == "orders"]
        assert [u["status"] for u in updates] == ["new", "partially_filled", "filled"]
        assert [u["filled"] for u in updates] == [0.0, 0.02, 0.05]
        rate = updates[-1]["fee"]["rate"]
        fees = [u["fee"]["cost"] for u in updates]
        assert fees[0] == 0
        assert fees[1] == pytest.approx(0.02 * 42500.0 * rate, rel=1e-6)
        assert fees[2] == pytest.approx((0.02 * 42500.0 + 0.03 * 42501.0) * rate, rel=1e-6)
