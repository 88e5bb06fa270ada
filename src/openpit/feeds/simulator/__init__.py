"""The market simulator: a pure, seeded decision core plus a thin asyncio driver.

Core: ``Simulator(config, seed, settings).step(ts, view) -> list[Command]``.
Driver: ``start_simulator(service, enabled=..., seed=..., rate=...)`` or
``run_simulator(service, simulator, rate)``. See ``docs/feeds.md``.
"""

from openpit.feeds.simulator.core import STOP_TYPES, MarketView, OpenOrder, Simulator
from openpit.feeds.simulator.driver import (
    FeedStats,
    run_simulator,
    simulator_enabled,
    start_simulator,
)
from openpit.feeds.simulator.settings import SimSettings
from openpit.feeds.simulator.view import VenueView

__all__ = [
    "STOP_TYPES",
    "FeedStats",
    "MarketView",
    "OpenOrder",
    "SimSettings",
    "Simulator",
    "VenueView",
    "run_simulator",
    "simulator_enabled",
    "start_simulator",
]
