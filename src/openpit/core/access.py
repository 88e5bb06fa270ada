"""Who may do what: one API key, permission and principal model for every entry point.

The WebSocket dialects, REST, the Binance surface and the store all use these types.

Invariants:
- ``ApiKey.secret`` never appears in a ``repr`` (nor in any message built from one): the
  dataclass field is ``repr=False``, and nothing else holds the secret.
- A key is active until it is revoked (``revoked`` is the revocation time in ms); a
  revoked key authenticates nothing, and neither do tokens minted with it.
- ``Principal.can``: a permission is granted when held, and the ``ADMIN`` permission
  holds every other one (the operator's key may read and trade as its own user too).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum


class Permission(StrEnum):
    READ = "read"
    TRADE = "trade"
    ADMIN = "admin"


USER_PERMISSIONS = frozenset({Permission.READ, Permission.TRADE})


@dataclass(frozen=True, slots=True)
class ApiKey:
    key_id: str
    secret: str = field(repr=False)  # the HMAC key: in clear in memory, sealed in the store
    user: str
    permissions: frozenset[Permission] = USER_PERMISSIONS
    created: int = 0  # ms
    revoked: int | None = None  # ms when revoked; None while active

    @property
    def active(self) -> bool:
        return self.revoked is None

    @property
    def admin(self) -> bool:
        """The operator's permission: may mint tokens for any user, manage keys."""
        return Permission.ADMIN in self.permissions


@dataclass(frozen=True, slots=True)
class Principal:
    """Who a connection or a request acts for once authenticated."""

    user: str
    permissions: frozenset[Permission]
    # the API key; token (JWT) logins use "user:<user>", so connection limits are per user
    key_id: str | None = None
    expires_ms: int | None = None  # token logins: the token's ``exp`` (ms)
    token_key: str | None = None  # token logins: the API key that minted the token

    def can(self, permission: Permission) -> bool:
        return permission in self.permissions or Permission.ADMIN in self.permissions

    @classmethod
    def of_key(cls, key: ApiKey) -> Principal:
        return cls(user=key.user, permissions=key.permissions, key_id=key.key_id)
