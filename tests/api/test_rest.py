"""REST API end to end over real HTTP: every endpoint, the venue's reason codes, auth failures."""

from __future__ import annotations

import asyncio
import json
import time
from pathlib import Path

import aiohttp
import jwt

from openpit.gateway import sign
from tests.api.helpers import JWT_SECRET, Creds, RestEnv, rest_env


def run(coro_fn, tmp: Path) -> None:  # type: ignore[no-untyped-def]
    async def main() -> None:
        async with rest_env(tmp) as env:
            await coro_fn(env)

    asyncio.run(asyncio.wait_for(main(), 60))


def order(symbol: str = "BTCUSDT", **kw: object) -> dict[str, object]:
    return {"symbol": symbol, "side": "buy", "type": "limit", "amount": "0.01", **kw}


def test_rest_public_endpoints_answer_with_market_data(tmp_path: Path) -> None:
    async def scenario(env: RestEnv) -> None:
        status, insts = await env.call("GET", "/api/v1/instruments")
        assert status == 200
        btc = next(i for i in insts if i["id"] == "BTCUSDT")
        assert btc["tick_size"] == "0.01" and btc["exchange"] == "binance"
        assert btc["halted"] is False

        await env.call("POST", "/api/v1/orders", "alice", order(price="42000.00"))
        sell = order(side="sell", price="42000.00", type="limit")
        status, _ = await env.call("POST", "/api/v1/orders", "bob", sell)
        assert status == 201

        status, book = await env.call("GET", "/api/v1/orderbook?symbol=BTCUSDT&depth=5")
        assert status == 200 and book["symbol"] == "BTCUSDT" and book["sequence"] >= 1
        status, trades = await env.call("GET", "/api/v1/trades?symbol=BTCUSDT&limit=5")
        assert status == 200
        assert trades[0]["price"] == "42000.00" and trades[0]["amount"] == "0.01000"
        assert trades[0]["side"] == "sell"
        status, ticker = await env.call("GET", "/api/v1/ticker?symbol=BTC/USDT")
        assert status == 200 and ticker["last"] == "42000.00" and ticker["trades"] == 1
        status, candles = await env.call("GET", "/api/v1/candles?symbol=BTCUSDT&interval=1m")
        assert status == 200 and candles[-1]["close"] == "42000.00"
        status, candles = await env.call(
            "GET", "/api/v1/candles?symbol=BTCUSDT&interval=1h&start=0&end=1&limit=3"
        )
        assert status == 200 and candles == []
        status, now = await env.call("GET", "/api/v1/time")
        assert status == 200 and abs(now["server_time"] - time.time() * 1000) < 60_000
        status, st = await env.call("GET", "/api/v1/status")
        assert status == 200 and st["status"] == "ok"
        assert {v["id"] for v in st["venues"]} >= {"binance", "nyse"}
        status, doc = await env.call("GET", "/api/v1/openapi.json")
        assert status == 200 and doc["openapi"].startswith("3.1")
        async with env.session.get(env.base + "/api/v1/docs") as resp:
            assert resp.status == 200 and resp.content_type == "text/html"
            assert "/api/v1/orders" in await resp.text()

    run(scenario, tmp_path)


def test_rest_public_bad_input_is_a_json_error(tmp_path: Path) -> None:
    async def scenario(env: RestEnv) -> None:
        status, err = await env.call("GET", "/api/v1/orderbook?symbol=NOPE")
        assert (status, err["code"]) == (404, "unknown_instrument")
        status, err = await env.call("GET", "/api/v1/orderbook?symbol=BTCUSDT&depth=0")
        assert (status, err["code"], err["status"]) == (400, "invalid_parameter", 400)
        status, err = await env.call("GET", "/api/v1/candles?symbol=BTCUSDT&interval=2m")
        assert status == 400
        status, err = await env.call("GET", "/api/v1/ticker?symbol=BTCUSDT&exchange=nyse")
        assert status == 404
        status, err = await env.call("GET", "/api/v1/ticker?symbol=BTCUSDT&bogus=1")
        assert status == 400 and "bogus" in err["message"]
        status, err = await env.call("GET", "/api/v1/nowhere")
        assert (status, err["code"]) == (404, "not_found")

    run(scenario, tmp_path)


def test_rest_order_lifecycle_create_get_modify_cancel_history(tmp_path: Path) -> None:
    async def scenario(env: RestEnv) -> None:
        status, o = await env.call(
            "POST", "/api/v1/orders", "alice", order(price="41000.00", client_order_id="a-1")
        )
        assert status == 201 and o["status"] == "new" and o["client_order_id"] == "a-1"
        oid = o["id"]
        status, got = await env.call("GET", f"/api/v1/orders/{oid}", "alice")
        assert status == 200 and got["price"] == "41000.00" and got["remaining"] == "0.01000"
        status, got = await env.call("GET", "/api/v1/orders/by-client-id/a-1", "alice")
        assert status == 200 and got["id"] == oid
        status, other = await env.call("GET", f"/api/v1/orders/{oid}", "bob")
        assert (status, other["code"]) == (404, "unknown_order")  # never another user's order

        status, mod = await env.call("PATCH", f"/api/v1/orders/{oid}", "alice", {"amount": "0.005"})
        assert status == 200 and mod["amount"] == "0.00500"
        status, mod = await env.call(
            "PATCH", "/api/v1/orders/by-client-id/a-1", "alice", {"price": "41000.50"}
        )
        assert status == 200 and mod["price"] == "41000.50"
        status, open_ = await env.call("GET", "/api/v1/orders?symbol=BTCUSDT", "alice")
        assert status == 200 and [x["id"] for x in open_] == [oid]
        status, c = await env.call("DELETE", "/api/v1/orders/by-client-id/a-1", "alice")
        assert status == 200 and c["status"] == "cancelled"
        status, err = await env.call("DELETE", f"/api/v1/orders/{oid}", "alice")
        assert (status, err["code"]) == (404, "unknown_order")

        ids = []
        for px in ("40000.00", "40001.00"):
            _, o = await env.call("POST", "/api/v1/orders", "alice", order(price=px))
            ids.append(o["id"])
        _, o = await env.call("POST", "/api/v1/orders", "alice", order("ETHUSDT", price="2000.00"))
        status, out = await env.call("DELETE", "/api/v1/orders?symbol=BTCUSDT", "alice")
        assert status == 200 and sorted(x["id"] for x in out["cancelled"]) == sorted(ids)
        status, out = await env.call("DELETE", "/api/v1/orders", "alice")
        assert [x["id"] for x in out["cancelled"]] == [o["id"]]

        status, got = await env.call("GET", f"/api/v1/orders/{oid}", "alice")  # from history
        assert status == 200 and got["status"] == "cancelled"
        status, page = await env.call("GET", "/api/v1/orders/history?limit=2", "alice")
        assert status == 200 and len(page["items"]) == 2 and page["next_cursor"] is not None
        seen = [x["id"] for x in page["items"]]
        status, page2 = await env.call(
            "GET", f"/api/v1/orders/history?limit=2&before={page['next_cursor']}", "alice"
        )
        assert status == 200
        seen += [x["id"] for x in page2["items"]]
        assert len(set(seen)) == 4

    run(scenario, tmp_path)


def test_rest_fill_shows_in_fills_balances_and_positions(tmp_path: Path) -> None:
    async def scenario(env: RestEnv) -> None:
        _, before = await env.call("GET", "/api/v1/account/balances", "alice")
        usdt0 = next(b for b in before if b["asset"] == "USDT")
        await env.call("POST", "/api/v1/orders", "bob", order(side="sell", price="42000.00"))
        status, o = await env.call(
            "POST", "/api/v1/orders", "alice", order(type="market", price=None)
        )
        assert status == 201 and o["status"] == "filled" and o["average"] == "42000.00"
        status, fills = await env.call("GET", "/api/v1/fills?symbol=BTCUSDT", "alice")
        assert status == 200 and len(fills["items"]) == 1
        f = fills["items"][0]
        assert (f["side"], f["price"], f["liquidity"], f["order_id"]) == (
            "buy",
            "42000.00",
            "taker",
            o["id"],
        )
        status, after = await env.call("GET", "/api/v1/account/balances", "alice")
        usdt1 = next(b for b in after if b["asset"] == "USDT")
        assert float(usdt1["total"]) < float(usdt0["total"])
        status, positions = await env.call("GET", "/api/v1/account/positions", "alice")
        assert status == 200
        pos = next(p for p in positions if p["symbol"] == "BTCUSDT")
        assert pos["side"] == "long" and pos["amount"] == "0.01000" and pos["type"] == "spot"

    run(scenario, tmp_path)


def test_rest_rejections_carry_the_venue_reason_codes(tmp_path: Path) -> None:
    async def scenario(env: RestEnv) -> None:
        cases = [
            (order(amount="1000", price="42000.00"), 422, "insufficient_funds"),
            (order(price="42000.001"), 400, "invalid_price"),
            (order(amount="0.000001", price="42000.00"), 400, "invalid_quantity"),
            (order(price="-1"), 400, "invalid_price"),
            (order(price="NaN"), 400, "invalid_price"),
            (order("NOPE", price="1"), 404, "unknown_instrument"),
            (order(type="limit"), 400, "invalid_parameter"),
            ({"symbol": "BTCUSDT", "side": "up", "amount": "1"}, 400, "invalid_parameter"),
            ({**order(price="1.00"), "colour": "red"}, 400, "invalid_parameter"),
        ]
        for body, status, code in cases:
            got_status, err = await env.call("POST", "/api/v1/orders", "alice", body)
            assert (got_status, err["code"]) == (status, code), (body, err)
            assert err["status"] == status and err["message"]
        status, err = await env.call("POST", "/api/v1/orders", "alice", raw=b"{not json")
        assert (status, err["code"]) == (400, "invalid_parameter")
        await env.call("POST", "/api/v1/orders", "alice", order(price="1.00", client_order_id="x"))
        status, err = await env.call(
            "POST", "/api/v1/orders", "alice", order(price="1.00", client_order_id="x")
        )
        assert (status, err["code"]) == (409, "duplicate_client_order_id")
        status, err = await env.call("DELETE", "/api/v1/orders/999999", "alice")
        assert (status, err["code"]) == (404, "unknown_order")

    run(scenario, tmp_path)


def test_rest_auth_failures_are_401_or_403(tmp_path: Path) -> None:
    async def scenario(env: RestEnv) -> None:
        path = "/api/v1/account/balances"
        async with env.session.get(env.base + path) as resp:
            assert resp.status == 401 and (await resp.json())["code"] == "unauthorized"
        status, err = await env.call("GET", path, "alice", signature="0" * 64)
        assert (status, err["code"]) == (401, "unauthorized") and "signature" in err["message"]
        stale = time.time_ns() // 1_000_000 - 31_000
        status, err = await env.call("GET", path, "alice", ts=stale)
        assert status == 401 and "window" in err["message"]
        status, err = await env.call("GET", path, Creds("k_nope", "x"))
        assert status == 401 and "unknown API key" in err["message"]
        wrong_secret = Creds(env.keys["alice"].api_key, "not-the-secret")
        status, _ = await env.call("GET", path, wrong_secret)
        assert status == 401

        ts = time.time_ns() // 1_000_000
        status, _ = await env.call("GET", path, "alice", ts=ts)
        assert status == 200
        status, err = await env.call("GET", path, "alice", ts=ts)  # same signature again
        assert status == 401 and "already used" in err["message"]

        # the signature covers the body: a changed body is refused
        body = json.dumps(order(price="1.00")).encode()
        c = env.keys["alice"]
        ts = time.time_ns() // 1_000_000
        from openpit.api import signed_headers

        headers = signed_headers(c.api_key, c.api_secret, ts, "POST", "/api/v1/orders", body)
        headers["Content-Type"] = "application/json"
        tampered = body.replace(b"1.00", b"2.00")
        async with env.session.post(
            env.base + "/api/v1/orders", data=tampered, headers=headers
        ) as resp:
            assert resp.status == 401

        status, err = await env.call("POST", "/api/v1/orders", "reader", order(price="1.00"))
        assert (status, err["code"]) == (403, "forbidden")
        status, err = await env.call("GET", "/api/v1/admin/users", "alice")
        assert (status, err["code"]) == (403, "forbidden")
        status, _ = await env.call("GET", "/api/v1/admin/users", "admin")
        assert status == 200

        status, _ = await env.call("DELETE", f"/api/v1/admin/keys/{c.api_key}", "admin")
        assert status == 200
        status, err = await env.call("GET", path, "alice")
        assert status == 401 and "revoked" in err["message"]

    run(scenario, tmp_path)


def test_rest_alerts_and_tokens(tmp_path: Path) -> None:
    async def scenario(env: RestEnv) -> None:
        body = {"name": "btc high", "condition": "price_above", "symbol": "BTCUSDT",
                "threshold": "50000.00"}  # fmt: skip
        status, a = await env.call("POST", "/api/v1/alerts", "alice", body)
        assert status == 201 and a["threshold"] == "50000.00" and a["symbol"] == "BTCUSDT"
        status, err = await env.call(
            "POST", "/api/v1/alerts", "alice", {**body, "threshold": "50000.001"}
        )
        assert status == 400
        status, err = await env.call("POST", "/api/v1/alerts", "alice", {**body, "symbol": "X"})
        assert (status, err["code"]) == (404, "unknown_instrument")
        status, listed = await env.call("GET", "/api/v1/alerts", "alice")
        assert status == 200 and [x["id"] for x in listed] == [a["id"]]
        status, listed = await env.call("GET", "/api/v1/alerts", "bob")
        assert listed == []
        status, err = await env.call("DELETE", f"/api/v1/alerts/{a['id']}", "bob")
        assert status == 404
        status, out = await env.call("DELETE", f"/api/v1/alerts/{a['id']}", "alice")
        assert status == 200 and out == {"deleted": True}
        status, _ = await env.call("DELETE", f"/api/v1/alerts/{a['id']}", "alice")
        assert status == 404

        status, tok = await env.call("POST", "/api/v1/tokens", "alice", {"ttl_seconds": 600})
        assert status == 201 and tok["token_type"] == "Bearer" and tok["user"] == "alice"
        claims = jwt.decode(tok["token"], JWT_SECRET, algorithms=["HS256"])
        assert claims["sub"] == "alice" and claims["exp"] - claims["iat"] == 600
        status, _ = await env.call("POST", "/api/v1/tokens", "alice", {"ttl_seconds": 1})
        assert status == 400

    run(scenario, tmp_path)


def test_rest_admin_users_keys_funds_notifications_halts(tmp_path: Path) -> None:
    async def scenario(env: RestEnv) -> None:
        status, u = await env.call("POST", "/api/v1/admin/users", "admin", {"user": "carol"})
        assert status == 201 and u["id"] == "carol"
        status, err = await env.call("POST", "/api/v1/admin/users", "admin", {"user": "carol"})
        assert (status, err["code"]) == (409, "already_exists")
        status, err = await env.call("POST", "/api/v1/admin/users", "admin", {"user": "a b"})
        assert status == 400
        status, users = await env.call("GET", "/api/v1/admin/users", "admin")
        assert "carol" in {x["id"] for x in users}

        status, err = await env.call("POST", "/api/v1/admin/keys", "admin", {"user": "zed"})
        assert (status, err["code"]) == (404, "unknown_user")
        status, k = await env.call("POST", "/api/v1/admin/keys", "admin", {"user": "carol"})
        assert status == 201 and k["permissions"] == ["read", "trade"] and k["api_secret"]
        status, keys = await env.call("GET", "/api/v1/admin/keys?user=carol", "admin")
        assert [x["api_key"] for x in keys] == [k["api_key"]] and "api_secret" not in keys[0]
        carol = Creds(k["api_key"], k["api_secret"])

        status, f = await env.call(
            "POST", "/api/v1/admin/deposits", "admin",
            {"user": "carol", "asset": "USDT", "amount": "1000.5"},
        )  # fmt: skip
        assert status == 200 and f["balance"]["available"] == "1000.50000000"
        status, f = await env.call(
            "POST", "/api/v1/admin/withdrawals", "admin",
            {"user": "carol", "asset": "USDT", "amount": "0.5"},
        )  # fmt: skip
        assert status == 200 and f["balance"]["total"] == "1000.00000000"
        status, err = await env.call(
            "POST", "/api/v1/admin/withdrawals", "admin",
            {"user": "carol", "asset": "USDT", "amount": "5000"},
        )  # fmt: skip
        assert (status, err["code"]) == (422, "insufficient_funds")
        assert "withdraw 5000 USDT: only 1000 USDT available" in err["message"]
        status, err = await env.call(
            "POST", "/api/v1/admin/deposits", "admin",
            {"user": "carol", "asset": "DOGE", "amount": "1"},
        )  # fmt: skip
        assert status == 400
        status, bal = await env.call("GET", "/api/v1/account/balances", carol)
        assert bal == [{"asset": "USDT", "available": "1000.00000000",
                        "reserved": "0.00000000", "total": "1000.00000000"}]  # fmt: skip

        status, n = await env.call(
            "POST", "/api/v1/admin/notifications", "admin",
            {"title": "Maintenance", "message": "at noon", "level": "warning"},
        )  # fmt: skip
        assert status == 201 and n["level"] == "warning" and n["title"] == "Maintenance"

        status, h = await env.call(
            "POST", "/api/v1/admin/instruments/BTCUSDT/halt", "admin", {"reason": "test"}
        )
        assert status == 200 and h["halted"] is True
        status, err = await env.call("POST", "/api/v1/orders", "alice", order(price="1.00"))
        assert (status, err["code"]) == (422, "trading_halted")
        _, insts = await env.call("GET", "/api/v1/instruments")
        assert next(i for i in insts if i["id"] == "BTCUSDT")["halted"] is True
        status, h = await env.call("POST", "/api/v1/admin/instruments/BTCUSDT/resume", "admin")
        assert status == 200 and h["halted"] is False
        status, _ = await env.call("POST", "/api/v1/orders", "alice", order(price="1.00"))
        assert status == 201
        status, err = await env.call("POST", "/api/v1/admin/instruments/NOPE/halt", "admin", {})
        assert status == 404

    run(scenario, tmp_path)


def test_rest_revoking_a_key_closes_its_websocket_connections(tmp_path: Path) -> None:
    async def scenario(env: RestEnv) -> None:
        c = env.keys["bob"]
        async with env.session.ws_connect(f"ws://127.0.0.1:{env.gateway.port}/ws") as ws:
            ts = time.time_ns() // 1_000_000
            await ws.send_str(
                json.dumps(
                    {
                        "action": "authenticate",
                        "api_key": c.api_key,
                        "timestamp": ts,
                        "signature": sign(c.api_secret, c.api_key, ts),
                    }
                )
            )
            reply = json.loads((await ws.receive(timeout=10)).data)
            assert reply["event"] == "authenticated"
            status, out = await env.call("DELETE", f"/api/v1/admin/keys/{c.api_key}", "admin")
            assert status == 200 and out["connections_closed"] == 1
            notice = json.loads((await ws.receive(timeout=10)).data)
            assert notice["event"] == "close" and "revoked" in notice["message"]
            msg = await ws.receive(timeout=10)
            assert msg.type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED)
        status, _err = await env.call("DELETE", "/api/v1/admin/keys/k_missing", "admin")
        assert status == 404

    run(scenario, tmp_path)
