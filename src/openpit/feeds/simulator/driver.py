"""The asyncio edge of the simulator: a timer that steps the core and submits commands.

Invariants:
- The driver owns no decisions: it reads the service's clock, calls
  ``Simulator.step`` and sends each command through ``VenueService.submit`` — the same
  path as any client's command, journalled and published the same way.
- Pacing: on average ``rate`` commands per second (a step with no command counts as
  one); when the loop falls behind it does not burst to catch up.
- A bug in one step is logged and skipped; the venue keeps running.
"""

from __future__ import annotations

import asyncio
import logging
from collections import Counter
from dataclasses import dataclass, field

from openpit.config.loader import VenueConfig
from openpit.core.commands import Batch, Command
from openpit.feeds.simulator.core import MarketView, Simulator
from openpit.feeds.simulator.view import VenueView
from openpit.venue import CommandResult
from openpit.venue.service import VenueService

log = logging.getLogger("openpit.feeds")


@dataclass(slots=True)
class FeedStats:
    """What a feed sent and how the venue answered (counted per order operation)."""

    steps: int = 0
    commands: int = 0
    operations: int = 0
    rejected: int = 0
    reasons: Counter[str] = field(default_factory=Counter)

    def record(self, command: Command, result: CommandResult) -> None:
        self.commands += 1
        outcomes = result.results if isinstance(command, Batch) and result.results else [result]
        for sub in outcomes:
            self.operations += 1
            if not sub.ok:
                self.rejected += 1
                self.reasons[str(sub.reason)] += 1

    @property
    def rejection_rate(self) -> float:
        return self.rejected / self.operations if self.operations else 0.0


async def run_simulator(
    service: VenueService,
    simulator: Simulator,
    rate: float | None = None,
    *,
    view: MarketView | None = None,
    stats: FeedStats | None = None,
    setup: bool = True,
) -> FeedStats:
    """Fund the simulator's accounts, then step it for ever (until cancelled).

    ``rate`` is commands per second (default: the simulator's settings). ``view``
    defaults to reading ``service.venue``. Pass ``stats`` to watch the counters live.
    """
    rate = simulator.settings.rate if rate is None else rate
    if rate <= 0:
        raise ValueError("rate must be positive")
    view = VenueView(service.venue) if view is None else view
    stats = FeedStats() if stats is None else stats
    loop = asyncio.get_running_loop()
    try:
        if setup:
            for command in simulator.setup_commands():
                stats.record(command, await service.submit(command))
        next_at = loop.time()
        while True:
            try:
                commands = simulator.step(service.clock(), view)
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
    finally:
        log.info(
            "simulator stopped: %d steps, %d commands, %d of %d operations rejected",
            stats.steps,
            stats.commands,
            stats.rejected,
            stats.operations,
        )


def simulator_enabled(config: VenueConfig) -> bool:
    """Whether ``config`` wants the simulator (``[simulator] enabled``, default true)."""
    return config.extra.get("simulator", {}).get("enabled", True) is not False


def start_simulator(
    service: VenueService,
    *,
    enabled: bool = True,
    seed: int | None = None,
    rate: float | None = None,
    stats: FeedStats | None = None,
) -> asyncio.Task[FeedStats] | None:
    """Start the simulator of ``service.config`` as a task on the running loop.

    Returns None when it is off (``enabled=False``, i.e. ``--no-simulator``, or
    ``[simulator] enabled = false``). ``seed``/``rate`` override the config. Raises
    ``ConfigError`` for a bad ``[simulator]`` section. Cancel the task to stop it.
    """
    if not enabled or not simulator_enabled(service.config):
        return None
    simulator = Simulator.from_config(service.config, seed)
    return asyncio.get_running_loop().create_task(
        run_simulator(service, simulator, rate, stats=stats), name="openpit-simulator"
    )
