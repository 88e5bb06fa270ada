"""The venue service: the asyncio edge around the pure venue.

Invariants:
- One writer: every state change goes through ``submit`` on the event loop, which
  stamps the time, executes the command on the ``Venue``, appends it to the journal
  and only after the journal's group commit (one fsync for every command of the
  same loop tick) publishes the result to listeners and returns it to the caller.
  No client ever hears of a command that is not durable.
- Results are published in sequence order, each exactly once.
- Market data is derived from the published events, in the same order.
- A listener that raises costs only itself: the others still get the result and the
  caller still gets its reply. Each listener's first failure is logged with its
  traceback (later ones are counted); ``health`` ("publication") is failing while the
  latest result could not reach every listener.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from typing import Protocol

from openpit.config.loader import VenueConfig
from openpit.core.commands import Command, encode_command
from openpit.core.health import Health
from openpit.venue import CommandResult, Venue


class Journal(Protocol):
    def append(self, seq: int, ts: int, payload: bytes) -> None: ...

    async def commit(self) -> None: ...


Listener = Callable[[CommandResult], None]

log = logging.getLogger("openpit.serve")


def wall_clock_ms() -> int:
    return time.time_ns() // 1_000_000


class VenueService:
    def __init__(
        self,
        config: VenueConfig,
        venue: Venue,
        journal: Journal | None = None,
        clock: Callable[[], int] = wall_clock_ms,
    ) -> None:
        self.config = config
        self.venue = venue
        self.journal = journal
        self.clock = clock
        self._listeners: list[Listener] = []
        self._pending: list[tuple[CommandResult, asyncio.Future[CommandResult]]] = []
        self._flush_scheduled = False
        self._commit_lock = asyncio.Lock()  # FIFO: batches publish in sequence order
        self.published_seq = venue.seq  # the last seq clients may have heard of (durable)
        self.health = Health("publication")
        self.listener_failures: dict[str, int] = {}

    def add_listener(self, listener: Listener) -> None:
        self._listeners.append(listener)

    def remove_listener(self, listener: Listener) -> None:
        if listener in self._listeners:
            self._listeners.remove(listener)

    async def submit(self, command: Command) -> CommandResult:
        """Execute ``command``; return its result once it is durable and published."""
        result = self.venue.execute(command, self.clock())
        if self.journal is None:
            self._publish(result)
            return result
        self.journal.append(result.seq, result.ts, encode_command(command))
        future: asyncio.Future[CommandResult] = asyncio.get_running_loop().create_future()
        self._pending.append((result, future))
        if not self._flush_scheduled:
            self._flush_scheduled = True
            asyncio.get_running_loop().call_soon(self._start_flush)
        return await future

    def submit_nowait(self, command: Command) -> CommandResult:
        """For feeds without a journal-awaiting caller: executes and publishes at once.

        Only valid when there is no journal (tests, benchmarks).
        """
        if self.journal is not None:
            raise RuntimeError("submit_nowait needs a service without a journal")
        result = self.venue.execute(command, self.clock())
        self._publish(result)
        return result

    def _start_flush(self) -> None:
        asyncio.get_running_loop().create_task(self._flush())

    async def _flush(self) -> None:
        batch, self._pending = self._pending, []
        self._flush_scheduled = False
        assert self.journal is not None
        async with self._commit_lock:
            try:
                await self.journal.commit()
            except BaseException as exc:  # the venue cannot go on without its journal
                for _, future in batch:
                    if not future.done():
                        future.set_exception(exc)
                raise
            for result, future in batch:
                self._publish(result)
                if not future.done():
                    future.set_result(result)

    def _publish(self, result: CommandResult) -> None:
        self.published_seq = result.seq
        failed = False
        for listener in list(self._listeners):
            try:
                listener(result)
            except Exception as exc:
                failed = True
                self._listener_failed(listener, result, exc)
        if not failed:
            self.health.beat()

    def _listener_failed(self, listener: Listener, result: CommandResult, exc: Exception) -> None:
        name = getattr(listener, "__qualname__", repr(listener))
        count = self.listener_failures.get(name, 0) + 1
        self.listener_failures[name] = count
        text = f"listener {name} failed on seq {result.seq}: {exc!r}"
        self.health.failing(text)
        if count == 1:
            log.error("%s (logged once per listener; publication goes on)", text, exc_info=exc)
