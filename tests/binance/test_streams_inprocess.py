"""Stream-surface behaviour that needs time to pass, in process (real sockets, no simulator).

The listenKey's 60 minutes are moved by setting its expiry in the past: the sweep then
pushes ``listenKeyExpired`` and closes the connection, as user-data-stream.md says.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import aiohttp
import pytest

from openpit.api import signed_headers
from openpit.api.binance import STREAMS, fanout
from tests.binance.test_http import Env, P, run


def test_listen_key_expiry_pushes_listen_key_expired_and_closes(tmp_path: Path) -> None:
    async def scenario(env: Env) -> None:
        hdr = {"X-MBX-APIKEY": env.keys["alice"].api_key}
        async with env.http.post(env.base + P + "/userDataStream", headers=hdr) as r:
            token = (await r.json())["listenKey"]
        ws_url = env.base.replace("http", "ws") + f"/binance/ws/{token}"
        async with env.http.ws_connect(ws_url) as ws:
            routes = env.gateway.app[STREAMS]
            routes.keys[token].expires = 0
            routes.sweep()
            msg = await ws.receive(timeout=10)
            event = json.loads(msg.data)
            assert event["e"] == "listenKeyExpired" and event["listenKey"] == token
            closed = await ws.receive(timeout=10)
            assert closed.type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED)
        async with env.http.put(
            env.base + P + f"/userDataStream?listenKey={token}", headers=hdr
        ) as r:
            assert r.status == 400 and (await r.json())["code"] == -1125

    run(tmp_path, scenario)


def test_control_frames_answer_as_binance(tmp_path: Path) -> None:
    async def scenario(env: Env) -> None:
        ws_url = env.base.replace("http", "ws") + "/binance/ws/0"
        async with env.http.ws_connect(ws_url) as ws:
            await ws.send_str('{"method":"SUBSCRIBE","params":["btcusdt@depth5@100ms"],"id":1}')
            assert json.loads((await ws.receive(timeout=10)).data) == {"result": None, "id": 1}
            await ws.send_str('{"method":"GET_PROPERTY","params":["combined"],"id":2}')
            assert json.loads((await ws.receive(timeout=10)).data) == {"result": False, "id": 2}
            await ws.send_str('{"method":"SET_PROPERTY","params":["combined",true],"id":3}')
            assert json.loads((await ws.receive(timeout=10)).data) == {"result": None, "id": 3}
            await ws.send_str('{"method":"SET_PROPERTY","params":["other",1],"id":4}')
            assert json.loads((await ws.receive(timeout=10)).data)["error"]["code"] == 0
            await ws.send_str('{"method":"UNSUBSCRIBE","params":["btcusdt@depth5@100ms"],"id":5}')
            assert json.loads((await ws.receive(timeout=10)).data) == {"result": None, "id": 5}
            await ws.send_str('{"method":"LIST_SUBSCRIPTIONS","id":6}')
            assert json.loads((await ws.receive(timeout=10)).data) == {"result": [], "id": 6}

    run(tmp_path, scenario)


def test_server_pings_answers_pings_and_closes_without_pong(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(fanout, "PING_S", 0.05)
    monkeypatch.setattr(fanout, "PONG_WAIT_S", 0.2)

    async def scenario(env: Env) -> None:
        ws_url = env.base.replace("http", "ws") + "/binance/ws/btcusdt@trade"
        async with env.http.ws_connect(ws_url, autoping=False) as ws:
            await ws.ping(b"hello")
            msg = await ws.receive(timeout=10)
            while msg.type is aiohttp.WSMsgType.PING:  # the server's own pings meanwhile
                msg = await ws.receive(timeout=10)
            assert (msg.type, msg.data) == (aiohttp.WSMsgType.PONG, b"hello")
            # never answer the server's pings: it closes with 1008 once PONG_WAIT_S passed
            while (msg := await ws.receive(timeout=10)).type is aiohttp.WSMsgType.PING:
                pass
            assert msg.type is aiohttp.WSMsgType.CLOSE and msg.data == 1008

    run(tmp_path, scenario)


def test_orders_from_the_openpit_api_reach_the_binance_user_stream(tmp_path: Path) -> None:
    async def scenario(env: Env) -> None:
        creds = env.keys["alice"]
        hdr = {"X-MBX-APIKEY": creds.api_key}
        async with env.http.post(env.base + P + "/userDataStream", headers=hdr) as r:
            token = (await r.json())["listenKey"]
        ws_url = env.base.replace("http", "ws") + f"/binance/ws/{token}"
        async with env.http.ws_connect(ws_url) as ws:
            order = {"symbol": "BTC-USDT", "side": "buy", "amount": "0.001", "price": "1000.00",
                     "client_order_id": "from-v1"}  # fmt: skip
            body = json.dumps(order).encode()
            path = "/api/v1/orders"
            headers = signed_headers(
                creds.api_key, creds.api_secret, time.time_ns() // 10**6, "POST", path, body
            )
            headers["Content-Type"] = "application/json"
            async with env.http.post(env.base + path, data=body, headers=headers) as r:
                assert r.status in (200, 201), await r.text()
            while (event := json.loads((await ws.receive(timeout=10)).data))["e"] != (
                "executionReport"
            ):
                pass
            assert (event["s"], event["c"], event["x"], event["S"]) == (
                "BTCUSDT", "from-v1", "NEW", "BUY",
            )  # fmt: skip
            assert (event["p"], event["q"]) == ("1000.00000000", "0.00100000")

    run(tmp_path, scenario)
