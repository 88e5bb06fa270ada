"""One instrument's order book: two sides of FIFO price levels plus its pending stops.

Invariants:
- A side keeps ``keys``, a sorted list of level keys with the best level last
  (key = price for bids, -price for asks), ``levels`` (price -> orders) and
  ``sizes`` (price -> total remaining). ``keys`` and ``levels`` list the same
  prices; a listed level may be empty (lazy deletion) except the best one.
- A level's orders dict is in arrival order (FIFO): insertion appends, removal
  is O(1); ``sizes[price]`` is the sum of its orders' ``remaining``.
- ``stops`` holds armed stop orders (pending stops and OCO stop legs) by order id.
- ``last`` is the last trade price; ``trade_hi``/``trade_lo`` the range of trade
  prices since triggers were last evaluated (None when no trade happened).
"""

from __future__ import annotations

from bisect import insort

import msgspec

from openpit.core.enums import Side
from openpit.core.events import BookLevel
from openpit.core.instrument import Instrument
from openpit.engine.order import Order

_replace = msgspec.structs.replace
_COMPACT_MIN = 256  # levels listed before empty ones are purged


class BookSide:
    """One side of a book. ``levels[price]`` is the FIFO dict of a level's orders and
    ``sizes[price]`` its total remaining quantity (two flat dicts: no per-level object).

    Empty levels are deleted lazily: a level that empties away from the best price
    stays listed (empty dict, size 0) so that re-using the price costs no re-sort;
    ``keys[-1]`` is always a non-empty level, and ``compact`` drops the empty ones
    when they outnumber the live ones.
    """

    __slots__ = ("blproto", "compact_at", "is_buy", "keys", "levels", "opp", "sizes")

    def __init__(self, is_buy: bool, instrument: str = "") -> None:
        self.is_buy = is_buy
        self.keys: list[int] = []
        self.levels: dict[int, dict[int, Order]] = {}
        self.sizes: dict[int, int] = {}
        self.compact_at = _COMPACT_MIN
        self.opp: list[int] = []  # the other side's ``keys`` (the same list object)
        # ``BookLevel`` events of this side are ``replace(blproto, price=, qty=)``
        self.blproto = BookLevel(
            instrument=instrument, side=Side.BUY if is_buy else Side.SELL, price=0, qty=0
        )

    def level_event(self, price: int) -> BookLevel:
        """The ``BookLevel`` of ``price`` with its current total (0 = deleted)."""
        return _replace(self.blproto, price=price, qty=self.sizes.get(price, 0))

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
            self.new_level(price, o)
        else:
            od[o.order_id] = o
            self.sizes[price] += o.remaining

    def new_level(self, price: int, o: Order) -> None:
        self.levels[price] = {o.order_id: o}
        self.sizes[price] = o.remaining
        keys = self.keys
        insort(keys, price if self.is_buy else -price)
        if len(keys) > self.compact_at:
            self.compact()

    def remove(self, o: Order) -> None:
        price = o.limit
        od = self.levels[price]
        del od[o.order_id]
        self.sizes[price] -= o.remaining
        if not od:
            self.emptied(price)

    def emptied(self, price: int) -> None:
        """Level ``price`` has no order left: delete it now only if it is the best."""
        if self.keys[-1] == (price if self.is_buy else -price):
            self.trim()

    def trim(self) -> None:
        """Delete empty levels at the best end, so that ``keys[-1]`` is live."""
        keys = self.keys
        levels = self.levels
        sizes = self.sizes
        sign = 1 if self.is_buy else -1
        while keys:
            price = keys[-1] * sign
            if levels[price]:
                return
            keys.pop()
            del levels[price]
            del sizes[price]

    def compact(self) -> None:
        """Delete every empty level (amortised: runs when the list doubled)."""
        sign = 1 if self.is_buy else -1
        levels = self.levels
        live = []
        for k in self.keys:
            if levels[k * sign]:
                live.append(k)
            else:
                del levels[k * sign]
                del self.sizes[k * sign]
        self.keys[:] = live  # in place: callers may hold the list
        self.compact_at = max(_COMPACT_MIN, 2 * len(live))

    def prices(self) -> list[int]:
        """Prices of the non-empty levels, best first."""
        sign = 1 if self.is_buy else -1
        levels = self.levels
        return [k * sign for k in reversed(self.keys) if levels[k * sign]]

    def depth(self, levels: int) -> list[tuple[int, int]]:
        out: list[tuple[int, int]] = []
        if levels <= 0:
            return out
        sign = 1 if self.is_buy else -1
        sizes = self.sizes
        for k in reversed(self.keys):
            price = k * sign
            size = sizes[price]
            if size:
                out.append((price, size))
                if len(out) == levels:
                    break
        return out


class Book:
    __slots__ = ("asks", "bids", "inst", "last", "stops", "touched", "trade_hi", "trade_lo")

    def __init__(self, inst: Instrument) -> None:
        self.inst = inst
        self.bids = BookSide(True, inst.id)
        self.asks = BookSide(False, inst.id)
        self.bids.opp = self.asks.keys
        self.asks.opp = self.bids.keys
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
