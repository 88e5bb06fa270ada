"""Authentication attacks against a real ``openpit serve``, per dialect and REST.

Key-based logins (flat ``/ws``, envelope ``/ws/trading``, signed REST): a replayed
signature, stale and future timestamps (outside the ±30 s window), a wrong secret, an
unknown key and a revoked key are each refused with the dialect's documented error
(flat 401, envelope ``invalid_credentials``, REST 401 ``unauthorized``), and after the
refusal the connection sees nothing private (order entry and private subscriptions are
refused, no private channel message arrives). Revoking a key closes its live flat and
envelope sessions with a close frame (1008, "API key revoked").

Typed (JWT): ``alg: none``, a wrong signature, an expired token and one without ``exp``
are refused with ``AUTH_FAILED`` and close 1008, and so is a correctly signed token for
a user that does not exist; revoking the API key that minted a token
(``POST /api/v1/tokens``) closes its live typed session with 1008 and refuses the token
afterwards (issue 13 "tokens die with their key").
"""

from __future__ import annotations

import asyncio
import base64
import json
import time
from collections.abc import Iterator
from typing import Any

import aiohttp
import jwt
import pytest

from tests.reliability.harness import (
    FAST_GATEWAY,
    Conn,
    Key,
    Venue,
    connect,
    envelope_auth,
    flat_auth,
    fresh_ts,
    mint_jwt,
    prepare,
    rest,
)

JWT_SECRET = "reliability-suite-jwt-secret-0123456789abcdef"
WINDOW_MS = 30_000
WRONG = "0" * 64


@pytest.fixture(scope="module")
def v(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Venue]:
    tmp = tmp_path_factory.mktemp("auth")
    started = prepare(tmp, f'jwt_secret = "{JWT_SECRET}"\n' + FAST_GATEWAY)
    asyncio.run(started.server.start())
    try:
        yield started
    finally:
        asyncio.run(started.server.stop())


def _admin(v: Venue) -> Key:
    data = json.loads((v.server.data_dir / "admin-key.json").read_text())
    return data["api_key"], data["api_secret"]


async def _new_key(http: aiohttp.ClientSession, v: Venue, user: str) -> Key:
    body = json.dumps({"user": user, "permissions": ["read", "trade"]}).encode()
    status, data = await rest(http, v.base, _admin(v), "POST", "/api/v1/admin/keys", body)
    assert status == 201, data
    return data["api_key"], data["api_secret"]


async def _revoke(http: aiohttp.ClientSession, v: Venue, key_id: str) -> None:
    status, data = await rest(http, v.base, _admin(v), "DELETE", f"/api/v1/admin/keys/{key_id}")
    assert status in (200, 204), data


def _forged(v: Venue) -> dict[str, tuple[Key | None, dict[str, Any]]]:
    """Bad key-based logins: name -> (key to sign with, overrides)."""
    alice = v.keys["alice"]
    now = int(time.time() * 1000)
    return {
        "stale": (alice, {"ts": now - 2 * WINDOW_MS}),
        "future": (alice, {"ts": now + 2 * WINDOW_MS}),
        "wrong_secret": (alice, {"secret": WRONG}),
        "unknown_key": (("k_000000000000000000000000", WRONG), {}),
    }


PRIVATE = ("orders", "positions", "user_orders", "user_trades", "account_updates")


def _no_private(conn: Conn) -> None:
    for msg in conn.seen:
        channel = str(msg.get("channel") or "")
        assert not any(channel.startswith(p) for p in PRIVATE), msg


async def _flat_refused(conn: Conn, frame: dict[str, Any]) -> None:
    reply = await conn.ask(frame)
    assert reply.get("event") == "error" and reply.get("code") == 401, reply
    sub = {
        "action": "subscribe",
        "channels": ["orders", "positions"],
        "params": {"exchange": "binance", "symbols": ["BTCUSDT"]},
    }
    reply = await conn.ask(sub)
    assert reply.get("code") == 401 or reply.get("closed"), reply
    order = {
        "action": "submit_order",
        "exchange": "binance",
        "symbol": "BTCUSDT",
        "side": "buy",
        "type": "limit",
        "amount": 0.001,
        "price": 1000.0,
    }
    reply = await conn.ask(order)
    assert reply.get("code") == 401 or reply.get("closed"), reply
    _no_private(conn)


async def _envelope_refused(conn: Conn, frame: dict[str, Any]) -> None:
    reply = await conn.ask(frame)
    assert reply.get("type") == "error", reply
    assert reply["data"]["code"] == "invalid_credentials", reply
    sub = {"action": "subscribe", "data": {"channels": ["user_orders"]}, "id": "s"}
    reply = await conn.ask(sub)
    assert reply.get("closed") or reply["data"]["code"] == "authentication_required", reply
    _no_private(conn)


def test_auth_flat_forged_logins_refused_401_nothing_private(v: Venue) -> None:
    async def scenario() -> None:
        async with aiohttp.ClientSession() as http:
            for name, (key, bad) in _forged(v).items():
                conn = await connect(http, v.base, "/ws?dialect=flat", name)
                assert key is not None
                await _flat_refused(conn, flat_auth(key, bad.get("ts"), bad.get("secret")))
                await conn.close()
            # replay: a login frame accepted once is refused on a second connection
            frame = flat_auth(v.keys["alice"])
            first = await connect(http, v.base, "/ws?dialect=flat", "first")
            assert (await first.ask(frame)).get("event") == "authenticated"
            again = await connect(http, v.base, "/ws?dialect=flat", "replay")
            await _flat_refused(again, frame)
            await first.close()
            await again.close()

    asyncio.run(asyncio.wait_for(scenario(), 60))


def test_auth_envelope_forged_logins_refused_invalid_credentials(v: Venue) -> None:
    async def scenario() -> None:
        async with aiohttp.ClientSession() as http:
            for name, (key, bad) in _forged(v).items():
                conn = await connect(http, v.base, "/ws/trading", name)
                assert key is not None
                frame = envelope_auth(key, bad.get("ts"), bad.get("secret"))
                await _envelope_refused(conn, frame)
                await conn.close()
            frame = envelope_auth(v.keys["alice"])
            first = await connect(http, v.base, "/ws/trading", "first")
            assert (await first.ask(frame)).get("type") == "auth_response"
            again = await connect(http, v.base, "/ws/trading", "replay")
            await _envelope_refused(again, frame)
            await first.close()
            await again.close()

    asyncio.run(asyncio.wait_for(scenario(), 60))


def test_auth_rest_forged_signatures_refused_401(v: Venue) -> None:
    async def scenario() -> None:
        async with aiohttp.ClientSession() as http:
            path = "/api/v1/account/balances"
            for name, (key, bad) in _forged(v).items():
                assert key is not None
                signer = key if "secret" not in bad else (key[0], bad["secret"])
                status, data = await rest(http, v.base, signer, "GET", path, ts=bad.get("ts"))
                assert status == 401, (name, data)
                assert "balances" not in json.dumps(data), (name, data)
            ts = fresh_ts()
            status, _ = await rest(http, v.base, v.keys["alice"], "GET", path, ts=ts)
            assert status == 200
            status, data = await rest(http, v.base, v.keys["alice"], "GET", path, ts=ts)
            assert status == 401, data  # replayed signature

    asyncio.run(asyncio.wait_for(scenario(), 60))


def test_auth_revoked_key_live_sessions_closed_1008_then_refused(v: Venue) -> None:
    async def scenario() -> None:
        async with aiohttp.ClientSession() as http:
            key = await _new_key(http, v, "alice")
            flat = await connect(http, v.base, "/ws?dialect=flat", "flat")
            assert (await flat.ask(flat_auth(key))).get("event") == "authenticated"
            env = await connect(http, v.base, "/ws/trading", "envelope")
            assert (await env.ask(envelope_auth(key))).get("type") == "auth_response"
            await _revoke(http, v, key[0])
            assert await flat.closed() == 1008
            assert await env.closed() == 1008
            notice = [m for m in flat.seen if m.get("event") == "close"]
            assert notice and "revoked" in notice[-1]["message"], flat.seen
            conn = await connect(http, v.base, "/ws?dialect=flat", "after")
            await _flat_refused(conn, flat_auth(key))
            await conn.close()
            conn = await connect(http, v.base, "/ws/trading", "after-env")
            await _envelope_refused(conn, envelope_auth(key))
            await conn.close()
            status, data = await rest(http, v.base, key, "GET", "/api/v1/account/balances")
            assert status == 401, data

    asyncio.run(asyncio.wait_for(scenario(), 60))


# -- typed (JWT) ------------------------------------------------------------------------


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _claims(user: str = "alice", **changes: Any) -> dict[str, Any]:
    now = int(time.time())
    claims: dict[str, Any] = {"sub": user, "iat": now, "exp": now + 3600, "scope": "read trade"}
    claims.update(changes)
    return {k: val for k, val in claims.items() if val is not None}


def _alg_none(claims: dict[str, Any]) -> str:
    header = _b64(json.dumps({"alg": "none", "typ": "JWT"}).encode())
    return f"{header}.{_b64(json.dumps(claims).encode())}."


def _bad_tokens() -> dict[str, str]:
    good = jwt.encode(_claims(), JWT_SECRET, algorithm="HS256")
    head, body, sig = good.split(".")
    flipped = ("A" if sig[0] != "A" else "B") + sig[1:]
    return {
        "alg_none": _alg_none(_claims()),
        "wrong_signature": f"{head}.{body}.{flipped}",
        "other_secret": jwt.encode(_claims(), "x" * 40, algorithm="HS256"),
        "expired": jwt.encode(
            _claims(iat=int(time.time()) - 7200, exp=int(time.time()) - 3600), JWT_SECRET
        ),
        "missing_exp": jwt.encode(_claims(exp=None), JWT_SECRET),
    }


async def _typed_refused(http: aiohttp.ClientSession, v: Venue, token: str, name: str) -> None:
    conn = await connect(http, v.base, "/", name)
    reply = await conn.ask({"type": "authenticate", "token": token})
    assert reply.get("type") == "error", (name, reply)
    assert reply["error"]["code"] == "AUTH_FAILED", (name, reply)
    assert await conn.closed() == 1008, name
    _no_private(conn)


def test_auth_typed_forged_tokens_refused_auth_failed_close_1008(v: Venue) -> None:
    async def scenario() -> None:
        async with aiohttp.ClientSession() as http:
            for name, token in _bad_tokens().items():
                await _typed_refused(http, v, token, name)
            # the real secret is what the forged ones miss: a good token logs in
            conn = await connect(http, v.base, "/", "good")
            token = jwt.encode(_claims(), JWT_SECRET, algorithm="HS256")
            reply = await conn.ask({"type": "authenticate", "token": token})
            assert reply.get("type") in ("authenticated", "auth_success"), reply
            await conn.close()

    asyncio.run(asyncio.wait_for(scenario(), 60))


def test_auth_typed_token_unknown_user_refused(v: Venue) -> None:
    async def scenario() -> None:
        async with aiohttp.ClientSession() as http:
            token = jwt.encode(_claims("nobody-such-user"), JWT_SECRET, algorithm="HS256")
            await _typed_refused(http, v, token, "unknown-user")

    asyncio.run(asyncio.wait_for(scenario(), 60))


def test_auth_typed_revoked_minting_key_session_closed_token_refused(v: Venue) -> None:
    async def scenario() -> None:
        async with aiohttp.ClientSession() as http:
            key = await _new_key(http, v, "alice")
            token = await mint_jwt(http, v.base, key)
            live = await connect(http, v.base, "/", "live")
            reply = await live.ask({"type": "authenticate", "token": token})
            assert reply.get("type") in ("authenticated", "auth_success"), reply
            await _revoke(http, v, key[0])
            assert await live.closed(timeout=5) == 1008
            await _typed_refused(http, v, token, "after-revoke")

    asyncio.run(asyncio.wait_for(scenario(), 60))
