"""The one key/permission/principal model (``openpit.core.access``), with data only."""

from __future__ import annotations

import dataclasses

import openpit.api.signing
import openpit.gateway
import openpit.store
from openpit.core.access import ApiKey, Permission, Principal


def test_every_entry_point_shares_one_model() -> None:
    assert openpit.store.ApiKey is openpit.gateway.ApiKey is ApiKey
    assert openpit.store.Permission is openpit.gateway.Permission is Permission
    assert openpit.gateway.Principal is Principal
    assert openpit.api.signing.Principal is Principal


def test_no_repr_shows_the_secret() -> None:
    key = ApiKey("k_1", "s3cr3t-value", "alice", created=5)
    for text in (repr(key), str(key), repr(dataclasses.replace(key, revoked=9))):
        assert "s3cr3t-value" not in text
    assert "s3cr3t-value" not in repr(Principal.of_key(key))


def test_revoked_keys_are_inactive_and_admin_holds_every_permission() -> None:
    key = ApiKey("k_1", "s", "alice")
    assert key.active and not key.admin
    assert not dataclasses.replace(key, revoked=0).active  # revoked at ms 0 is still revoked
    reader = Principal.of_key(ApiKey("k_2", "s", "alice", frozenset({Permission.READ})))
    assert reader.can(Permission.READ) and not reader.can(Permission.TRADE)
    admin = Principal.of_key(ApiKey("k_3", "s", "admin", frozenset({Permission.ADMIN})))
    assert admin.can(Permission.TRADE) and admin.can(Permission.ADMIN)
