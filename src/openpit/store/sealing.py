"""API secrets at rest: sealed with AES-256-GCM under the data directory's master key.

HMAC signatures are verified with the secret itself, so a one-way hash cannot replace
it; instead the ``secret`` column holds ``sealed:v1:<kid>:<base64(nonce + ciphertext)>``
and the key that opens it lives in ``<data_dir>/secrets.key`` (hex, mode 0600), apart
from the database, so a copied or leaked ``openpit.sqlite3`` alone reveals no secret.

Invariants:
- A fresh 96-bit random nonce per seal; the associated data binds the sealed text to its
  ``key_id``, so a sealed secret moved to another row does not open.
- ``kid`` (the first 8 hex digits of SHA-256 of the master key) names the key a value
  was sealed with; a value whose key is not at hand is a ``SealError`` that names the
  key file and never shows a secret.
- The master key file is created once, atomically (written aside, then hard-linked into
  place), mode 0600 whatever the umask; two processes opening a new data directory at
  once end up with the same key.
- Rotation (``rotate_master_key``, ``openpit keys rotate-master``): the new key is
  written to ``secrets.key.next`` first, every row is resealed with it in one
  transaction, and only then does it replace ``secrets.key``. A rotation interrupted at
  any point is finished by the next open of the store (``reseal``), which also seals the
  plaintext rows older data directories hold.
- ``repr`` of a ``Sealer`` names the key ids only.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import os
import secrets
import sqlite3
from collections.abc import Callable
from pathlib import Path
from typing import Final

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from openpit.durability.journal import fsync_dir
from openpit.durability.private import make_private, open_private, private_dir
from openpit.store.base import StoreError

MASTER_KEY_FILE: Final = "secrets.key"
NEXT_SUFFIX: Final = ".next"
PREFIX: Final = "sealed:v1:"
_NONCE_BYTES: Final = 12
_KEY_BYTES: Final = 32


class SealError(StoreError):
    """A sealed secret cannot be opened (wrong or missing master key, damaged value)."""


def key_id_of(master: bytes) -> str:
    return hashlib.sha256(master).hexdigest()[:8]


def _aad(key_id: str) -> bytes:
    return b"openpit api_keys.secret\x00" + key_id.encode()


def _read_key(path: Path) -> bytes | None:
    try:
        text = path.read_text().strip()
    except FileNotFoundError:
        return None
    try:
        master = bytes.fromhex(text)
    except ValueError:
        master = b""
    if len(master) != _KEY_BYTES:
        raise SealError(f"{path}: not a master key (expected {2 * _KEY_BYTES} hex digits)")
    make_private(path)
    return master


def _write_key(path: Path, master: bytes, *, exclusive: bool) -> None:
    """Write a key file durably; ``exclusive``: never replace an existing one."""
    tmp = path.with_name(f"{path.name}.{secrets.token_hex(4)}.tmp")
    fd = open_private(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL)
    try:
        os.write(fd, master.hex().encode() + b"\n")
        os.fsync(fd)
    finally:
        os.close(fd)
    try:
        if exclusive:
            with contextlib.suppress(FileExistsError):  # another process was first
                os.link(tmp, path)
        else:
            os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
    fsync_dir(path.parent)


class Sealer:
    """The master keys of one data directory: seals with the current, opens with any."""

    def __init__(self, directory: str | os.PathLike[str]) -> None:
        self.directory = private_dir(directory)
        self.path = self.directory / MASTER_KEY_FILE
        self.next_path = self.path.with_name(MASTER_KEY_FILE + NEXT_SUFFIX)
        master = _read_key(self.path)
        if master is None:
            _write_key(self.path, secrets.token_bytes(_KEY_BYTES), exclusive=True)
            master = _read_key(self.path)
            assert master is not None
        self._current = master
        self._keys: dict[str, AESGCM] = {key_id_of(master): AESGCM(master)}
        self._next = _read_key(self.next_path)  # a rotation under way
        if self._next is not None:
            self._keys[key_id_of(self._next)] = AESGCM(self._next)

    def __repr__(self) -> str:
        return f"Sealer({str(self.directory)!r}, keys={sorted(self._keys)!r})"

    @property
    def target(self) -> bytes:
        """The key new seals use: the rotation's next key while one is under way."""
        return self._next if self._next is not None else self._current

    def seal(self, key_id: str, secret: str) -> str:
        master = self.target
        kid = key_id_of(master)
        nonce = secrets.token_bytes(_NONCE_BYTES)
        box = self._keys[kid].encrypt(nonce, secret.encode(), _aad(key_id))
        return f"{PREFIX}{kid}:{base64.b64encode(nonce + box).decode()}"

    def open(self, key_id: str, stored: str) -> str:
        """The secret of ``stored`` (a sealed value, or plaintext from an older store)."""
        if not stored.startswith(PREFIX):
            return stored
        kid, _, body = stored[len(PREFIX) :].partition(":")
        aead = self._keys.get(kid)
        if aead is None:
            raise SealError(
                f"API key {key_id}: its secret is sealed with master key {kid}, which "
                f"{self.path} does not hold (restore that file from the backup of this "
                "data directory)"
            )
        try:
            raw = base64.b64decode(body, validate=True)
            plain = aead.decrypt(raw[:_NONCE_BYTES], raw[_NONCE_BYTES:], _aad(key_id))
        except (ValueError, InvalidTag):
            raise SealError(
                f"API key {key_id}: its sealed secret does not open with {self.path} "
                "(damaged, or copied from another row)"
            ) from None
        return plain.decode()

    def is_current(self, stored: str) -> bool:
        return stored.startswith(f"{PREFIX}{key_id_of(self.target)}:")

    def begin_rotation(self) -> None:
        """Write ``secrets.key.next`` (unless a rotation is already under way)."""
        if self._next is None:
            master = secrets.token_bytes(_KEY_BYTES)
            _write_key(self.next_path, master, exclusive=False)
            self._next = master
            self._keys[key_id_of(master)] = AESGCM(master)

    def reseal(
        self, db: sqlite3.Connection, before_replace: Callable[[], None] | None = None
    ) -> int:
        """Seal every row not sealed with the target key (one transaction); finish a
        rotation under way. How many rows changed. ``db`` is in autocommit mode."""
        db.execute("BEGIN IMMEDIATE")
        try:
            rows = db.execute("SELECT key_id, secret FROM api_keys").fetchall()
            changed = [
                (self.seal(key_id, self.open(key_id, stored)), key_id)
                for key_id, stored in rows
                if not self.is_current(stored)
            ]
            db.executemany("UPDATE api_keys SET secret = ? WHERE key_id = ?", changed)
        except BaseException:
            db.execute("ROLLBACK")
            raise
        db.execute("COMMIT")
        if changed:  # old pages (plaintext, old seals) leave the WAL file too
            db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        if self._next is not None:
            if before_replace is not None:
                before_replace()
            os.replace(self.next_path, self.path)
            fsync_dir(self.directory)
            old = key_id_of(self._current)
            self._current, self._next = self._next, None
            if old != key_id_of(self._current):
                del self._keys[old]
        return len(changed)


def rotate_master_key(
    db_path: str | os.PathLike[str], *, before_replace: Callable[[], None] | None = None
) -> int:
    """Replace the master key of the store at ``db_path`` and reseal every secret.

    Run it while no server uses the data directory (``openpit keys rotate-master``
    checks). Returns the number of secrets resealed.
    """
    from openpit.store.sqlite import SqliteStore

    path = Path(db_path)
    SqliteStore(path).close()  # schema, older plaintext rows, an unfinished rotation
    sealer = Sealer(path.parent)
    db = sqlite3.connect(path, isolation_level=None, timeout=30.0)
    try:
        db.execute("PRAGMA secure_delete=ON")
        sealer.begin_rotation()
        return sealer.reseal(db, before_replace)
    finally:
        db.close()
