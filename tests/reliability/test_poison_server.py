"""The issue-13 poison order against a real ``openpit serve``: refused by every entry, and a
journal that already holds one starts up and serves, across a restart and a ``kill -9``.

Before the bounds, ``price 1e20`` was accepted over every WebSocket dialect, its order
update killed the history writer (``OverflowError`` from SQLite) and from then on every
other order timed out, also after a restart (the journal replayed it). Assertions are on
outcomes only; timing only bounds the run.
"""

from __future__ import annotations

import json
import re
import time
from pathlib import Path
from typing import Any

import aiohttp

from openpit.api.signing import signed_headers
from openpit.config import load_config
from openpit.core.commands import PlaceOrder, encode_command
from openpit.core.enums import OrderType, Side
from openpit.durability import Durability, DurabilityConfig, FsyncMode
from openpit.gateway import sign
from openpit.venue import Venue
from tests.durability.server_harness import Server, create_keys, write_config
from tests.gateway.helpers import run_async

LUX_PAIR = "LUXURY001/XRP"
LIMIT_TEXT = "3037000.49 XRP"  # the largest LUXURY001/XRP price (docs/reliability.md)


def _server(tmp_path: Path, preamble: str = "", server_extra: str = "") -> Server:
    config = write_config(tmp_path / "openpit.toml", 1000, server_extra)
    return Server(tmp_path / "data", config, tmp_path / "server.log", preamble)


def _jwt(server: Server) -> str:
    found = re.findall(r"demo JWT \(24 h\)\s+(\S+)", server.log_text())
    assert found, server.log_tail()
    return str(found[-1])


class Ws:
    """One JSON WebSocket connection; ``ask`` sends raw text and returns the next reply
    that is not a stream message."""

    def __init__(self, ws: aiohttp.ClientWebSocketResponse) -> None:
        self.ws = ws

    async def ask(self, text: str, timeout: float = 10.0) -> dict[str, Any]:
        await self.ws.send_str(text)
        while True:
            msg = await self.ws.receive(timeout)
            assert msg.type is aiohttp.WSMsgType.TEXT, msg
            data: dict[str, Any] = json.loads(msg.data)
            if data.get("channel") or data.get("event") == "ping":
                continue
            if data.get("type") in ("heartbeat", "ping", "connected", "welcome"):
                continue
            return data


async def _flat(http: aiohttp.ClientSession, server: Server, key: tuple[str, str]) -> Ws:
    ws = Ws(await http.ws_connect(f"ws://{server.base}/ws"))
    ts = int(time.time() * 1000)
    auth = {"action": "authenticate", "api_key": key[0], "timestamp": ts}
    auth["signature"] = sign(key[1], key[0], ts)
    reply = await ws.ask(json.dumps(auth))
    assert reply.get("event") == "authenticated", reply
    return ws


async def _envelope(http: aiohttp.ClientSession, server: Server, key: tuple[str, str]) -> Ws:
    ws = Ws(await http.ws_connect(f"ws://{server.base}/ws/trading"))
    ts = int(time.time() * 1000) + 1
    data = {"api_key": key[0], "timestamp": ts, "signature": sign(key[1], key[0], ts)}
    reply = await ws.ask(json.dumps({"action": "authenticate", "data": data, "id": "a"}))
    assert reply.get("type") == "auth_response", reply
    return ws


async def _typed(http: aiohttp.ClientSession, server: Server) -> Ws:
    ws = Ws(await http.ws_connect(f"ws://{server.base}/"))
    reply = await ws.ask(json.dumps({"type": "authenticate", "token": _jwt(server)}))
    assert reply.get("type") in ("authenticated", "auth_success"), reply
    return ws


async def _rest(
    http: aiohttp.ClientSession,
    server: Server,
    key: tuple[str, str],
    method: str,
    path: str,
    body: bytes = b"",
) -> tuple[int, Any]:
    headers = signed_headers(key[0], key[1], int(time.time() * 1000), method, path, body)
    headers["Content-Type"] = "application/json"
    async with http.request(
        method, f"http://{server.base}{path}", data=body or None, headers=headers
    ) as resp:
        return resp.status, await resp.json()


async def _healthz(http: aiohttp.ClientSession, server: Server) -> tuple[int, dict[str, Any]]:
    async with http.get(f"http://{server.base}/healthz") as resp:
        return resp.status, await resp.json()


async def _serves_orders(
    http: aiohttp.ClientSession, server: Server, key: tuple[str, str], cid: str
) -> None:
    """A plain order is acknowledged over flat and then readable from the history (REST)."""
    ws = await _flat(http, server, key)
    frame = (
        '{"action":"submit_order","exchange":"binance","symbol":"BTCUSDT","side":"buy",'
        f'"type":"limit","amount":0.001,"price":1000,"client_order_id":"{cid}"}}'
    )
    ack = await ws.ask(frame)
    assert ack.get("event") == "order_accepted", ack
    status, order = await _rest(http, server, key, "GET", f"/api/v1/orders/{ack['id']}")
    assert status == 200 and order["client_order_id"] == cid, order
    await ws.ws.close()
    status, health = await _healthz(http, server)
    assert status == 200 and health["status"] == "ok", health


@run_async
async def test_poison_order_refused_by_every_dialect_and_rest_venue_keeps_serving(
    tmp_path: Path,
) -> None:
    server = _server(tmp_path)
    keys = create_keys(server.data_dir)
    await server.start()
    try:
        async with aiohttp.ClientSession() as http:
            flat = await _flat(http, server, keys["demo"])
            reply = await flat.ask(
                '{"action":"submit_order","exchange":"xrpl","symbol":"LUXURY001/XRP",'
                '"side":"sell","type":"limit","amount":1,"price":1e+20}'
            )
            assert reply["event"] == "error" and reply["code"] == 400, reply
            assert "price" in reply["message"] and LIMIT_TEXT in reply["message"], reply
            huge = await flat.ask(
                '{"action":"submit_order","exchange":"xrpl","symbol":"LUXURY001/XRP",'
                '"side":"sell","type":"limit","amount":1e400,"price":1}'
            )
            assert huge["event"] == "error" and huge["code"] == 400, huge

            env = await _envelope(http, server, keys["alice"])
            reply = await env.ask(
                '{"action":"submit_order","id":"p","data":{"exchange":"xrpl",'
                '"symbol":"LUXURY001/XRP","side":"sell","type":"limit","quantity":1,'
                '"price":100000000000000000000}}'
            )
            assert reply["type"] == "error", reply
            assert reply["data"]["code"] == "invalid_parameter", reply
            assert LIMIT_TEXT in reply["data"]["message"], reply
            huge = await env.ask(
                '{"action":"submit_order","id":"q","data":{"exchange":"xrpl",'
                '"symbol":"LUXURY001/XRP","side":"sell","type":"limit","quantity":"1e400",'
                '"price":1}}'
            )
            assert huge["type"] == "error" and huge["data"]["code"] != "internal_error", huge

            typed = await _typed(http, server)
            reply = await typed.ask(
                '{"type":"place_order","orderType":"limit","orderData":{"pair":"LUXURY001/XRP",'
                '"side":"sell","amount":"1.00","price":"100000000000000000000"}}'
            )
            assert reply["type"] == "error", reply
            assert reply["error"]["code"] == "ORDER_FAILED", reply
            assert LIMIT_TEXT in reply["error"]["message"], reply
            huge = await typed.ask(
                '{"type":"place_order","orderType":"limit","orderData":{"pair":"LUXURY001/XRP",'
                '"side":"sell","amount":"1e400","price":"1"}}'
            )
            assert huge["type"] == "error" and huge["error"]["code"] != "INTERNAL_ERROR", huge

            body = json.dumps(
                {
                    "symbol": "LUXURY001-XRP-XRPL",
                    "side": "sell",
                    "type": "limit",
                    "amount": "1",
                    "price": "100000000000000000000",
                }
            ).encode()
            status, err = await _rest(http, server, keys["bob"], "POST", "/api/v1/orders", body)
            assert status == 400 and err["code"] == "invalid_price", err
            assert LIMIT_TEXT in err["message"], err

            await _serves_orders(http, server, keys["bob"], "after-poison")
        assert "Python int too large" not in server.log_text()
        assert await server.stop() == 0
    finally:
        server.ensure_dead()


def _journal_poison(data_dir: Path, config_path: Path) -> int:
    """Append the poison order to the journal as a version without bounds would have."""
    config = load_config(config_path)
    durability = Durability.open(
        lambda: Venue(config), DurabilityConfig(data_dir=data_dir, fsync=FsyncMode.OFF)
    )
    try:
        seq = durability.target.seq + 1
        poison = PlaceOrder(
            user="demo",
            instrument="LUXURY001-XRP-XRPL",
            side=Side.SELL,
            type=OrderType.LIMIT,
            qty=100,
            price=10**22,  # 1e20 XRP
        )
        durability.append(seq, int(time.time() * 1000), encode_command(poison))
        durability.writer.flush()
        return seq
    finally:
        durability.close_sync()


@run_async
async def test_journal_holding_a_poison_order_starts_and_serves_after_restart_and_kill9(
    tmp_path: Path,
) -> None:
    server = _server(tmp_path)
    keys = create_keys(server.data_dir)
    await server.start()
    try:
        assert await server.stop() == 0  # genesis journaled
        seq = _journal_poison(server.data_dir, server.config)
        await server.start()  # replays the poison record
        async with aiohttp.ClientSession() as http:
            await _serves_orders(http, server, keys["alice"], "after-replay")
            server.kill9()
            await server.start()  # and once more from whatever the kill left
            await _serves_orders(http, server, keys["bob"], "after-kill")
        assert await server.stop() == 0
        log = server.log_text()
        assert "Python int too large" not in log and "history writer stopped" not in log
        recovered = [int(m) for m in re.findall(r"openpit\.serve recovered seq (\d+)", log)]
        assert len(recovered) == 3 and recovered[1] >= seq, recovered  # the poison replayed
    finally:
        server.ensure_dead()
