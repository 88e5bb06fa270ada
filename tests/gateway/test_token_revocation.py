"""Tokens die with their key: a JWT names the API key that minted it (``key`` claim);
revoking the key refuses the token and closes its live typed sessions; tokens for users
that do not exist are refused."""

from __future__ import annotations

import dataclasses
import time
from pathlib import Path

import pytest

from openpit.core.access import ApiKey, Permission
from openpit.gateway import HUB
from openpit.gateway.auth import (
    AuthError,
    InMemoryKeyStore,
    JwtAuthenticator,
    create_token,
)
from tests.gateway.helpers import KEYS, run_async
from tests.gateway.typed_env import token, typed_client, typed_live

SECRET = "r" * 40
ALICE = ApiKey("k_alice", "alice-secret", "alice")
ADMIN = ApiKey("k_admin", "admin-secret", "admin", frozenset({Permission.ADMIN}))


def _auth(*keys: ApiKey, users: tuple[str, ...] = ()) -> JwtAuthenticator:
    return JwtAuthenticator(SECRET, directory=InMemoryKeyStore(keys, users))


def _token(user: str, minted_with: str | None = None) -> str:
    return create_token(SECRET, user, 600, int(time.time()), minted_with=minted_with)


def _now_ms() -> int:
    return time.time_ns() // 1_000_000


def test_token_minted_with_a_key_is_bound_to_it() -> None:
    p = _auth(ALICE).authenticate_token(_token("alice", "k_alice"), _now_ms())
    assert (p.user, p.token_key, p.key_id) == ("alice", "k_alice", "user:alice")


def test_token_of_a_revoked_key_is_refused() -> None:
    revoked = dataclasses.replace(ALICE, revoked=1)
    with pytest.raises(AuthError, match="revoked"):
        _auth(revoked).authenticate_token(_token("alice", "k_alice"), _now_ms())


def test_token_of_a_deleted_or_foreign_key_is_refused() -> None:
    with pytest.raises(AuthError, match="no longer exists"):
        _auth(users=("alice",)).authenticate_token(_token("alice", "k_alice"), _now_ms())
    bob = ApiKey("k_bob", "bob-secret", "bob")
    with pytest.raises(AuthError, match="another user"):
        _auth(ALICE, bob).authenticate_token(_token("alice", "k_bob"), _now_ms())


def test_token_minted_with_the_admin_key_is_good_for_any_existing_user() -> None:
    auth = _auth(ADMIN, users=("carol",))
    assert auth.authenticate_token(_token("carol", "k_admin"), _now_ms()).token_key == "k_admin"
    with pytest.raises(AuthError, match="revoked"):
        _auth(dataclasses.replace(ADMIN, revoked=1), users=("carol",)).authenticate_token(
            _token("carol", "k_admin"), _now_ms()
        )


def test_token_for_a_user_that_does_not_exist_is_refused() -> None:
    with pytest.raises(AuthError, match="unknown user 'ghost'"):
        _auth(ALICE).authenticate_token(_token("ghost"), _now_ms())
    with pytest.raises(AuthError, match="unknown user 'ghost'"):
        _auth(ADMIN).authenticate_token(_token("ghost", "k_admin"), _now_ms())
    # a token without a key claim (an external issuer's) only needs its user
    assert _auth(ALICE).authenticate_token(_token("alice"), _now_ms()).token_key is None


def test_token_key_claim_of_the_wrong_type_is_refused() -> None:
    import jwt

    bad = jwt.encode({"sub": "alice", "exp": int(time.time()) + 60, "key": 7}, SECRET)
    with pytest.raises(AuthError, match="key must be a string"):
        _auth(ALICE).authenticate_token(bad, _now_ms())


@run_async
async def test_token_live_typed_session_closes_when_its_key_is_revoked() -> None:
    async with typed_live(directory=True) as env:
        hub = env.gateway.app[HUB]
        alice_token = token("alice", minted_with=KEYS["alice"].key_id)
        alice = await typed_client(env)
        await alice.send({"type": "authenticate", "token": alice_token})
        await alice.type("authenticated")
        await alice.send({"type": "subscribe", "channels": [{"type": "orders"}]})
        await alice.type("subscribed")
        bob = await typed_client(env)
        await bob.send({"type": "authenticate", "token": token("bob", minted_with="bob-key")})
        await bob.type("authenticated")

        env.keys.add(dataclasses.replace(KEYS["alice"], revoked=1))  # the store says so
        assert hub.close_key(KEYS["alice"].key_id, "API key revoked") == 1
        err = await alice.type("error")
        assert err["error"]["code"] == "AUTH_FAILED" and "revoked" in err["error"]["message"]
        assert await alice.closed() == 1008
        assert any(m["type"] == "close" for m in alice.seen)

        again = await typed_client(env)  # the same token is refused from now on
        await again.send({"type": "authenticate", "token": alice_token})
        err = await again.type("error")
        assert err["error"]["code"] == "AUTH_FAILED" and "revoked" in err["error"]["message"]
        assert await again.closed() == 1008

        await bob.send({"type": "ping"})  # another key's session is untouched
        assert (await bob.type("pong"))["timestamp"] > 0


@run_async
async def test_token_for_an_unknown_user_cannot_open_a_typed_session() -> None:
    async with typed_live(directory=True) as env:
        c = await typed_client(env)
        await c.send({"type": "authenticate", "token": token("ghost")})
        err = await c.type("error")
        assert err["error"]["code"] == "AUTH_FAILED" and "unknown user" in err["error"]["message"]
        assert await c.closed() == 1008


def test_token_reprs_show_no_secret(tmp_path: Path) -> None:
    from openpit.api.local import Credentials
    from openpit.config import load_demo_config
    from openpit.server.tokens import jwt_settings

    settings = jwt_settings(load_demo_config(), tmp_path)
    jwt_secret = (tmp_path / "jwt-secret").read_text().strip()
    shown = [
        repr(ALICE),
        repr(ADMIN),
        repr(_auth(ALICE)),
        repr(settings),
        repr(settings.authenticator()),
        repr(Credentials("k_admin", "admin-secret")),
    ]
    for text in shown:
        assert "alice-secret" not in text and "admin-secret" not in text
        assert jwt_secret not in text and SECRET not in text


def test_token_config_repr_hides_the_configured_jwt_secret() -> None:
    from openpit.config import load_demo_config

    config = load_demo_config()
    secret = "configured-jwt-secret-" + "x" * 20
    config = dataclasses.replace(config, extra={**config.extra, "server": {"jwt_secret": secret}})
    assert secret not in repr(config)
