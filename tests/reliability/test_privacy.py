"""Cross-user privacy checker against a real ``openpit serve``.

Three users (demo, alice, bob) each hold every private channel of every dialect at once:
flat ``orders``/``positions``, envelope ``user_orders``/``user_trades``/
``account_updates`` (``/ws/trading``), ``user_notifications`` (``/ws/notifications``),
``custom_alerts`` (``/ws/custom``, one alert each), typed ``orders``/``positions``/
``portfolio``/``margin_calls``. They trade against each other over flat, envelope and
typed; bob's 10× margin long is pushed under its margin-call ratio by a lower trade,
which also fires every user's ``price_below`` alert.

Asserts: every user heard its own fills, alert and (bob) margin call, and no frame any
connection received names another user, or carries another user's order id, client
order id or alert id (ids compared by field, in every dialect's spelling).
"""

from __future__ import annotations

import asyncio
import json
import re
from pathlib import Path
from typing import Any

import aiohttp

from tests.reliability.harness import (
    Conn,
    Venue,
    connect,
    envelope_auth,
    flat_auth,
    mint_jwt,
    venue,
)

USERS = ("demo", "alice", "bob")
SYMBOLS = ["BTCUSDT", "ETHUSDT"]
ORDER_KEYS = {"order_id", "orderId", "id", "maker_order_id", "taker_order_id"}
CID_KEYS = {"client_order_id", "clientOrderId", "client_id", "clientId"}
ALERT_KEYS = {"alert_id", "alertId"}
USER_KEYS = {"user", "user_id", "userId", "owner", "account"}
PUBLIC = ("trades", "orderbook", "ticker", "candles", "market_data", "price", "system")
NUMERIC_ID = re.compile(r"^(?:o-|order_)?(\d+)$")


class User:
    def __init__(self, name: str) -> None:
        self.name = name
        self.conns: dict[str, Conn] = {}
        self.order_ids: set[int] = set()
        self.cids: set[str] = set()
        self.alert_ids: set[str] = set()


async def _open(http: aiohttp.ClientSession, v: Venue, user: User, jwt: str) -> None:
    key = v.keys[user.name]
    flat = await connect(http, v.base, "/ws", f"{user.name}/flat")
    assert (await flat.ask(flat_auth(key))).get("event") == "authenticated"
    sub = {
        "action": "subscribe",
        "channels": ["orders", "positions", "trades"],
        "params": {"exchange": "binance", "symbols": SYMBOLS},
    }
    assert (await flat.ask(sub)).get("event") == "subscribed"
    user.conns["flat"] = flat
    for path, channels in (
        ("/ws/trading", ["user_orders", "user_trades", "account_updates"]),
        ("/ws/notifications", ["user_notifications", "system_notifications"]),
        ("/ws/custom", ["custom_alerts"]),
    ):
        conn = await connect(http, v.base, path, f"{user.name}{path}")
        assert (await conn.ask(envelope_auth(key))).get("type") == "auth_response"
        reply = await conn.ask({"action": "subscribe", "data": {"channels": channels}, "id": "s"})
        assert reply.get("type") == "subscription_response", reply
        user.conns[path] = conn
    alert = {
        "action": "create_alert",
        "data": {
            "name": f"{user.name}-alert",
            "condition": "price_below",
            "symbol": "BTCUSDT",
            "threshold": 29500.0,
        },
        "id": "alert",
    }
    reply = await user.conns["/ws/custom"].ask(alert)
    assert reply.get("type") == "alert_response", reply
    user.alert_ids.add(str(reply["data"]["alert"]["alert_id"]))
    typed = await connect(http, v.base, "/", f"{user.name}/typed")
    reply = await typed.ask({"type": "authenticate", "token": jwt})
    assert reply.get("type") in ("authenticated", "auth_success"), reply
    channels = [{"type": t} for t in ("orders", "positions", "portfolio", "margin_calls")]
    reply = await typed.ask({"type": "subscribe", "channels": channels})
    assert reply.get("type") == "subscribed", reply
    user.conns["typed"] = typed


async def _flat_order(user: User, cid: str, side: str, price: float, **extra: Any) -> None:
    frame = {
        "action": "submit_order",
        "exchange": "binance",
        "symbol": "BTCUSDT",
        "side": side,
        "type": "limit",
        "amount": 0.01,
        "price": price,
        "client_order_id": cid,
        **extra,
    }
    reply = await user.conns["flat"].ask(frame)
    assert reply.get("event") == "order_accepted", reply
    user.order_ids.add(int(reply["id"]))
    user.cids.add(cid)


async def _envelope_order(user: User, cid: str, side: str, price: float) -> None:
    frame = {
        "action": "submit_order",
        "data": {
            "symbol": "BTCUSDT",
            "side": side,
            "type": "limit",
            "quantity": 0.002,
            "price": price,
            "time_in_force": "gtc",
            "client_order_id": cid,
        },
        "id": f"req-{cid}",
    }
    reply = await user.conns["/ws/trading"].ask(frame)
    assert reply.get("type") == "order_response", reply
    user.order_ids.add(int(NUMERIC_ID.match(reply["data"]["order_id"]).group(1)))  # type: ignore[union-attr]
    user.cids.add(cid)


async def _typed_order(user: User, side: str) -> None:
    frame = {
        "type": "place_order",
        "orderType": "limit",
        "orderData": {"pair": "LUXURY001/XRP", "side": side, "amount": "1.00", "price": "1000.00"},
    }
    reply = await user.conns["typed"].ask(frame)
    assert reply.get("type") == "order_placed", reply
    user.order_ids.add(int(NUMERIC_ID.match(reply["result"]["orderId"]).group(1)))  # type: ignore[union-attr]


def _walk(value: Any, out: list[tuple[str, Any]]) -> None:
    if isinstance(value, dict):
        for k, item in value.items():
            out.append((k, item))
            _walk(item, out)
    elif isinstance(value, list):
        for item in value:
            _walk(item, out)


def _leaks(msg: dict[str, Any], raw: str, me: User, others: list[User]) -> list[str]:
    found = []
    channel = str(msg.get("channel") or "")
    public = any(channel.startswith(p) for p in PUBLIC)
    pairs: list[tuple[str, Any]] = []
    _walk(msg, pairs)
    for other in others:
        if f'"{other.name}"' in raw:
            found.append(f"user name {other.name!r}")
        for cid in other.cids | other.alert_ids:
            if f'"{cid}"' in raw:
                found.append(f"{other.name}'s id {cid!r}")
        for key, value in pairs:
            if key in ORDER_KEYS and not public and msg.get("type") != "alert_response":
                m = NUMERIC_ID.match(str(value))
                if (
                    m
                    and int(m.group(1)) in other.order_ids
                    and int(m.group(1)) not in (me.order_ids)
                ):
                    found.append(f"{other.name}'s order id {value!r} at {key}")
            if key in USER_KEYS and value == other.name:
                found.append(f"{other.name} at {key}")
    return found


def test_privacy_three_users_every_private_channel_no_other_users_data(tmp_path: Path) -> None:
    async def scenario() -> None:
        async with venue(tmp_path) as v, aiohttp.ClientSession() as http:
            users = {name: User(name) for name in USERS}
            for user in users.values():
                await _open(http, v, user, await mint_jwt(http, v.base, v.keys[user.name]))
            demo, alice, bob = users["demo"], users["alice"], users["bob"]
            # alice sells to bob's 10x margin long at 30000 (flat)
            await _flat_order(alice, "alice-s1", "sell", 30000.0)
            await _flat_order(bob, "bob-m1", "buy", 30000.0, leverage=10)
            # demo sells to alice lower (envelope): the price drops under every alert
            # threshold and bob's long under its margin-call ratio
            await _envelope_order(demo, "demo-e1", "sell", 29000.0)
            await _envelope_order(alice, "alice-e1", "buy", 29000.0)
            # demo and alice trade LUXURY001/XRP (typed)
            await _typed_order(demo, "sell")
            await _typed_order(alice, "buy")

            for user in users.values():
                await user.conns["/ws/custom"].wait_for(
                    lambda m: (
                        m.get("type") == "custom_alert"
                        or str(m.get("channel", "")).startswith("custom_alerts")
                    )
                )
            await alice.conns["/ws/trading"].wait_for(
                lambda m: "alice-e1" in json.dumps(m) and "trade" in str(m.get("channel"))
            )
            await bob.conns["typed"].wait_for(lambda m: m.get("type") == "margin_call")
            await alice.conns["typed"].wait_for(
                lambda m: m.get("type") == "order_update" and m["data"]["status"] == "filled"
            )
            # barrier: every connection answers a ping after everything above
            for user in users.values():
                for name, conn in user.conns.items():
                    ping = {"type": "ping"} if name == "typed" else {"action": "ping", "id": "p"}
                    pong = await conn.ask(ping)
                    assert "pong" in (pong.get("event"), pong.get("type")), pong

            problems, frames = [], 0
            for user in users.values():
                others = [o for o in users.values() if o is not user]
                for name, conn in user.conns.items():
                    for msg, raw in zip(conn.seen, conn.raw, strict=True):
                        frames += 1
                        for leak in _leaks(msg, raw, user, others):
                            problems.append(f"{user.name} {name}: {leak} in {raw[:300]}")
            print(f"privacy: {frames} frames over {3 * len(USERS) + len(USERS)} connections")
            assert not problems, "\n".join(problems[:20])
            for user in users.values():
                for conn in user.conns.values():
                    await conn.close()

    asyncio.run(asyncio.wait_for(scenario(), 90))


def test_privacy_checker_finds_planted_leaks() -> None:
    """The checker itself: each kind of foreign id, in each dialect's spelling, is found."""
    me, other = User("alice"), User("bob")
    me.order_ids, other.order_ids = {1}, {2}
    other.cids, other.alert_ids = {"bob-m1"}, {"a-9"}
    planted = [
        {"channel": "orders", "data": {"id": "2"}},
        {"type": "order_update", "channel": "orders", "data": {"orderId": "order_2"}},
        {"type": "order_response", "data": {"order_id": "o-2"}, "id": "x"},
        {"channel": "trades", "data": {"client_order_id": "bob-m1"}},
        {"type": "custom_alert", "data": {"alert_id": "a-9"}},
        {"channel": "user_notifications", "data": {"user": "bob"}},
    ]
    for msg in planted:
        assert _leaks(msg, json.dumps(msg), me, [other]), msg
    clean = {"channel": "orders", "data": {"id": "1", "client_order_id": "alice-s1"}}
    assert not _leaks(clean, json.dumps(clean), me, [other])
    public = {"channel": "trades", "data": {"id": "2"}}  # a trade id, not an order id
    assert not _leaks(public, json.dumps(public), me, [other])
