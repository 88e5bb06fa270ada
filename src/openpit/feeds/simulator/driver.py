"""The asyncio edge of the simulator: a timer that steps the core and submits commands.

Invariants:
- The driver owns no decisions: it reads the clock, calls ``Simulator.step`` and sends
  each command through ``service.submit`` — the same path as any client's command,
  journalled and published the same way.
- Pacing: on average ``rate`` commands per second (a step with no command counts as
  one); when the loop falls behind it does not burst to catch up.
- A bug in one step is logged and skipped; the venue keeps running.
"""

from __future__ import annotations

import asyncio
import logging
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Protocol

from openpit.config.loader import VenueConfig
from openpit.core.commands import Batch, Command
from openpit.core.enums import Reason
from openpit.feeds.simulator.core import MarketView, Simulator

log = logging.getLogger("openpit.feeds.simulator")


class Outcome(Protocol):
    """The parts of ``openpit.venue.CommandResult`` the feeds look at."""

    @property
    def ok(self) -> bool: ...

    @property
    def reason(self) -> Reason: ...

    @property
    def results(self) -> Sequence[Outcome]: ...


class CommandSink(Protocol):
    """What a feed needs from ``openpit.server.service.VenueService``."""

    async def submit(self, command: Command) -> Outcome: ...


@dataclass(slots=True)
class FeedStats:
    """Counts of what a feed sent and how the venue answered (per order operation)."""

    steps: int = 0
    commands: int = 0
    operations: int = 0
    rejected: int = 0
    reasons: Counter[str] = field(default_factory=Counter)

    def record(self, command: Command, outcome: Outcome) -> None:
        self.commands += 1
        outcomes: Sequence[Outcome] = (
            outcome.results if isinstance(command, Batch) and outcome.results else [outcome]
        )
        for sub in outcomes:
            self.operations += 1
            if not sub.ok:
                self.rejected += 1
                self.reasons[str(sub.reason)] += 1

    @property
    def rejection_rate(self) -> float:
        return self.rejected / self.operations if self.operations else 0.0


async def run_simulator(
    service: CommandSink,
    simulator: Simulator,
    rate: float | None = None,
    *,
    view: MarketView,
    clock: Callable[[], int],
    stats: FeedStats | None = None,
    setup: bool = True,
) -> FeedStats:
    """Fund the simulator's accounts, then step it for ever (until cancelled).

    ``view`` reads the venue (``VenueView(venue)``), ``clock`` gives the timestamp the
    venue will stamp (``service.clock``). Returns the stats when cancelled.
    """
    rate = simulator.settings.rate if rate is None else rate
    if rate <= 0:
        raise ValueError("rate must be positive")
    stats = stats if stats is not None else FeedStats()
    loop = asyncio.get_running_loop()
    try:
        if setup:
            for command in simulator.setup_commands():
                stats.record(command, await service.submit(command))
        next_at = loop.time()
        while True:
            try:
                commands = simulator.step(clock(), view)
            except Exception:  # a simulator bug must not take the venue down
                log.exception("simulator step failed; skipping it")
                commands = []
            stats.steps += 1
            for command in commands:
                stats.record(command, await service.submit(command))
            next_at += max(1, len(commands)) / rate
            now = loop.time()
            if next_at < now - 1.0:
                next_at = now
            await asyncio.sleep(max(0.0, next_at - now))
    except asyncio.CancelledError:
        log.info(
            "simulator stopped: %d steps, %d commands, %d rejected",
            stats.steps,
            stats.commands,
            stats.rejected,
        )
        raise
    return stats  # pragma: no cover - the loop only ends by cancellation


def simulator_enabled(config: VenueConfig) -> bool:
    """Whether ``config`` wants the simulator (``[simulator] enabled``, default true)."""
    value = config.extra.get("simulator", {}).get("enabled", True)
    return value is not False
