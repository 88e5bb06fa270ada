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


class MinuteBar(msgspec.Struct, frozen=True, kw_only=True):
    """The fold of one minute's trades (a 1m candle's content), e.g. aggregated by the
    store for a rebuild: ``CandleSeries.add_many(start, open, high, low, close, qty,
    notional, count)`` adds them as those trades would have been added one by one."""

    start: int
    open: int
    high: int
    low: int
    close: int
    qty: int
    notional: int
    count: int


class CandleSeries:
    """One interval of one instrument: the live candle plus bounded closed history.

    ``rolled``: the series of larger intervals built from this one's closed candles
    (see ``RolledSeries``); each is told of every candle this series closes.
    """

    __slots__ = (
        "_live",
        "history",
        "instrument",
        "interval",
        "rolled",
        "span",
    )

    def __init__(self, instrument: str, interval: str, max_candles: int = 1000) -> None:
        self.instrument = instrument
        self.interval = interval
        self.span = INTERVALS[interval]
        self.history: deque[Candle] = deque(maxlen=max_candles)
        # [start, end, open, high, low, close, volume, quote_volume, trades]
        self._live: list[int] | None = None
        self.rolled: list[RolledSeries] = []

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

    def _close(self, c: list[int]) -> Candle:
        candle = self._freeze(c, True)
        self.history.append(candle)
        self._live = None
        for r in self.rolled:
            r.fold(c)
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


class RolledSeries(CandleSeries):
    """A larger interval built from the closed candles of a base series (1m).

    Every base candle lies inside exactly one bucket of each larger interval (all
    boundaries are minute-aligned, weeks included), so the larger candle is the fold
    of the base candles of its bucket: first open, extremes, last close, sums. Its
    ``_live`` holds the fold of the base candles already closed (None: none yet); the
    live candle shown is that fold merged with the base's live candle. Trades go to the
    base series only (never ``add`` to a rolled one); ``sync(ts)`` closes this candle
    once time left its bucket.
    """

    __slots__ = ("base",)

    def __init__(self, base: CandleSeries, interval: str, max_candles: int = 1000) -> None:
        super().__init__(base.instrument, interval, max_candles)
        self.base = base
        base.rolled.append(self)

    def fold(self, c: list[int]) -> None:
        """A base candle closed: fold it into this bucket's partial candle."""
        p = self._live
        if p is not None and c[0] >= p[1]:
            # not reached: a trade opening a base candle in a later bucket is followed
            # by ``sync``, and ``advance`` runs the base before the rolled series;
            # kept so history stays right if that order is ever broken
            self._close(p)
            p = None
        if p is None:
            start = bucket_start(self.interval, c[0])
            self._live = [start, start + self.span, *c[2:]]
            return
        if c[3] > p[3]:
            p[3] = c[3]
        if c[4] < p[4]:
            p[4] = c[4]
        p[5] = c[5]
        p[6] += c[6]
        p[7] += c[7]
        p[8] += c[8]

    def _current(self) -> list[int] | None:
        """The live candle: the partial merged with the base's live candle."""
        p, b = self._live, self.base._live
        if b is None or (p is not None and b[0] >= p[1]):
            return p
        if p is None:
            start = bucket_start(self.interval, b[0])
            return [start, start + self.span, *b[2:]]
        high = p[3] if p[3] > b[3] else b[3]
        low = p[4] if p[4] < b[4] else b[4]
        return [p[0], p[1], p[2], high, low, b[5], p[6] + b[6], p[7] + b[7], p[8] + b[8]]

    def sync(self, ts: int) -> Candle | None:
        """Time reached ``ts`` (a trade's): close the partial if its bucket ended."""
        p = self._live
        if p is not None and ts >= p[1]:
            return self._close(p)
        return None

    def advance(self, now: int) -> Candle | None:
        return self.sync(now)

    def live(self) -> Candle | None:
        c = self._current()
        return None if c is None else self._freeze(c, False)

    def deadline(self) -> int | None:
        c = self._current()
        return None if c is None else c[1]


def candle_series(instrument: str, max_candles: int = 1000) -> dict[str, CandleSeries]:
    """Every interval of ``INTERVALS`` for one instrument: 1m fed by trades, the larger
    ones rolled up from it. Feed trades to the ``"1m"`` series, then ``sync_rolled``."""
    base = CandleSeries(instrument, "1m", max_candles)
    out: dict[str, CandleSeries] = {"1m": base}
    for interval in INTERVALS:
        if interval != "1m":
            out[interval] = RolledSeries(base, interval, max_candles)
    return out


def sync_rolled(rolled: list[RolledSeries], ts: int, closed: list[Candle]) -> None:
    """Time reached ``ts``: close the rolled candles whose bucket ended (into ``closed``,
    smaller intervals first)."""
    for r in rolled:
        c = r.sync(ts)
        if c is not None:
            closed.append(c)
