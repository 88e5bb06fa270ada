"""A client written only from spec 001 (its Python example class, verbatim in
``spec_client.py``) against a live server: connect to each endpoint, authenticate,
subscribe, submit an order, keep a local order book from snapshot + updates."""

from __future__ import annotations

import asyncio
import threading
from decimal import Decimal
from typing import Any

from tests.gateway.envelope.helpers import envelope_env
from tests.gateway.envelope.spec_client import TradingPlatformClient
from tests.gateway.helpers import KEYS, eventually, run_async


class ThreadedAuthClient(TradingPlatformClient):  # type: ignore[misc]
    """The one change the example needs, and it is not about the server: its ``on_open``
    calls ``authenticate`` on websocket-client's only reader thread, and ``authenticate``
    then waits for a reply that only that thread can read (a 10 s timeout, every time,
    against any server). Running the same ``authenticate`` on its own thread is enough."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.authenticated: set[str] = set()

    def authenticate(self, endpoint: str) -> None:
        def run() -> None:
            TradingPlatformClient.authenticate(self, endpoint)
            self.authenticated.add(endpoint)

        threading.Thread(target=run, daemon=True).start()


def _options(port: int) -> dict[str, Any]:
    return {
        "base_url": f"ws://127.0.0.1:{port}",
        "reconnect": False,
        "max_reconnect_attempts": 0,
        "reconnect_interval": 1000,
    }


@run_async
async def test_envelope_spec_python_client_market_data_book_and_order_entry() -> None:
    async with envelope_env() as env:
        key = KEYS["alice"]
        client = ThreadedAuthClient(key.key_id, key.secret, _options(env.gateway.port))
        book: dict[str, dict[Decimal, Decimal]] = {"bids": {}, "asks": {}}
        seen: list[dict[str, Any]] = []
        lock = threading.Lock()

        def on_book(message: dict[str, Any]) -> None:
            with lock:
                seen.append(message)
                if message["type"] == "orderbook":
                    book["bids"].clear()
                    book["asks"].clear()
                for side in ("bids", "asks"):
                    for price, qty in message["data"][side]:
                        p, q = Decimal(str(price)), Decimal(str(qty))
                        if q == 0:
                            book[side].pop(p, None)
                        else:
                            book[side][p] = q

        orders: list[dict[str, Any]] = []
        client.on_message("orderbook", on_book)
        client.on_message("orderbook_update", on_book)
        client.on_message("order_update", orders.append)
        try:
            # market data: the class exactly as the spec wrote it
            client.connect("/ws/market-data")
            await eventually(lambda: "/ws/market-data" in client.connections)
            reply = await asyncio.to_thread(
                client.subscribe, "/ws/market-data", ["trades:AAPL", "orderbook:AAPL:10"]
            )
            assert reply["type"] == "subscription_response"
            assert reply["data"]["status"] == "success"
            for endpoint in ("/ws/trading", "/ws/notifications", "/ws/custom"):
                client.connect(endpoint)
                await eventually(lambda e=endpoint: e in client.authenticated)
            reply = await asyncio.to_thread(
                client.subscribe, "/ws/trading", ["user_orders", "user_trades"]
            )
            assert reply["data"]["channels"] == ["user_orders", "user_trades"]
            for endpoint, channel in (
                ("/ws/notifications", "system_notifications"),
                ("/ws/custom", "custom_alerts"),
            ):
                reply = await asyncio.to_thread(client.subscribe, endpoint, [channel])
                assert reply["data"]["status"] == "success"
            order = {
                "symbol": "AAPL",
                "side": "buy",
                "type": "limit",
                "quantity": 100,
                "price": 150.00,
                "time_in_force": "gtc",
            }
            result = await asyncio.to_thread(client.submit_order, order)
            assert result["type"] == "order_response"
            assert result["data"]["status"] == "accepted"
            assert result["data"]["order_id"].startswith("o-")
            sell = {**order, "side": "sell", "quantity": 40, "price": 151.00}
            await asyncio.to_thread(client.submit_order, sell)
            cancel = await asyncio.to_thread(client.cancel_order, result["data"]["order_id"])
            assert cancel["data"]["status"] == "cancelled"
            await eventually(lambda: any(o["data"]["status"] == "cancelled" for o in orders))

            def synced() -> bool:
                snap = env.marketdata.book_snapshot("AAPL", 10)
                inst = env.config.instruments["AAPL"]
                with lock:
                    for side, levels in (("bids", snap.bids), ("asks", snap.asks)):
                        want = {inst.ticks_to_price(p): inst.lots_to_qty(q) for p, q in levels}
                        if book[side] != want:
                            return False
                return True

            await eventually(synced)
            assert book["asks"] == {Decimal("151.00"): Decimal(40)} and not book["bids"]
            sequences = [m["data"]["sequence"] for m in seen]
            assert sequences == list(range(sequences[0], sequences[0] + len(sequences)))
        finally:
            # the class's close() iterates connections while its on_close deletes from
            # them ("dictionary changed size"): close a copy, then wait for the threads
            apps = list(client.connections.values())
            for ws in apps:
                ws.close()
            await eventually(lambda: all(ws.sock is None for ws in apps))
