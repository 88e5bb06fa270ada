"""A client may pipeline: the server executes each order at once, reads the next frame
while the journal commits, and still answers in request order (real ``openpit serve``
with its journal). A refusal, a pong or a second order sent right behind an order that
waits for its commit is answered after that order, never before; the order's own
stream update comes before its ack, as without pipelining.
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import aiohttp

from tests.reliability.harness import Conn, flat_auth, prepare

N = 30
BTC = {"exchange": "binance", "symbols": ["BTCUSDT"]}


def _order(cid: str, price: str = "20000.00") -> dict[str, object]:
    return {
        "action": "submit_order",
        "exchange": "binance",
        "symbol": "BTCUSDT",
        "side": "buy",
        "type": "limit",
        "amount": 0.001,
        "price": float(price),
        "client_order_id": cid,
    }


def test_pipelined_requests_are_answered_in_request_order(tmp_path: Path) -> None:
    async def scenario() -> None:
        v = prepare(tmp_path)
        await v.server.start()
        try:
            async with aiohttp.ClientSession() as http:
                ws = await http.ws_connect(f"ws://{v.server.base}/ws?dialect=flat")
                conn = Conn(ws, "flat").start()
                assert (await conn.ask(flat_auth(v.keys["alice"])))["event"] != "error"
                subscribed = await conn.ask(
                    {"action": "subscribe", "channels": ["orders"], "params": BTC}
                )
                assert subscribed.get("event") != "error", subscribed
                frames: list[dict[str, object]] = []
                expected: list[tuple[str, str | None]] = []
                for i in range(N):
                    frames.append(_order(f"p-{i}"))
                    expected.append(("order_accepted", f"p-{i}"))
                    frames.append(_order(f"bad-{i}", "20000.001"))  # off the tick: refused
                    expected.append(("error", f"bad-{i}"))
                    frames.append({"action": "ping"})
                    expected.append(("pong", None))
                    frames.append({"action": "cancel_order", "client_order_id": f"p-{i}"})
                    expected.append(("order_cancelled", f"p-{i}"))
                for frame in frames:  # all at once, nothing read in between
                    await conn.send(frame)
                got: list[tuple[str, str | None]] = []
                for _ in expected:
                    reply = await conn.next_reply(20)
                    cid = reply.get("client_order_id")
                    got.append((str(reply.get("event")), cid if isinstance(cid, str) else None))
                assert got == expected
                # each order's stream update arrived before its ack
                seen = conn.seen
                for i in range(N):
                    cid = f"p-{i}"
                    ack = next(
                        k
                        for k, m in enumerate(seen)
                        if m.get("event") == "order_accepted" and m.get("client_order_id") == cid
                    )
                    update = next(
                        k
                        for k, m in enumerate(seen)
                        if m.get("channel") == "orders" and json.dumps(m).find(cid) >= 0
                    )
                    assert update < ack, (cid, seen[update], seen[ack])
                await conn.close()
        finally:
            if v.server.proc is not None:
                await v.server.stop()

    asyncio.run(asyncio.wait_for(scenario(), 120))
