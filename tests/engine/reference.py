"""An obviously-correct (slow) reference matcher for limit, ioc, market and cancel.

One instrument, no self-trade prevention. Every order is a plain record in one list;
matching re-scans the list for the best opposite order each time (price, then
arrival), so there is no index to get wrong.
"""

from __future__ import annotations

from dataclasses import dataclass

PPM = 1_000_000


@dataclass
class RefOrder:
    oid: int
    user: str
    is_buy: bool
    price: int
    remaining: int
    arrival: int


@dataclass
class RefTrade:
    price: int
    qty: int
    maker: int
    taker: int


class RefBook:
    def __init__(self, band_ppm: int) -> None:
        self.band_ppm = band_ppm
        self.orders: list[RefOrder] = []
        self.last: int | None = None
        self.clock = 0

    def best(self, is_buy: bool) -> int | None:
        prices = [o.price for o in self.orders if o.is_buy == is_buy]
        if not prices:
            return None
        return max(prices) if is_buy else min(prices)

    def place(
        self, oid: int, user: str, is_buy: bool, kind: str, price: int | None, qty: int
    ) -> list[RefTrade] | None:
        """Trades of the new order; None if rejected (market order, empty other side)."""
        if kind == "market":
            opposite = self.best(not is_buy)
            if opposite is None:
                return None
            ref = self.last if self.last is not None else opposite
            if is_buy:
                limit = ref * (PPM + self.band_ppm) // PPM
            else:
                limit = max(1, -((-ref * (PPM - self.band_ppm)) // PPM))
        else:
            assert price is not None
            limit = price
        remaining = qty
        trades: list[RefTrade] = []
        while remaining > 0:
            candidates = [
                o
                for o in self.orders
                if o.is_buy != is_buy and (o.price <= limit if is_buy else o.price >= limit)
            ]
            if not candidates:
                break
            maker = min(candidates, key=lambda o: (o.price if is_buy else -o.price, o.arrival))
            q = min(remaining, maker.remaining)
            trades.append(RefTrade(maker.price, q, maker.oid, oid))
            maker.remaining -= q
            remaining -= q
            self.last = maker.price
            if maker.remaining == 0:
                self.orders.remove(maker)
        if remaining > 0 and kind == "limit":
            self.clock += 1
            self.orders.append(RefOrder(oid, user, is_buy, limit, remaining, self.clock))
        return trades

    def cancel(self, user: str, oid: int) -> bool:
        for o in self.orders:
            if o.oid == oid and o.user == user:
                self.orders.remove(o)
                return True
        return False

    def depth(self) -> tuple[list[tuple[int, int]], list[tuple[int, int]]]:
        sides: tuple[dict[int, int], dict[int, int]] = ({}, {})
        for o in self.orders:
            side = sides[0] if o.is_buy else sides[1]
            side[o.price] = side.get(o.price, 0) + o.remaining
        bids = sorted(sides[0].items(), reverse=True)
        asks = sorted(sides[1].items())
        return bids, asks
