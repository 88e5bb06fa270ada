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
- Tokens die with their key: a JWT minted with an API key carries it in the ``key``
  claim, and with a ``TokenDirectory`` wired every token login checks that the key still
  exists, is active and belongs to ``sub`` (or holds the admin permission: operator
  tokens from ``openpit token create`` are minted with the admin key), and that the user
  exists. A token without ``key`` (an external issuer's) only needs its user to exist.
  The principal keeps the minting key (``token_key``) so revoking it can close the
  session; ``key_id`` stays ``user:<user>`` so connection limits count per user.
"""

from __future__ import annotations

import hashlib
import heapq
import hmac
from collections.abc import Iterable, Mapping
from typing import Protocol

from openpit.core.access import USER_PERMISSIONS, ApiKey, Permission, Principal
from openpit.core.errors import OpenpitError

KEY_CLAIM = "key"  # the JWT claim naming the API key a token was minted with


class KeyStore(Protocol):
    """Where API keys live (in memory here; the SQLite store implements the same)."""

    def lookup(self, key_id: str) -> ApiKey | None: ...


class TokenDirectory(KeyStore, Protocol):
    """What a token login checks: the minting key (``lookup``) and that the user exists."""

    def user_exists(self, user: str) -> bool: ...


class InMemoryKeyStore:
    """Keys in a dict; the users are the keys' owners plus ``users``."""

    def __init__(self, keys: Iterable[ApiKey] = (), users: Iterable[str] = ()) -> None:
        self._keys: dict[str, ApiKey] = {k.key_id: k for k in keys}
        self._users = set(users)

    def add(self, key: ApiKey) -> None:
        self._keys[key.key_id] = key

    def lookup(self, key_id: str) -> ApiKey | None:
        return self._keys.get(key_id)

    def user_exists(self, user: str) -> bool:
        return user in self._users or any(k.user == user for k in self._keys.values())


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
        if not key.active:
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
        return Principal.of_key(key)


class Authenticator(Protocol):
    """Token logins (the typed dialect's JWT); returns the principal or raises AuthError."""

    def authenticate_token(self, token: str, now_ms: int) -> Principal: ...


class JwtAuthenticator:
    """HS256/RS256 JWTs: ``sub`` is the user, ``scope``/``permissions`` the permissions.

    ``exp`` is required and checked against ``now_ms`` (no leeway); the principal
    carries it (``expires_ms``) so the gateway can end the session when it passes.
    With a ``directory``, the ``key`` claim (the minting API key) must name an active
    key of ``sub`` (or an admin key) and ``sub`` must be a user; without one (tests,
    an external issuer with no store) only the signature and ``exp`` are checked.
    RS256 verifies with a PEM public key (needs the ``cryptography`` package).
    """

    def __init__(
        self,
        key: str,
        algorithms: tuple[str, ...] = ("HS256",),
        audience: str | None = None,
        *,
        directory: TokenDirectory | None = None,
    ) -> None:
        self._key = key
        self.algorithms = list(algorithms)
        self.audience = audience
        self.directory = directory

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
        # a token grants what a user's key may: read and trade (never admin)
        perms = frozenset(Permission(p) for p in names if p in USER_PERMISSIONS)
        user = str(claims["sub"])
        minted_with = claims.get(KEY_CLAIM)
        if minted_with is not None and not isinstance(minted_with, str):
            raise AuthError(f"invalid token: {KEY_CLAIM} must be a string")
        if self.directory is not None:
            self._check_directory(self.directory, user, minted_with)
        return Principal(
            user=user,
            permissions=perms,
            key_id=f"user:{user}",
            expires_ms=expires_ms,
            token_key=minted_with,
        )

    @staticmethod
    def _check_directory(directory: TokenDirectory, user: str, minted_with: str | None) -> None:
        if minted_with is not None:
            key = directory.lookup(minted_with)
            if key is None:
                raise AuthError("token's API key no longer exists")
            if not key.active:
                raise AuthError("token's API key was revoked")
            if key.user != user and not key.admin:
                raise AuthError("token's API key belongs to another user")
        if not directory.user_exists(user):
            raise AuthError(f"unknown user {user!r}")


def create_token(
    key: str,
    user: str,
    ttl_s: int,
    now_s: int,
    *,
    algorithm: str = "HS256",
    permissions: str = "read trade",
    minted_with: str | None = None,
) -> str:
    """A signed JWT for ``user`` valid ``ttl_s`` seconds from ``now_s`` (``openpit token``);
    ``minted_with``: the API key it dies with (the ``key`` claim)."""
    import jwt

    claims: dict[str, object] = {
        "sub": user,
        "iat": now_s,
        "exp": now_s + ttl_s,
        "scope": permissions,
    }
    if minted_with is not None:
        claims[KEY_CLAIM] = minted_with
    return jwt.encode(claims, key, algorithm=algorithm)
