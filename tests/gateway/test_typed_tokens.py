"""JWT logins for the typed dialect: tokens from ``openpit token create`` and the
server's secret (data directory or ``[server] jwt_secret``)."""

from __future__ import annotations

import dataclasses
import json
import time
from pathlib import Path

import pytest

from openpit.config import ConfigError, load_demo_config
from openpit.gateway.auth import AuthError, JwtAuthenticator, create_token
from openpit.server.tokens import jwt_settings


def test_typed_token_from_data_dir_secret_is_accepted_by_server_authenticator(
    tmp_path: Path,
) -> None:
    settings = jwt_settings(load_demo_config(), tmp_path)
    assert (tmp_path / "jwt-secret").stat().st_mode & 0o777 == 0o600
    now = int(time.time())
    tok = settings.issue("alice", 60, now)
    principal = settings.authenticator().authenticate_token(tok, now * 1000)
    assert principal.user == "alice" and principal.expires_ms == (now + 60) * 1000
    assert principal.key_id == "user:alice"  # connection limits count per user
    again = jwt_settings(load_demo_config(), tmp_path)  # same secret on the next start
    again.authenticator().authenticate_token(tok, now * 1000)


def test_typed_token_config_secret_overrides_data_dir(tmp_path: Path) -> None:
    config = load_demo_config()
    secret = "s" * 40
    config = dataclasses.replace(config, extra={**config.extra, "server": {"jwt_secret": secret}})
    settings = jwt_settings(config, tmp_path)
    assert not (tmp_path / "jwt-secret").exists()
    now = int(time.time())
    JwtAuthenticator(secret).authenticate_token(settings.issue("bob", 60, now), now * 1000)
    short = dataclasses.replace(config, extra={"server": {"jwt_secret": "short"}})
    with pytest.raises(ConfigError, match="jwt_secret"):
        jwt_settings(short, tmp_path)


def test_typed_token_expired_or_without_exp_is_refused() -> None:
    auth = JwtAuthenticator("k" * 40)
    now = int(time.time())
    with pytest.raises(AuthError, match="expired"):
        auth.authenticate_token(create_token("k" * 40, "u", -1, now), now * 1000)
    import jwt

    no_exp = jwt.encode({"sub": "u"}, "k" * 40, algorithm="HS256")
    with pytest.raises(AuthError, match="exp"):
        auth.authenticate_token(no_exp, now * 1000)


def test_typed_token_cli_prints_token_and_json(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from openpit.cli import main

    args = ["token", "create", "--user", "carol", "--data-dir", str(tmp_path)]
    assert main(args) == 2  # no such user yet: refused, with how to fix it
    assert "--create" in capsys.readouterr().err
    assert main([*args, "--create"]) == 0
    tok = capsys.readouterr().out.strip()
    secret = (tmp_path / "jwt-secret").read_text().strip()
    now_ms = int(time.time() * 1000)
    assert JwtAuthenticator(secret).authenticate_token(tok, now_ms).user == "carol"
    args = ["token", "create", "--user", "carol", "--ttl", "5", "--json"]
    assert main([*args, "--data-dir", str(tmp_path)]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["user"] == "carol" and out["algorithm"] == "HS256"
    assert out["expires_at"] <= now_ms + 7000
