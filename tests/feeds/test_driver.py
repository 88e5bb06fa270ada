"""The asyncio drivers: simulator and replay through VenueService.submit."""

from __future__ import annotations

import asyncio
import itertools

from openpit.config.loader import parse_config
from openpit.core.events import Trade
from openpit.feeds.replay import SAMPLE_CSV, ReplayPlan, run_replay
from openpit.feeds.simulator import FeedStats, Simulator, run_simulator, start_simulator
from openpit.venue import CommandResult, Venue
from openpit.venue.service import VenueService
from tests.feeds.helpers import CONFIG, T_OPEN
from tests.feeds.test_simulator import _raw_demo


def _service(step_ms: int = 50) -> VenueService:
    ticks = itertools.count()
    return VenueService(CONFIG, Venue(CONFIG), clock=lambda: T_OPEN + step_ms * next(ticks))


async def _until_steps(stats: FeedStats, steps: int) -> None:
    while stats.steps < steps:
        await asyncio.sleep(0.001)


def test_run_simulator_submits_through_service_until_cancelled() -> None:
    service = _service()
    published: list[CommandResult] = []
    service.add_listener(published.append)
    stats = FeedStats()

    async def main() -> None:
        task = asyncio.create_task(
            run_simulator(service, Simulator(CONFIG, 3), rate=50_000, stats=stats)
        )
        await _until_steps(stats, 300)
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        assert task.cancelled()

    asyncio.run(main())
    assert stats.steps >= 300 and stats.commands == len(published) > 300
    assert stats.rejected == 0 and stats.operations > stats.commands
    assert any(isinstance(e, Trade) for r in published for e in r.events)
    assert service.venue.engine.best_bid("BTCUSDT") is not None


def test_start_simulator_off_by_flag_or_config_returns_none() -> None:
    off = parse_config({**_raw_demo(), "simulator": {"enabled": False}}, "test.toml")

    async def main() -> None:
        assert start_simulator(_service(), enabled=False) is None
        assert start_simulator(VenueService(off, Venue(off))) is None
        task = start_simulator(_service(), seed=4, rate=50_000)
        assert task is not None
        await asyncio.sleep(0.01)
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)

    asyncio.run(main())


def test_run_replay_max_speed_prints_every_csv_trade() -> None:
    service = _service()
    plan = ReplayPlan.from_csv(SAMPLE_CSV, CONFIG.instruments["BTCUSDT"])
    trades: list[tuple[int, int]] = []
    service.add_listener(
        lambda r: trades.extend((e.price, e.qty) for e in r.events if isinstance(e, Trade))
    )
    stats = asyncio.run(run_replay(service, plan, speed=None))
    assert stats.commands == len(plan) and stats.rejected == 0
    assert trades == plan.trades


def test_run_replay_fast_speed_keeps_csv_order() -> None:
    service = _service()
    plan = ReplayPlan.from_csv(SAMPLE_CSV, CONFIG.instruments["BTCUSDT"])
    trades: list[tuple[int, int]] = []
    service.add_listener(
        lambda r: trades.extend((e.price, e.qty) for e in r.events if isinstance(e, Trade))
    )
    stats = asyncio.run(run_replay(service, plan, speed=5000.0))
    assert stats.rejected == 0 and trades == plan.trades
