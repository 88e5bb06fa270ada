"""The Binance surface over HTTP on a live venue: every endpoint, every error code.

A real aiohttp server on 127.0.0.1:0 (venue service, market data, SQLite store and
history writer as ``openpit serve`` wires them); requests signed the way Binance
clients sign them.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import aiohttp

from openpit.api import add_rest_routes, signed_headers
from openpit.binance import BinanceSettings, add_binance_routes
from openpit.binance.request import sign
from openpit.config import load_demo_config
from openpit.gateway import GatewaySettings, RunningGateway, create_app, start_gateway
from openpit.marketdata import MarketData
from openpit.store import HistoryWriter, Permission, SqliteStore
from openpit.store.keys import StoreKeyStore
from openpit.venue import Venue
from openpit.venue.service import VenueService
from tests.api.helpers import Creds, add_key

P = "/binance/api/v3"


@dataclass
class Env:
    gateway: RunningGateway
    http: aiohttp.ClientSession
    keys: dict[str, Creds]
    headers: dict[str, str]
    md: MarketData

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.gateway.port}"

    async def get(self, path: str, **params: Any) -> tuple[int, Any]:
        async with self.http.get(self.base + P + path, params=params) as resp:
            self.headers = dict(resp.headers)
            return resp.status, await resp.json()

    async def signed(
        self, method: str, path: str, who: str | None = "alice", *, ts: int | None = None,
        secret: str | None = None, in_body: bool = False, **params: Any,
    ) -> tuple[int, Any]:  # fmt: skip
        params["timestamp"] = ts if ts is not None else time.time_ns() // 1_000_000
        query = urlencode(params)
        headers = {}
        if who is not None:
            creds = self.keys[who]
            headers["X-MBX-APIKEY"] = creds.api_key
            query += "&signature=" + sign(secret or creds.api_secret, query)
        url, data = self.base + P + path, None
        if in_body:
            data = query
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        else:
            url += "?" + query
        async with self.http.request(method, url, data=data, headers=headers) as resp:
            self.headers = dict(resp.headers)
            return resp.status, await resp.json()


@asynccontextmanager
async def binance_env(tmp: Path, settings: BinanceSettings | None = None) -> AsyncIterator[Env]:
    config = load_demo_config()
    venue = Venue(config)
    service = VenueService(config, venue)
    for command in venue.genesis_commands():
        await service.submit(command)
    marketdata = MarketData(config)
    service.attach_marketdata(marketdata)
    store = SqliteStore(tmp / "store.sqlite3")
    history = HistoryWriter(store.path)
    service.add_listener(lambda published: history.submit(published.events))
    keys = {
        "alice": add_key(store, "alice", Permission.READ, Permission.TRADE),
        "bob": add_key(store, "bob", Permission.READ, Permission.TRADE),
        "reader": add_key(store, "alice", Permission.READ),
    }
    app = create_app(service, marketdata, StoreKeyStore(store), GatewaySettings())
    add_rest_routes(app, service, marketdata, store, history=history)
    add_binance_routes(app, service, marketdata, store, history=history, settings=settings)
    gateway = await start_gateway(app, "127.0.0.1", 0)
    http = aiohttp.ClientSession()
    try:
        yield Env(gateway, http, keys, {}, marketdata)
    finally:
        await http.close()
        await gateway.stop()
        history.close()
        store.close()


def run(tmp: Path, scenario: Callable[[Env], Awaitable[None]], **kw: Any) -> None:
    async def main() -> None:
        async with binance_env(tmp, **kw) as env:
            await scenario(env)

    asyncio.run(asyncio.wait_for(main(), 60))


LIMIT = {"symbol": "BTCUSDT", "side": "BUY", "type": "LIMIT", "timeInForce": "GTC"}


def test_public_endpoints_answer_in_binance_shape(tmp_path: Path) -> None:
    async def scenario(env: Env) -> None:
        assert await env.get("/ping") == (200, {})
        status, t = await env.get("/time")
        assert status == 200 and abs(t["serverTime"] - time.time() * 1000) < 60_000
        assert int(env.headers["X-MBX-USED-WEIGHT-1M"]) == 2  # ping + time
        status, info = await env.get("/exchangeInfo", symbol="BTCUSDT")
        assert status == 200 and [s["symbol"] for s in info["symbols"]] == ["BTCUSDT"]
        assert info["symbols"][0]["status"] == "TRADING"
        assert {r["rateLimitType"] for r in info["rateLimits"]} == {"REQUEST_WEIGHT", "ORDERS"}
        status, many = await env.get("/exchangeInfo", symbols='["AAPLUSD","ETHUSDT"]')
        assert [s["symbol"] for s in many["symbols"]] == ["AAPLUSD", "ETHUSDT"]
        status, halted = await env.get("/exchangeInfo", symbolStatus="HALT")
        assert (status, halted["symbols"]) == (200, [])
        status, mismatch = await env.get("/ticker/price", symbol="BTCUSDT", symbolStatus="HALT")
        assert (status, mismatch["code"]) == (400, -1220)
        status, bad = await env.get("/ticker/price", symbolStatus="OPEN")
        assert (status, bad["code"]) == (400, -1122)
        # a trade to look at: bob rests, alice takes
        assert (await env.signed("POST", "/order", "bob", **{**LIMIT, "side": "SELL",
                "quantity": "0.5", "price": "30000"}))[0] == 200  # fmt: skip
        status, taken = await env.signed("POST", "/order", in_body=True, **{**LIMIT,
                                         "quantity": "0.2", "price": "30000"})  # fmt: skip
        assert status == 200 and taken["status"] == "FILLED", taken
        status, depth = await env.get("/depth", symbol="BTCUSDT", limit=5)
        assert depth["asks"][0] == ["30000.00000000", "0.30000000"]
        assert depth["lastUpdateId"] == env.md.book_snapshot("BTCUSDT", 0).sequence > 0
        env.md.subscribe_depth("BTCUSDT", 5)  # another dialect's depth view: its own sequence
        status, again = await env.get("/depth", symbol="BTCUSDT", limit=5)
        assert again["lastUpdateId"] == depth["lastUpdateId"]
        status, one = await env.get("/depth", symbol="BTCUSDT", limit=1)
        assert (one["bids"], len(one["asks"])) == ([], 1)  # only bob's ask rests
        for path in ("/trades", "/historicalTrades", "/aggTrades"):
            status, trades = await env.get(path, symbol="BTCUSDT")
            assert status == 200 and len(trades) == 1, (path, trades)
        status, old = await env.get("/historicalTrades", symbol="BTCUSDT", fromId=0)
        assert [x["id"] for x in old] == [taken["fills"][0]["tradeId"]]
        status, agg = await env.get("/aggTrades", symbol="BTCUSDT", startTime=0)
        assert agg[0]["p"] == "30000.00000000" and agg[0]["m"] is False
        status, klines = await env.get("/klines", symbol="BTCUSDT", interval="1m")
        assert klines[-1][4] == "30000.00000000" and klines[-1][8] == 1
        status, bad = await env.get("/klines", symbol="BTCUSDT", interval="3m")
        assert (status, bad["code"]) == (400, -1120)
        status, avg = await env.get("/avgPrice", symbol="BTCUSDT")
        assert (avg["mins"], avg["price"]) == (5, "30000.00000000")
        status, tick = await env.get("/ticker/24hr", symbol="BTCUSDT")
        assert tick["lastPrice"] == "30000.00000000" and tick["count"] == 1
        status, ticks = await env.get("/ticker/24hr", type="MINI")
        assert len(ticks) == 8 and "priceChange" not in ticks[0]
        status, price = await env.get("/ticker/price", symbol="BTCUSDT")
        assert price == {"symbol": "BTCUSDT", "price": "30000.00000000"}
        status, book = await env.get("/ticker/bookTicker", symbols='["BTCUSDT"]')
        assert book[0]["askPrice"] == "30000.00000000" and book[0]["askQty"] == "0.30000000"

    run(tmp_path, scenario)


def test_orders_place_query_cancel_list_and_show_in_the_openpit_api(tmp_path: Path) -> None:
    async def scenario(env: Env) -> None:
        status, ack = await env.signed("POST", "/order", newOrderRespType="ACK",
                                       newClientOrderId="mine-1", **{**LIMIT,
                                       "quantity": "0.01", "price": "1000"})  # fmt: skip
        assert status == 200 and set(ack) == {
            "symbol", "orderId", "orderListId", "clientOrderId", "transactTime",
        }  # fmt: skip
        assert ack["clientOrderId"] == "mine-1" and "X-MBX-ORDER-COUNT-10S" in env.headers
        status, dup = await env.signed(
            "POST",
            "/order",
            newClientOrderId="mine-1",
            **{**LIMIT, "quantity": "0.01", "price": "1000"},
        )
        assert (status, dup) == (400, {"code": -2010, "msg": "Duplicate order sent."})
        status, q = await env.signed("GET", "/order", symbol="BTCUSDT", origClientOrderId="mine-1")
        assert q["orderId"] == ack["orderId"] and q["status"] == "NEW"
        status, mismatch = await env.signed(
            "GET", "/order", symbol="BTCUSDT", orderId=ack["orderId"], origClientOrderId="other"
        )
        assert mismatch["code"] == -2013
        status, test = await env.signed("POST", "/order/test", **{**LIMIT, "quantity": "0.01",
                                         "price": "1000"})  # fmt: skip
        assert (status, test) == (200, {})
        status, result = await env.signed(
            "POST",
            "/order",
            newOrderRespType="RESULT",
            **{**LIMIT, "quantity": "0.01", "price": "999"},
        )
        assert result["status"] == "NEW" and "fills" not in result
        status, opened = await env.signed("GET", "/openOrders", symbol="BTCUSDT")
        assert [o["orderId"] for o in opened] == [ack["orderId"], result["orderId"]]
        async with env.http.get(env.base + "/api/v1/orderbook?symbol=BTCUSDT") as resp:
            book = await resp.json()
        assert ["1000.00", "0.01000"] in book["bids"]  # the same book as every dialect
        status, gone = await env.signed("DELETE", "/order", symbol="BTCUSDT",
                                        orderId=ack["orderId"])  # fmt: skip
        assert gone["status"] == "CANCELED" and gone["origClientOrderId"] == "mine-1"
        status, again = await env.signed("DELETE", "/order", symbol="BTCUSDT",
                                         orderId=ack["orderId"])  # fmt: skip
        assert (status, again) == (400, {"code": -2011, "msg": "Unknown order sent."})
        status, all_gone = await env.signed("DELETE", "/openOrders", symbol="BTCUSDT")
        assert [o["orderId"] for o in all_gone] == [result["orderId"]]
        status, everything = await env.signed("GET", "/allOrders", symbol="BTCUSDT")
        assert [(o["orderId"], o["status"]) for o in everything] == [
            (ack["orderId"], "CANCELED"), (result["orderId"], "CANCELED"),
        ]  # fmt: skip
        status, acct = await env.signed("GET", "/account", omitZeroBalances="true")
        usdt = next(b for b in acct["balances"] if b["asset"] == "USDT")
        assert usdt == {"asset": "USDT", "free": "500000.00000000", "locked": "0.00000000"}
        assert acct["canTrade"] is True and acct["accountType"] == "SPOT"
        status, counts = await env.signed("GET", "/rateLimit/order")
        assert [c["count"] for c in counts] == [2, 2]
        status, mine = await env.signed("GET", "/myTrades", symbol="BTCUSDT")
        assert (status, mine) == (200, [])

    run(tmp_path, scenario)


def test_every_error_code_is_provoked_over_http(tmp_path: Path) -> None:
    async def scenario(env: Env) -> None:
        async def expect(reply: tuple[int, Any], status: int, code: int) -> None:
            assert (reply[0], reply[1]["code"]) == (status, code), reply
            assert set(reply[1]) == {"code", "msg"}

        order = {**LIMIT, "quantity": "0.01", "price": "1000"}
        await expect(await env.get("/depth", symbol="NOPE"), 400, -1121)
        await expect(await env.get("/depth"), 400, -1102)
        await expect(await env.signed("POST", "/order", **{**order, "quantity": "1e-2"}), 400,
                     -1100)  # fmt: skip
        await expect(await env.signed("POST", "/order", **{**order, "price": "1000.001"}), 400,
                     -1013)  # fmt: skip
        stale = time.time_ns() // 1_000_000 - 10_000
        await expect(await env.signed("POST", "/order", ts=stale, **order), 400, -1021)
        await expect(await env.signed("POST", "/order", recvWindow=60001, **order), 400, -1102)
        await expect(await env.signed("POST", "/order", secret="x" * 64, **order), 400, -1022)
        await expect(await env.signed("POST", "/order", who=None, **order), 401, -2014)
        await expect(await env.signed("POST", "/order", "reader", **order), 401, -2015)
        await expect(await env.signed("POST", "/order", **{**order, "quantity": "1000"}), 400,
                     -2010)  # fmt: skip
        await expect(await env.signed("DELETE", "/order", symbol="BTCUSDT", orderId=999), 400,
                     -2011)  # fmt: skip
        await expect(await env.signed("GET", "/order", symbol="BTCUSDT", orderId=999), 400,
                     -2013)  # fmt: skip

    run(tmp_path, scenario)


def test_weight_over_the_limit_is_429_1003_with_retry_after(tmp_path: Path) -> None:
    async def scenario(env: Env) -> None:
        status, _ = await env.get("/exchangeInfo")  # weight 20
        assert status == 200 and env.headers["X-MBX-USED-WEIGHT-1M"] == "20"
        status, body = await env.get("/exchangeInfo")
        assert (status, body["code"]) == (429, -1003)
        assert 1 <= int(env.headers["Retry-After"]) <= 60
        assert env.headers["X-MBX-USED-WEIGHT-1M"] == "20"

    run(tmp_path, scenario, settings=BinanceSettings(weight_per_minute=30))


def test_orders_over_the_ten_second_count_are_429_1015(tmp_path: Path) -> None:
    async def scenario(env: Env) -> None:
        order = {**LIMIT, "quantity": "0.01", "price": "1000"}
        assert (await env.signed("POST", "/order", **order))[0] == 200
        assert env.headers["X-MBX-ORDER-COUNT-10S"] == "1"
        status, body = await env.signed("POST", "/order", **order)
        assert (status, body["code"]) == (429, -1015) and "Retry-After" in env.headers

    run(tmp_path, scenario, settings=BinanceSettings(orders_per_10s=1))


def test_stops_post_only_fok_and_orders_from_other_entry_points(tmp_path: Path) -> None:
    async def scenario(env: Env) -> None:
        # bob rests a sell at 30000; a LIMIT_MAKER buy at that price would take
        sell = {**LIMIT, "side": "SELL", "quantity": "0.1", "price": "30000"}
        assert (await env.signed("POST", "/order", "bob", **sell))[0] == 200
        status, maker = await env.signed(
            "POST",
            "/order",
            symbol="BTCUSDT",
            side="BUY",
            type="LIMIT_MAKER",
            quantity="0.01",
            price="30000",
        )
        assert (status, maker) == (
            400, {"code": -2010, "msg": "Order would immediately match and take."},
        )  # fmt: skip
        status, fok = await env.signed("POST", "/order", **{**LIMIT, "timeInForce": "FOK",
                                       "quantity": "1", "price": "30000"})  # fmt: skip
        assert (status, fok["status"], fok["executedQty"]) == (200, "EXPIRED", "0.00000000")
        status, stop = await env.signed(
            "POST",
            "/order",
            symbol="BTCUSDT",
            side="BUY",
            type="STOP_LOSS_LIMIT",
            timeInForce="GTC",
            quantity="0.01",
            price="35100",
            stopPrice="35000",
        )
        assert status == 200 and set(stop) == {
            "symbol", "orderId", "orderListId", "clientOrderId", "transactTime",
        }  # ACK: Binance's default for stop orders  # fmt: skip
        status, q = await env.signed("GET", "/order", symbol="BTCUSDT", orderId=stop["orderId"])
        assert (q["type"], q["status"], q["isWorking"]) == ("STOP_LOSS_LIMIT", "NEW", False)
        assert (q["price"], q["stopPrice"]) == ("35100.00000000", "35000.00000000")
        # an order placed through /api/v1 is one of this account's orders here
        body = b'{"symbol": "BTCUSDT", "side": "buy", "amount": "0.02", "price": "1000.00"}'
        stamp = time.time_ns() // 1_000_000
        creds = env.keys["alice"]
        headers = signed_headers(creds.api_key, creds.api_secret, stamp, "POST",
                                 "/api/v1/orders", body)  # fmt: skip
        headers["Content-Type"] = "application/json"
        async with env.http.post(env.base + "/api/v1/orders", data=body, headers=headers) as resp:
            assert resp.status == 201, await resp.text()
            placed = await resp.json()
        status, opened = await env.signed("GET", "/openOrders", symbol="BTCUSDT")
        mine = [o for o in opened if o["orderId"] == int(placed["id"])]
        assert len(mine) == 1 and mine[0]["origQty"] == "0.02000000", opened

    run(tmp_path, scenario)
