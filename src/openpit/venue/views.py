"""What the venue publishes and answers: neutral views, integers inside.

Invariants:
- A ``Publication`` is built once per published result (or market-data clock step) by
  the venue service and handed to every listener unchanged: the result and its events
  (order updates carry their cumulative fee, ``openpit.venue.fees``), and the market-data
  updates that result caused, applied exactly once.
- ``accounts`` is computed once per publication (on first use) and shared by every
  listener: the users whose balances or positions the result changed, in the order the
  events name them first.
- ``order_view`` is how a live engine order looks to its owner now: the same
  ``OrderUpdate`` shape the streams carry, fee included, so REST and the sockets show
  one order the same way.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property

import msgspec

from openpit.core.events import Balance, Event, OrderUpdate, Position
from openpit.engine.order import Order
from openpit.marketdata import MarketUpdates
from openpit.venue.sequencer import CommandResult


@dataclass(frozen=True)
class Publication:
    """One published step: a durable command result, or a clock step (``result`` None)."""

    result: CommandResult | None
    updates: MarketUpdates | None  # None: market data unchanged or not attached
    seq: int  # the result's; a clock step: the last published one
    ts: int

    @property
    def events(self) -> Sequence[Event]:
        return () if self.result is None else self.result.events

    @cached_property
    def accounts(self) -> tuple[str, ...]:
        """Users whose balances or positions changed, each once, first mention first."""
        users: dict[str, None] = {}
        for ev in self.events:
            t = type(ev)
            if t is Balance or t is Position:
                assert isinstance(ev, Balance | Position)
                users[ev.user] = None
        return tuple(users)


def order_view(order: Order, fee: tuple[int, int], ts: int) -> OrderUpdate:
    """A live engine order as the ``OrderUpdate`` its owner would see now."""
    units, rate_ppm = fee
    return msgspec.structs.replace(order.update(), ts=ts, fee=units, fee_rate_ppm=rate_ppm)
