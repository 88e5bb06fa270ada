"""Orders recovered after a restart can be modified and cancelled in every dialect and
over REST (real ``openpit serve`` subprocess, same data directory): the gateway resolves
orders through the venue's own indexes and keeps no shadow of them, so an order it never
saw placed is as live as any other. The typed dialect has no modify (spec 004): cancel.
A partly filled recovered order's fee total keeps counting from its value before.
"""

from __future__ import annotations

import asyncio
import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import aiohttp

from tests.reliability.harness import (
    Conn,
    envelope_auth,
    flat_auth,
    mint_jwt,
    prepare,
    rest,
)

PRICE = "20000.00"  # no simulator (``--no-simulator``): orders meet only the test's own


async def _place(http: aiohttp.ClientSession, base: str, key: tuple[str, str]) -> int:
    return int((await _order(http, base, key, "buy", "0.001"))["id"])


async def _conn(http: aiohttp.ClientSession, base: str, path: str, name: str) -> Conn:
    return Conn(await http.ws_connect(f"ws://{base}{path}"), name).start()


def _ok(reply: dict[str, Any]) -> bool:
    text = json.dumps(reply).lower()
    return "error" not in text and "not_found" not in text and "unknown order" not in text


def test_recovered_orders_modify_and_cancel_in_every_dialect_and_rest(tmp_path: Path) -> None:
    async def scenario() -> None:
        v = prepare(tmp_path)
        await v.server.start()
        alice = v.keys["alice"]
        try:
            async with aiohttp.ClientSession() as http:
                ids = [await _place(http, v.server.base, alice) for _ in range(4)]
            await v.server.stop()
            await v.server.start()  # the same data directory: every order is recovered
            base = v.server.base
            flat_id, env_id, typed_id, rest_id = ids
            async with aiohttp.ClientSession() as http:
                flat = await _conn(http, base, "/ws?dialect=flat", "flat")
                assert _ok(await flat.ask(flat_auth(alice)))
                modified = await flat.ask(
                    {"action": "modify_order", "order_id": str(flat_id), "price": 20001}
                )
                assert _ok(modified), modified
                cancelled = await flat.ask({"action": "cancel_order", "order_id": str(flat_id)})
                assert _ok(cancelled), cancelled

                env = await _conn(http, base, "/ws/trading", "envelope")
                assert _ok(await env.ask(envelope_auth(alice)))
                modified = await env.ask(
                    {
                        "action": "modify_order",
                        "id": "m",
                        "data": {"order_id": f"o-{env_id}", "price": 20001},
                    }
                )
                assert _ok(modified), modified
                cancelled = await env.ask(
                    {"action": "cancel_order", "id": "c", "data": {"order_id": f"o-{env_id}"}}
                )
                assert _ok(cancelled), cancelled

                token = await mint_jwt(http, base, alice)
                typed = await _conn(http, base, "/?dialect=typed", "typed")
                assert _ok(await typed.ask({"type": "authenticate", "token": token}))
                cancelled = await typed.ask(
                    {"type": "cancel_order", "orderId": f"order_{typed_id}"}
                )
                assert _ok(cancelled), cancelled

                path = f"/api/v1/orders/{rest_id}"
                body = json.dumps({"price": "20001.00"}).encode()
                status, data = await rest(http, base, alice, "PATCH", path, body)
                assert status == 200 and data["price"] == "20001.00", data
                status, data = await rest(http, base, alice, "DELETE", path)
                assert status == 200 and data["status"] == "cancelled", data

                status, data = await rest(http, base, alice, "GET", "/api/v1/orders")
                assert status == 200 and not [o for o in data if int(o["id"]) in ids], data
                for c in (flat, env, typed):
                    await c.close()
        finally:
            if v.server.proc is not None:
                await v.server.stop()

    asyncio.run(asyncio.wait_for(scenario(), 120))


async def _order(
    http: aiohttp.ClientSession, base: str, key: tuple[str, str], side: str, amount: str
) -> dict[str, Any]:
    body = {"symbol": "BTCUSDT", "side": side, "type": "limit", "amount": amount, "price": PRICE}
    status, data = await rest(http, base, key, "POST", "/api/v1/orders", json.dumps(body).encode())
    assert status in (200, 201), data
    return dict(data)


async def _fees_of(
    http: aiohttp.ClientSession, base: str, key: tuple[str, str], order_id: int
) -> list[Decimal]:
    status, page = await rest(http, base, key, "GET", "/api/v1/fills")
    assert status == 200, page
    return [Decimal(f["fee"]) for f in page["items"] if int(f["order_id"]) == order_id]


def test_a_recovered_partly_filled_order_keeps_counting_its_fee(tmp_path: Path) -> None:
    """The fee total an order update carries is venue state: a restart (snapshot + journal
    replay from the same data directory) does not reset it."""

    async def scenario() -> None:
        v = prepare(tmp_path)
        await v.server.start()
        alice, bob = v.keys["alice"], v.keys["bob"]
        try:
            async with aiohttp.ClientSession() as http:
                oid = int((await _order(http, v.server.base, alice, "sell", "0.003"))["id"])
                taker = await _order(http, v.server.base, bob, "buy", "0.001")
                assert taker["status"] == "filled", taker
                before = await _fees_of(http, v.server.base, alice, oid)
                assert len(before) == 1 and before[0] > 0, before
            await v.server.stop()
            await v.server.start()
            base = v.server.base
            async with aiohttp.ClientSession() as http:
                flat = await _conn(http, base, "/ws?dialect=flat", "flat")
                assert _ok(await flat.ask(flat_auth(alice)))
                sub = {
                    "action": "subscribe",
                    "channels": ["orders"],
                    "params": {"symbol": "BTCUSDT"},
                }
                assert _ok(await flat.ask(sub))
                taker = await _order(http, base, bob, "buy", "0.001")
                assert taker["status"] == "filled", taker
                update = await flat.wait_for(
                    lambda m: m.get("channel") == "orders" and m["data"]["id"] == str(oid)
                )
                fees = await _fees_of(http, base, alice, oid)
                assert len(fees) == 2, fees
                assert update["data"]["status"] == "partially_filled", update
                assert Decimal(str(update["data"]["fee"]["cost"])) == sum(fees), (update, fees)
                await flat.close()
        finally:
            if v.server.proc is not None:
                await v.server.stop()

    asyncio.run(asyncio.wait_for(scenario(), 120))
