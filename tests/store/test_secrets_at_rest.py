"""API secrets at rest: sealed in SQLite with the data directory's master key (0600),
plaintext stores migrated on open, the master key rotated, private file modes."""

from __future__ import annotations

import os
import sqlite3
import stat
from pathlib import Path

import pytest

from openpit.store import ApiKey, Permission, SqliteStore
from openpit.store.sealing import MASTER_KEY_FILE, SealError, rotate_master_key

SECRET = "5ec2e7" + "ab" * 29  # 64 hex characters, like new_key's


def _key(key_id: str = "k_1", secret: str = SECRET, user: str = "alice") -> ApiKey:
    return ApiKey(key_id, secret, user, frozenset({Permission.READ}), 1)


def _raw_bytes(data_dir: Path) -> bytes:
    """Every byte SQLite keeps on disk for the store: the database, -wal and -shm."""
    out = b""
    for path in sorted(data_dir.glob("openpit.sqlite3*")):
        out += path.read_bytes()
    return out


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_store_api_secret_is_not_in_the_database_file_in_clear(tmp_path: Path) -> None:
    store = SqliteStore.in_data_dir(tmp_path)
    store.create_user("alice", 1)
    store.create_api_key(_key())
    assert store.get_api_key("k_1") == _key()  # read back in clear
    assert store.list_api_keys("alice")[0].secret == SECRET
    assert SECRET.encode() not in _raw_bytes(tmp_path)  # while open (WAL)
    store.close()
    assert SECRET.encode() not in _raw_bytes(tmp_path)  # and after the last checkpoint
    with sqlite3.connect(tmp_path / "openpit.sqlite3") as db:
        (stored,) = db.execute("SELECT secret FROM api_keys").fetchone()
    assert stored.startswith("sealed:v1:") and SECRET not in stored
    again = SqliteStore.in_data_dir(tmp_path)
    assert again.get_api_key("k_1") == _key()  # the master key file opens it next time
    again.close()


def test_store_plaintext_rows_of_an_older_data_dir_are_sealed_on_open(tmp_path: Path) -> None:
    db_path = tmp_path / "openpit.sqlite3"
    store = SqliteStore(db_path)
    store.create_user("alice", 1)
    store.close()
    (tmp_path / MASTER_KEY_FILE).unlink()  # a data directory from before sealing
    with sqlite3.connect(db_path) as db:  # what older versions wrote: the secret in clear
        db.execute(
            'INSERT INTO api_keys (key_id, secret, "user", permissions, created) '
            "VALUES ('k_old', ?, 'alice', 'read', 1)",
            (SECRET,),
        )
    assert SECRET.encode() in _raw_bytes(tmp_path)
    migrated = SqliteStore(db_path)
    assert migrated.get_api_key("k_old") == _key("k_old")
    migrated.close()
    assert SECRET.encode() not in _raw_bytes(tmp_path)
    assert _mode(tmp_path / MASTER_KEY_FILE) == 0o600


def test_store_sealed_secret_without_its_master_key_is_a_clear_error(tmp_path: Path) -> None:
    store = SqliteStore.in_data_dir(tmp_path)
    store.create_user("alice", 1)
    store.create_api_key(_key())
    store.close()
    (tmp_path / MASTER_KEY_FILE).write_text("00" * 32 + "\n")  # someone else's key
    with pytest.raises(SealError, match=MASTER_KEY_FILE) as exc:  # at open, not at login
        SqliteStore.in_data_dir(tmp_path)
    assert SECRET not in str(exc.value)


def test_store_sealed_secret_moved_to_another_row_does_not_open(tmp_path: Path) -> None:
    store = SqliteStore.in_data_dir(tmp_path)
    store.create_user("alice", 1)
    store.create_api_key(_key("k_1"))
    store.create_api_key(_key("k_2", "cd" * 32))
    store.close()
    with sqlite3.connect(tmp_path / "openpit.sqlite3") as db:  # k_2 gets k_1's sealed secret
        db.execute(
            "UPDATE api_keys SET secret = (SELECT secret FROM api_keys WHERE key_id = 'k_1') "
            "WHERE key_id = 'k_2'"
        )
    again = SqliteStore.in_data_dir(tmp_path)
    with pytest.raises(SealError):
        again.get_api_key("k_2")
    again.close()


def test_store_master_key_rotation_reseals_every_secret(tmp_path: Path) -> None:
    store = SqliteStore.in_data_dir(tmp_path)
    store.create_user("alice", 1)
    store.create_api_key(_key("k_1"))
    store.create_api_key(_key("k_2", "cd" * 32))
    store.close()
    before = (tmp_path / MASTER_KEY_FILE).read_text()
    assert rotate_master_key(tmp_path / "openpit.sqlite3") == 2
    after = (tmp_path / MASTER_KEY_FILE).read_text()
    assert after != before and _mode(tmp_path / MASTER_KEY_FILE) == 0o600
    assert not list(tmp_path.glob(MASTER_KEY_FILE + ".*"))
    again = SqliteStore.in_data_dir(tmp_path)
    assert again.get_api_key("k_1") == _key("k_1")
    assert again.get_api_key("k_2") == _key("k_2", "cd" * 32)
    again.close()


def test_store_interrupted_rotation_is_finished_on_open(tmp_path: Path) -> None:
    store = SqliteStore.in_data_dir(tmp_path)
    store.create_user("alice", 1)
    store.create_api_key(_key())
    store.close()

    class Crash(Exception):
        pass

    def crash() -> None:
        raise Crash

    with pytest.raises(Crash):  # the rows are resealed, the new key not yet in place
        rotate_master_key(tmp_path / "openpit.sqlite3", before_replace=crash)
    assert list(tmp_path.glob(MASTER_KEY_FILE + ".*"))
    again = SqliteStore.in_data_dir(tmp_path)
    assert again.get_api_key("k_1") == _key()
    again.close()
    assert not list(tmp_path.glob(MASTER_KEY_FILE + ".*"))


def test_store_files_are_private_whatever_the_umask(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    old = os.umask(0o022)
    try:
        store = SqliteStore.in_data_dir(data_dir)
        store.create_user("alice", 1)
        store.create_api_key(_key())
        assert _mode(data_dir) == 0o700
        names = {p.name for p in data_dir.iterdir()}
        assert {"openpit.sqlite3", "openpit.sqlite3-wal", MASTER_KEY_FILE} <= names
        for path in data_dir.iterdir():
            assert _mode(path) == 0o600, path
        store.close()
    finally:
        os.umask(old)


def test_store_existing_wide_files_are_narrowed_on_open(tmp_path: Path) -> None:
    SqliteStore.in_data_dir(tmp_path).close()
    os.chmod(tmp_path, 0o755)
    os.chmod(tmp_path / "openpit.sqlite3", 0o644)
    os.chmod(tmp_path / MASTER_KEY_FILE, 0o644)
    SqliteStore.in_data_dir(tmp_path).close()
    assert _mode(tmp_path) == 0o700
    assert _mode(tmp_path / "openpit.sqlite3") == 0o600
    assert _mode(tmp_path / MASTER_KEY_FILE) == 0o600


def test_store_reprs_show_no_secret(tmp_path: Path) -> None:
    store = SqliteStore.in_data_dir(tmp_path)
    assert SECRET not in repr(_key())
    assert "secret" not in repr(_key()).lower()
    master = (tmp_path / MASTER_KEY_FILE).read_text().strip()
    assert master not in repr(store) and master not in repr(store.__dict__)
    store.close()
