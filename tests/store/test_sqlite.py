"""SQLite store: CRUD, paging, idempotent history, WAL mode, survives reopen."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest

from openpit.core.enums import Liquidity, OrderStatus, OrderType, Side, TimeInForce
from openpit.core.events import Balance, Fill, OrderUpdate, Trade
from openpit.store import (
    AlertState,
    AlreadyExists,
    ApiKey,
    HistoryWriter,
    NotFound,
    Permission,
    SqliteStore,
)


@pytest.fixture
def store(tmp_path: Path) -> Iterator[SqliteStore]:
    s = SqliteStore.in_data_dir(tmp_path)
    yield s
    s.close()


def order(
    order_id: int,
    *,
    user: str = "alice",
    status: OrderStatus = OrderStatus.NEW,
    seq: int = 1,
    useq: int = 1,
    filled: int = 0,
    cid: str | None = None,
    instrument: str = "BTCUSDT",
) -> OrderUpdate:
    return OrderUpdate(
        seq=seq,
        ts=1000 + seq,
        user=user,
        useq=useq,
        order_id=order_id,
        client_order_id=cid,
        instrument=instrument,
        side=Side.BUY,
        type=OrderType.LIMIT,
        tif=TimeInForce.GTC,
        status=status,
        price=4_265_000,
        stop_price=None,
        qty=100,
        filled=filled,
        remaining=100 - filled,
        cancelled=0,
        filled_value=filled * 4_265_000,
        last_fill_price=4_265_000 if filled else None,
        last_fill_qty=filled,
        created_ts=1001,
        post_only=True,
    )


def fill(trade_id: int, order_id: int, *, user: str = "alice", seq: int = 1) -> Fill:
    return Fill(
        seq=seq,
        ts=2000,
        user=user,
        useq=seq,
        instrument="BTCUSDT",
        order_id=order_id,
        client_order_id=None,
        trade_id=trade_id,
        side=Side.BUY,
        price=4_265_000,
        qty=10,
        liquidity=Liquidity.MAKER,
        fee=42,
        fee_asset="USDT",
        fee_rate_ppm=1000,
    )


def trade(trade_id: int, instrument: str = "BTCUSDT") -> Trade:
    return Trade(
        seq=trade_id,
        ts=3000,
        instrument=instrument,
        iseq=trade_id,
        trade_id=trade_id,
        price=4_265_000,
        qty=10,
        taker_side=Side.SELL,
        maker_order_id=1,
        taker_order_id=2,
        maker_user="alice",
        taker_user="bob",
    )


def test_store_is_in_wal_mode(store: SqliteStore) -> None:
    assert store.journal_mode() == "wal"


def test_store_users_create_get_list_and_duplicate_raises(store: SqliteStore) -> None:
    assert store.create_user("alice", 1).id == "alice"
    store.create_user("bob", 2)
    with pytest.raises(AlreadyExists):
        store.create_user("alice", 3)
    assert store.get_user("alice") is not None and store.get_user("alice").created == 1  # type: ignore[union-attr]
    assert store.get_user("nobody") is None
    assert [u.id for u in store.list_users()] == ["alice", "bob"]


def test_store_api_keys_create_get_revoke(store: SqliteStore) -> None:
    store.create_user("alice", 1)
    key = ApiKey("k1", "s3cret", "alice", frozenset({Permission.READ, Permission.TRADE}), 5)
    store.create_api_key(key)
    assert store.get_api_key("k1") == key
    with pytest.raises(AlreadyExists):
        store.create_api_key(key)
    with pytest.raises(NotFound):
        store.create_api_key(ApiKey("k2", "s", "ghost", frozenset({Permission.READ}), 5))
    assert store.revoke_api_key("k1", 9) is True
    assert store.revoke_api_key("k1", 10) is False
    revoked = store.get_api_key("k1")
    assert revoked is not None and revoked.revoked == 9 and not revoked.active
    assert [k.key_id for k in store.list_api_keys("alice")] == ["k1"]


def test_store_alerts_crud(store: SqliteStore) -> None:
    a = store.create_alert(
        user="alice",
        name="btc high",
        condition="price_above",
        symbol="BTCUSDT",
        threshold="50000.00",
        created=7,
        repeat=True,
        cooldown_ms=60_000,
    )
    b = store.create_alert(
        user="bob", name="x", condition="price_below", symbol="ETHUSDT", threshold="1", created=8
    )
    assert store.get_alert(a.id) == a
    assert a.state is AlertState.ACTIVE and a.repeat is True
    updated = store.update_alert(a.id, state=AlertState.TRIGGERED, last_triggered=99)
    assert updated is not None and updated.state is AlertState.TRIGGERED
    assert updated.last_triggered == 99
    assert [x.id for x in store.list_alerts(user="alice")] == [a.id]
    assert [x.id for x in store.list_alerts(state=AlertState.ACTIVE)] == [b.id]
    assert store.delete_alert(b.id) is True and store.delete_alert(b.id) is False
    assert store.update_alert(b.id, state=AlertState.DISABLED) is None


def test_store_order_history_roundtrips_every_field(store: SqliteStore) -> None:
    o = order(1, cid="my-1", filled=40, status=OrderStatus.PARTIALLY_FILLED)
    store.write_history([o])
    assert store.get_order(1) == o
    assert store.get_order_by_client_id("alice", "my-1") == o
    assert store.get_order(2) is None


def test_store_order_history_keeps_latest_update_regardless_of_write_order(
    store: SqliteStore,
) -> None:
    new = order(1, seq=1, useq=1)
    part = order(1, seq=5, useq=3, filled=40, status=OrderStatus.PARTIALLY_FILLED)
    done = order(1, seq=5, useq=4, filled=100, status=OrderStatus.FILLED)
    store.write_history([new, part, done])
    assert store.get_order(1) == done
    store.write_history([new, part])  # a replay of older events changes nothing
    assert store.get_order(1) == done
    assert store.history_seq() == 5


def test_store_history_writes_are_idempotent(store: SqliteStore) -> None:
    events = [
        order(1),
        fill(10, 1),
        trade(10),
        Balance(user="alice", asset="BTC", available=1, reserved=0),
    ]
    first = store.write_history(events)
    assert (first.orders, first.fills, first.trades) == (1, 1, 1)
    second = store.write_history(events)
    assert (second.fills, second.trades) == (0, 0)
    assert len(store.list_fills("alice").items) == 1
    assert len(store.list_trades("BTCUSDT").items) == 1


def test_store_client_order_id_reused_returns_newest_order(store: SqliteStore) -> None:
    store.write_history([order(1, cid="x", status=OrderStatus.CANCELLED), order(7, cid="x")])
    found = store.get_order_by_client_id("alice", "x")
    assert found is not None and found.order_id == 7


def test_store_list_orders_pages_by_order_id_cursor_with_status_filter(
    store: SqliteStore,
) -> None:
    events = [
        order(i, status=OrderStatus.FILLED if i % 3 == 0 else OrderStatus.NEW) for i in range(1, 26)
    ]
    events.append(order(100, user="bob"))
    store.write_history(events)
    seen: list[int] = []
    cursor = None
    while True:
        page = store.list_orders("alice", before=cursor, limit=7)
        seen.extend(o.order_id for o in page.items)
        if page.next_cursor is None:
            break
        cursor = page.next_cursor
    assert seen == list(range(25, 0, -1))
    filled = store.list_orders("alice", statuses=[OrderStatus.FILLED], limit=100)
    assert [o.order_id for o in filled.items] == [24, 21, 18, 15, 12, 9, 6, 3]
    assert filled.next_cursor is None
    assert store.list_orders("alice", statuses=[]).items == []
    assert store.list_orders("alice", instrument="ETHUSDT").items == []


def test_store_list_fills_and_trades_page_newest_first(store: SqliteStore) -> None:
    store.write_history([fill(t, 1, seq=t) for t in range(1, 11)] + [fill(99, 5, user="bob")])
    store.write_history([trade(t) for t in range(1, 11)] + [trade(1, "ETHUSDT")])
    page = store.list_fills("alice", limit=4)
    assert [f.trade_id for f in page.items] == [10, 9, 8, 7]
    rest = store.list_fills("alice", before=page.next_cursor, limit=100)
    assert [f.trade_id for f in rest.items] == [6, 5, 4, 3, 2, 1] and rest.next_cursor is None
    t1 = store.list_trades("BTCUSDT", limit=6)
    t2 = store.list_trades("BTCUSDT", before=t1.next_cursor, limit=6)
    assert [t.trade_id for t in t1.items + t2.items] == list(range(10, 0, -1))
    assert [t.trade_id for t in store.list_trades("ETHUSDT").items] == [1]


def test_store_self_trade_fills_of_one_user_are_both_kept(store: SqliteStore) -> None:
    store.write_history([fill(5, 1), fill(5, 2)])  # same trade, maker and taker order
    assert len(store.list_fills("alice").items) == 2


def test_store_survives_reopen(tmp_path: Path) -> None:
    s = SqliteStore.in_data_dir(tmp_path)
    s.create_user("alice", 1)
    s.write_history([order(1), fill(1, 1), trade(1)])
    s.close()
    s = SqliteStore.in_data_dir(tmp_path)
    assert s.get_user("alice") is not None
    assert s.get_order(1) == order(1)
    assert len(s.list_fills("alice").items) == 1
    assert s.journal_mode() == "wal"
    s.close()


def test_store_reopen_adds_columns_for_new_event_fields(tmp_path: Path) -> None:
    s = SqliteStore.in_data_dir(tmp_path)
    s.close()
    db = sqlite3.connect(tmp_path / "openpit.sqlite3")
    db.execute("ALTER TABLE orders DROP COLUMN leverage")  # as if the field were new
    db.commit()
    db.close()
    s = SqliteStore.in_data_dir(tmp_path)
    s.write_history([order(1)])
    assert s.get_order(1) == order(1)
    s.close()


def test_history_writer_batches_off_thread_and_is_idempotent(tmp_path: Path) -> None:
    path = tmp_path / "openpit.sqlite3"
    writer = HistoryWriter(path)
    for i in range(1, 201):
        writer.submit([order(i, seq=i), fill(i, i, seq=i), trade(i)])
    writer.submit([order(1, seq=1), fill(1, 1, seq=1)])  # replayed duplicates
    writer.flush(timeout=30)
    assert writer.transactions <= 202
    writer.close()
    s = SqliteStore(path)
    assert len(s.list_orders("alice", limit=1000).items) == 200
    assert len(s.list_fills("alice", limit=1000).items) == 200
    assert s.history_seq() == 200
    s.close()


def test_history_writer_store_error_surfaces_on_flush_never_on_submit(tmp_path: Path) -> None:
    writer = HistoryWriter(tmp_path / "openpit.sqlite3")
    writer._store.close()  # make every write fail: a store failure, retried
    writer.submit([order(1)])
    with pytest.raises(RuntimeError, match="history writer is failing"):
        writer.flush(timeout=30)
    writer.submit([order(2)])  # history never stops the venue's publication
    assert not writer.health.status().ok
    writer.close()  # bounded even while failing
