"""Ticker: last trade, top of book and exact rolling 24 h statistics.

Invariants:
- The window at clock ``now`` holds exactly the trades with ``ts > now - 24 h``
  (``now`` = the latest event time seen; nothing reads a clock). Trades are
  evicted from the front in arrival order, so the window is exact, never sampled.
- ``open`` is the price of the first trade in the window, ``high``/``low`` its extremes
  (monotonic deques: O(1) amortised per trade), ``volume`` the sum of lots and
  ``quote_volume`` the sum of notionals in quote units. An empty window has
  open/high/low None and zero volume; ``last_price`` survives (last trade ever).
- ``change = last_price - open`` (ticks); ``change_ppm`` is change / open in parts
  per million, truncated toward zero.
"""

from __future__ import annotations

from collections import deque

import msgspec

DAY_MS = 86_400_000


class Ticker(msgspec.Struct, frozen=True, kw_only=True):
    instrument: str
    last_price: int | None
    last_qty: int | None
    bid: int | None
    bid_qty: int | None
    ask: int | None
    ask_qty: int | None
    open: int | None
    high: int | None
    low: int | None
    volume: int  # lots traded in the window
    quote_volume: int  # quote units traded in the window
    trades: int  # number of trades in the window
    change: int | None  # ticks, last - open
    change_ppm: int | None  # (last - open) / open * 1e6, truncated toward zero
    ts: int  # clock the window was evaluated at


def ratio_ppm(num: int, den: int) -> int:
    """num / den in parts per million, truncated toward zero."""
    q = abs(num) * 1_000_000 // abs(den)
    return q if (num >= 0) == (den > 0) else -q


class RollingWindow:
    """Exact sliding window of trades over ``span_ms`` of event time."""

    __slots__ = ("_hi", "_lo", "_n", "_trades", "quote_volume", "span_ms", "volume")

    def __init__(self, span_ms: int = DAY_MS) -> None:
        self.span_ms = span_ms
        # (index, ts, price, qty, notional)
        self._trades: deque[tuple[int, int, int, int, int]] = deque()
        self._hi: deque[tuple[int, int]] = deque()  # (index, price) decreasing prices
        self._lo: deque[tuple[int, int]] = deque()  # (index, price) increasing prices
        self._n = 0
        self.volume = 0
        self.quote_volume = 0

    def add(self, ts: int, price: int, qty: int, notional: int) -> None:
        i = self._n
        self._n = i + 1
        self._trades.append((i, ts, price, qty, notional))
        self.volume += qty
        self.quote_volume += notional
        hi, lo = self._hi, self._lo
        while hi and hi[-1][1] <= price:
            hi.pop()
        hi.append((i, price))
        while lo and lo[-1][1] >= price:
            lo.pop()
        lo.append((i, price))

    def evict(self, now: int) -> bool:
        """Drop trades with ``ts <= now - span``; True if anything was dropped."""
        cutoff = now - self.span_ms
        trades = self._trades
        if not trades or trades[0][1] > cutoff:
            return False
        hi, lo = self._hi, self._lo
        while trades and trades[0][1] <= cutoff:
            i, _, _, qty, notional = trades.popleft()
            self.volume -= qty
            self.quote_volume -= notional
            if hi and hi[0][0] == i:
                hi.popleft()
            if lo and lo[0][0] == i:
                lo.popleft()
        return True

    def next_expiry(self) -> int | None:
        """The clock value at which the oldest trade leaves the window."""
        return self._trades[0][1] + self.span_ms if self._trades else None

    @property
    def count(self) -> int:
        return len(self._trades)

    @property
    def open(self) -> int | None:
        return self._trades[0][2] if self._trades else None

    @property
    def high(self) -> int | None:
        return self._hi[0][1] if self._hi else None

    @property
    def low(self) -> int | None:
        return self._lo[0][1] if self._lo else None
