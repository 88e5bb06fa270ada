"""The flood policy over real sockets: a connection that keeps sending past its rate
limits is answered with the dialect's rate-limit error, struck once per refused frame,
and closed with the dialect's documented code at its ``strikes`` limit; a refused frame
is never parsed (only its head is read). Others keep being served throughout.

Assertions are on counts and codes only: the flooder sends more than it needs and the
outcome does not depend on how fast the bucket refills meanwhile.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from websockets.exceptions import ConnectionClosed

from openpit.gateway import HUB
from openpit.gateway.dialects import envelope, flat, typed
from openpit.gateway.model import CloseReason
from tests.gateway.helpers import Client, live, run_async

FLAT_ORDER = {
    "action": "submit_order",
    "exchange": "binance",
    "symbol": "BTCUSDT",
    "side": "buy",
    "type": "limit",
    "amount": 0.001,
    "price": 1000.0,
}
ENVELOPE_ORDER = {
    "action": "submit_order",
    "id": "flood",
    "data": {"symbol": "AAPL", "side": "buy", "type": "limit", "quantity": 1, "price": 1},
}
TYPED_ORDER = {
    "type": "place_order",
    "orderType": "limit",
    "orderData": {"pair": "BTC/USDT", "side": "buy", "amount": "0.001", "price": "1000"},
}

# dialect, path, the order frame, how to read an error's code, the rate-limit error code
CASES = [
    ("flat", "/ws", FLAT_ORDER, lambda m: m.get("code"), 429),
    (
        "envelope",
        "/ws/trading",
        ENVELOPE_ORDER,
        lambda m: m.get("data", {}).get("code"),
        "rate_limit_exceeded",
    ),
    (
        "typed",
        "/ws?dialect=typed",
        TYPED_ORDER,
        lambda m: (m.get("error") or {}).get("code"),
        "RATE_LIMIT_EXCEEDED",
    ),
]
MODULES = {"flat": flat, "envelope": envelope, "typed": typed}


async def _flood(c: Client, frame: dict[str, Any], count: int) -> None:
    text = json.dumps(frame)
    try:
        for _ in range(count):
            await c.ws.send(text)
    except ConnectionClosed:
        pass  # closed by the flood policy while still sending


@pytest.mark.parametrize(("name", "path", "frame", "code_of", "limited"), CASES)
@run_async
async def test_flood_past_rate_limit_closed_with_dialect_code_after_strikes(
    name: str, path: str, frame: dict[str, Any], code_of: Any, limited: object
) -> None:
    dialect = MODULES[name]
    strikes = dialect.strikes[CloseReason.RATE_LIMITED]
    expected = dialect.close_codes[CloseReason.RATE_LIMITED]
    async with live() as env:
        bystander = await env.client()
        flooder = await env.client(path)
        await _flood(flooder, frame, 400)  # more than any burst + strikes
        code, reason = await flooder.closed()
        assert code == expected and "rate limits exceeded repeatedly" in (reason or "")
        refusals = [m for m in flooder.seen if code_of(m) == limited]
        assert len(refusals) == strikes  # the last strike closed it: nothing after
        notice = flooder.seen[-1]
        assert notice.get("event", notice.get("type")) == "close", notice
        hub = env.gateway.app[HUB]
        assert hub.stats.closes.get(CloseReason.RATE_LIMITED.value) == 1
        # the venue kept serving everyone else
        assert (await bystander.request({"action": "ping"}))["event"] == "pong"


@run_async
async def test_flood_refused_frames_are_answered_without_being_parsed(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    parsed: list[object] = []
    real_parse = flat.parse

    def counting_parse(frame: str | bytes) -> Any:
        parsed.append(frame)
        return real_parse(frame)

    monkeypatch.setattr(flat, "parse", counting_parse)
    async with live() as env:
        c = await env.client()
        burst = int(env.gateway.app[HUB].settings.rates_for("flat")["order"].burst)
        await _flood(c, FLAT_ORDER, burst + 10)
        replies = [await c.recv() for _ in range(burst + 10)]
        refused = [m for m in replies if m.get("code") == 429]
        assert refused and all(m["action"] == "submit_order" for m in refused)
        assert len(parsed) == len(replies) - len(refused)  # refusals read the head only


@run_async
async def test_flood_on_one_connection_leaves_a_second_of_the_same_client_usable() -> None:
    async with live() as env:
        flooder = await env.client()
        await _flood(flooder, {"action": "ping"}, 300)
        code, _ = await flooder.closed()
        assert code == 1008
        again = await env.client()  # limits are per connection: a fresh one starts clean
        assert (await again.request({"action": "ping"}))["event"] == "pong"
