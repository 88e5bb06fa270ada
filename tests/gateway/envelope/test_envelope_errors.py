"""Every spec 001 error code and close code, each provoked by a real client."""

from __future__ import annotations

from typing import Any

from openpit.core.commands import SetHalt
from openpit.gateway import RateLimit
from tests.gateway.envelope.helpers import (
    CUSTOM,
    MARKET,
    TRADING,
    EClient,
    auth,
    envelope_env,
)
from tests.gateway.helpers import FAST, KEYS, run_async


def _order(**over: Any) -> dict[str, Any]:
    data = {"symbol": "AAPL", "side": "buy", "type": "limit", "quantity": 10, "price": 150.00}
    return {"action": "submit_order", "data": {**data, **over}}


def _error(reply: dict[str, Any], code: str, action: str | None) -> dict[str, Any]:
    assert reply["type"] == "error", reply
    data: dict[str, Any] = reply["data"]
    assert data["code"] == code, reply
    assert data["request_id"] == reply["id"] and data["request_action"] == action, reply
    return data


@run_async
async def test_envelope_errors_venue_and_request_codes_are_the_spec_codes() -> None:
    async with envelope_env() as env:
        anon = await env.client(TRADING)
        reply = await anon.request({"action": "subscribe", "data": {"channels": ["user_orders"]}})
        _error(reply, "authentication_required", "subscribe")
        reply = await anon.request(_order())
        _error(reply, "authentication_required", "submit_order")
        reply = await anon.request(auth(KEYS["alice"], "a-1", ts=1))
        _error(reply, "invalid_credentials", "authenticate")
        reply = await anon.request({"action": "fly", "data": {}})
        _error(reply, "invalid_action", "fly")

        c = await env.login(TRADING, "alice")
        reply = await c.request({"action": "subscribe", "data": {"channels": ["trades:AAPL"]}})
        assert "trades:AAPL" in _error(reply, "invalid_parameter", "subscribe")["message"]
        reply = await c.request({"action": "subscribe", "data": {"channels": ["orderbook:AAPL:x"]}})
        assert "orderbook:AAPL:x" in _error(reply, "invalid_parameter", "subscribe")["message"]
        _error(await c.request(_order(price=0)), "invalid_parameter", "submit_order")
        _error(await c.request(_order(price=150.001)), "invalid_parameter", "submit_order")
        _error(await c.request(_order(quantity=10**7)), "insufficient_funds", "submit_order")
        reply = await c.request({"action": "cancel_order", "data": {"order_id": "o-999"}})
        _error(reply, "order_not_found", "cancel_order")
        reply = await c.request(
            {"action": "modify_order", "data": {"order_id": "o-999", "price": 1}}
        )
        _error(reply, "order_not_found", "modify_order")
        assert (await c.request(_order(client_order_id="dup")))["type"] == "order_response"
        reply = await c.request(_order(client_order_id="dup"))
        assert _error(reply, "duplicate_client_order_id", "submit_order")["reason"]
        assert (await env.service.submit(SetHalt(instrument="AAPL", halted=True))).ok
        _error(await c.request(_order()), "market_closed", "submit_order")

        md = await env.client(MARKET)
        _error(await md.request(_order()), "invalid_action", "submit_order")
        reply = await md.request({"action": "subscribe", "data": {"channels": ["user_orders"]}})
        _error(reply, "invalid_parameter", "subscribe")

        custom = await env.login(CUSTOM, "alice")
        env.hub.alert_manager = None  # alerts not wired: the server cannot answer
        reply = await custom.request({"action": "list_alerts", "data": {}})
        _error(reply, "internal_error", "list_alerts")


@run_async
async def test_envelope_rate_limit_error_has_retry_after_then_close_4001() -> None:
    rates = {"envelope": {"other": RateLimit(2, 2 / 60)}}
    async with envelope_env(FAST.with_(dialect_rates=rates)) as env:
        c = await env.client(MARKET)
        for i in range(2):
            await c.send({"action": "ping", "id": f"p-{i}"})
            assert (await c.recv())["type"] == "pong"
        reply = await c.request({"action": "ping", "data": {}, "id": "p-2"})
        data = _error(reply, "rate_limit_exceeded", "ping")
        assert isinstance(data["retry_after"], int) and data["retry_after"] >= 1
        for i in range(19):
            await c.send({"action": "ping", "id": f"q-{i}"})
        code, _ = await c.closed()
        assert code == 4001


@run_async
async def test_envelope_repeated_auth_failures_close_4000() -> None:
    async with envelope_env() as env:
        c = await env.client(TRADING)
        for i in range(3):
            await c.send(auth(KEYS["alice"], f"a-{i}", ts=1000 + i))
        code, _ = await c.closed()
        assert code == 4000
        assert [m["data"]["code"] for m in c.of_type("error")] == ["invalid_credentials"] * 3


@run_async
async def test_envelope_repeated_invalid_subscriptions_close_4002() -> None:
    async with envelope_env() as env:
        c = await env.client(MARKET)
        for i in range(10):
            await c.send({"action": "subscribe", "data": {"channels": [f"bogus{i}"]}})
        code, _ = await c.closed()
        assert code == 4002


@run_async
async def test_envelope_sixth_connection_per_key_refused_with_4003() -> None:
    async with envelope_env() as env:
        for _ in range(5):
            await env.login(TRADING, "alice")
        sixth = await env.client(TRADING)
        await sixth.send(auth(KEYS["alice"], "six"))
        code, _ = await sixth.closed()
        assert code == 4003
        assert sixth.of_type("error")[0]["data"]["code"] == "rate_limit_exceeded"


@run_async
async def test_envelope_subscription_cap_of_50_per_connection() -> None:
    async with envelope_env() as env:
        c = await env.client(MARKET)
        channels = [
            f"candles:{s}:{i}"
            for s in ("AAPL", "MSFT", "GOOGL", "TSLA")
            for i in ("1m", "5m", "15m", "1h", "4h", "1d", "1w")
        ]
        channels += [f"orderbook:AAPL:{d}" for d in range(1, 23)]
        assert len(channels) == 50
        await c.subscribe(*channels)
        reply = await c.request({"action": "subscribe", "data": {"channels": ["ticker:AAPL"]}})
        _error(reply, "rate_limit_exceeded", "subscribe")


@run_async
async def test_envelope_heartbeat_every_interval_and_silent_client_closed() -> None:
    settings = FAST.with_(ping_interval=0.1, idle_timeout=0.5)
    async with envelope_env(settings) as env:
        c = await env.client(MARKET)
        beat = await c.recv()
        assert beat == {"type": "heartbeat", "timestamp": beat["timestamp"]}
        await c.send({"action": "pong", "data": {"timestamp": 1}})
        code, _ = await c.closed()
        assert code == 1000
        assert len(c.of_type("heartbeat")) >= 2
        assert c.seen[-1]["type"] == "close"


@run_async
async def test_envelope_shutdown_closes_4004() -> None:
    async with envelope_env() as env:
        c: EClient = await env.client(MARKET)
        await c.subscribe("trades:AAPL")
        await env.gateway.stop()
        code, _ = await c.closed()
        assert code == 4004
        assert c.seen[-1]["type"] == "close" and c.seen[-1]["data"]["code"] == 4004
