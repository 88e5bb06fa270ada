"""``VenueView``: the simulator's ``MarketView`` read straight from a ``Venue``.

Read-only: it calls the engine's and ledger's query methods and never changes state.
"""

from __future__ import annotations

from openpit.feeds.simulator.core import OpenOrder
from openpit.venue import Venue


class VenueView:
    """Best prices, last price, open orders and balances of one ``Venue``."""

    def __init__(self, venue: Venue) -> None:
        self.venue = venue

    def best_bid(self, instrument: str) -> int | None:
        return self.venue.engine.best_bid(instrument)

    def best_ask(self, instrument: str) -> int | None:
        return self.venue.engine.best_ask(instrument)

    def last_price(self, instrument: str) -> int | None:
        return self.venue.engine.last_price(instrument)

    def open_orders(self, user: str, instrument: str) -> list[OpenOrder]:
        return [
            OpenOrder(
                order_id=o.order_id,
                side=o.side,
                type=o.type,
                price=o.price,
                stop_price=o.stop_price,
                remaining=o.remaining,
            )
            for o in self.venue.engine.open_orders(user, instrument)
        ]

    def available(self, user: str, asset: str) -> int:
        return self.venue.ledger.balance(user, asset)[0]
