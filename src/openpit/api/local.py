"""Local operator credentials in the data directory: the admin API key and the JWT secret.

Invariants:
- ``admin-key.json`` holds the key id and secret of the ``admin`` user's key (admin
  permission); it is created by the first ``openpit serve`` (or the first CLI command
  that needs it offline) with mode 0600, so only the local operator can read it.
  The CLI signs admin API requests with it.
- ``jwt-secret`` holds the HS256 secret for typed-dialect tokens, also mode 0600.
- A key file whose key is missing from the store or revoked is replaced.
- Files are written aside and renamed into place, 0600 whatever the umask, in a 0700
  directory (``openpit.durability.private``).
- Tokens issued here name the API key they die with (``minted_with``, the ``key`` claim).
"""

from __future__ import annotations

import json
import os
import secrets
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from openpit.durability.private import open_private, private_dir
from openpit.gateway.auth import KEY_CLAIM
from openpit.store import Permission, Store
from openpit.store.keys import new_key

ADMIN_USER = "admin"
ADMIN_FILE = "admin-key.json"
JWT_FILE = "jwt-secret"


@dataclass(frozen=True, slots=True)
class Credentials:
    api_key: str
    api_secret: str = field(repr=False)
    user: str = ADMIN_USER


def _write_private(path: Path, text: str) -> None:
    private_dir(path.parent)
    tmp = path.with_name(path.name + ".tmp")
    with os.fdopen(open_private(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC), "w") as f:
        f.write(text)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


def read_admin_key(data_dir: str | os.PathLike[str]) -> Credentials | None:
    path = Path(data_dir) / ADMIN_FILE
    try:
        raw = json.loads(path.read_text())
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as exc:
        raise OSError(f"cannot read {path}: {exc}") from exc
    return Credentials(str(raw["api_key"]), str(raw["api_secret"]), str(raw.get("user", "admin")))


def ensure_admin_key(store: Store, data_dir: str | os.PathLike[str], now_ms: int) -> Credentials:
    """The admin key of this data directory, created (user, key, file) if needed."""
    current = read_admin_key(data_dir)
    if current is not None:
        key = store.get_api_key(current.api_key)
        if key is not None and key.active and Permission.ADMIN in key.permissions:
            return current
    if store.get_user(ADMIN_USER) is None:
        store.create_user(ADMIN_USER, now_ms)
    key = new_key(ADMIN_USER, frozenset({Permission.ADMIN}), now_ms)
    store.create_api_key(key)
    creds = Credentials(key.key_id, key.secret, ADMIN_USER)
    _write_private(
        Path(data_dir) / ADMIN_FILE,
        json.dumps({"api_key": key.key_id, "api_secret": key.secret, "user": ADMIN_USER}) + "\n",
    )
    return creds


def ensure_jwt_secret(data_dir: str | os.PathLike[str]) -> str:
    path = Path(data_dir) / JWT_FILE
    try:
        secret = path.read_text().strip()
    except FileNotFoundError:
        secret = ""
    if len(secret) < 32:
        secret = secrets.token_hex(32)
        _write_private(path, secret + "\n")
    return secret


class TokenIssuer(Protocol):
    """``issue(user, permissions, ttl_s, now_ms, minted_with=key_id)`` -> a signed JWT."""

    def __call__(
        self,
        user: str,
        permissions: frozenset[str],
        ttl_s: int,
        now_ms: int,
        *,
        minted_with: str | None = None,
    ) -> str: ...


def token_issuer(secret: str) -> TokenIssuer:
    """An HS256 issuer the gateway's ``JwtAuthenticator(secret)`` accepts (``sub``,
    ``exp``, ``iat``, ``permissions``, and ``key``: the API key the token dies with)."""
    import jwt

    def issue(
        user: str,
        permissions: frozenset[str],
        ttl_s: int,
        now_ms: int,
        *,
        minted_with: str | None = None,
    ) -> str:
        now = now_ms // 1000
        claims: dict[str, object] = {
            "sub": user,
            "iat": now,
            "exp": now + ttl_s,
            "permissions": " ".join(sorted(permissions)),
        }
        if minted_with is not None:
            claims[KEY_CLAIM] = minted_with
        return jwt.encode(claims, secret, algorithm="HS256")

    return issue
