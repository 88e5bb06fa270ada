"""Shared builders for alerts tests: demo config, a funded real venue, market data."""

from __future__ import annotations

import tomllib
from collections.abc import Sequence
from datetime import UTC, datetime
from decimal import Decimal
from importlib import resources
from typing import Any

from openpit.alerts import AnyAlertEvent, RiskServices
from openpit.config import load_demo_config
from openpit.config.loader import VenueConfig, parse_config
from openpit.core.commands import Command, PlaceOrder
from openpit.core.enums import OrderType, Side, TimeInForce
from openpit.core.events import Event
from openpit.marketdata import MarketData
from openpit.venue import CommandResult, Venue

CONFIG = load_demo_config()
# Tuesday 2026-11-17 10:00 New York: equities are open.
T0 = int(datetime(2026, 11, 17, 15, 0, tzinfo=UTC).timestamp() * 1000)


def config_with(**extra: dict[str, Any]) -> VenueConfig:
    """The demo config with extra tables (``alerts``, ``circuit_breaker``, ``arbitrage``)."""
    text = resources.files("openpit.config").joinpath("demo.toml").read_text(encoding="utf-8")
    data = tomllib.loads(text)
    data.update(extra)
    return parse_config(data, "<test config>")


def px(value: str, inst: str = "BTCUSDT") -> int:
    return CONFIG.instruments[inst].price_to_ticks(Decimal(value))


def qty(value: str, inst: str = "BTCUSDT") -> int:
    return CONFIG.instruments[inst].qty_to_lots(Decimal(value))


def limit(
    user: str, side: Side, price: str, amount: str, inst: str = "BTCUSDT", **kw: Any
) -> PlaceOrder:
    return PlaceOrder(
        user=user,
        instrument=inst,
        side=side,
        type=OrderType.LIMIT,
        qty=qty(amount, inst),
        price=px(price, inst),
        tif=TimeInForce.GTC,
        **kw,
    )


class Harness:
    """A real Venue + MarketData + RiskServices, wired the way the server does it."""

    def __init__(self, config: VenueConfig = CONFIG, services: RiskServices | None = None):
        self.venue = Venue(config)
        self.md = MarketData(config)
        self.services = services or RiskServices(config)
        self.published: list[AnyAlertEvent] = []
        self.submitted: list[Command] = []
        for cmd in self.venue.genesis_commands():
            assert self.venue.execute(cmd, T0).ok

    def run(self, cmd: Command, ts: int) -> CommandResult:
        result = self.venue.execute(cmd, ts)
        self.feed(result.events, ts)
        return result

    def feed(self, events: Sequence[Event], ts: int) -> None:
        self.md.apply(events)
        out, commands = self.services.on_result(events, self.md, ts)
        self.published.extend(out)
        for c in commands:
            self.submitted.append(c)
            self.run(c, ts)

    def tick(self, ts: int) -> None:
        updates = self.md.advance(ts)
        out, commands = self.services.on_tick(self.md, ts, updates.instruments)
        self.published.extend(out)
        for c in commands:
            self.submitted.append(c)
            self.run(c, ts)

    def of(self, kind: type[Any]) -> list[Any]:
        return [e for e in self.published if isinstance(e, kind)]
