"""The venue service: the asyncio edge around the pure venue, and its one publication step.

Invariants:
- One writer: every state change goes through ``submit`` (or ``submit_deferred``) on the
  event loop, which stamps the time, executes the command on the ``Venue`` at once (so
  the next command of the same client already sees its effect), appends it to the
  journal and only after the journal's group commit (one fsync for every command of the
  same loop tick) publishes the result to listeners and answers the caller. No client
  ever hears of a command that is not durable.
- One publication per result, in sequence order, each exactly once: market data is
  applied once, here (``MarketData.apply``), and every listener gets the same
  ``Publication``: the result, its ``MarketUpdates`` and the venue's own order updates
  (which carry their cumulative fees). Listeners render or store; none computes venue
  numbers again, and none calls back into the service synchronously (risk actions are
  commands queued like any client's).
- The market-data clock (candle closes, the 24 h window) moves through ``advance``, which
  publishes its updates the same way (a ``Publication`` without a result).
- A listener that raises costs only itself: the others still get the publication and
  the caller still gets its reply. Each listener's first failure is logged with its
  traceback (later ones are counted); ``health`` ("publication") is failing while the
  latest result could not reach every listener.
- Read queries (orders, balances, positions) answer from the venue's own indexes in
  O(1) per item: nothing scans all orders or users.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from typing import Protocol

from openpit.config.loader import VenueConfig
from openpit.core.commands import Command, encode_command
from openpit.core.events import OrderUpdate, Position, UserEvent
from openpit.core.health import Health
from openpit.marketdata import MarketData, MarketUpdates
from openpit.venue.deadman import DeadMan
from openpit.venue.private_log import PrivateLog
from openpit.venue.sequencer import CommandResult, Venue
from openpit.venue.views import Publication, order_view


class Journal(Protocol):
    def append(self, seq: int, ts: int, payload: bytes) -> None: ...

    async def commit(self) -> None: ...


Listener = Callable[[Publication], None]
Done = Callable[[CommandResult], None]

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
        marketdata: MarketData | None = None,
        private_log: PrivateLog | None = None,
    ) -> None:
        self.config = config
        self.venue = venue
        self.journal = journal
        self.clock = clock
        self.marketdata = marketdata  # applied once per published result
        # recent private events per user, for clients that resume (``private_since``)
        self.private_log = PrivateLog() if private_log is None else private_log
        # "cancel all my orders unless I refresh this in time" (a CancelAll when it fires)
        self.deadman = DeadMan(self.submit, clock)
        self._listeners: list[Listener] = []
        self._pending: list[tuple[CommandResult, asyncio.Future[CommandResult] | Done]] = []
        self._flush_scheduled = False
        self._commit_lock = asyncio.Lock()  # FIFO: batches publish in sequence order
        self.published_seq = venue.seq  # the last seq clients may have heard of (durable)
        self.health = Health("publication")
        self.listener_failures: dict[str, int] = {}

    def attach_marketdata(self, marketdata: MarketData) -> None:
        """From now on every published result is applied to ``marketdata`` first."""
        self.marketdata = marketdata

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
        future: asyncio.Future[CommandResult] = asyncio.get_running_loop().create_future()
        self._append(command, result, future)
        return await future

    def submit_deferred(self, command: Command, done: Done) -> CommandResult:
        """Execute ``command`` now; call ``done(result)`` once it is durable and published.

        For callers that must not wait (a connection reading its next frame): the venue
        state already includes the command when this returns, the reply waits for the
        commit. Returns the result (not yet durable: for nobody's eyes but the caller's
        bookkeeping).
        """
        result = self.venue.execute(command, self.clock())
        if self.journal is None:
            self._publish(result)
            done(result)
            return result
        self._append(command, result, done)
        return result

    def submit_nowait(self, command: Command) -> CommandResult:
        """For feeds without a journal-awaiting caller: executes and publishes at once.

        Only valid when there is no journal (tests, benchmarks).
        """
        if self.journal is not None:
            raise RuntimeError("submit_nowait needs a service without a journal")
        result = self.venue.execute(command, self.clock())
        self._publish(result)
        return result

    def advance(self, ts: int) -> MarketUpdates | None:
        """Move the market-data clock to ``ts`` and publish what it closed or rolled."""
        if self.marketdata is None:
            return None
        updates = self.marketdata.advance(ts)
        self._deliver(Publication(None, updates, self.published_seq, ts))
        return updates

    # -- read queries (the venue's own indexes) -------------------------------------------
    def order(
        self, user: str, order_id: int | None, client_order_id: str | None
    ) -> OrderUpdate | None:
        """A live order of ``user`` as its owner sees it now, fee included (O(1))."""
        order = self.venue.find_order(user, order_id, client_order_id)
        if order is None:
            return None
        return order_view(order, self.venue.fees.fee(order.order_id), self.venue.ts)

    def open_orders(self, user: str, instrument: str | None = None) -> list[OrderUpdate]:
        fees, ts = self.venue.fees, self.venue.ts
        return [
            order_view(o, fees.fee(o.order_id), ts)
            for o in self.venue.engine.open_orders(user, instrument)
        ]

    def balances(self, user: str) -> dict[str, tuple[int, int]]:
        """asset -> (available, reserved) units."""
        return self.venue.ledger.balances(user)

    def balance(self, user: str, asset: str) -> tuple[int, int]:
        return self.venue.ledger.balance(user, asset)

    def positions(self, user: str) -> list[Position]:
        return self.venue.ledger.positions(user)

    def private_since(self, user: str, useq: int) -> list[UserEvent] | None:
        """``user``'s private events after ``useq`` (their stream sequence), in order, for
        a client that resumes; None when they are no longer all kept (take a snapshot)."""
        current = self.venue.useq(user)
        if useq == current:
            return []
        if useq < 0 or useq > current:
            return None
        return self.private_log.since(user, useq)

    def is_halted(self, instrument: str) -> bool:
        return self.venue.is_halted(instrument)

    # -- the commit and the publication ---------------------------------------------------
    def _append(
        self,
        command: Command,
        result: CommandResult,
        waiter: asyncio.Future[CommandResult] | Done,
    ) -> None:
        assert self.journal is not None
        self.journal.append(result.seq, result.ts, encode_command(command))
        self._pending.append((result, waiter))
        if not self._flush_scheduled:
            self._flush_scheduled = True
            asyncio.get_running_loop().call_soon(self._start_flush)

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
                for _, waiter in batch:
                    if isinstance(waiter, asyncio.Future) and not waiter.done():
                        waiter.set_exception(exc)
                raise
            loop = asyncio.get_running_loop()
            for result, waiter in batch:
                self._publish(result)
                if isinstance(waiter, asyncio.Future):
                    if not waiter.done():
                        waiter.set_result(result)
                else:  # like a future's waiter: after what the publication scheduled
                    loop.call_soon(_answer, waiter, result)

    def _publish(self, result: CommandResult) -> None:
        self.published_seq = result.seq
        self.private_log.record(result.events)
        md = self.marketdata
        updates = md.apply(result.events) if md is not None and result.events else None
        self._deliver(Publication(result, updates, result.seq, result.ts))

    def _deliver(self, publication: Publication) -> None:
        failed = False
        for listener in list(self._listeners):
            try:
                listener(publication)
            except Exception as exc:
                failed = True
                self._listener_failed(listener, publication, exc)
        if not failed:
            self.health.beat()

    def _listener_failed(
        self, listener: Listener, publication: Publication, exc: Exception
    ) -> None:
        name = getattr(listener, "__qualname__", repr(listener))
        count = self.listener_failures.get(name, 0) + 1
        self.listener_failures[name] = count
        text = f"listener {name} failed on seq {publication.seq}: {exc!r}"
        self.health.failing(text)
        if count == 1:
            log.error("%s (logged once per listener; publication goes on)", text, exc_info=exc)


def _answer(done: Done, result: CommandResult) -> None:
    try:
        done(result)
    except Exception:
        log.exception("reply to seq %d failed", result.seq)
