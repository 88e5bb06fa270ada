"""Authentication over real sockets, and the replay guard."""

from __future__ import annotations

from openpit.gateway import HUB, InMemoryKeyStore, sign
from openpit.gateway.auth import AuthError, HmacAuthenticator, ReplayGuard
from tests.gateway.helpers import KEYS, auth_message, eventually, live, now_ms, run_async


@run_async
async def test_authenticate_expired_timestamp_is_401() -> None:
    async with live() as env:
        c = await env.client()
        reply = await c.request(auth_message(KEYS["alice"], ts=now_ms() - 31_000))
        assert reply["event"] == "error" and reply["code"] == 401
        assert "window" in reply["message"]


@run_async
async def test_authenticate_reused_signature_is_401() -> None:
    async with live() as env:
        message = auth_message(KEYS["alice"])
        first = await env.client()
        assert (await first.request(message))["event"] == "authenticated"
        second = await env.client()
        reply = await second.request(message)
        assert reply["code"] == 401 and "already used" in reply["message"]


@run_async
async def test_authenticate_wrong_secret_is_401_without_leaking_secret() -> None:
    async with live() as env:
        c = await env.client()
        reply = await c.request(auth_message(KEYS["alice"], secret="not-the-secret"))
        assert reply["code"] == 401 and "invalid signature" in reply["message"]
        assert "alice-secret" not in str(reply)


@run_async
async def test_authenticate_unknown_key_is_401() -> None:
    async with live() as env:
        c = await env.client()
        reply = await c.request(
            {"action": "authenticate", "api_key": "nope", "timestamp": now_ms(), "signature": "x"}
        )
        assert reply["code"] == 401 and "unknown API key" in reply["message"]


@run_async
async def test_connection_sixth_on_one_key_is_refused_and_closed() -> None:
    async with live() as env:
        for _ in range(5):
            await env.login("alice")
        sixth = await env.client()
        reply = await sixth.request(auth_message(KEYS["alice"]))
        assert reply["event"] == "error" and reply["code"] == 429
        assert "limit 5" in reply["message"]
        code, _ = await sixth.closed()
        assert code == 1008
        # another key is unaffected, and a slot frees up when one connection ends
        await env.login("bob")
        await env.clients[0].ws.close()
        await env.clients[0].ws.wait_closed()
        hub = env.gateway.app[HUB]
        await eventually(lambda: hub.key_connections.counts.get("alice-key", 0) < 5)
        again = await env.client()
        assert (await again.request(auth_message(KEYS["alice"])))["event"] == "authenticated"


def test_replay_guard_window_passed_forgets_pairs() -> None:
    guard = ReplayGuard(window_ms=1000)
    assert guard.check_and_remember("k", 1000, now_ms=1000)
    assert not guard.check_and_remember("k", 1000, now_ms=1500)
    for ts in range(2000, 2100):
        guard.check_and_remember("k", ts, now_ms=ts)
    guard.check_and_remember("k", 10_000, now_ms=10_000)
    assert len(guard) == 1  # memory bounded by the window


def test_hmac_revoked_key_is_rejected() -> None:
    from openpit.gateway import ApiKey

    keys = InMemoryKeyStore([ApiKey("k", "s", "u", revoked=1)])
    auth = HmacAuthenticator(keys)
    try:
        auth.verify("k", 5, sign("s", "k", 5), now_ms=5)
    except AuthError as exc:
        assert "revoked" in str(exc)
    else:
        raise AssertionError("revoked key accepted")


def test_api_key_repr_hides_secret() -> None:
    assert "alice-secret" not in repr(KEYS["alice"])
