"""Order and trade history, written off the event loop.

Invariants:
- ``submit`` is O(1) on the caller's thread (it only queues a reference to the
  event list); one background thread writes, coalescing everything queued since its
  last write into one transaction, so a slow disk costs fewer, larger transactions,
  never a stalled loop.
- Writes are idempotent (see ``openpit.store.base``), so re-submitting the events of
  replayed commands after a restart fills any gap and duplicates nothing.
- Event lists are not copied: the venue must not mutate events after publishing them
  (``openpit.core.events``: only the sequencer stamps, before anyone sees them).
- A write error is kept and raised by the next ``submit``/``flush``; history is a
  projection of the journal, so the venue may keep trading and rebuild it later.
"""

from __future__ import annotations

import asyncio
import logging
import os
import queue
import threading
from collections.abc import Sequence
from itertools import chain
from pathlib import Path

from openpit.core.events import Event
from openpit.store.sqlite import SqliteStore

log = logging.getLogger("openpit.store")

_STOP = object()


class HistoryWriter:
    """Background writer of ``OrderUpdate`` / ``Fill`` / ``Trade`` events to SQLite."""

    def __init__(self, path: str | os.PathLike[str], *, max_batch_lists: int = 4096) -> None:
        self.path = Path(path)
        self._store = SqliteStore(self.path)
        self._queue: queue.SimpleQueue[object] = queue.SimpleQueue()
        self._max_batch = max_batch_lists
        self._error: BaseException | None = None
        self.transactions = 0
        self.events_seen = 0
        self._thread = threading.Thread(target=self._run, name="openpit-history", daemon=True)
        self._thread.start()

    def submit(self, events: Sequence[Event]) -> None:
        """Queue events for writing (non-OrderUpdate/Fill/Trade events are skipped)."""
        self._raise()
        if events:
            self._queue.put(events)

    def flush(self, timeout: float | None = None) -> None:
        """Block until everything submitted so far is committed."""
        done = threading.Event()
        self._queue.put(done)
        if not done.wait(timeout):
            raise TimeoutError("history writer did not catch up in time")
        self._raise()

    async def drain(self) -> None:
        """``flush`` without blocking the event loop."""
        await asyncio.get_running_loop().run_in_executor(None, self.flush)

    def close(self) -> None:
        if self._thread.is_alive():
            self._queue.put(_STOP)
            self._thread.join()
        self._store.close()
        self._raise()

    def _raise(self) -> None:
        if self._error is not None:
            raise RuntimeError(f"history writer failed: {self._error!r}") from self._error

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
            if lists and self._error is None:
                try:
                    self._store.write_history(chain.from_iterable(lists))
                    self.transactions += 1
                    self.events_seen += sum(len(x) for x in lists)
                except Exception as exc:
                    log.exception("history write failed")
                    self._error = exc
            for marker in markers:
                marker.set()
