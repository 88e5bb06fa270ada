"""One instrument's order book: two sides of FIFO price levels plus its pending stops.

Invariants:
- A side keeps ``keys``, a sorted list of level keys with the best level last
  (key = price for bids, -price for asks), ``levels`` (price -> orders) and
  ``sizes`` (price -> total remaining).
  A level exists iff it holds at least one order; ``keys`` and ``levels`` agree.
- A level's orders dict is in arrival order (FIFO): insertion appends, removal
  is O(1); ``sizes[price]`` is the sum of its orders' ``remaining``.
- ``stops`` holds armed stop orders (pending stops and OCO stop legs) by order id.
- ``last`` is the last trade price; ``trade_hi``/``trade_lo`` the range of trade
  prices since triggers were last evaluated (None when no trade happened).
"""

from __future__ import annotations

from bisect import bisect_left, insort

from openpit.core.instrument import Instrument
from openpit.engine.order import Order


class BookSide:
    """One side of a book. ``levels[price]`` is the FIFO dict of a level's orders and
    ``sizes[price]`` its total remaining quantity (two flat dicts: no per-level object)."""

    __slots__ = ("is_buy", "keys", "levels", "sizes")

    def __init__(self, is_buy: bool) -> None:
        self.is_buy = is_buy
        self.keys: list[int] = []
        self.levels: dict[int, dict[int, Order]] = {}
        self.sizes: dict[int, int] = {}

    def best(self) -> int | None:
        keys = self.keys
        if not keys:
            return None
        k = keys[-1]
        return k if self.is_buy else -k

    def add(self, o: Order) -> None:
        """Append ``o`` at the back of its price level."""
        price = o.limit
        od = self.levels.get(price)
        if od is None:
            self.levels[price] = {o.order_id: o}
            self.sizes[price] = o.remaining
            insort(self.keys, price if self.is_buy else -price)
        else:
            od[o.order_id] = o
            self.sizes[price] += o.remaining

    def remove(self, o: Order) -> None:
        price = o.limit
        od = self.levels[price]
        del od[o.order_id]
        if od:
            self.sizes[price] -= o.remaining
        else:
            self.drop_level(price)

    def drop_level(self, price: int) -> None:
        del self.levels[price]
        del self.sizes[price]
        keys = self.keys
        del keys[bisect_left(keys, price if self.is_buy else -price)]

    def prices(self) -> list[int]:
        """Level prices, best first."""
        if self.is_buy:
            return self.keys[::-1]
        return [-k for k in reversed(self.keys)]

    def depth(self, levels: int) -> list[tuple[int, int]]:
        out: list[tuple[int, int]] = []
        keys = self.keys
        n = len(keys)
        sign = 1 if self.is_buy else -1
        sizes = self.sizes
        for i in range(n - 1, max(-1, n - 1 - levels), -1):
            price = keys[i] * sign
            out.append((price, sizes[price]))
        return out


class Book:
    __slots__ = ("asks", "bids", "inst", "last", "stops", "touched", "trade_hi", "trade_lo")

    def __init__(self, inst: Instrument) -> None:
        self.inst = inst
        self.bids = BookSide(True)
        self.asks = BookSide(False)
        self.last: int | None = None
        self.stops: dict[int, Order] = {}
        self.trade_hi: int | None = None
        self.trade_lo: int | None = None
        self.touched: dict[int, None] = {}  # side keys of levels changed in this call

    def side(self, is_buy: bool) -> BookSide:
        return self.bids if is_buy else self.asks

    def would_cross(self, is_buy: bool, price: int) -> bool:
        """Would a limit order at ``price`` take liquidity right now?"""
        if is_buy:
            best = self.asks.best()
            return best is not None and price >= best
        best = self.bids.best()
        return best is not None and price <= best

    def reference(self, is_buy: bool) -> int | None:
        """Price-band reference for a market order: last trade, else best opposite."""
        if self.last is not None:
            return self.last
        return (self.asks if is_buy else self.bids).best()
