"""The Binance REST surface's order path against the openpit REST API, same server, same run.

A real ``openpit serve`` (simulator on, limits raised out of the way) and ``CLIENTS``
asyncio clients in this process, each in a closed loop for ``SECONDS``: place a resting
LIMIT buy far below the market and cancel it (``POST``/``DELETE /binance/api/v3/order``,
signed as Binance clients sign), and the same pair through ``/api/v1/orders``. Reported:
acknowledged requests per second for each surface and their ratio (the Binance surface
should cost no more than the openpit REST API it sits beside).
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
from urllib.parse import urlencode

import aiohttp

from bench import orders

CLIENTS = 16
SECONDS = 4.0
ROUNDS = 3  # best of, each surface
BIG = 1_000_000_000
BINANCE = (
    f"\n[binance]\nweight_per_minute = {BIG}\norders_per_10s = {BIG}\norders_per_day = {BIG}\n"
)
TARGET_RATIO = (
    0.75  # Binance pairs/s at least this share of /api/v1 pairs/s (run-to-run noise ~0.1)
)


async def _binance_pair(
    http: aiohttp.ClientSession, url: str, cred: dict[str, str], n: int
) -> None:
    async def call(method: str, params: dict[str, Any]) -> Any:
        params["timestamp"] = time.time_ns() // 1_000_000
        query = urlencode(params)
        sig = hmac.new(cred["api_secret"].encode(), query.encode(), hashlib.sha256).hexdigest()
        headers = {"X-MBX-APIKEY": cred["api_key"]}
        async with http.request(method, f"{url}/binance/api/v3/order?{query}&signature={sig}",
                                headers=headers) as r:  # fmt: skip
            body = await r.json()
            if r.status != 200:
                raise RuntimeError(f"{method} order: {r.status} {body}")
            return body

    order = {"symbol": "BTCUSDT", "side": "BUY", "type": "LIMIT", "timeInForce": "GTC",
             "quantity": "0.001", "price": "1000", "newOrderRespType": "ACK",
             "newClientOrderId": f"b{n}"}  # fmt: skip
    placed = await call("POST", order)
    await call("DELETE", {"symbol": "BTCUSDT", "orderId": placed["orderId"]})


async def _openpit_pair(rest: orders.Rest, cred: dict[str, str], n: int) -> None:
    body = {"symbol": "BTCUSDT", "side": "buy", "amount": "0.001", "price": "1000.00"}
    placed = await rest.call("POST", "/api/v1/orders", cred, body)
    await rest.call("DELETE", f"/api/v1/orders/{placed['id']}", cred)


async def _loop(make: Any, creds: list[dict[str, str]]) -> float:
    done = 0
    stop = time.perf_counter() + SECONDS

    async def client(cred: dict[str, str]) -> None:
        nonlocal done
        n = 0
        while time.perf_counter() < stop:
            await make(cred, n)
            n += 1
            done += 1

    started = time.perf_counter()
    await asyncio.gather(*(client(c) for c in creds))
    return done / (time.perf_counter() - started)


async def _run(server: orders.Server) -> dict[str, Any]:
    await server.wait_ready()
    admin = orders._admin(server.data)
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0)) as http:
        rest = orders.Rest(http, server.url)
        funds = {"USDT": "10000000"}
        creds = [await rest.user(admin, f"bb-{i}", funds) for i in range(CLIENTS)]
        warm = time.perf_counter() + 0.5
        while time.perf_counter() < warm:
            await _binance_pair(http, server.url, creds[0], -1)
        binance_runs, openpit_runs = [], []
        for _ in range(ROUNDS):  # alternate, so drift in the server does not favour either
            binance_runs.append(
                await _loop(lambda c, n: _binance_pair(http, server.url, c, n), creds)
            )
            openpit_runs.append(await _loop(lambda c, n: _openpit_pair(rest, c, n), creds))
        binance, openpit = max(binance_runs), max(openpit_runs)
    ratio = binance / openpit
    return {
        "clients": CLIENTS,
        "seconds_each": SECONDS,
        "rounds": ROUNDS,
        "binance_place_cancel_pairs_per_s": round(binance, 1),
        "openpit_rest_place_cancel_pairs_per_s": round(openpit, 1),
        "ratio": round(ratio, 3),
        "target_ratio": TARGET_RATIO,
        "passed": ratio >= TARGET_RATIO,
    }


def main() -> dict[str, Any]:
    orders.GATEWAY = orders.GATEWAY + BINANCE  # the server's config: limits out of the way
    with tempfile.TemporaryDirectory() as tmp:
        server = orders.Server(Path(tmp) / "run")
        try:
            return asyncio.run(_run(server))
        finally:
            server.stop()


if __name__ == "__main__":
    print(json.dumps(main(), indent=2))
