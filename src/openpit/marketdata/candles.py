"""OHLCV candles for 1m 5m 15m 1h 4h 1d 1w on UTC boundaries.

Invariants:
- A candle covers ``[start, end)`` in ms since the epoch (UTC). Minutes, hours and
  days are aligned to the epoch; weeks start Monday 00:00 UTC (1970-01-05 was a
  Monday, so week starts are ``345_600_000 + k * 604_800_000``).
- The live candle changes on every trade. It closes — and is final — only when the
  clock (a later event's ``ts`` or an explicit ``advance``) reaches its ``end``.
- Empty intervals produce no candle: the history has gaps where nothing traded, and
  the next candle opens at its first trade's price (not the previous close).
- Time never runs backwards: a trade stamped before the live candle's start (which
  the sequencer never produces) is counted in the live candle.
- History keeps at most ``max_candles`` closed candles per interval (oldest dropped).
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable

import msgspec

MINUTE_MS = 60_000
WEEK_MS = 7 * 86_400_000
MONDAY_OFFSET_MS = 4 * 86_400_000  # 1970-01-01 was a Thursday

INTERVALS: dict[str, int] = {
    "1m": MINUTE_MS,
    "5m": 5 * MINUTE_MS,
    "15m": 15 * MINUTE_MS,
    "1h": 60 * MINUTE_MS,
    "4h": 240 * MINUTE_MS,
    "1d": 1440 * MINUTE_MS,
    "1w": WEEK_MS,
}


def bucket_start(interval: str, ts: int) -> int:
    """Start (ms) of the ``interval`` candle containing ``ts``."""
    span = INTERVALS[interval]
    if interval == "1w":
        return (ts - MONDAY_OFFSET_MS) // span * span + MONDAY_OFFSET_MS
    return ts // span * span


class Candle(msgspec.Struct, frozen=True, kw_only=True):
    instrument: str
    interval: str
    start: int
    end: int  # exclusive
    open: int
    high: int
    low: int
    close: int
    volume: int  # lots
    quote_volume: int  # quote units
    trades: int
    closed: bool


class CandleSeries:
    """One interval of one instrument: the live candle plus bounded closed history."""

    __slots__ = (
        "_live",
        "history",
        "instrument",
        "interval",
        "span",
    )

    def __init__(self, instrument: str, interval: str, max_candles: int = 1000) -> None:
        self.instrument = instrument
        self.interval = interval
        self.span = INTERVALS[interval]
        self.history: deque[Candle] = deque(maxlen=max_candles)
        # [start, end, open, high, low, close, volume, quote_volume, trades]
        self._live: list[int] | None = None

    def _freeze(self, c: list[int], closed: bool) -> Candle:
        return Candle(
            instrument=self.instrument,
            interval=self.interval,
            start=c[0],
            end=c[1],
            open=c[2],
            high=c[3],
            low=c[4],
            close=c[5],
            volume=c[6],
            quote_volume=c[7],
            trades=c[8],
            closed=closed,
        )

    def add(self, ts: int, price: int, qty: int, notional: int) -> Candle | None:
        """Fold one trade in; returns the candle it closed, if it crossed a boundary."""
        c = self._live
        closed = None
        if c is not None and ts >= c[1]:
            closed = self._close(c)
            c = None
        if c is None:
            start = bucket_start(self.interval, ts)
            self._live = [start, start + self.span, price, price, price, price, qty, notional, 1]
            return closed
        if price > c[3]:
            c[3] = price
        elif price < c[4]:
            c[4] = price
        c[5] = price
        c[6] += qty
        c[7] += notional
        c[8] += 1
        return closed

    def add_many(
        self,
        ts: int,
        open_: int,
        high: int,
        low: int,
        close: int,
        qty: int,
        notional: int,
        count: int,
    ) -> Candle | None:
        """Fold ``count`` trades that all carry ``ts`` at once (their first price,
        extremes, last price and sums); the same as ``add`` for each of them in order."""
        c = self._live
        closed = None
        if c is not None and ts >= c[1]:
            closed = self._close(c)
            c = None
        if c is None:
            start = bucket_start(self.interval, ts)
            self._live = [start, start + self.span, open_, high, low, close, qty, notional, count]
            return closed
        if high > c[3]:
            c[3] = high
        if low < c[4]:
            c[4] = low
        c[5] = close
        c[6] += qty
        c[7] += notional
        c[8] += count
        return closed

    @staticmethod
    def add_many_all(
        series: Iterable[CandleSeries],
        ts: int,
        open_: int,
        high: int,
        low: int,
        close: int,
        qty: int,
        notional: int,
        count: int,
    ) -> list[Candle]:
        """``add_many`` on every series of ``series``; the candles closed, in order.
        The usual case (the trades fall in the live candle) is folded in line."""
        closed_all: list[Candle] = []
        for s in series:
            c = s._live
            if c is not None and ts < c[1]:
                if high > c[3]:
                    c[3] = high
                if low < c[4]:
                    c[4] = low
                c[5] = close
                c[6] += qty
                c[7] += notional
                c[8] += count
                continue
            closed = s.add_many(ts, open_, high, low, close, qty, notional, count)
            if closed is not None:
                closed_all.append(closed)
        return closed_all

    def _close(self, c: list[int]) -> Candle:
        candle = self._freeze(c, True)
        self.history.append(candle)
        self._live = None
        return candle

    def advance(self, now: int) -> Candle | None:
        """Close the live candle if ``now`` reached its end."""
        c = self._live
        if c is not None and now >= c[1]:
            return self._close(c)
        return None

    def live(self) -> Candle | None:
        c = self._live
        return None if c is None else self._freeze(c, False)

    def deadline(self) -> int | None:
        return None if self._live is None else self._live[1]

    def query(self, start: int | None, end: int | None, limit: int | None) -> list[Candle]:
        """Candles with ``start <= candle.start < end``, oldest first, live one included.

        With ``limit``, the most recent ``limit`` of them.
        """
        out = [
            c
            for c in self.history
            if (start is None or c.start >= start) and (end is None or c.start < end)
        ]
        live = self.live()
        if (
            live is not None
            and (start is None or live.start >= start)
            and (end is None or live.start < end)
        ):
            out.append(live)
        if limit is not None:
            out = out[-limit:] if limit > 0 else []
        return out
