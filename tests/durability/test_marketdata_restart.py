"""A restart is invisible to market-data clients (real ``openpit serve`` subprocess).

Flat-dialect clients trade BTCUSDT and ETHUSDT; then the server is stopped (SIGTERM),
restarted on the same data directory, traded against again, killed (``kill -9``) and
restarted. Before each stop and after each start the test reads, over REST, the
candles of every interval (the 1m ones as the issue's query: ``start=now-20min``),
the 24 h ticker and the recent trades, and over the typed dialect the portfolio of a
user who holds only XRP: they must be the same (a live candle may have closed in
between — its content must not change). The XRP holder's portfolio is worth more than
0 (valued through the demo's reference price).

Snapshots are frequent (every 40 commands), so each recovery is snapshot + journal
tail, and the kill leaves results the history store may not have written.
"""

from __future__ import annotations

import asyncio
import json
import random
import time
from decimal import Decimal
from pathlib import Path
from typing import Any

import aiohttp

from openpit.api.client import RestClient
from openpit.api.local import read_admin_key
from openpit.marketdata import INTERVALS
from tests.durability.server_harness import (
    SYMBOLS,
    Record,
    Server,
    create_keys,
    settle,
    trade,
    write_config,
)

TRADES_PER_ROUND = 25


async def _market(server: Server, since: int) -> dict[str, Any]:
    out: dict[str, Any] = {}
    base = f"http://{server.base}/api/v1"
    async with aiohttp.ClientSession() as http:
        for symbol in SYMBOLS:
            for interval in INTERVALS:
                params = {"symbol": symbol, "interval": interval, "limit": "1000"}
                if interval == "1m":
                    params["start"] = str(since)
                async with http.get(f"{base}/candles", params=params) as resp:
                    assert resp.status == 200, await resp.text()
                    out[f"{symbol} {interval}"] = await resp.json()
            async with http.get(f"{base}/ticker", params={"symbol": symbol}) as resp:
                ticker = await resp.json()
                del ticker["timestamp"]  # the clock it was read at
                out[f"{symbol} ticker"] = ticker
            async with http.get(f"{base}/trades", params={"symbol": symbol, "limit": "1000"}) as r:
                out[f"{symbol} trades"] = await r.json()
    return out


async def _portfolio(server: Server, token: str) -> dict[str, Any]:
    async with (
        aiohttp.ClientSession() as http,
        http.ws_connect(f"ws://{server.base}/ws") as ws,
    ):
        await ws.send_str(json.dumps({"type": "authenticate", "token": token}))
        await ws.send_str(json.dumps({"type": "subscribe", "channels": [{"type": "portfolio"}]}))
        async for msg in ws:
            data = json.loads(msg.data)
            assert data.get("type") != "error", data
            if data.get("type") == "portfolio_update":
                body: dict[str, Any] = data["data"]
                return body
    raise AssertionError("no portfolio_update")


def _same(before: dict[str, Any], after: dict[str, Any]) -> None:
    """Equal, except that a live candle may have closed meanwhile (same content)."""
    for key, old in before.items():
        new = after[key]
        if " trades" in key or " ticker" in key:
            assert new == old, key
            continue
        assert len(new) == len(old), key  # nothing traded meanwhile
        for a, b in zip(old, new, strict=True):
            assert {**a, "closed": None} == {**b, "closed": None}, key
            assert b["closed"] or not a["closed"], key


async def _trade_round(server: Server, keys: dict[str, tuple[str, str]], epoch: int) -> None:
    record = Record()
    tasks = await trade(server, keys, record, epoch, random.Random(epoch), per_user=1)
    while len(record.trades) < TRADES_PER_ROUND:
        assert not all(t.done() for t in tasks), record.problems
        await asyncio.sleep(0.02)
    for task in tasks:
        task.cancel()
    await settle(tasks)
    assert not record.problems, record.problems
    await _quiet(server)


async def _quiet(server: Server) -> None:
    """Until the venue's sequence stops moving: a cancelled client's last frame may
    still be in the server's socket buffer and trade after the clients are gone."""
    url = f"http://{server.base}/api/v1/status"
    async with aiohttp.ClientSession() as http:
        last = -1
        for _ in range(200):  # bounded: 10 s
            async with http.get(url) as resp:
                seq = int((await resp.json())["sequence"])
            if seq == last:
                return
            last = seq
            await asyncio.sleep(0.05)
    raise AssertionError("the venue kept sequencing commands with no client connected")


def _xrp_holder_token(server: Server, data_dir: Path) -> str:
    admin = read_admin_key(data_dir)
    assert admin is not None
    base = f"http://{server.base}"
    rest = RestClient(base, admin.api_key, admin.api_secret)
    key = rest.request("POST", "/api/v1/admin/keys", {"user": "xrpholder", "create_user": True})
    rest.request(
        "POST", "/api/v1/admin/deposits", {"user": "xrpholder", "asset": "XRP", "amount": "1000"}
    )
    user = RestClient(base, key["api_key"], key["api_secret"])
    token: str = user.request("POST", "/api/v1/tokens", {"ttl_seconds": 3600})["token"]
    return token


def test_marketdata_restart_sigterm_and_kill9_candles_ticker_trades_portfolio_unchanged(
    tmp_path: Path,
) -> None:
    data_dir = tmp_path / "data"
    config = write_config(tmp_path / "openpit.toml", snapshot_every_commands=40)
    keys = create_keys(data_dir)
    server = Server(data_dir, config, tmp_path / "server.log")

    async def scenario() -> None:
        since = int(time.time() * 1000) - 20 * 60_000
        await server.start()
        token = await asyncio.to_thread(_xrp_holder_token, server, data_dir)
        for epoch, stop in enumerate(("sigterm", "kill9")):
            await _trade_round(server, keys, epoch)
            before = await _market(server, since)
            wallet = await _portfolio(server, token)
            assert before["BTCUSDT trades"] and before["BTCUSDT 1m"], before
            if stop == "sigterm":
                assert await server.stop() == 0
            else:
                server.kill9()
            await server.start()
            after = await _market(server, since)
            _same(before, after)
            assert await _portfolio(server, token) == wallet
            assert wallet["unpriced"] == [] and Decimal(wallet["totalValue"]) == 500
            (xrp,) = wallet["positions"]
            assert xrp["symbol"] == "XRP" and Decimal(xrp["value"]) == 500
        assert await server.stop() == 0

    try:
        asyncio.run(asyncio.wait_for(scenario(), 120))
    finally:
        server.ensure_dead()
