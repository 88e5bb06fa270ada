"""Shared pieces for feed tests: the demo config, a fixed open-market time, fake views."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

from openpit.config import load_demo_config
from openpit.core.commands import Batch, Command, PlaceOrder
from openpit.feeds.simulator import OpenOrder
from openpit.venue import CommandResult, Venue

CONFIG = load_demo_config()
# Tuesday 2026-11-17 09:30 New York (14:30 UTC): equities have just opened.
T_OPEN = int(datetime(2026, 11, 17, 14, 30, tzinfo=UTC).timestamp() * 1000)
# Saturday 2026-11-21 12:00 UTC: equities are closed, crypto trades.
T_SATURDAY = int(datetime(2026, 11, 21, 12, 0, tzinfo=UTC).timestamp() * 1000)


@dataclass
class StaticView:
    """A market view that never changes: fixed quotes, no orders, fixed balances."""

    bids: dict[str, int] = field(default_factory=dict)
    asks: dict[str, int] = field(default_factory=dict)
    last: dict[str, int] = field(default_factory=dict)
    balance: int = 10**18

    def best_bid(self, instrument: str) -> int | None:
        return self.bids.get(instrument)

    def best_ask(self, instrument: str) -> int | None:
        return self.asks.get(instrument)

    def last_price(self, instrument: str) -> int | None:
        return self.last.get(instrument)

    def open_orders(self, user: str, instrument: str) -> Sequence[OpenOrder]:
        return ()

    def available(self, user: str, asset: str) -> int:
        return self.balance


def place_ops(commands: Sequence[Command]) -> list[PlaceOrder]:
    out: list[PlaceOrder] = []
    for c in commands:
        if isinstance(c, PlaceOrder):
            out.append(c)
        elif isinstance(c, Batch):
            out.extend(op for op in c.ops if isinstance(op, PlaceOrder))
    return out


def operations(command: Command, result: CommandResult) -> list[CommandResult]:
    """The per-operation results of a command (a Batch answers each op on its own)."""
    return result.results if isinstance(command, Batch) else [result]


def funded_venue(ts: int = T_OPEN) -> Venue:
    venue = Venue(CONFIG)
    for cmd in venue.genesis_commands():
        assert venue.execute(cmd, ts).ok
    return venue
