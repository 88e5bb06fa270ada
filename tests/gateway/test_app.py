"""HTTP endpoints, dialect routing, heartbeats and graceful shutdown."""

from __future__ import annotations

import asyncio
import json

import aiohttp

from openpit.gateway import HUB, shutdown
from openpit.gateway.app import sniff
from openpit.gateway.dialects import flat
from openpit.gateway.frames import close_frame, text_frame
from tests.gateway.helpers import FAST, live, run_async


@run_async
async def test_healthz_and_metrics_report_connections_and_traffic() -> None:
    async with live() as env:
        c = await env.client()
        await c.request({"action": "ping"})
        async with aiohttp.ClientSession() as http:
            async with http.get(env.http + "/healthz") as r:
                body = await r.json()
                assert r.status == 200 and body["status"] == "ok" and body["connections"] == 1
            async with http.get(env.http + "/metrics") as r:
                text = await r.text()
        assert 'openpit_ws_connections{dialect="flat"} 1.0' in text
        assert "openpit_ws_messages_in_total 1.0" in text
        assert "openpit_ws_bytes_out_total" in text


@run_async
async def test_envelope_endpoint_not_built_answers_error_shape_and_closes() -> None:
    async with live() as env:
        env.gateway.app[HUB].dialects.pop("envelope")  # as if its module did not exist
        c = await env.client("/ws/market-data")
        msg = await c.recv()
        assert msg["type"] == "error" and msg["data"]["code"] == "internal_error"
        code, _ = await c.closed()
        assert code == 1011


@run_async
async def test_ws_first_frame_with_type_routes_to_typed() -> None:
    async with live() as env:
        c = await env.client()
        await c.send({"type": "authenticate", "token": "x"})
        msg = await c.recv()
        assert msg["type"] == "error" and msg["error"]["code"] == "AUTH_FAILED"
        code, _ = await c.closed()
        assert code == 1008  # spec 004: an invalid token ends the connection at once


@run_async
async def test_ws_dialect_query_forces_flat() -> None:
    async with live() as env:
        c = await env.client("/ws?dialect=flat")
        assert (await c.request({"action": "ping"}))["event"] == "pong"


@run_async
async def test_heartbeat_silent_client_is_pinged_then_closed() -> None:
    async with live(FAST.with_(ping_interval=0.1, pong_timeout=0.1)) as env:
        c = await env.client()
        code, _ = await c.closed()
        assert code == 1000
        events = [m["event"] for m in c.seen]
        assert events == ["ping", "close"]
        assert env.gateway.app[HUB].stats.closes["heartbeat"] == 1


@run_async
async def test_shutdown_tells_clients_and_closes_1001() -> None:
    async with live() as env:
        c = await env.client()
        await c.request({"action": "ping"})
        task = asyncio.ensure_future(shutdown(env.gateway.app))
        code, _ = await c.closed()
        await task
        assert code == 1001
        assert c.seen[-1]["event"] == "close" and c.seen[-1]["code"] == 1001
        async with aiohttp.ClientSession() as http, http.get(env.http + "/healthz") as r:
            assert (await r.json())["status"] == "shutting_down"


def test_frames_lengths_use_the_right_header() -> None:
    assert text_frame(b"x")[:2] == b"\x81\x01"
    assert text_frame(b"x" * 200)[:4] == b"\x81\x7e\x00\xc8"
    assert text_frame(b"x" * 70000)[:2] == b"\x81\x7f"
    assert close_frame(1008, "slow")[:4] == b"\x88\x06\x03\xf0"


def test_sniff_first_frame_picks_dialect() -> None:
    assert sniff('{"action":"ping"}') == "flat"
    assert sniff('{"type":"subscribe"}') == "typed"
    assert sniff("not json") == "flat"


def test_flat_numbers_render_as_decimal_literals() -> None:
    from decimal import Decimal

    assert flat.num(Decimal("42650.50")) == flat.msgspec.Raw(b"42650.5")
    assert flat.num(Decimal("1")) == flat.msgspec.Raw(b"1.0")
    assert flat.num(Decimal("0.00001")) == flat.msgspec.Raw(b"0.00001")
    assert json.loads(flat.render_ping(5)) == {"event": "ping", "timestamp": 5}
