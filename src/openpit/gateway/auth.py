"""Authentication: API keys with HMAC signatures, and a pluggable token authenticator.

Invariants:
- A signature is the hex HMAC-SHA256 of ``api_key + str(timestamp)`` keyed with the
  key's secret; it is compared with ``hmac.compare_digest`` (constant time).
- A timestamp outside ``now ± window`` is rejected, and so is a (key, timestamp) pair
  already used: the replay guard remembers pairs only while they are inside the
  window, so its memory is bounded by the number of logins in one window.
- Secrets never appear in ``repr``, log lines or error messages.
- Failures say what was wrong (unknown key, bad signature, stale timestamp, replay,
  revoked key) without echoing any secret; the dialect decides the wire shape.
"""

from __future__ import annotations

import hashlib
import heapq
import hmac
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Protocol

from openpit.core.errors import OpenpitError


class Permission(StrEnum):
    READ = "read"
    TRADE = "trade"


@dataclass(frozen=True, slots=True)
class ApiKey:
    key_id: str
    secret: str = field(repr=False)
    user: str
    permissions: frozenset[Permission] = frozenset({Permission.READ, Permission.TRADE})
    revoked: bool = False


@dataclass(frozen=True, slots=True)
class Principal:
    """Who a connection acts for once authenticated."""

    user: str
    permissions: frozenset[Permission]
    # the API key; token (JWT) logins use "user:<user>", so connection limits are per user
    key_id: str | None = None
    expires_ms: int | None = None  # token logins: the token's ``exp`` (ms)

    def can(self, permission: Permission) -> bool:
        return permission in self.permissions


class KeyStore(Protocol):
    """Where API keys live (in memory here; the SQLite store implements the same)."""

    def lookup(self, key_id: str) -> ApiKey | None: ...


class InMemoryKeyStore:
    def __init__(self, keys: Iterable[ApiKey] = ()) -> None:
        self._keys: dict[str, ApiKey] = {k.key_id: k for k in keys}

    def add(self, key: ApiKey) -> None:
        self._keys[key.key_id] = key

    def lookup(self, key_id: str) -> ApiKey | None:
        return self._keys.get(key_id)


class AuthError(OpenpitError):
    """Authentication failed; ``str(exc)`` is safe to show the client."""


def sign(secret: str, api_key: str, timestamp: int) -> str:
    """The signature a client sends: hex HMAC-SHA256(secret, api_key + str(timestamp))."""
    return hmac.new(
        secret.encode(), (api_key + str(timestamp)).encode(), hashlib.sha256
    ).hexdigest()


class ReplayGuard:
    """Remembers (key, timestamp) pairs until they fall out of the signature window."""

    def __init__(self, window_ms: int) -> None:
        self.window_ms = window_ms
        self._seen: set[tuple[str, int]] = set()
        self._expiry: list[tuple[int, str, int]] = []  # (forget_at, key, ts)

    def __len__(self) -> int:
        return len(self._seen)

    def _prune(self, now_ms: int) -> None:
        while self._expiry and self._expiry[0][0] < now_ms:
            _, key, ts = heapq.heappop(self._expiry)
            self._seen.discard((key, ts))

    def check_and_remember(self, key_id: str, timestamp: int, now_ms: int) -> bool:
        """False if the pair was already used (within the window)."""
        self._prune(now_ms)
        pair = (key_id, timestamp)
        if pair in self._seen:
            return False
        self._seen.add(pair)
        heapq.heappush(self._expiry, (timestamp + self.window_ms, key_id, timestamp))
        return True


class HmacAuthenticator:
    """Verifies api_key + timestamp + signature logins against a ``KeyStore``."""

    def __init__(self, keys: KeyStore, window_ms: int = 30_000) -> None:
        self.keys = keys
        self.window_ms = window_ms
        self.replays = ReplayGuard(window_ms)

    def verify(self, api_key: str, timestamp: int, signature: str, now_ms: int) -> Principal:
        key = self.keys.lookup(api_key)
        if key is None:
            raise AuthError("unknown API key")
        if key.revoked:
            raise AuthError("API key revoked")
        if abs(now_ms - timestamp) > self.window_ms:
            raise AuthError(
                f"timestamp {timestamp} is outside the allowed window of ±{self.window_ms} ms "
                f"around server time {now_ms}"
            )
        expected = sign(key.secret, api_key, timestamp)
        if not hmac.compare_digest(expected.encode(), signature.lower().encode()):
            raise AuthError("invalid signature")
        if not self.replays.check_and_remember(api_key, timestamp, now_ms):
            raise AuthError("signature already used (replayed api_key + timestamp)")
        return Principal(user=key.user, permissions=key.permissions, key_id=key.key_id)


class Authenticator(Protocol):
    """Token logins (the typed dialect's JWT); returns the principal or raises AuthError."""

    def authenticate_token(self, token: str, now_ms: int) -> Principal: ...


class JwtAuthenticator:
    """HS256/RS256 JWTs: ``sub`` is the user, ``scope``/``permissions`` the permissions.

    ``exp`` is required and checked against ``now_ms`` (no leeway); the principal
    carries it (``expires_ms``) so the gateway can end the session when it passes.
    RS256 verifies with a PEM public key (needs the ``cryptography`` package).
    """

    def __init__(
        self, key: str, algorithms: tuple[str, ...] = ("HS256",), audience: str | None = None
    ) -> None:
        self._key = key
        self.algorithms = list(algorithms)
        self.audience = audience

    def __repr__(self) -> str:
        return f"JwtAuthenticator(algorithms={self.algorithms!r})"

    def authenticate_token(self, token: str, now_ms: int) -> Principal:
        import jwt

        try:
            claims: Mapping[str, object] = jwt.decode(
                token,
                self._key,
                algorithms=self.algorithms,
                audience=self.audience,
                options={"require": ["sub", "exp"], "verify_iat": False, "verify_exp": False},
            )
        except jwt.PyJWTError as exc:
            raise AuthError(f"invalid token: {exc}") from exc
        exp = claims.get("exp")
        if not isinstance(exp, int | float) or isinstance(exp, bool):
            raise AuthError("invalid token: exp must be a number")
        expires_ms = int(exp * 1000)
        if expires_ms <= now_ms:
            raise AuthError("token expired")
        raw = claims.get("permissions", claims.get("scope", "read trade"))
        names = raw.split() if isinstance(raw, str) else raw if isinstance(raw, list) else []
        perms = frozenset(Permission(p) for p in names if p in Permission.__members__.values())
        user = str(claims["sub"])
        return Principal(user=user, permissions=perms, key_id=f"user:{user}", expires_ms=expires_ms)


def create_token(
    key: str,
    user: str,
    ttl_s: int,
    now_s: int,
    *,
    algorithm: str = "HS256",
    permissions: str = "read trade",
) -> str:
    """A signed JWT for ``user`` valid ``ttl_s`` seconds from ``now_s`` (``openpit token``)."""
    import jwt

    claims = {"sub": user, "iat": now_s, "exp": now_s + ttl_s, "scope": permissions}
    return jwt.encode(claims, key, algorithm=algorithm)
