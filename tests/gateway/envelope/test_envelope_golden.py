"""Golden transcripts: every request example of spec 001, sent as written, gets the
reply (and stream) shapes the spec shows, against a live server."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from openpit.alerts import NotificationLevel
from openpit.core.commands import PlaceOrder
from openpit.core.enums import OrderType, Side
from openpit.gateway import sign
from tests.gateway.envelope.helpers import EClient, EnvelopeEnv, envelope_env
from tests.gateway.helpers import KEYS, now_ms, run_async
from tests.gateway.test_golden import shape_problems

DATA = json.loads((Path(__file__).parents[2] / "data" / "envelope" / "spec_001.json").read_text())
CASES = {case["name"]: case for case in DATA["cases"]}
LITERAL = {"type", "channel", "status", "code", "request_id", "request_action", "operation"}
NULLABLE = {"link", "price", "client_id"}
USER = "alice"


async def place(env: EnvelopeEnv, user: str, side: str, qty: int, price: str, **kw: Any) -> int:
    inst = env.config.instruments["AAPL"]
    result = await env.service.submit(
        PlaceOrder(
            user=user,
            instrument="AAPL",
            side=Side(side),
            type=OrderType.LIMIT,
            qty=qty,
            price=inst.price_to_ticks(Decimal(price)),
            **kw,
        )
    )
    assert result.ok, result
    assert result.order_id is not None
    return result.order_id


async def _before(env: EnvelopeEnv, setup: str | None) -> None:
    if setup == "resting":
        assert await place(env, USER, "buy", 100, "150.00", client_order_id="my-order-123") == 67890
    elif setup == "resting_plain":
        assert await place(env, USER, "buy", 100, "150.00") == 67890
    elif setup == "custom_alert":
        await place(env, "bob", "sell", 10, "149.00")
        await place(env, "demo", "buy", 10, "149.00")  # last price 149.00: below 150


async def _after(env: EnvelopeEnv, setup: str | None, client: EClient) -> None:
    risk = env.risk.services
    if setup == "market":
        await place(env, "alice", "buy", 500, "150.00")
        await place(env, "bob", "sell", 300, "150.05")
        await place(env, "bob", "sell", 100, "150.00")
    elif setup == "fill":
        await place(env, USER, "buy", 100, "150.00")
        await place(env, "bob", "sell", 50, "150.00")
    elif setup == "system_notice":
        env.risk.publish(
            [
                risk.system_notification(
                    "info",
                    "Market Hours Update",
                    "The market will close early at 1:00 PM EST on July 3rd.",
                    "https://tradingplatform.example.com/notices/12345",
                    env.service.clock(),
                )
            ]
        )
    elif setup == "user_notice":
        note = risk.notifications.user(
            USER,
            NotificationLevel.WARNING,
            "Margin Call Warning",
            "Your account is approaching margin call levels.",
            env.service.clock(),
            link="https://tradingplatform.example.com/account/margin",
        )
        env.risk.publish([note])
    elif setup == "custom_alert":
        reply = await client.request(
            {
                "action": "create_alert",
                "data": {
                    "name": "AAPL Price Alert",
                    "condition": "price_above",
                    "symbol": "AAPL",
                    "threshold": 150.00,
                },
            }
        )
        assert reply["type"] == "alert_response", reply
        await place(env, "bob", "sell", 10, "150.25")
        await place(env, "demo", "buy", 10, "150.25")


def _as_written(request: dict[str, Any]) -> dict[str, Any]:
    """The spec's placeholders (API key, signature, Date.now()) made real."""
    text = json.dumps(request)
    ts = now_ms()
    key = KEYS["spec"]
    text = text.replace('"NOW"', str(ts)).replace("YOUR_API_KEY", key.key_id)
    text = text.replace("YOUR_SIGNATURE", sign(key.secret, key.key_id, ts))
    out: dict[str, Any] = json.loads(text)
    return out


def _matches(message: dict[str, Any], expected: dict[str, Any]) -> bool:
    if any(message.get(k) != expected[k] for k in ("type", "channel") if k in expected):
        return False
    if "id" in expected and message.get("id") != expected["id"]:
        return False
    status = expected.get("data", {}).get("status")
    return status is None or message.get("data", {}).get("status") == status


@pytest.mark.parametrize("name", sorted(CASES))
@run_async
async def test_envelope_golden_spec_example_gets_spec_shape(name: str) -> None:
    case = CASES[name]
    async with envelope_env(next_order_id=67890) as env:
        c = await env.client(case["endpoint"])
        if case["auth"]:
            await c.login(KEYS[USER])
        await _before(env, case["setup"])
        await c.send(_as_written(case["request"]))
        if not case["expect"]:  # pong: nothing comes back
            with pytest.raises(TimeoutError):
                await c.recv(0.3)
            return
        first = await c.recv()
        assert _matches(first, case["expect"][0]), first
        await _after(env, case["setup"], c)
        for expected in case["expect"]:
            got = await _find(c, expected)
            if "id" not in expected:
                assert "id" not in got, got  # streams never carry a request id


async def _find(c: EClient, expected: dict[str, Any]) -> dict[str, Any]:
    """The first message of the expected kind with the expected shape (a ticker before
    any trade has nulls: the spec's shape comes once the market has traded)."""
    problems: list[str] = []

    def fits(m: dict[str, Any]) -> bool:
        nonlocal problems
        if not _matches(m, expected):
            return False
        problems = shape_problems(expected, m, LITERAL, NULLABLE)
        return not problems

    got = next((m for m in c.seen if fits(m)), None)
    if got is None:
        try:
            got = await c.expect(fits)
        except TimeoutError:
            raise AssertionError((expected.get("type"), problems)) from None
    return got
