"""API keys for the gateway, backed by the store; demo keys for the first run.

Invariants:
- The gateway sees a key exactly as the store holds it: revoked keys are refused, and so
  are tokens minted with them (``JwtAuthenticator`` with this as its directory).
- Demo keys are created once per data directory (random secrets, never reused
  across data directories) and printed only by ``openpit serve`` at start-up.
"""

from __future__ import annotations

import secrets

from openpit.store import ApiKey, Permission, Store


class StoreKeyStore:
    """The gateway's ``KeyStore`` and ``TokenDirectory`` over the persistent ``Store``:
    every lookup reads the store, so a revocation (by the admin API, or offline by the
    CLI) is seen by the next login."""

    def __init__(self, store: Store) -> None:
        self.store = store

    def lookup(self, key_id: str) -> ApiKey | None:
        return self.store.get_api_key(key_id)

    def user_exists(self, user: str) -> bool:
        return self.store.get_user(user) is not None


def new_key(user: str, permissions: frozenset[Permission], created: int) -> ApiKey:
    return ApiKey(
        key_id="k_" + secrets.token_hex(12),
        secret=secrets.token_hex(32),
        user=user,
        permissions=permissions,
        created=created,
    )


def ensure_demo_key(store: Store, user: str, created: int) -> ApiKey:
    """The first active key of ``user``, creating the user and a read+trade key if needed."""
    if store.get_user(user) is None:
        store.create_user(user, created)
    for key in store.list_api_keys(user):
        if key.active:
            return key
    key = new_key(user, frozenset({Permission.READ, Permission.TRADE}), created)
    store.create_api_key(key)
    return key
