"""Order and trade history, written off the event loop by a writer that never dies silently.

Invariants:
- ``submit`` is O(1) on the caller's thread (it only queues a reference to the
  event list) and never raises: history is a projection of the journal, so nothing it
  does may stop the venue from trading. One background thread writes, coalescing
  everything queued since its last write into one transaction, so a slow disk costs
  fewer, larger transactions, never a stalled loop.
- Writes are idempotent (see ``openpit.store.base``), so re-submitting the events of
  replayed commands after a restart fills any gap and duplicates nothing.
- Event lists are not copied: the venue must not mutate events after publishing them
  (``openpit.core.events``: only the sequencer stamps, before anyone sees them).
- A bad record (one the store cannot hold: an integer beyond int64, a wrong type) costs
  only itself: the batch is retried list by list, then event by event, and each event
  that still fails is logged once (seq, kind, what it was, the error), counted in
  ``skipped`` and left out; every other event is written. The journal still holds the
  command, so the history can be rebuilt from it.
- A store failure (disk full, I/O error, locked database) is not a bad record: the
  batch is kept and retried with a growing pause (at most ``MAX_RETRY_PAUSE_S``);
  meanwhile the writer's ``health`` is failing and ``flush`` raises ``HistoryUnavailable``.
- The thread survives every ``Exception``; anything that still ends it is logged and
  marks ``health`` dead. ``flush``/``drain``/``close`` wait at most their timeout.
"""

from __future__ import annotations

import asyncio
import logging
import os
import queue
import sqlite3
import threading
import time
from collections.abc import Iterable, Sequence
from itertools import chain
from pathlib import Path
from typing import Final

from openpit.core.events import Event, Fill, OrderUpdate, Trade
from openpit.core.health import Health, State
from openpit.store.base import StoreError
from openpit.store.sqlite import SqliteStore

log = logging.getLogger("openpit.store")

_STOP = object()
_WRITTEN: Final = (OrderUpdate, Fill, Trade)
DRAIN_TIMEOUT_S: Final = 10.0
CLOSE_TIMEOUT_S: Final = 5.0
MAX_RETRY_PAUSE_S: Final = 2.0
_POLL_S: Final = 0.02
# what a single record can cause; anything else is the store's own failure
_RECORD_ERRORS: Final = (
    OverflowError,
    TypeError,
    ValueError,
    sqlite3.InterfaceError,
    sqlite3.IntegrityError,
    sqlite3.DataError,
)


class HistoryUnavailable(StoreError, RuntimeError):
    """The history writer cannot write now (store failing, writer dead or too slow)."""


class HistoryWriter:
    """Background writer of ``OrderUpdate`` / ``Fill`` / ``Trade`` events to SQLite."""

    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        max_batch_lists: int = 4096,
        store: SqliteStore | None = None,
    ) -> None:
        self.path = Path(path)
        self._store = store if store is not None else SqliteStore(self.path)
        self._queue: queue.SimpleQueue[object] = queue.SimpleQueue()
        self._max_batch = max_batch_lists
        self._stopping = threading.Event()
        self._stopped = False  # the thread ended because it was told to
        self.transactions = 0
        self.events_seen = 0
        self.skipped = 0  # bad records left out (each logged once)
        self._thread = threading.Thread(target=self._main, name="openpit-history", daemon=True)
        self.health = Health("history", alive=self._alive)
        self._thread.start()

    # -- caller side ----------------------------------------------------------------------
    def submit(self, events: Sequence[Event]) -> None:
        """Queue events for writing (non-OrderUpdate/Fill/Trade events are skipped)."""
        if events:
            self._queue.put(events)

    def flush(self, timeout: float | None = DRAIN_TIMEOUT_S) -> None:
        """Block until everything submitted so far was written (or skipped as bad).

        Raises ``HistoryUnavailable`` if the store is failing, the writer is dead, or it
        did not catch up within ``timeout`` seconds.
        """
        done = threading.Event()
        self._queue.put(done)
        deadline = None if timeout is None else time.monotonic() + timeout
        while not done.wait(_POLL_S):
            status = self.health.status()
            if status.state in (State.DEAD, State.FAILING):
                raise HistoryUnavailable(f"history writer is {status.state}: {status.detail}")
            if deadline is not None and time.monotonic() >= deadline:
                raise HistoryUnavailable(f"history writer did not catch up in {timeout} s")
        status = self.health.status()
        if not status.ok:
            raise HistoryUnavailable(f"history writer is {status.state}: {status.detail}")

    async def drain(self, timeout: float = DRAIN_TIMEOUT_S) -> None:
        """``flush`` without blocking the event loop."""
        await asyncio.get_running_loop().run_in_executor(None, self.flush, timeout)

    def close(self, timeout: float = CLOSE_TIMEOUT_S) -> None:
        """Write what is queued, stop the thread (waiting at most ``timeout``), close."""
        if self._thread.is_alive():
            self._stopping.set()
            self._queue.put(_STOP)
            self._thread.join(timeout)
        if self._thread.is_alive():  # wedged in a write: leave the store to it
            log.error("history writer did not stop within %.1f s; left running", timeout)
            return
        self._store.close()

    # -- writer thread --------------------------------------------------------------------
    def _alive(self) -> bool:
        return self._stopped or self._thread.is_alive()

    def _main(self) -> None:
        try:
            self._run()
            self._stopped = True
        except BaseException as exc:  # reported here, then the thread ends (never silently)
            log.critical("history writer stopped: %r", exc, exc_info=exc)
            self.health.dead(f"stopped: {exc!r}")

    def _run(self) -> None:
        stop = False
        while not stop:
            lists: list[Sequence[Event]] = []
            markers: list[threading.Event] = []
            item = self._queue.get()
            while True:
                if item is _STOP:
                    stop = True
                elif isinstance(item, threading.Event):
                    markers.append(item)
                else:
                    lists.append(item)  # type: ignore[arg-type]
                if stop or len(lists) >= self._max_batch:
                    break
                try:
                    item = self._queue.get_nowait()
                except queue.Empty:
                    break
            if lists:
                self._write_until_done(lists)
            else:
                self.health.beat()
            for marker in markers:
                marker.set()

    def _write_until_done(self, lists: list[Sequence[Event]]) -> None:
        """Write ``lists``; bad records are skipped, store failures retried."""
        pause = 0.05
        self.health.start_work()
        while True:
            try:
                self._write_lists(lists)
            except Exception as exc:  # the store itself fails: keep the batch, retry
                text = f"cannot write to {self.path}: {exc!r}"
                if self.health.status().ok:
                    log.error("history: %s; retrying (the journal keeps every command)", text)
                self.health.failing(text)
                if self._stopping.wait(pause):
                    log.error("history: stopping with %d unwritten event lists", len(lists))
                    return
                pause = min(pause * 2, MAX_RETRY_PAUSE_S)
                self.health.start_work()
                continue
            self.transactions += 1
            self.events_seen += sum(len(x) for x in lists)
            self.health.end_work()
            return

    def _write_lists(self, lists: list[Sequence[Event]]) -> None:
        try:
            self._store.write_history(chain.from_iterable(lists))
            return
        except _RECORD_ERRORS:
            pass  # one of them is bad: find it below
        for events in lists:
            try:
                self._store.write_history(events)
            except _RECORD_ERRORS:
                self._write_one_by_one(events)

    def _write_one_by_one(self, events: Iterable[Event]) -> None:
        for event in events:
            if not isinstance(event, _WRITTEN):
                continue
            try:
                self._store.write_history((event,))
            except _RECORD_ERRORS as exc:
                self._skip(event, exc)

    def _skip(self, event: Event, exc: Exception) -> None:
        self.skipped += 1
        text = f"seq {event.seq} {type(event).__name__} {event!r}: {exc!r}"
        self.health.error(f"skipped a record: {text}")
        log.error(
            "history: skipped a record the store cannot hold (%s); the journal keeps the "
            "command, rebuild the history from it if needed",
            text,
        )
