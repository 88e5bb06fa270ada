"""The real ccxt ``binance`` class, unchanged, trading on a real ``openpit serve``.

The exchange is built exactly as docs/binance.md shows (``ccxt_options``); nothing of
ccxt is patched. Bob rests a sell, Alice's market buy fills against it.
"""

from __future__ import annotations

import asyncio
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

ccxt_async = pytest.importorskip("ccxt.async_support")

from tests.durability.server_harness import Server, create_keys, write_config  # noqa: E402


def ccxt_options(base: str, api_key: str, secret: str) -> dict[str, Any]:
    """The ccxt configuration of docs/binance.md (``base``: ``http://HOST:PORT``)."""
    rest = f"{base}/binance/api/v3"
    dead = f"{base}/binance/unsupported"  # sapi, futures, options: never used on spot
    return {
        "apiKey": api_key,
        "secret": secret,
        "enableRateLimit": False,
        "urls": {
            "api": {
                "public": rest,
                "private": rest,
                "v1": rest,
                "sapi": dead, "sapiV2": dead, "sapiV3": dead, "sapiV4": dead,
                "fapiPublic": dead, "fapiPrivate": dead, "dapiPublic": dead,
                "dapiPrivate": dead, "eapiPublic": dead, "eapiPrivate": dead,
                "papi": dead,
            }
        },
        "options": {
            "defaultType": "spot",
            "fetchMarkets": {"types": ["spot"]},
            "fetchCurrencies": False,
            "fetchMargins": False,
        },
    }  # fmt: skip


def test_ccxt_binance_trades_on_openpit_unchanged(tmp_path: Path) -> None:
    data = tmp_path / "data"
    data.mkdir()
    keys = create_keys(data)
    srv = Server(data, write_config(tmp_path / "venue.toml", 1000), tmp_path / "serve.log")

    async def main() -> None:
        await srv.start()
        await scenario(f"http://{srv.base}", keys)

    try:
        asyncio.run(asyncio.wait_for(main(), 120))
    finally:
        srv.ensure_dead()


async def scenario(base: str, keys: dict[str, tuple[str, str]]) -> None:
    alice = ccxt_async.binance(ccxt_options(base, *keys["alice"]))
    bob = ccxt_async.binance(ccxt_options(base, *keys["bob"]))
    try:
        markets = await alice.load_markets()
        btc = markets["BTC/USDT"]
        assert btc["id"] == "BTCUSDT" and btc["spot"] and btc["active"]
        assert btc["precision"]["price"] == 0.01 and btc["precision"]["amount"] == 0.00001
        assert "AAPL/USD" in markets

        # a resting limit: placed, visible, fetched, cancelled
        resting = await alice.create_order("BTC/USDT", "limit", "buy", 0.01, 1000)
        assert resting["status"] == "open" and resting["filled"] == 0
        assert resting["clientOrderId"]
        open_orders = await alice.fetch_open_orders("BTC/USDT")
        assert [o["id"] for o in open_orders] == [resting["id"]]
        fetched = await alice.fetch_order(resting["id"], "BTC/USDT")
        assert fetched["price"] == 1000 and fetched["amount"] == 0.01
        balance = await alice.fetch_balance()
        assert balance["USDT"]["used"] == pytest.approx(10.0, abs=0.1)  # 0.01 x 1000 + fee room
        cancelled = await alice.cancel_order(resting["id"], "BTC/USDT")
        assert cancelled["status"] == "canceled"
        assert await alice.fetch_open_orders("BTC/USDT") == []

        # a filling market order against bob's resting sell
        ask = await bob.create_order("BTC/USDT", "limit", "sell", 0.02, 31000)
        assert ask["status"] == "open"
        book = await alice.fetch_order_book("BTC/USDT")
        assert book["asks"][0][:2] == [31000.0, 0.02] and book["nonce"] > 0
        bought = await alice.create_order("BTC/USDT", "market", "buy", 0.015)
        assert bought["status"] == "closed" and bought["filled"] == 0.015
        assert bought["average"] == 31000 and bought["cost"] == pytest.approx(465.0)
        assert len(bought["trades"]) == 1 and bought["fee"]["currency"] == "USDT"

        mine = await alice.fetch_my_trades("BTC/USDT")
        assert [(t["side"], t["price"], t["amount"], t["takerOrMaker"]) for t in mine] == [
            ("buy", 31000.0, 0.015, "taker")
        ]
        assert mine[0]["order"] == bought["id"]
        trades = await alice.fetch_trades("BTC/USDT")
        assert trades[-1]["price"] == 31000 and trades[-1]["amount"] == 0.015
        ticker = await alice.fetch_ticker("BTC/USDT")
        assert ticker["last"] == 31000 and ticker["ask"] == 31000
        candles = await alice.fetch_ohlcv("BTC/USDT", "1m")
        assert candles and candles[-1][4] == 31000
        after = await alice.fetch_balance()
        assert Decimal(str(after["BTC"]["free"])) == Decimal("5.015")
    finally:
        await alice.close()
        await bob.close()
