"""The history writer survives bad records and store failures, and says when it cannot.

A bad record (an integer no SQLite INTEGER holds) is logged once and left out; the other
events of its batch and every later batch are written. A failing store keeps the batch
and retries; the writer's health is failing meanwhile and healthy once it writes again.
A writer thread that ends anyway is reported dead.
"""

from __future__ import annotations

import logging
import sqlite3
import threading
from collections.abc import Iterable
from decimal import Decimal
from pathlib import Path

import msgspec
import pytest

from openpit.core.commands import PlaceOrder
from openpit.core.enums import OrderType, Side
from openpit.core.events import Event, OrderUpdate
from openpit.core.health import State
from openpit.store import HistoryWriter, SqliteStore
from openpit.store.history import HistoryUnavailable
from tests.venue.helpers import BTC, T0, fresh_venue


def _updates(n: int) -> list[OrderUpdate]:
    """``n`` resting orders' first updates, from a real venue."""
    venue = fresh_venue()
    out = []
    for i in range(n):
        cmd = PlaceOrder(
            user="demo",
            instrument=BTC.id,
            side=Side.BUY,
            type=OrderType.LIMIT,
            qty=BTC.qty_to_lots(Decimal("0.001")),
            price=BTC.price_to_ticks(Decimal("1000")) + i,
        )
        result = venue.execute(cmd, T0)
        assert result.ok
        out += [e for e in result.events if isinstance(e, OrderUpdate)]
    return out


def _poison(like: OrderUpdate) -> OrderUpdate:
    return msgspec.structs.replace(like, order_id=10**6, price=10**22)


def _stored_ids(path: Path) -> set[int]:
    store = SqliteStore(path)
    try:
        return {o.order_id for o in store.list_orders("demo", limit=500).items}
    finally:
        store.close()


def test_history_bad_record_logged_once_rest_of_batch_and_later_batches_written(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    a, b, c = _updates(3)
    writer = HistoryWriter(tmp_path / "h.sqlite3")
    try:
        with caplog.at_level(logging.ERROR, "openpit.store"):
            writer.submit([a, _poison(a), b])
            writer.flush()
            writer.submit([c])
            writer.flush()
        assert writer.skipped == 1
        assert writer.health.status().ok
        assert "OverflowError" in (writer.health.last_error or "")
    finally:
        writer.close()
    lines = [r.getMessage() for r in caplog.records if "skipped a record" in r.getMessage()]
    assert len(lines) == 1 and f"seq {a.seq} OrderUpdate" in lines[0] and "10000000000" in lines[0]
    assert _stored_ids(tmp_path / "h.sqlite3") == {a.order_id, b.order_id, c.order_id}


class FlakyStore(SqliteStore):
    """A store whose first ``failures`` writes fail as a full disk would."""

    def __init__(self, path: Path, failures: int) -> None:
        super().__init__(path)
        self.failures = failures
        self.failed = threading.Event()
        self.written = threading.Event()

    def write_history(self, events: Iterable[Event]):  # type: ignore[no-untyped-def]
        if self.failures:
            self.failures -= 1
            self.failed.set()
            raise sqlite3.OperationalError("database or disk is full")
        counts = super().write_history(events)
        self.written.set()
        return counts


def test_history_store_failure_keeps_batch_reports_failing_then_writes_it(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    (a,) = _updates(1)
    store = FlakyStore(tmp_path / "h.sqlite3", failures=3)
    writer = HistoryWriter(store.path, store=store)
    try:
        with caplog.at_level(logging.ERROR, "openpit.store"):
            writer.submit([a])
            assert store.failed.wait(10)
            with pytest.raises(HistoryUnavailable):
                writer.flush()  # failing: refused at once, not after the timeout
            assert store.written.wait(30)  # retried with a growing pause until it works
            writer.flush(timeout=30)
        assert writer.health.status().ok and writer.skipped == 0
        assert sum("disk is full" in r.getMessage() for r in caplog.records) == 1
    finally:
        writer.close()
    assert _stored_ids(tmp_path / "h.sqlite3") == {a.order_id}


class FatalStore(SqliteStore):
    def write_history(self, events: Iterable[Event]):  # type: ignore[no-untyped-def]
        raise SystemExit("simulated: something ends the thread")


def test_history_writer_thread_ending_is_logged_and_reported_dead(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    (a,) = _updates(1)
    store = FatalStore(tmp_path / "h.sqlite3")
    writer = HistoryWriter(store.path, store=store)
    with caplog.at_level(logging.CRITICAL, "openpit.store"):
        writer.submit([a])
        with pytest.raises(HistoryUnavailable, match="dead"):
            writer.flush(timeout=30)
    status = writer.health.status()
    assert status.state is State.DEAD and "SystemExit" in status.detail
    assert any("history writer stopped" in r.getMessage() for r in caplog.records)
    writer.close()


def test_history_submit_never_raises_after_failures(tmp_path: Path) -> None:
    (a,) = _updates(1)
    writer = HistoryWriter(tmp_path / "h.sqlite3")
    try:
        writer.submit([_poison(a)])
        writer.flush()
        writer.submit([a])  # the old writer raised here forever after
        writer.flush()
    finally:
        writer.close()
    assert _stored_ids(tmp_path / "h.sqlite3") == {a.order_id}
