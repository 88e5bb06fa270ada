"""Parser limits over real sockets: a frame nested 1000 deep, one with a 400-digit
integer or a 60-digit price gets the dialect's error and the connection stays."""

from __future__ import annotations

import json
from typing import Any

import pytest

from openpit.gateway.dialects.frame_limits import nesting_problem
from tests.gateway.helpers import live, run_async

DEEP = '{"a":' * 1000 + "1" + "}" * 1000

# path, a valid ping, how to tell an error reply, how to tell the ping's answer
CASES = [
    ("/ws", {"action": "ping"}, lambda m: m.get("code") == 400, lambda m: m["event"] == "pong"),
    (
        "/ws/market-data",
        {"action": "ping", "id": "p"},
        lambda m: m.get("type") == "error" and m["data"]["code"] == "invalid_parameter",
        lambda m: m["type"] == "pong",
    ),
    (
        "/ws?dialect=typed",
        {"type": "ping"},
        lambda m: m.get("type") == "error" and m["error"]["code"] == "INVALID_MESSAGE",
        lambda m: m["type"] == "pong",
    ),
]
HUGE = {  # beyond int64, or more significant digits than any price has
    "/ws": '{"action":"submit_order","symbol":"BTCUSDT","side":"buy","amount":1,"leverage":'
    + "9" * 400
    + "}",
    "/ws/market-data": '{"action":"authenticate","id":"a","data":{"api_key":"k",'
    '"signature":"s","timestamp":' + "9" * 400 + "}}",
    "/ws?dialect=typed": '{"type":"place_order","orderType":"limit","orderData":'
    '{"pair":"BTC/USDT","side":"buy","amount":"1","price":"' + "9" * 60 + '"}}',
}


async def _reply(c: Any) -> dict[str, Any]:
    return await c.expect(lambda m: m.get("type") not in ("heartbeat", "welcome", "connected"))


@pytest.mark.parametrize(("path", "ping", "is_error", "is_pong"), CASES)
@run_async
async def test_frame_nested_1000_deep_is_an_error_and_connection_stays(
    path: str, ping: dict[str, Any], is_error: Any, is_pong: Any
) -> None:
    async with live() as env:
        c = await env.client(path)
        await c.send(DEEP)
        reply = await _reply(c)
        assert is_error(reply), reply
        assert "nested too deeply" in json.dumps(reply)
        await c.send(HUGE[path])
        text = json.dumps(await _reply(c))
        assert "9223372036854775807" in text or "too many digits" in text, text
        await c.send(ping)
        assert is_pong(await _reply(c))
        assert c.ws.close_code is None


def test_nesting_check_counts_only_brackets_outside_strings() -> None:
    assert nesting_problem('{"name": "' + "[" * 5000 + '"}') is not None  # too many brackets
    assert nesting_problem('{"name": "' + "[" * 100 + '"}') is None
    assert nesting_problem('["\\"' + "]" * 40 + '"' + ", [" * 40 + "]" * 40 + "]") is not None
    assert nesting_problem("[" * 32 + "]" * 32) is None
    assert nesting_problem("[" * 33 + "]" * 33) is not None
    assert nesting_problem("[" * 20 + "]" * 40 + "[" * 40) is None  # malformed first: decoder's
