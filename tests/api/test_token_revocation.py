"""REST-minted tokens die with their key: ``POST /api/v1/tokens`` records the signing key
(``key`` claim); ``DELETE /api/v1/admin/keys/{key}`` closes the typed sessions of its
tokens (AUTH_FAILED, close 1008) and refuses the token afterwards. Real sockets."""

from __future__ import annotations

import asyncio
import json
import time
from pathlib import Path
from typing import Any

import aiohttp
import jwt

from openpit.api.local import token_issuer
from tests.api.helpers import JWT_SECRET, RestEnv, rest_env


def run(coro_fn, tmp: Path) -> None:  # type: ignore[no-untyped-def]
    async def main() -> None:
        async with rest_env(tmp) as env:
            await coro_fn(env)

    asyncio.run(asyncio.wait_for(main(), 60))


async def _typed_login(env: RestEnv, token: str) -> tuple[aiohttp.ClientWebSocketResponse, Any]:
    ws = await env.session.ws_connect(f"ws://127.0.0.1:{env.gateway.port}/ws?dialect=typed")
    await ws.send_str(json.dumps({"type": "authenticate", "token": token}))
    return ws, json.loads((await ws.receive(timeout=10)).data)


async def _until_closed(ws: aiohttp.ClientWebSocketResponse) -> list[Any]:
    seen = []
    while True:
        msg = await ws.receive(timeout=10)
        if msg.type is not aiohttp.WSMsgType.TEXT:
            assert msg.type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED), msg
            return seen
        seen.append(json.loads(msg.data))


def test_token_rest_minted_token_dies_when_its_key_is_revoked(tmp_path: Path) -> None:
    async def scenario(env: RestEnv) -> None:
        alice = env.keys["alice"]
        status, tok = await env.call("POST", "/api/v1/tokens", "alice", {"ttl_seconds": 600})
        assert status == 201
        claims = jwt.decode(tok["token"], JWT_SECRET, algorithms=["HS256"])
        assert claims["key"] == alice.api_key
        status, bob_tok = await env.call("POST", "/api/v1/tokens", "bob", {"ttl_seconds": 600})

        ws, reply = await _typed_login(env, tok["token"])
        assert reply["type"] == "authenticated", reply
        bob_ws, reply = await _typed_login(env, bob_tok["token"])
        assert reply["type"] == "authenticated", reply

        status, out = await env.call("DELETE", f"/api/v1/admin/keys/{alice.api_key}", "admin")
        assert status == 200 and out["connections_closed"] == 1
        seen = await _until_closed(ws)
        errors = [m for m in seen if m["type"] == "error"]
        assert errors and errors[0]["error"]["code"] == "AUTH_FAILED"
        assert "revoked" in errors[0]["error"]["message"]
        assert ws.close_code == 1008
        await ws.close()

        ws, reply = await _typed_login(env, tok["token"])  # refused from now on
        assert reply["type"] == "error" and reply["error"]["code"] == "AUTH_FAILED"
        assert "revoked" in reply["error"]["message"]
        await _until_closed(ws)
        assert ws.close_code == 1008
        await ws.close()

        await bob_ws.send_str(json.dumps({"type": "ping"}))  # bob's key still good
        assert json.loads((await bob_ws.receive(timeout=10)).data)["type"] == "pong"
        await bob_ws.close()

    run(scenario, tmp_path)


def test_token_rest_signed_jwt_for_an_unknown_user_is_refused(tmp_path: Path) -> None:
    async def scenario(env: RestEnv) -> None:
        forged = token_issuer(JWT_SECRET)("ghost", frozenset({"read", "trade"}), 600, _ms())
        ws, reply = await _typed_login(env, forged)
        assert reply["type"] == "error" and reply["error"]["code"] == "AUTH_FAILED"
        assert "unknown user 'ghost'" in reply["error"]["message"]
        await _until_closed(ws)
        assert ws.close_code == 1008
        await ws.close()

    run(scenario, tmp_path)


def _ms() -> int:
    return time.time_ns() // 1_000_000
