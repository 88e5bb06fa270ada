"""``kill -9`` of a real ``openpit serve`` under load from flat-dialect clients.

The promise under test (docs/durability.md): an acknowledged order is never lost. Six
clients (two per user: demo, alice, bob) trade over real WebSockets while the server is
killed at seeded random moments, restarted on the same data directory each time and
traded against again; then it is stopped gracefully and the data directory is opened
in-process and checked against everything the clients were told:

- every acknowledged order exists with its user and client order id, at the same or a
  later status and filled quantity (history), and is live in the engine iff the
  history says it is open;
- no trade is lost or duplicated: trades seen by clients are in the history with the
  same price and amount, trade ids are exactly 1..engine.trade_seq, every trade has its
  two fills and every order's fills add up to its filled quantity;
- every asset is conserved (``ledger.totals()`` equals the genesis deposits);
- sequences never go back or repeat across restarts: order ids of acks and trade ids
  seen grow strictly per connection and across incarnations, the recovered seq never
  decreases, and the journal left behind is contiguous up to the venue's seq.

A second test tears the journal inside its last record after a ``kill -9`` and checks
that the server comes back and serves.

Assertions are on outcomes only (no timing thresholds); timing only bounds the run.
"""

from __future__ import annotations

import asyncio
import itertools
import random
import re
import sqlite3
import time
from collections import Counter
from pathlib import Path

from openpit.config import load_config
from openpit.durability import Durability, DurabilityConfig, FsyncMode
from openpit.durability.journal import (
    JOURNAL_DIR,
    RECORD_HEADER,
    SEGMENT_HEADER,
    list_segments,
)
from openpit.durability.reader import JournalReader
from openpit.durability.snapshot import SNAPSHOT_DIR, SnapshotStore
from openpit.store import SqliteStore
from openpit.venue import Venue
from tests.durability.server_harness import (
    FINAL,
    USERS,
    FlatClient,
    Record,
    Server,
    create_keys,
    genesis_totals,
    rank,
    settle,
    trade,
    write_config,
)

SEED = 20240611
KILLS = 6
BUDGET_S = 60.0  # kills stop early (never below MIN_KILLS) once this is spent
MIN_KILLS = 5
SNAPSHOT_EVERY = 150  # commands: snapshots are taken (and pruned) between the kills


def _recovered_seqs(log: str) -> list[int]:
    return [int(m) for m in re.findall(r"openpit\.serve recovered seq (\d+)", log)]


def _open_venue(data_dir: Path, config_path: Path) -> Durability[Venue]:
    config = load_config(config_path)
    return Durability.open(
        lambda: Venue(config), DurabilityConfig(data_dir=data_dir, fsync=FsyncMode.OFF)
    )


def _check_orders(record: Record, venue: Venue, store: SqliteStore) -> None:
    """Every acknowledged order is there, at the same or a later state."""
    config = venue.config
    for order_id, ack in record.acks.items():
        row = store.get_order(order_id)
        assert row is not None, f"acknowledged order {ack} is not in the history"
        assert (row.user, row.client_order_id) == (ack.user, ack.client_order_id), (ack, row)
        seen = record.seen[order_id]
        assert rank(row.status.value) >= seen.rank, (ack, seen, row)
        if seen.status in FINAL:
            assert row.status.value == seen.status, (ack, seen, row)
        inst = config.instruments[row.instrument]
        assert inst.lots_to_qty(row.filled) >= seen.filled, (ack, seen, row)
        live = venue.engine.order(order_id)
        if row.status.is_final:
            assert live is None, (row, live)
        else:
            assert live is not None, f"history has {row} open, the engine does not"
            assert live.filled == row.filled, (row, live)
    # and the other way round: the engine's open orders are open in the history
    for user in USERS:
        for live in venue.engine.open_orders(user):
            row = store.get_order(live.order_id)
            assert row is not None and not row.status.is_final, (live, row)


def _check_history(record: Record, venue: Venue, db: sqlite3.Connection) -> None:
    """No trade lost or duplicated; fills add up; ids are dense."""
    config = venue.config
    trades = {
        (inst, tid): (price, qty)
        for inst, tid, price, qty in db.execute(
            "SELECT instrument, trade_id, price, qty FROM trades"
        )
    }
    trade_ids = sorted(tid for _, tid in trades)
    assert trade_ids == list(range(1, venue.engine.trade_seq + 1)), "trade ids not dense"
    for (symbol, tid), (price, amount, _) in record.trades.items():
        inst = config.resolve(symbol, "binance")
        assert inst is not None
        assert (inst.id, tid) in trades, f"trade {tid} seen by a client is not in the history"
        h_price, h_qty = trades[(inst.id, tid)]
        assert (inst.ticks_to_price(h_price), inst.lots_to_qty(h_qty)) == (price, amount)
    fills_per_trade = Counter(
        (inst, tid) for inst, tid in db.execute("SELECT instrument, trade_id FROM fills")
    )
    assert set(fills_per_trade) == set(trades)
    assert set(fills_per_trade.values()) <= {2}, "a trade without exactly two fills"
    order_ids = [oid for (oid,) in db.execute("SELECT order_id FROM orders ORDER BY order_id")]
    assert order_ids == list(range(1, venue.next_order_id)), "order ids not dense"
    mismatched = db.execute(
        "SELECT o.order_id, o.filled, COALESCE(SUM(f.qty), 0) FROM orders o "
        "LEFT JOIN fills f ON f.order_id = o.order_id GROUP BY o.order_id "
        "HAVING o.filled != COALESCE(SUM(f.qty), 0)"
    ).fetchall()
    assert not mismatched, f"orders whose fills do not add up: {mismatched[:5]}"


def _check_sequences(record: Record, log: str, venue: Venue, data_dir: Path) -> None:
    for stream in record.ack_streams + record.trade_streams:
        assert all(a < b for a, b in itertools.pairwise(stream)), stream
    epochs = sorted({a.epoch for a in record.acks.values()})
    for earlier, later in itertools.pairwise(epochs):
        before = max(a.order_id for a in record.acks.values() if a.epoch <= earlier)
        after = min(a.order_id for a in record.acks.values() if a.epoch == later)
        assert after > before, f"order id {after} of epoch {later} reuses one of {earlier}"
    trade_epochs = sorted({e for _, _, e in record.trades.values()})
    for earlier, later in itertools.pairwise(trade_epochs):
        before = max(t for (_, t), v in record.trades.items() if v[2] <= earlier)
        after = min(t for (_, t), v in record.trades.items() if v[2] == later)
        assert after > before, f"trade id {after} of epoch {later} reuses one of {earlier}"
    recovered = _recovered_seqs(log)
    assert recovered == sorted(recovered), f"recovered seq went back: {recovered}"
    # the journal left behind: contiguous (the reader raises on a gap), up to the venue
    reader = JournalReader(data_dir / JOURNAL_DIR)
    seqs = [r.seq for r in reader.records()]
    assert seqs and seqs[-1] == venue.seq
    kept = SnapshotStore(data_dir / SNAPSHOT_DIR).list()
    assert kept and kept[-1][0] == venue.seq, "no snapshot at the graceful stop's seq"
    assert seqs[0] <= kept[0][0] + 1, "journal pruned past the oldest snapshot"


def test_crash_server_kill9_under_load_keeps_every_acknowledged_order(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    config_path = write_config(tmp_path / "openpit.toml", SNAPSHOT_EVERY)
    keys = create_keys(data_dir)
    server = Server(data_dir, config_path, tmp_path / "server.log")
    record = Record()
    rng = random.Random(SEED)
    kills = 0

    async def scenario() -> None:
        nonlocal kills
        started = time.monotonic()
        epoch = 0
        try:
            while kills < KILLS and (kills < MIN_KILLS or time.monotonic() - started < BUDGET_S):
                await server.start()
                clients = await trade(server, keys, record, epoch, rng)
                await asyncio.sleep(rng.uniform(0.5, 4.0))  # kill at a random moment
                server.kill9()
                kills += 1
                await settle(clients)
                epoch += 1
            await server.start()
            clients = await trade(server, keys, record, epoch, rng)
            await asyncio.sleep(2.0)
            assert await server.stop() == 0, server.log_tail()
            await settle(clients)
        finally:
            server.ensure_dead()

    asyncio.run(asyncio.wait_for(scenario(), 150))
    log = server.log_text()
    assert kills >= MIN_KILLS
    assert not record.problems, record.problems[:5]
    assert len(record.acks) > 0 and record.trades, "the clients did not trade"
    assert "Traceback" not in log, server.log_tail(80)

    durability = _open_venue(data_dir, config_path)
    store = SqliteStore.in_data_dir(data_dir)
    db = sqlite3.connect(store.path)
    try:
        venue = durability.target
        snapshot = durability.recovered.snapshot
        assert snapshot is not None and snapshot.seq == venue.seq  # taken at the graceful stop
        assert venue.ledger.totals() == genesis_totals(), "an asset was created or destroyed"
        _check_orders(record, venue, store)
        _check_history(record, venue, db)
        _check_sequences(record, log, venue, data_dir)
        assert store.history_seq() <= venue.seq
    finally:
        db.close()
        store.close()
        durability.close_sync()
    print(
        f"crash test: {kills} kills, {record.requests} requests, {len(record.acks)} orders "
        f"acknowledged, {len(record.trades)} trades seen, final seq {venue.seq}, "
        f"errors {dict(sorted(record.errors.items()))}"
    )


def _last_record(journal: Path) -> tuple[Path, int, int, int]:
    """(segment, offset, length incl. header, seq) of the journal's last record."""
    for _, path in reversed(list_segments(journal)):
        data = path.read_bytes()
        off, last = SEGMENT_HEADER.size, None
        while off + RECORD_HEADER.size <= len(data):
            length, _, seq, _ = RECORD_HEADER.unpack_from(data, off)
            last = (path, off, RECORD_HEADER.size + length, seq)
            off += RECORD_HEADER.size + length
        if last is not None:
            return last
    raise AssertionError("the journal holds no record")


def test_crash_server_torn_last_record_is_truncated_and_server_serves(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    config_path = write_config(tmp_path / "openpit.toml", 100_000)  # no snapshot covers it
    keys = create_keys(data_dir)
    server = Server(data_dir, config_path, tmp_path / "server.log")
    record = Record()
    rng = random.Random(SEED + 1)

    async def load_then_kill() -> None:
        try:
            await server.start()
            clients = await trade(server, keys, record, 0, rng, per_user=1)
            await asyncio.sleep(1.5)
            server.kill9()
            await settle(clients)
        finally:
            server.ensure_dead()

    asyncio.run(asyncio.wait_for(load_then_kill(), 60))
    assert record.acks, "no order was acknowledged before the kill"

    segment, offset, length, last_seq = _last_record(data_dir / JOURNAL_DIR)
    cut = offset + rng.randint(1, length - 1)  # inside the record: header or payload
    with open(segment, "r+b") as f:
        f.truncate(cut)

    async def restart_and_serve() -> int:
        try:
            await server.start()
            client = FlatClient(
                server, "alice", keys["alice"], "after", 1, random.Random(1), record
            )
            task = asyncio.create_task(client.run(ts_offset=0))
            while not client.acked and not task.done():
                await asyncio.sleep(0.05)
            assert client.acked, f"no order acknowledged after the restart: {record.errors}"
            assert await server.stop() == 0, server.log_tail()
            await settle([task])
            return client.acked[0]
        finally:
            server.ensure_dead()

    first_after = asyncio.run(asyncio.wait_for(restart_and_serve(), 60))
    log = server.log_text()
    assert f"journal: torn tail in {segment}" in log, server.log_tail(60)
    assert _recovered_seqs(log)[-1] == last_seq - 1  # the torn record, and nothing else, lost

    durability = _open_venue(data_dir, config_path)
    store = SqliteStore.in_data_dir(data_dir)
    try:
        assert durability.recovered.torn is None
        assert durability.target.ledger.totals() == genesis_totals()
        row = store.get_order(first_after)
        assert row is not None and row.client_order_id == record.acks[first_after].client_order_id
    finally:
        store.close()
        durability.close_sync()
