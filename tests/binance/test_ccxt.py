"""The real ccxt ``binance`` class, unchanged, trading on a real ``openpit serve``.

The exchange is built with the ``ccxt_options`` function docs/binance.md shows (read
from the page and run as written); nothing of ccxt is patched. Bob rests a sell, Alice's
market buy fills against it.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

ccxt_async = pytest.importorskip("ccxt.async_support")

from tests.durability.server_harness import Server, create_keys, write_config  # noqa: E402

DOC = Path(__file__).resolve().parents[2] / "docs" / "binance.md"


def doc_snippet(name: str) -> Callable[..., dict[str, Any]]:
    """The function ``name`` from the first Python block of docs/binance.md defining it."""
    for block in re.findall(r"```python\n(.*?)```", DOC.read_text(encoding="utf-8"), re.S):
        if f"def {name}(" in block:
            scope: dict[str, Any] = {}
            exec(block, scope)
            fn: Callable[..., dict[str, Any]] = scope[name]
            return fn
    raise AssertionError(f"docs/binance.md has no {name}()")


ccxt_options = doc_snippet("ccxt_options")


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


def test_ccxt_binance_trades_against_the_simulator(tmp_path: Path) -> None:
    data = tmp_path / "data"
    data.mkdir()
    keys = create_keys(data)
    srv = Server(
        data, write_config(tmp_path / "venue.toml", 1000), tmp_path / "serve.log", simulator=True
    )

    async def main() -> None:
        await srv.start()
        await simulated(f"http://{srv.base}", keys)

    try:
        asyncio.run(asyncio.wait_for(main(), 120))
    finally:
        srv.ensure_dead()


async def simulated(base: str, keys: dict[str, tuple[str, str]]) -> None:
    alice = ccxt_async.binance(ccxt_options(base, *keys["alice"]))
    try:
        await alice.load_markets()
        book: dict[str, Any] = {"bids": [], "asks": []}
        for _ in range(300):  # the simulator's makers quote both sides within seconds
            book = await alice.fetch_order_book("BTC/USDT", 20)
            if book["bids"] and book["asks"]:
                break
            await asyncio.sleep(0.1)
        assert book["bids"] and book["asks"], book
        best_bid, best_ask = book["bids"][0][0], book["asks"][0][0]
        assert best_bid < best_ask
        bought = await alice.create_order("BTC/USDT", "market", "buy", 0.001)
        assert bought["status"] == "closed" and bought["filled"] == 0.001
        assert bought["average"] >= best_bid
        mine = await alice.fetch_my_trades("BTC/USDT")
        assert [t["order"] for t in mine] == [bought["id"]]
        assert (await alice.fetch_ticker("BTC/USDT"))["last"] is not None
        assert await alice.fetch_trades("BTC/USDT")
        assert await alice.fetch_ohlcv("BTC/USDT", "1m")
        far = await alice.create_order("BTC/USDT", "limit", "sell", 0.001, round(best_ask * 2))
        assert [o["id"] for o in await alice.fetch_open_orders("BTC/USDT")] == [far["id"]]
        assert (await alice.cancel_order(far["id"], "BTC/USDT"))["status"] == "canceled"
    finally:
        await alice.close()
