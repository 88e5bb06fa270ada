"""The Binance WebSocket side: the WS API order path and the stream fan-out, one real server.

A real ``openpit serve`` (simulator on, limits raised out of the way, as ``bench.binance``)
and, in this process:

1. order path: ``CLIENTS`` connections to ``/binance/ws-api/v3``, each logged on
   (``session.logon``) and in a closed loop for ``SECONDS``: ``order.place`` a resting
   LIMIT buy far below the market, then ``order.cancel`` it; the same pair through the
   Binance REST surface (``bench.binance``) alternates with it. Reported: pairs per
   second for each and their ratio; a persistent socket should cost no more than HTTP
   (``TARGET_RATIO``).
2. fan-out: ``SUBSCRIBERS`` connections on ``/binance/stream?streams=btcusdt@trade/
   btcusdt@depth@100ms`` during the WS API loop. Every subscriber must receive the same
   number of events per stream (nothing dropped) and the depth events of each must chain
   (``U == previous u + 1``); reported: events delivered per second over all subscribers.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import tempfile
import time
from pathlib import Path
from typing import Any

import aiohttp

from bench import binance, orders

CLIENTS = 16
SECONDS = 4.0
ROUNDS = 3
SUBSCRIBERS = 100
TARGET_RATIO = 1.0  # WS API pairs/s at least the REST surface's pairs/s
STREAMS = "btcusdt@trade/btcusdt@depth@100ms"


class WsClient:
    def __init__(self, ws: aiohttp.ClientWebSocketResponse) -> None:
        self.ws, self.next_id = ws, 0

    async def call(self, method: str, params: dict[str, Any]) -> Any:
        self.next_id += 1
        rid = self.next_id
        await self.ws.send_str(json.dumps({"id": rid, "method": method, "params": params}))
        while True:
            reply = json.loads((await self.ws.receive()).data)
            if reply.get("id") == rid:
                if reply["status"] != 200:
                    raise RuntimeError(f"{method}: {reply}")
                return reply["result"]


async def _logon(http: aiohttp.ClientSession, url: str, cred: dict[str, str]) -> WsClient:
    ws = await http.ws_connect(url.replace("http", "ws") + "/binance/ws-api/v3")
    client = WsClient(ws)
    params: dict[str, Any] = {"apiKey": cred["api_key"], "timestamp": time.time_ns() // 10**6}
    payload = "&".join(f"{k}={v}" for k, v in sorted(params.items()))
    params["signature"] = hmac.new(
        cred["api_secret"].encode(), payload.encode(), hashlib.sha256
    ).hexdigest()
    await client.call("session.logon", params)
    return client


async def _ws_pair(client: WsClient, n: int) -> None:
    placed = await client.call(
        "order.place",
        {"symbol": "BTCUSDT", "side": "BUY", "type": "LIMIT", "timeInForce": "GTC",
         "quantity": "0.001", "price": "1000", "newOrderRespType": "ACK",
         "newClientOrderId": f"w{n}", "timestamp": time.time_ns() // 10**6},
    )  # fmt: skip
    await client.call(
        "order.cancel",
        {"symbol": "BTCUSDT", "orderId": placed["orderId"], "timestamp": time.time_ns() // 10**6},
    )


class Subscriber:
    def __init__(self) -> None:
        self.counts = {"btcusdt@trade": 0, "btcusdt@depth@100ms": 0}
        self.last_u: int | None = None

    async def run(self, ws: aiohttp.ClientWebSocketResponse, until: asyncio.Event) -> None:
        while not until.is_set():
            try:
                msg = await ws.receive(timeout=0.2)
            except TimeoutError:
                continue
            if msg.type is not aiohttp.WSMsgType.TEXT:
                raise RuntimeError(f"subscriber lost its stream: {msg}")
            event = json.loads(msg.data)
            self.counts[event["stream"]] += 1
            data = event["data"]
            if data.get("e") == "depthUpdate":
                if self.last_u is not None and data["U"] != self.last_u + 1:
                    raise RuntimeError(f"depth gap {self.last_u} -> {data['U']}")
                self.last_u = data["u"]


async def _run(server: orders.Server) -> dict[str, Any]:
    await server.wait_ready()
    admin = orders._admin(server.data)
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0)) as http:
        rest = orders.Rest(http, server.url)
        funds = {"USDT": "10000000"}
        creds = [await rest.user(admin, f"bw-{i}", funds) for i in range(CLIENTS)]
        clients = {c["api_key"]: await _logon(http, server.url, c) for c in creds}
        subs = [Subscriber() for _ in range(SUBSCRIBERS)]
        sockets = [
            await http.ws_connect(
                server.url.replace("http", "ws") + f"/binance/stream?streams={STREAMS}"
            )
            for _ in subs
        ]
        stop = asyncio.Event()
        readers = [
            asyncio.ensure_future(s.run(ws, stop)) for s, ws in zip(subs, sockets, strict=True)
        ]
        fan_started = time.perf_counter()
        ws_runs, rest_runs = [], []
        for _ in range(ROUNDS):  # alternate, so drift in the server does not favour either
            ws_runs.append(
                await binance._loop(lambda c, n: _ws_pair(clients[c["api_key"]], n), creds)
            )
            rest_runs.append(
                await binance._loop(
                    lambda c, n: binance._binance_pair(http, server.url, c, n), creds
                )
            )
        await asyncio.sleep(1.5)  # the last 1000 ms windows and trailing frames
        stop.set()
        await asyncio.gather(*readers)
        fan_s = time.perf_counter() - fan_started
        for ws in sockets:
            await ws.close()
        for client in clients.values():
            await client.ws.close()
    per_stream = {name: {s.counts[name] for s in subs} for name in subs[0].counts}
    same = all(len(v) == 1 for v in per_stream.values())
    delivered = sum(sum(s.counts.values()) for s in subs)
    ws_rate, rest_rate = max(ws_runs), max(rest_runs)
    ratio = ws_rate / rest_rate
    return {
        "clients": CLIENTS,
        "seconds_each": SECONDS,
        "rounds": ROUNDS,
        "ws_api_place_cancel_pairs_per_s": round(ws_rate, 1),
        "rest_place_cancel_pairs_per_s": round(rest_rate, 1),
        "ratio": round(ratio, 3),
        "target_ratio": TARGET_RATIO,
        "subscribers": SUBSCRIBERS,
        "events_per_subscriber": {k: sorted(v) for k, v in per_stream.items()},
        "every_subscriber_same_events": same,
        "events_delivered_per_s": round(delivered / fan_s, 1),
        "passed": ratio >= TARGET_RATIO and same,
    }


def main() -> dict[str, Any]:
    orders.GATEWAY = orders.GATEWAY + binance.BINANCE  # limits out of the way
    with tempfile.TemporaryDirectory() as tmp:
        server = orders.Server(Path(tmp) / "run")
        try:
            return asyncio.run(_run(server))
        finally:
            server.stop()


if __name__ == "__main__":
    print(json.dumps(main(), indent=2))
