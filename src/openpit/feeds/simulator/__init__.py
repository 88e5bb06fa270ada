"""The market simulator: a pure, seeded decision core plus a thin asyncio driver."""

from openpit.feeds.simulator.core import STOP_TYPES, MarketView, OpenOrder, Simulator
from openpit.feeds.simulator.settings import SimSettings

__all__ = ["STOP_TYPES", "MarketView", "OpenOrder", "SimSettings", "Simulator"]
