"""Spot positions: lots acquired through trades, at average cost.

Invariants:
- One position per (user, instrument); ``qty >= 0`` lots, ``cost >= 0`` quote units.
- A buy of ``q`` lots at notional ``N`` adds ``q`` and ``N`` (fees are not part of
  cost, so ``cost / (qty * notional_units)`` is the average entry price in ticks).
- A sell realizes PnL only on the tracked part ``t = min(q, qty)``: the cost of that
  part is ``floor(cost * t / qty)`` (all of it when ``t == qty``) and
  ``realized_pnl += notional(price, t) - that cost``. Units that were deposited rather
  than bought are not tracked: the position floors at 0 and never goes short.
- Realized PnL is gross of fees (fees are reported on each ``Fill``).
"""

from __future__ import annotations

from dataclasses import dataclass

from openpit.core.instrument import Instrument
from openpit.ledger.money import pro_rata_floor


@dataclass(slots=True)
class SpotPosition:
    qty: int = 0
    cost: int = 0
    realized_pnl: int = 0

    def key(self) -> tuple[int, int, int]:
        return (self.qty, self.cost, self.realized_pnl)


def spot_buy(pos: SpotPosition, qty: int, notional: int) -> None:
    pos.qty += qty
    pos.cost += notional


def spot_sell(pos: SpotPosition, inst: Instrument, price: int, qty: int) -> bool:
    """Reduce ``pos`` by a sell; returns whether the position changed."""
    tracked = min(qty, pos.qty)
    if tracked <= 0:
        return False
    part = pro_rata_floor(pos.cost, tracked, pos.qty)
    pos.realized_pnl += inst.notional(price, tracked) - part
    pos.qty -= tracked
    pos.cost -= part
    return True
