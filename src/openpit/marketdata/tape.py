"""Recent public trades per instrument: a bounded ring buffer.

Invariants:
- A ``PublicTrade`` carries only public fields (no user names, no order ids).
- The tape holds at most ``capacity`` trades, oldest evicted first; ``recent(limit)``
  returns the newest ``limit`` trades, newest first.
"""

from __future__ import annotations

from collections import deque

import msgspec

from openpit.core.enums import Side
from openpit.core.events import Trade


class PublicTrade(msgspec.Struct, frozen=True, kw_only=True):
    """One execution as every market-data subscriber sees it.

    ``price`` in ticks, ``qty`` in lots, ``ts`` ms; ``sequence`` is the event's
    per-instrument ``iseq`` (spec 004's trade ``sequence``).
    """

    instrument: str
    trade_id: int
    price: int
    qty: int
    taker_side: Side
    ts: int
    sequence: int

    @classmethod
    def of(cls, ev: Trade) -> PublicTrade:
        return cls(
            instrument=ev.instrument,
            trade_id=ev.trade_id,
            price=ev.price,
            qty=ev.qty,
            taker_side=ev.taker_side,
            ts=ev.ts,
            sequence=ev.iseq,
        )


class TradeTape:
    def __init__(self, capacity: int = 1000) -> None:
        if capacity <= 0:
            raise ValueError("capacity must be positive")
        self._buf: deque[PublicTrade] = deque(maxlen=capacity)

    def append(self, trade: PublicTrade) -> None:
        self._buf.append(trade)

    def recent(self, limit: int | None = None) -> list[PublicTrade]:
        """The newest ``limit`` trades (all if None), newest first."""
        buf = self._buf
        n = len(buf) if limit is None else max(0, min(limit, len(buf)))
        return [buf[-1 - i] for i in range(n)]

    def __len__(self) -> int:
        return len(self._buf)
