"""The embedded store: one SQLite file in the data directory, WAL mode.

Invariants:
- WAL journal mode with ``synchronous=FULL``: a committed transaction survives a
  machine crash; readers never block the writer and the writer never blocks readers.
- Every method is one transaction; ``write_history`` writes a whole batch of events
  in one transaction (all or nothing).
- The history tables have one column per field of ``OrderUpdate``, ``Fill`` and
  ``Trade``, generated from the event structs; a field added to an event becomes a new
  column on the next open (``ALTER TABLE ADD COLUMN``), nothing is dropped.
- API secrets are sealed (``openpit.store.sealing``): the ``secret`` column never holds
  one in clear, and plaintext rows of older stores are sealed when the store opens.
  ``secure_delete`` is on, so replaced values do not linger in free space.
- The database (and its ``-wal``/``-shm``) is mode 0600 in a 0700 directory, set at
  creation whatever the umask, and narrowed on open for older data directories.
- One connection per ``SqliteStore``, shared by threads under a lock; use a second
  ``SqliteStore`` on the same file for a second writer thread (``HistoryWriter`` does).
"""

from __future__ import annotations

import os
import sqlite3
import threading
from collections.abc import Collection, Iterable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Final, TypeVar

import msgspec

from openpit.core.access import ApiKey, Permission
from openpit.core.enums import OrderStatus
from openpit.core.events import Event, Fill, OrderUpdate, Trade
from openpit.durability.private import make_private, open_private, private_dir
from openpit.store.base import (
    DEFAULT_PAGE,
    MAX_PAGE,
    Alert,
    AlertState,
    AlreadyExists,
    HistoryCounts,
    NotFound,
    Page,
    User,
)
from openpit.store.sealing import Sealer

DB_NAME: Final = "openpit.sqlite3"

EventT = TypeVar("EventT", OrderUpdate, Fill, Trade)


def _columns(kind: type[msgspec.Struct]) -> tuple[str, ...]:
    return tuple(f.name for f in msgspec.structs.fields(kind))


ORDER_COLUMNS: Final = _columns(OrderUpdate)
FILL_COLUMNS: Final = _columns(Fill)
TRADE_COLUMNS: Final = _columns(Trade)

_SCHEMA: Final = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS users (id TEXT PRIMARY KEY, created INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS api_keys (
    key_id TEXT PRIMARY KEY,
    secret TEXT NOT NULL,
    "user" TEXT NOT NULL REFERENCES users(id),
    permissions TEXT NOT NULL,
    created INTEGER NOT NULL,
    revoked INTEGER
);
CREATE INDEX IF NOT EXISTS api_keys_user ON api_keys("user");
CREATE TABLE IF NOT EXISTS alerts (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    "user" TEXT NOT NULL,
    name TEXT NOT NULL,
    condition TEXT NOT NULL,
    symbol TEXT NOT NULL,
    threshold TEXT NOT NULL,
    "repeat" INTEGER NOT NULL,
    cooldown_ms INTEGER NOT NULL,
    state TEXT NOT NULL,
    created INTEGER NOT NULL,
    last_triggered INTEGER
);
CREATE INDEX IF NOT EXISTS alerts_user ON alerts("user", id);
"""


def _q(name: str) -> str:
    return f'"{name}"'


def _history_schema() -> str:
    def cols(names: Sequence[str], extra: str) -> str:
        return ", ".join([*(_q(n) for n in names), extra])

    order_cols = [c for c in ORDER_COLUMNS if c != "order_id"]
    fill_cols = FILL_COLUMNS
    return f"""
CREATE TABLE IF NOT EXISTS orders ({cols(order_cols, "order_id INTEGER PRIMARY KEY")});
CREATE INDEX IF NOT EXISTS orders_user ON orders("user", order_id);
CREATE INDEX IF NOT EXISTS orders_client ON orders("user", client_order_id, order_id);
CREATE TABLE IF NOT EXISTS fills (
    {cols(fill_cols, "fill_id INTEGER PRIMARY KEY")},
    UNIQUE (order_id, trade_id)
);
CREATE INDEX IF NOT EXISTS fills_user ON fills("user", fill_id);
CREATE TABLE IF NOT EXISTS trades ({cols(TRADE_COLUMNS, "PRIMARY KEY (instrument, trade_id)")});
"""


def _upsert_orders_sql() -> str:
    names = ", ".join(_q(c) for c in ORDER_COLUMNS)
    marks = ", ".join("?" for _ in ORDER_COLUMNS)
    sets = ", ".join(f"{_q(c)} = excluded.{_q(c)}" for c in ORDER_COLUMNS if c != "order_id")
    return (
        f"INSERT INTO orders ({names}) VALUES ({marks}) ON CONFLICT(order_id) DO UPDATE "
        f"SET {sets} WHERE excluded.seq > orders.seq "
        "OR (excluded.seq = orders.seq AND excluded.useq >= orders.useq)"
    )


def _insert_sql(table: str, columns: Sequence[str]) -> str:
    names = ", ".join(_q(c) for c in columns)
    marks = ", ".join("?" for _ in columns)
    return f"INSERT OR IGNORE INTO {table} ({names}) VALUES ({marks})"


_UPSERT_ORDER: Final = _upsert_orders_sql()
_INSERT_FILL: Final = _insert_sql("fills", FILL_COLUMNS)
_INSERT_TRADE: Final = _insert_sql("trades", TRADE_COLUMNS)


def _limit(limit: int) -> int:
    return max(1, min(limit, MAX_PAGE))


class SqliteStore:
    """``Store`` on SQLite. ``path`` is the database file (``<data_dir>/openpit.sqlite3``)."""

    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        synchronous: str = "FULL",
        sealer: Sealer | None = None,
    ) -> None:
        self.path = Path(path)
        private_dir(self.path.parent)
        os.close(open_private(self.path, os.O_RDWR | os.O_CREAT))  # 0600 before SQLite
        self._lock = threading.RLock()
        self._db = sqlite3.connect(
            self.path, check_same_thread=False, isolation_level=None, timeout=30.0
        )
        self._db.row_factory = sqlite3.Row
        mode = self._db.execute("PRAGMA journal_mode=WAL").fetchone()[0]
        if str(mode).lower() != "wal":
            raise sqlite3.OperationalError(f"{self.path}: cannot switch to WAL (got {mode})")
        if synchronous.upper() not in ("FULL", "NORMAL"):
            raise ValueError("synchronous is FULL or NORMAL")
        self._db.execute(f"PRAGMA synchronous={synchronous.upper()}")
        self._db.execute("PRAGMA foreign_keys=ON")
        self._db.execute("PRAGMA secure_delete=ON")  # replaced secrets leave no trace
        self._db.executescript("BEGIN;" + _SCHEMA + _history_schema() + "COMMIT;")
        self._migrate()
        for suffix in ("-wal", "-shm"):  # SQLite copies the database's mode; older dirs
            make_private(self.path.with_name(self.path.name + suffix))
        try:
            self._sealer = sealer if sealer is not None else Sealer(self.path.parent)
            self._sealer.reseal(self._db)  # plaintext rows of older stores, a rotation
        except BaseException:
            self._db.close()
            raise

    @classmethod
    def in_data_dir(cls, data_dir: str | os.PathLike[str]) -> SqliteStore:
        return cls(Path(data_dir) / DB_NAME)

    def journal_mode(self) -> str:
        with self._lock:
            return str(self._db.execute("PRAGMA journal_mode").fetchone()[0])

    def _migrate(self) -> None:
        for table, columns in (
            ("orders", ORDER_COLUMNS),
            ("fills", FILL_COLUMNS),
            ("trades", TRADE_COLUMNS),
        ):
            have = {row[1] for row in self._db.execute(f"PRAGMA table_info({table})")}
            for column in columns:
                if column not in have:
                    self._db.execute(f"ALTER TABLE {table} ADD COLUMN {_q(column)}")

    @contextmanager
    def _tx(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                yield self._db
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")

    def _one(self, sql: str, args: Sequence[Any]) -> sqlite3.Row | None:
        with self._lock:
            row: sqlite3.Row | None = self._db.execute(sql, args).fetchone()
            return row

    def _all(self, sql: str, args: Sequence[Any]) -> list[sqlite3.Row]:
        with self._lock:
            return self._db.execute(sql, args).fetchall()

    def close(self) -> None:
        with self._lock:
            self._db.close()

    # -- users --------------------------------------------------------------------------
    def create_user(self, user_id: str, created: int) -> User:
        try:
            with self._tx() as db:
                db.execute("INSERT INTO users (id, created) VALUES (?, ?)", (user_id, created))
        except sqlite3.IntegrityError as exc:
            raise AlreadyExists(f"user {user_id!r} exists") from exc
        return User(user_id, created)

    def get_user(self, user_id: str) -> User | None:
        row = self._one("SELECT id, created FROM users WHERE id = ?", (user_id,))
        return None if row is None else User(row["id"], row["created"])

    def list_users(self) -> list[User]:
        return [
            User(r["id"], r["created"]) for r in self._all("SELECT * FROM users ORDER BY id", ())
        ]

    # -- API keys -----------------------------------------------------------------------
    def create_api_key(self, key: ApiKey) -> None:
        perms = ",".join(sorted(p.value for p in key.permissions))
        sealed = self._sealer.seal(key.key_id, key.secret)
        try:
            with self._tx() as db:
                if db.execute("SELECT 1 FROM users WHERE id = ?", (key.user,)).fetchone() is None:
                    raise NotFound(f"user {key.user!r} does not exist")
                db.execute(
                    'INSERT INTO api_keys (key_id, secret, "user", permissions, created, revoked)'
                    " VALUES (?, ?, ?, ?, ?, ?)",
                    (key.key_id, sealed, key.user, perms, key.created, key.revoked),
                )
        except sqlite3.IntegrityError as exc:
            raise AlreadyExists(f"API key {key.key_id!r} exists") from exc

    def _key(self, row: sqlite3.Row) -> ApiKey:
        perms = frozenset(Permission(p) for p in row["permissions"].split(",") if p)
        secret = self._sealer.open(row["key_id"], row["secret"])
        return ApiKey(row["key_id"], secret, row["user"], perms, row["created"], row["revoked"])

    def get_api_key(self, key_id: str) -> ApiKey | None:
        row = self._one("SELECT * FROM api_keys WHERE key_id = ?", (key_id,))
        return None if row is None else self._key(row)

    def list_api_keys(self, user: str) -> list[ApiKey]:
        rows = self._all(
            'SELECT * FROM api_keys WHERE "user" = ? ORDER BY created, key_id', (user,)
        )
        return [self._key(r) for r in rows]

    def revoke_api_key(self, key_id: str, ts: int) -> bool:
        """Revoke an active key; False if it is unknown or already revoked."""
        with self._tx() as db:
            cur = db.execute(
                "UPDATE api_keys SET revoked = ? WHERE key_id = ? AND revoked IS NULL",
                (ts, key_id),
            )
            return cur.rowcount == 1

    # -- alerts -------------------------------------------------------------------------
    def create_alert(
        self,
        *,
        user: str,
        name: str,
        condition: str,
        symbol: str,
        threshold: str,
        created: int,
        repeat: bool = False,
        cooldown_ms: int = 0,
        state: AlertState = AlertState.ACTIVE,
    ) -> Alert:
        with self._tx() as db:
            cur = db.execute(
                'INSERT INTO alerts ("user", name, condition, symbol, threshold, "repeat",'
                " cooldown_ms, state, created) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (user, name, condition, symbol, threshold, repeat, cooldown_ms, state, created),
            )
            alert_id = cur.lastrowid
        assert alert_id is not None
        return Alert(
            alert_id, user, name, condition, symbol, threshold, repeat, cooldown_ms, state, created
        )

    @staticmethod
    def _alert(row: sqlite3.Row) -> Alert:
        return Alert(
            id=row["id"],
            user=row["user"],
            name=row["name"],
            condition=row["condition"],
            symbol=row["symbol"],
            threshold=row["threshold"],
            repeat=bool(row["repeat"]),
            cooldown_ms=row["cooldown_ms"],
            state=AlertState(row["state"]),
            created=row["created"],
            last_triggered=row["last_triggered"],
        )

    def get_alert(self, alert_id: int) -> Alert | None:
        row = self._one("SELECT * FROM alerts WHERE id = ?", (alert_id,))
        return None if row is None else self._alert(row)

    def list_alerts(self, user: str | None = None, state: AlertState | None = None) -> list[Alert]:
        where: list[str] = []
        args: list[object] = []
        if user is not None:
            where.append('"user" = ?')
            args.append(user)
        if state is not None:
            where.append("state = ?")
            args.append(state)
        sql = "SELECT * FROM alerts" + (f" WHERE {' AND '.join(where)}" if where else "")
        return [self._alert(r) for r in self._all(sql + " ORDER BY id", args)]

    def update_alert(
        self,
        alert_id: int,
        *,
        state: AlertState | None = None,
        last_triggered: int | None = None,
    ) -> Alert | None:
        with self._tx() as db:
            if state is not None:
                db.execute("UPDATE alerts SET state = ? WHERE id = ?", (state, alert_id))
            if last_triggered is not None:
                db.execute(
                    "UPDATE alerts SET last_triggered = ? WHERE id = ?", (last_triggered, alert_id)
                )
            row = db.execute("SELECT * FROM alerts WHERE id = ?", (alert_id,)).fetchone()
        return None if row is None else self._alert(row)

    def delete_alert(self, alert_id: int) -> bool:
        with self._tx() as db:
            return db.execute("DELETE FROM alerts WHERE id = ?", (alert_id,)).rowcount == 1

    # -- history ------------------------------------------------------------------------
    def write_history(self, events: Iterable[Event]) -> HistoryCounts:
        """Upsert orders, insert fills and trades from ``events``, in one transaction.

        Other event types are ignored. Idempotent: replaying the same events is a no-op.
        """
        orders: list[tuple[Any, ...]] = []
        fills: list[tuple[Any, ...]] = []
        trades: list[tuple[Any, ...]] = []
        high = 0
        astuple = msgspec.structs.astuple  # the values in field order: the columns' order
        for e in events:
            kind = type(e)
            if kind is OrderUpdate:
                orders.append(astuple(e))
            elif kind is Fill:
                fills.append(astuple(e))
            elif kind is Trade:
                trades.append(astuple(e))
            else:
                continue
            if e.seq > high:
                high = e.seq
        if not (orders or fills or trades):
            return HistoryCounts()
        with self._tx() as db:
            n_orders = db.executemany(_UPSERT_ORDER, orders).rowcount if orders else 0
            n_fills = db.executemany(_INSERT_FILL, fills).rowcount if fills else 0
            n_trades = db.executemany(_INSERT_TRADE, trades).rowcount if trades else 0
            db.execute(
                "INSERT INTO meta (key, value) VALUES ('history_seq', ?) ON CONFLICT(key) "
                "DO UPDATE SET value = max(value, excluded.value)",
                (high,),
            )
        return HistoryCounts(n_orders, n_fills, n_trades)

    def history_seq(self) -> int:
        """The highest command seq whose history events have been written (0: none)."""
        row = self._one("SELECT value FROM meta WHERE key = 'history_seq'", ())
        return 0 if row is None else int(row["value"])

    @staticmethod
    def _event(row: sqlite3.Row, kind: type[EventT], columns: Sequence[str]) -> EventT:
        return msgspec.convert({c: row[c] for c in columns}, kind, strict=False)

    def get_order(self, order_id: int) -> OrderUpdate | None:
        row = self._one("SELECT * FROM orders WHERE order_id = ?", (order_id,))
        return None if row is None else self._event(row, OrderUpdate, ORDER_COLUMNS)

    def get_order_by_client_id(self, user: str, client_order_id: str) -> OrderUpdate | None:
        """The newest order of ``user`` with that client id (ids repeat once orders close)."""
        row = self._one(
            'SELECT * FROM orders WHERE "user" = ? AND client_order_id = ? '
            "ORDER BY order_id DESC LIMIT 1",
            (user, client_order_id),
        )
        return None if row is None else self._event(row, OrderUpdate, ORDER_COLUMNS)

    def list_orders(
        self,
        user: str,
        *,
        statuses: Collection[OrderStatus] | None = None,
        instrument: str | None = None,
        before: int | None = None,
        limit: int = DEFAULT_PAGE,
    ) -> Page[OrderUpdate]:
        where: list[str] = ['"user" = ?']
        args: list[object] = [user]
        if statuses is not None:
            if not statuses:
                return Page([], None)
            where.append(f"status IN ({', '.join('?' for _ in statuses)})")
            args.extend(statuses)
        if instrument is not None:
            where.append("instrument = ?")
            args.append(instrument)
        if before is not None:
            where.append("order_id < ?")
            args.append(before)
        n = _limit(limit)
        rows = self._all(
            f"SELECT * FROM orders WHERE {' AND '.join(where)} ORDER BY order_id DESC LIMIT ?",
            [*args, n + 1],
        )
        items = [self._event(r, OrderUpdate, ORDER_COLUMNS) for r in rows[:n]]
        return Page(items, items[-1].order_id if len(rows) > n else None)

    def list_fills(
        self,
        user: str,
        *,
        instrument: str | None = None,
        before: int | None = None,
        limit: int = DEFAULT_PAGE,
    ) -> Page[Fill]:
        where: list[str] = ['"user" = ?']
        args: list[object] = [user]
        if instrument is not None:
            where.append("instrument = ?")
            args.append(instrument)
        if before is not None:
            where.append("fill_id < ?")
            args.append(before)
        n = _limit(limit)
        rows = self._all(
            f"SELECT * FROM fills WHERE {' AND '.join(where)} ORDER BY fill_id DESC LIMIT ?",
            [*args, n + 1],
        )
        items = [self._event(r, Fill, FILL_COLUMNS) for r in rows[:n]]
        return Page(items, rows[n - 1]["fill_id"] if len(rows) > n else None)

    def list_trades(
        self, instrument: str, *, before: int | None = None, limit: int = DEFAULT_PAGE
    ) -> Page[Trade]:
        where: list[str] = ["instrument = ?"]
        args: list[object] = [instrument]
        if before is not None:
            where.append("trade_id < ?")
            args.append(before)
        n = _limit(limit)
        rows = self._all(
            f"SELECT * FROM trades WHERE {' AND '.join(where)} ORDER BY trade_id DESC LIMIT ?",
            [*args, n + 1],
        )
        items = [self._event(r, Trade, TRADE_COLUMNS) for r in rows[:n]]
        return Page(items, items[-1].trade_id if len(rows) > n else None)
