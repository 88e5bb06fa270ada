"""The Binance streams against a real ``openpit serve`` with the simulator trading.

- The real ``ccxt.pro.binance`` (streams at ``/binance/ws``, WebSocket API at
  ``/binance/ws-api/v3``), configured as docs/binance.md shows, watches the book (ccxt
  raises on any ``U``/``u`` gap), trades, ticker, candles and its own orders.
- A client that follows Binance's "how to manage a local order book correctly" keeps a
  book equal to the REST snapshots for 30 s of simulated trading, with no gap.
- listenKey and stream errors are provoked as Binance documents them.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import hmac
import json
import os
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import aiohttp
import pytest

ccxt_pro = pytest.importorskip("ccxt.pro")

from openpit.api.signing import sign_request  # noqa: E402
from tests.binance.test_ccxt import ccxt_options  # noqa: E402
from tests.durability.server_harness import create_keys, free_port, write_config  # noqa: E402

BOOK_SECONDS = 30.0


class Live:
    def __init__(self, port: int, keys: dict[str, tuple[str, str]], data: Path) -> None:
        self.port, self.keys, self.data = port, keys, data
        self.http = f"http://127.0.0.1:{port}"
        self.ws = f"ws://127.0.0.1:{port}/binance"


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Live]:
    """``openpit serve`` with the simulator on, on a free port."""
    tmp = tmp_path_factory.mktemp("binance-live")
    data = tmp / "data"
    data.mkdir()
    keys = create_keys(data)
    config = write_config(tmp / "venue.toml", 100_000)
    port = free_port()
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    log = (tmp / "serve.log").open("wb")
    proc = subprocess.Popen(
        [sys.executable, "-m", "openpit.cli", "serve", "--port", str(port), "--data-dir",
         str(data), "--config", str(config)],
        stdout=log, stderr=subprocess.STDOUT, env=env,
    )  # fmt: skip
    try:
        asyncio.run(_healthy(f"http://127.0.0.1:{port}", proc))
        yield Live(port, keys, data)
    finally:
        proc.terminate()
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()


async def _healthy(base: str, proc: subprocess.Popen[bytes]) -> None:
    async with aiohttp.ClientSession() as http:
        for _ in range(600):
            assert proc.poll() is None, "openpit serve exited early"
            with contextlib.suppress(aiohttp.ClientError, OSError):
                async with http.get(f"{base}/binance/api/v3/trades?symbol=BTCUSDT") as r:
                    if r.status == 200 and await r.json():  # the simulator has traded
                        return
            await asyncio.sleep(0.1)
    raise AssertionError("no simulated trade within 60 s")


def pro_options(live: Live, user: str) -> dict[str, Any]:
    """The ccxt.pro configuration of docs/binance.md: REST as ccxt, plus the streams."""
    opts = ccxt_options(live.http, *live.keys[user])
    opts["urls"]["api"]["ws"] = {
        "spot": f"{live.ws}/ws",
        "ws-api": {"spot": f"{live.ws}/ws-api/v3"},
    }
    return opts


def test_ccxt_pro_watches_book_trades_candles_and_orders(live: Live) -> None:
    asyncio.run(asyncio.wait_for(_pro_scenario(live), 120))


async def _pro_scenario(live: Live) -> None:
    ex = ccxt_pro.binance(pro_options(live, "alice"))
    try:
        await ex.load_markets()
        ticker = await ex.fetch_ticker("BTC/USDT")
        assert ticker["last"] > 0
        assert (await ex.fetch_order_book("BTC/USDT"))["nonce"] > 0
        assert await ex.fetch_trades("BTC/USDT")
        assert await ex.fetch_ohlcv("BTC/USDT", "1m")
        start = (await ex.fetch_balance())["USDT"]["free"]

        nonces = []
        for _ in range(8):  # ccxt checks U == previous u + 1 and raises on a gap
            book = await ex.watch_order_book("BTC/USDT")
            nonces.append(book["nonce"])
            assert book["bids"][0][0] < book["asks"][0][0]
        assert nonces == sorted(nonces) and nonces[-1] > nonces[0]
        trades = await ex.watch_trades("BTC/USDT")
        assert trades[-1]["price"] > 0 and trades[-1]["amount"] > 0
        mini = await ex.watch_ticker("BTC/USDT")
        assert mini["last"] > 0
        candles = await ex.watch_ohlcv("BTC/USDT", "1m")
        assert candles[-1][4] > 0

        # a resting limit: open, then canceled, both seen on watch_orders
        bid = (await ex.fetch_order_book("BTC/USDT"))["bids"][0][0]
        price = float(ex.price_to_precision("BTC/USDT", bid * 0.8))
        watching = asyncio.ensure_future(ex.watch_orders("BTC/USDT"))
        await asyncio.sleep(0.3)
        resting = await ex.create_order("BTC/USDT", "limit", "buy", 0.001, price)
        seen = await asyncio.wait_for(watching, 10)
        assert (seen[-1]["id"], seen[-1]["status"], seen[-1]["price"]) == (
            resting["id"], "open", price,
        )  # fmt: skip
        assert [o["id"] for o in await ex.fetch_open_orders("BTC/USDT")] == [resting["id"]]
        assert (await ex.fetch_order(resting["id"], "BTC/USDT"))["status"] == "open"
        watching = asyncio.ensure_future(ex.watch_orders("BTC/USDT"))
        await asyncio.sleep(0.3)
        await ex.cancel_order(resting["id"], "BTC/USDT")
        seen = await asyncio.wait_for(watching, 10)
        assert (seen[-1]["id"], seen[-1]["status"]) == (resting["id"], "canceled")

        # a market buy fills against the simulator's asks: executionReport TRADE
        watching = asyncio.ensure_future(ex.watch_orders("BTC/USDT"))
        await asyncio.sleep(0.3)
        bought = await ex.create_order("BTC/USDT", "market", "buy", 0.001)
        assert bought["status"] == "closed"
        seen = await asyncio.wait_for(watching, 10)
        filled = [o for o in seen if o["id"] == bought["id"]]
        assert filled and filled[-1]["filled"] == pytest.approx(0.001)
        mine = await ex.fetch_my_trades("BTC/USDT")
        assert bought["id"] in {t["order"] for t in mine}
        assert (await ex.fetch_balance())["USDT"]["free"] < start
    finally:
        await ex.close()


# -- Binance's local order book procedure --------------------------------------------------
Book = dict[str, dict[Decimal, Decimal]]


def _apply(book: Book, event: dict[str, Any]) -> None:
    for side, key in (("bids", "b"), ("asks", "a")):
        for p, q in event[key]:
            if Decimal(q) == 0:
                book[side].pop(Decimal(p), None)
            else:
                book[side][Decimal(p)] = Decimal(q)


def _of(snapshot: dict[str, Any]) -> Book:
    return {side: {Decimal(p): Decimal(q) for p, q in snapshot[side]} for side in ("bids", "asks")}


def _top(book: Book, n: int) -> Book:
    bids = sorted(book["bids"].items(), reverse=True)[:n]
    return {"bids": dict(bids), "asks": dict(sorted(book["asks"].items())[:n])}


def test_local_order_book_follows_rest_snapshots_for_30s_without_gap(live: Live) -> None:
    asyncio.run(asyncio.wait_for(_local_book(live), BOOK_SECONDS + 60))


async def _local_book(live: Live) -> None:
    depth_url = f"{live.http}/binance/api/v3/depth?symbol=BTCUSDT&limit=1000"
    async with aiohttp.ClientSession() as http:
        async with http.ws_connect(f"{live.ws}/ws/btcusdt@depth@100ms") as ws:
            buffered: list[dict[str, Any]] = []
            # 1-2. open the stream, buffer; 3. get a snapshot
            buffered.append(json.loads((await ws.receive()).data))
            async with http.get(depth_url) as r:
                snap = await r.json()
            last = snap["lastUpdateId"]
            # 4. drop what the snapshot already holds
            while buffered and buffered[0]["u"] <= last:
                buffered.pop(0)
            while not buffered:
                ev = json.loads((await ws.receive()).data)
                if ev["u"] > last:
                    buffered.append(ev)
            # 5. the first event to apply straddles the snapshot
            assert buffered[0]["U"] <= last + 1 <= buffered[0]["u"]
            book = _of(snap)
            states: dict[int, Book] = {}
            prev_u = None
            checks = matched = 0

            def take(ev: dict[str, Any]) -> None:
                nonlocal prev_u
                assert ev["e"] == "depthUpdate" and ev["s"] == "BTCUSDT"
                if prev_u is not None:
                    assert ev["U"] == prev_u + 1, f"gap: {prev_u} -> {ev['U']}"
                prev_u = ev["u"]
                _apply(book, ev)
                states[ev["u"]] = {s: dict(v) for s, v in book.items()}

            for ev in buffered:
                take(ev)
            deadline = time.monotonic() + BOOK_SECONDS
            next_check = time.monotonic() + 0.5
            while time.monotonic() < deadline:
                try:
                    msg = await ws.receive(timeout=0.5)
                except TimeoutError:
                    msg = None
                if msg is not None:
                    assert msg.type is aiohttp.WSMsgType.TEXT, msg
                    take(json.loads(msg.data))
                if time.monotonic() >= next_check:
                    next_check = time.monotonic() + 1.0
                    async with http.get(depth_url) as r:
                        rest = await r.json()
                    checks += 1
                    seen = states.get(rest["lastUpdateId"])
                    if seen is not None:
                        matched += 1
                        assert _top(seen, 1000) == _of(rest), f"differs at {rest['lastUpdateId']}"
            assert prev_u is not None and prev_u > last
            assert checks >= 15 and matched >= 3, (checks, matched)


# -- listenKey and stream errors ------------------------------------------------------------
async def _ws_frames(ws: aiohttp.ClientWebSocketResponse) -> AsyncIterator[dict[str, Any]]:
    while True:
        msg = await ws.receive(timeout=10)
        assert msg.type is aiohttp.WSMsgType.TEXT, msg
        yield json.loads(msg.data)


def test_listen_key_stream_reports_own_orders_and_errors_as_binance(live: Live) -> None:
    asyncio.run(asyncio.wait_for(_listen_key(live), 60))


def _signed(secret: str, params: dict[str, str]) -> str:
    query = "&".join(f"{k}={v}" for k, v in params.items())
    sig = hmac.new(secret.encode(), query.encode(), hashlib.sha256).hexdigest()
    return f"{query}&signature={sig}"


async def _admin_deposit(
    http: aiohttp.ClientSession, live: Live, user: str, asset: str, amount: str
) -> None:
    """``POST /api/v1/admin/deposits`` signed with the server's admin key."""
    admin = json.loads((live.data / "admin-key.json").read_text())
    body = json.dumps({"user": user, "asset": asset, "amount": amount}).encode()
    ts = int(time.time() * 1000)
    path = "/api/v1/admin/deposits"
    sig = sign_request(admin["api_secret"], ts, "POST", path, body)
    headers = {"X-OPENPIT-APIKEY": admin["api_key"], "X-OPENPIT-TIMESTAMP": str(ts),
               "X-OPENPIT-SIGNATURE": sig, "Content-Type": "application/json"}  # fmt: skip
    async with http.post(live.http + path, data=body, headers=headers) as r:
        assert r.status == 200, await r.text()


async def _listen_key(live: Live) -> None:
    key, secret = live.keys["bob"]
    api = f"{live.http}/binance/api/v3"
    async with aiohttp.ClientSession() as http:
        async with http.post(f"{api}/userDataStream") as r:  # no key: -2014
            assert r.status == 401 and (await r.json())["code"] == -2014
        async with http.post(f"{api}/userDataStream", headers={"X-MBX-APIKEY": "nope"}) as r:
            assert r.status == 401 and (await r.json())["code"] == -2015
        hdr = {"X-MBX-APIKEY": key}
        async with http.post(f"{api}/userDataStream", headers=hdr) as r:
            assert r.status == 200 and "X-MBX-USED-WEIGHT-1M" in r.headers
            token = (await r.json())["listenKey"]
        async with http.post(f"{api}/userDataStream", headers=hdr) as r:  # same key again
            assert (await r.json())["listenKey"] == token
        async with http.put(f"{api}/userDataStream?listenKey={token}", headers=hdr) as r:
            assert r.status == 200 and await r.json() == {}
        async with http.put(f"{api}/userDataStream?listenKey=unknown", headers=hdr) as r:
            assert r.status == 400 and (await r.json())["code"] == -1125
        async with http.put(f"{api}/userDataStream", headers=hdr) as r:
            assert r.status == 400 and (await r.json())["code"] == -1102

        async with http.ws_connect(f"{live.ws}/ws/{token}") as ws:
            frames = _ws_frames(ws)
            params = {"symbol": "BTCUSDT", "side": "BUY", "type": "LIMIT", "timeInForce": "GTC",
                      "quantity": "0.001", "price": "1000.00", "newClientOrderId": "lk-1",
                      "timestamp": str(int(time.time() * 1000))}  # fmt: skip
            async with http.post(f"{api}/order", data=_signed(secret, params), headers={
                **hdr, "Content-Type": "application/x-www-form-urlencoded"}) as r:  # fmt: skip
                assert r.status == 200, await r.text()
                order_id = (await r.json())["orderId"]
            events = [await anext(frames), await anext(frames)]
            kinds = {ev["e"]: ev for ev in events}
            report = kinds["executionReport"]
            assert (report["i"], report["c"], report["x"], report["X"]) == (
                order_id, "lk-1", "NEW", "NEW",
            )  # fmt: skip
            position = kinds["outboundAccountPosition"]
            usdt = [b for b in position["B"] if b["a"] == "USDT"]
            assert usdt and Decimal(usdt[0]["l"]) >= Decimal("1")
            cancel = {"symbol": "BTCUSDT", "orderId": str(order_id),
                      "timestamp": str(int(time.time() * 1000))}  # fmt: skip
            async with http.delete(f"{api}/order?{_signed(secret, cancel)}", headers=hdr) as r:
                assert r.status == 200
            while (ev := await anext(frames))["e"] != "executionReport":
                pass
            assert (ev["x"], ev["X"], ev["C"]) == ("CANCELED", "CANCELED", "lk-1")
            # an operator's deposit: balanceUpdate with the delta, then the position
            await _admin_deposit(http, live, "bob", "ETH", "1.5")
            while (ev := await anext(frames))["e"] != "balanceUpdate":
                pass
            assert (ev["a"], Decimal(ev["d"])) == ("ETH", Decimal("1.5"))
        async with http.delete(f"{api}/userDataStream?listenKey={token}", headers=hdr) as r:
            assert r.status == 200

        # stream errors: an unknown stream on the URL, then bad control frames
        async with http.get(f"{live.http}/binance/ws/nosuch@trade") as r:
            assert r.status == 400 and (await r.json())["code"] == -1121
        async with http.ws_connect(f"{live.ws}/stream?streams=btcusdt@trade") as ws:
            frames = _ws_frames(ws)
            await ws.send_str('{"method":"SUBSCRIBE","params":["btcusdt@nope"],"id":7}')
            await ws.send_str("not json")
            await ws.send_str('{"method":"LIST_SUBSCRIPTIONS","id":8}')
            replies = []
            while len(replies) < 3:
                f = await anext(frames)
                if "stream" in f:
                    assert f["stream"] == "btcusdt@trade" and f["data"]["e"] == "trade"
                else:
                    replies.append(f)
            assert replies[0]["id"] == 7 and replies[0]["error"]["code"] == 2
            assert replies[1]["error"]["code"] == 3
            assert replies[2] == {"result": ["btcusdt@trade"], "id": 8}


# -- the WebSocket API ----------------------------------------------------------------------
def test_ccxt_pro_trades_through_the_websocket_api(live: Live) -> None:
    asyncio.run(asyncio.wait_for(_ws_api_ccxt(live), 60))


async def _ws_api_ccxt(live: Live) -> None:
    ex = ccxt_pro.binance(pro_options(live, "bob"))
    try:
        await ex.load_markets()
        placed = await ex.create_order_ws("BTC/USDT", "limit", "buy", 0.001, 1000)
        assert placed["status"] == "open"
        assert (await ex.fetch_order_ws(placed["id"], "BTC/USDT"))["status"] == "open"
        assert [o["id"] for o in await ex.fetch_open_orders_ws("BTC/USDT")] == [placed["id"]]
        assert (await ex.cancel_order_ws(placed["id"], "BTC/USDT"))["status"] == "canceled"
        bought = await ex.create_order_ws("BTC/USDT", "market", "buy", 0.001)
        assert bought["status"] == "closed" and bought["filled"] == pytest.approx(0.001)
        mine = await ex.fetch_my_trades_ws("BTC/USDT")
        assert bought["id"] in {t["order"] for t in mine}
    finally:
        await ex.close()


def _ws_signed(key: str, secret: str, params: dict[str, object]) -> dict[str, object]:
    out: dict[str, object] = {**params, "apiKey": key}
    payload = "&".join(f"{k}={v}" for k, v in sorted(out.items()))
    out["signature"] = hmac.new(secret.encode(), payload.encode(), hashlib.sha256).hexdigest()
    return out


def test_websocket_api_logon_replies_and_error_codes_as_binance(live: Live) -> None:
    asyncio.run(asyncio.wait_for(_ws_api_raw(live), 60))


async def _ws_api_raw(live: Live) -> None:
    key, secret = live.keys["demo"]
    async with aiohttp.ClientSession() as http:
        async with http.ws_connect(f"{live.ws}/ws-api/v3") as ws:
            events: list[dict[str, Any]] = []

            async def call(rid: str, method: str, params: dict[str, object]) -> Any:
                """The reply to one request; user-data events met meanwhile go to ``events``
                (the venue publishes an order's events before its reply leaves)."""
                await ws.send_json({"id": rid, "method": method, "params": params})
                while "id" not in (reply := json.loads((await ws.receive(timeout=10)).data)):
                    events.append(reply)
                assert reply["id"] == rid
                return reply

            def now() -> int:
                return int(time.time() * 1000)

            pong = await call("p", "ping", {})
            assert pong["status"] == 200 and pong["result"] == {}
            weight = pong["rateLimits"][0]
            assert weight["rateLimitType"] == "REQUEST_WEIGHT" and weight["count"] >= 1
            bad = _ws_signed(key, secret, {"timestamp": now()})
            bad["signature"] = "0" * 64
            r = await call("s", "account.status", bad)
            assert r["status"] == 400 and r["error"]["code"] == -1022
            r = await call("t", "account.status", _ws_signed(key, secret, {"timestamp": 1}))
            assert r["error"]["code"] == -1021
            r = await call("u", "account.status", {"apiKey": "nope", "timestamp": now()})
            assert r["status"] == 401 and r["error"]["code"] == -2015
            r = await call("m", "no.such.method", {})
            assert r["error"]["code"] == -1020

            r = await call("l", "session.logon", _ws_signed(key, secret, {"timestamp": now()}))
            assert r["status"] == 200 and r["result"]["apiKey"] == key
            # logged on: no apiKey or signature needed any more
            r = await call("a", "account.status", {"timestamp": now()})
            assert r["status"] == 200 and r["result"]["accountType"] == "SPOT"
            r = await call(
                "x", "order.status", {"symbol": "NOPE", "orderId": 1, "timestamp": now()}
            )
            assert r["error"]["code"] == -1121
            r = await call("y", "order.status", {"symbol": "BTCUSDT", "orderId": 999_999_999,
                                                 "timestamp": now()})  # fmt: skip
            assert r["error"]["code"] == -2013
            r = await call("z", "order.place", {"symbol": "BTCUSDT", "side": "BUY", "type": "LIMIT",
                                                "timeInForce": "GTC", "quantity": "1000",
                                                "price": "40000", "timestamp": now()})  # fmt: skip
            assert r["error"]["code"] == -2010
            r = await call("q", "order.place", {"symbol": "BTCUSDT", "side": "BUY",
                                                "timestamp": now()})  # fmt: skip
            assert r["error"]["code"] == -1102
            sub = await call("d", "userDataStream.subscribe", {})
            assert sub["status"] == 200 and sub["result"] == {"subscriptionId": 0}
            r = await call("o", "order.place", {"symbol": "BTCUSDT", "side": "BUY", "type": "LIMIT",
                                                "timeInForce": "GTC", "quantity": "0.001",
                                                "price": "1000", "newClientOrderId": "ws-1",
                                                "timestamp": now()})  # fmt: skip
            assert r["status"] == 200 and r["result"]["clientOrderId"] == "ws-1"
            while len(events) < 2:
                events.append(json.loads((await ws.receive(timeout=10)).data))
            assert {ev["subscriptionId"] for ev in events} == {0}
            report = next(ev["event"] for ev in events if ev["event"]["e"] == "executionReport")
            assert (report["c"], report["x"], report["X"]) == ("ws-1", "NEW", "NEW")
            assert any(ev["event"]["e"] == "outboundAccountPosition" for ev in events)
            r = await call("c", "openOrders.cancelAll", {"symbol": "BTCUSDT", "timestamp": now()})
            assert r["status"] == 200 and [o["origClientOrderId"] for o in r["result"]] == ["ws-1"]
            r = await call("v", "session.subscriptions", {})
            assert r["result"] == [{"subscriptionId": 0}]
            events.clear()
            r = await call("n", "userDataStream.unsubscribe", {"subscriptionId": 0})
            assert r["status"] == 200 and r["result"] == {}
            ended = [ev for ev in events if ev["event"]["e"] == "eventStreamTerminated"]
            assert [ev["subscriptionId"] for ev in ended] == [0]
            assert (await call("w", "session.subscriptions", {}))["result"] == []


# -- python-binance, as docs/binance.md shows it --------------------------------------------
def test_python_binance_rest_streams_and_user_socket_as_documented(live: Live) -> None:
    pytest.importorskip("binance")
    asyncio.run(asyncio.wait_for(_python_binance(live), 60))


async def _python_binance(live: Live) -> None:
    from binance.ws.websocket_api import WebsocketAPI

    from binance import AsyncClient, BinanceSocketManager

    key, secret = live.keys["demo"]
    host = f"127.0.0.1:{live.port}"
    # the snippet of docs/binance.md
    client = AsyncClient(key, secret)
    client.API_URL = f"http://{host}/binance/api"
    client.ws_api = WebsocketAPI(url=f"ws://{host}/binance/ws-api/v3")
    bsm = BinanceSocketManager(client)
    bsm.STREAM_URL = f"ws://{host}/binance/"
    try:
        info = await client.get_exchange_info()
        assert "BTCUSDT" in {s["symbol"] for s in info["symbols"]}
        assert (await client.get_order_book(symbol="BTCUSDT", limit=5))["lastUpdateId"] > 0
        async with bsm.trade_socket("BTCUSDT") as trades:
            assert (await asyncio.wait_for(trades.recv(), 10))["e"] == "trade"
        async with bsm.depth_socket("BTCUSDT", interval=100) as depth:
            assert (await asyncio.wait_for(depth.recv(), 10))["e"] == "depthUpdate"
        async with bsm.user_socket() as user:
            order = await client.order_limit_buy(symbol="BTCUSDT", quantity="0.001", price="1000")
            assert order["status"] == "NEW"
            event = await asyncio.wait_for(user.recv(), 10)
            while event["e"] != "executionReport":
                event = await asyncio.wait_for(user.recv(), 10)
            assert (event["i"], event["x"]) == (order["orderId"], "NEW")
            await client.cancel_order(symbol="BTCUSDT", orderId=order["orderId"])
    finally:
        await client.close_connection()
