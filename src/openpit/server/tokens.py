"""JWT settings for the typed dialect: where the signing secret or keys come from.

Invariants:
- HS256 (default): the secret is ``[server] jwt_secret`` when the config sets it,
  otherwise the data directory's ``jwt-secret`` file (created on first use, mode 0600,
  see ``openpit.api.local``). ``openpit serve`` and ``openpit token create`` resolve it
  the same way, so a CLI token is accepted by the server of that data directory.
- RS256 (``[server] jwt_algorithm = "RS256"``): the server verifies with
  ``jwt_public_key_file`` (PEM); ``token create`` signs with ``jwt_private_key_file``.
  Needs the ``cryptography`` package.
- Every token this module issues may name the API key it dies with (``key`` claim,
  see ``openpit.gateway.auth``); the server's authenticator checks it on each login.
- Secrets never appear in repr or error messages.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass, field
from pathlib import Path

from openpit.config import ConfigError, VenueConfig
from openpit.gateway.auth import JwtAuthenticator, TokenDirectory, create_token

ALGORITHMS = ("HS256", "RS256")
SERVER_KEYS = (
    "jwt_secret",
    "jwt_algorithm",
    "jwt_public_key_file",
    "jwt_private_key_file",
    "jwt_audience",
)


@dataclass(frozen=True, slots=True)
class JwtSettings:
    algorithm: str
    verify_key: str = field(repr=False)
    sign_key: str | None = field(repr=False)
    audience: str | None = None

    def authenticator(self, directory: TokenDirectory | None = None) -> JwtAuthenticator:
        """The verifier; ``openpit serve`` passes its store so tokens die with their key."""
        return JwtAuthenticator(
            self.verify_key, (self.algorithm,), self.audience, directory=directory
        )

    def issue(
        self, user: str, ttl_s: int, now_s: int | None = None, *, minted_with: str | None = None
    ) -> str:
        """A token for ``user``; ``minted_with``: the API key it dies with (``key`` claim)."""
        if self.sign_key is None:
            raise ConfigError(
                "server.jwt_private_key_file: needed to create RS256 tokens (the server only "
                "has the public key)"
            )
        now = int(time.time()) if now_s is None else now_s
        return create_token(
            self.sign_key, user, ttl_s, now, algorithm=self.algorithm, minted_with=minted_with
        )


def _read(path: object, where: str) -> str:
    if not isinstance(path, str | os.PathLike):
        raise ConfigError(f"server.{where}: expected a file path")
    try:
        return Path(path).read_text()
    except OSError as exc:
        raise ConfigError(f"server.{where}: cannot read {path}: {exc.strerror}") from None


def jwt_settings(config: VenueConfig, data_dir: str | os.PathLike[str]) -> JwtSettings:
    """The JWT settings of a config (``[server]`` table) and data directory."""
    from openpit.api.local import ensure_jwt_secret

    table = dict(config.extra.get("server", {}))
    algorithm = str(table.get("jwt_algorithm", "HS256")).upper()
    if algorithm not in ALGORITHMS:
        raise ConfigError(f"server.jwt_algorithm: {algorithm!r} is not one of HS256, RS256")
    audience = table.get("jwt_audience")
    aud = None if audience is None else str(audience)
    if algorithm == "RS256":
        public = _read(table.get("jwt_public_key_file"), "jwt_public_key_file")
        private = None
        if table.get("jwt_private_key_file") is not None:
            private = _read(table["jwt_private_key_file"], "jwt_private_key_file")
        return JwtSettings("RS256", public, private, aud)
    secret = table.get("jwt_secret")
    if secret is not None:
        if not isinstance(secret, str) or len(secret) < 32:
            raise ConfigError("server.jwt_secret: must be a string of at least 32 characters")
        return JwtSettings("HS256", secret, secret, aud)
    secret = ensure_jwt_secret(data_dir)
    return JwtSettings("HS256", secret, secret, aud)
