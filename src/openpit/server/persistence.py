"""The server's side of durability: snapshot settings and task, history refill, config check.

Invariants:
- History is a projection of the journal. Results replayed at recovery are fed to the
  history writer again (``history_refill``), so events a crash kept from reaching the
  store are written then; writes are idempotent, and results already covered by the
  store's ``history_seq`` are skipped.
- A snapshot file is written only once the history holds every result up to the
  snapshot's seq (``SnapshotTask.history_through``): recovery replays — and so refills
  history with — only what follows the snapshot, so history must not lag behind it.
- Snapshots are taken by one background task (``[server] snapshot_every_commands`` /
  ``snapshot_every_seconds``) and once more on graceful shutdown. A failed snapshot is
  logged and retried at the next poll (the journal still has everything); the task's
  ``health`` ("snapshots") is failing after ``FAILING_AFTER`` failures in a row and dead
  if the task ends before ``stop``.
- A venue restored from a snapshot keeps the configuration it was pickled with. If the
  loaded configuration's venues, assets, instruments or risk settings differ, the
  server refuses to start (``ConfigError`` naming the differences): integer ticks and
  lots mean something else under a changed instrument, and the gateway and market data
  would disagree with the engine. See docs/durability.md.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Final

from openpit.config import ConfigError, VenueConfig
from openpit.core.health import Health
from openpit.durability import Durability, DurabilityConfig, FsyncMode
from openpit.store import HistoryWriter
from openpit.venue import CommandResult, Venue
from openpit.venue.views import Publication

log = logging.getLogger("openpit.serve")

SNAPSHOT_POLL_S: Final = 1.0
HISTORY_CATCH_UP_S: Final = 60.0
FAILING_AFTER: Final = 3  # snapshot failures in a row before the task reports failing


def durability_config(config: VenueConfig, data_dir: Path, fsync: str) -> DurabilityConfig:
    """``DurabilityConfig`` from ``--data-dir``/``--fsync`` and the ``[server]`` table."""
    table = config.extra.get("server", {})
    defaults = DurabilityConfig()
    commands = table.get("snapshot_every_commands", defaults.snapshot_every_commands)
    if isinstance(commands, bool) or not isinstance(commands, int) or commands < 1:
        raise ConfigError(
            f"server.snapshot_every_commands: expected a positive integer, got {commands!r}"
        )
    seconds = table.get("snapshot_every_seconds", defaults.snapshot_every_seconds)
    if isinstance(seconds, bool) or not isinstance(seconds, int | float) or seconds < 0:
        raise ConfigError(
            "server.snapshot_every_seconds: expected a number of seconds >= 0 "
            f"(0 disables the time trigger), got {seconds!r}"
        )
    return DurabilityConfig(
        data_dir=data_dir,
        fsync=FsyncMode(fsync),
        snapshot_every_commands=commands,
        snapshot_every_seconds=float(seconds),
    )


def history_refill(history: HistoryWriter, written_seq: int) -> Callable[[object], None]:
    """``on_result`` for recovery: re-submit replayed results not yet in the history."""

    def refill(result: object) -> None:
        if isinstance(result, CommandResult) and result.seq > written_seq:
            history.submit(result.events)

    return refill


def _diff(kind: str, old: Mapping[str, object], new: Mapping[str, object]) -> list[str]:
    out = [f"{kind} {k} removed" for k in old if k not in new]
    out += [f"{kind} {k} added" for k in new if k not in old]
    out += [f"{kind} {k} changed" for k in old if k in new and old[k] != new[k]]
    return out


def config_differences(restored: VenueConfig, loaded: VenueConfig) -> list[str]:
    """What differs between a restored venue's config and the loaded one (venue-relevant)."""
    out = _diff("venue", restored.venues, loaded.venues)
    out += _diff("asset", restored.assets, loaded.assets)
    out += _diff("instrument", restored.instruments, loaded.instruments)
    if restored.risk != loaded.risk:
        out.append("[risk] changed")
    return out


def check_restored_config(venue: Venue, loaded: VenueConfig, snapshot: Path) -> None:
    """Refuse a config whose venue-relevant parts differ from the snapshot's."""
    diffs = config_differences(venue.config, loaded)
    if diffs:
        raise ConfigError(
            f"{loaded.source} does not match the configuration of the data directory's "
            f"snapshot {snapshot} ({'; '.join(diffs)}). A venue keeps the venues, assets, "
            "instruments and risk settings it was created with: start with that "
            "configuration, or use a new --data-dir for the new one"
        )


class SnapshotTask:
    """Takes policy-due snapshots in the background and a last one on ``stop``."""

    def __init__(self, durability: Durability[Venue], history: HistoryWriter) -> None:
        self.durability = durability
        self.history = history
        self.published_seq = durability.target.seq  # replayed results count as published
        self._stop = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self.health = Health("snapshots", alive=self._alive)
        self._failures = 0

    def on_published(self, result: Publication) -> None:
        """A ``VenueService`` listener; add it after the history listener."""
        self.published_seq = result.seq

    async def history_through(self, seq: int) -> None:
        """Wait until results up to ``seq`` are published and written to the history."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + HISTORY_CATCH_UP_S
        while self.published_seq < seq:
            if loop.time() > deadline:
                raise TimeoutError(f"results up to seq {seq} were not published in time")
            await asyncio.sleep(0.005)
        await self.history.drain()

    def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self._run())

    def _alive(self) -> bool:
        return self._task is None or self._stop.is_set() or not self._task.done()

    async def _run(self) -> None:
        try:
            await self._loop()
        except BaseException as exc:
            if not isinstance(exc, asyncio.CancelledError):
                log.critical("snapshot task stopped: %r", exc, exc_info=exc)
            self.health.dead(f"stopped: {exc!r}")
            raise

    async def _loop(self) -> None:
        while not self._stop.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stop.wait(), SNAPSHOT_POLL_S)
            if self._stop.is_set():
                return
            try:
                await self.durability.maybe_snapshot(self.history_through)
            except Exception as exc:  # the journal still has everything; try again later
                self._failures += 1
                text = f"snapshot failed ({self._failures} in a row): {exc!r}"
                if self._failures >= FAILING_AFTER:
                    self.health.failing(text)
                else:
                    self.health.error(text)
                log.exception("snapshot failed")
            else:
                self._failures = 0
                self.health.beat()

    async def stop(self, final: bool = True) -> None:
        """Stop the task (never mid-write); with ``final``, snapshot the current seq."""
        self._stop.set()
        if self._task is not None:
            await self._task
            self._task = None
        if not final:
            return
        kept = self.durability.snapshots.list()
        if self.durability.target.seq == 0 or (kept and kept[-1][0] >= self.durability.target.seq):
            return
        history = self.history.health.status()
        if not history.ok:  # it cannot catch up: the journal keeps everything instead
            log.error("final snapshot skipped: history writer is %s", history.state)
            return
        try:
            await self.durability.snapshot(self.history_through)
        except Exception:
            log.exception("final snapshot failed (the journal still holds every command)")
