"""Engine state shared by matching, stops and the public API: books and order indices.

Invariants:
- ``orders`` holds exactly the live orders (resting, pending stops, armed OCOs);
  ``by_client`` maps (user, client_order_id) of live orders only; ``by_user`` holds
  each user's live orders in arrival order. ``add_live``/``remove_live`` keep all
  three in step; an order leaves them the moment it becomes final.
- ``events`` buffers the output of the call in progress; touched levels are kept per
  book (``book.touched``, keyed by the side key: +price for bids, -price for asks)
  with the books in ``dirty``. ``flush`` appends one ``BookLevel`` per touched level,
  books in first-touch order and levels in first-touch order, with the level's final
  quantity (0 = deleted), and empties the buffers.
- ``expiries`` is a heap of (expires_at, order_id) for day orders; entries of orders
  that are no longer live are skipped lazily.
"""

from __future__ import annotations

from collections.abc import Mapping

from openpit.core.enums import OrderStatus, Reason, Side, STPMode
from openpit.core.events import Event
from openpit.core.instrument import Instrument
from openpit.engine.book import Book
from openpit.engine.order import Order

_BUY = Side.BUY
_SELL = Side.SELL


class State:
    __slots__ = (
        "books",
        "by_client",
        "by_user",
        "dirty",
        "events",
        "expiries",
        "orders",
        "stp_default",
        "trade_seq",
    )

    def __init__(self, instruments: Mapping[str, Instrument], stp_default: STPMode) -> None:
        self.books: dict[str, Book] = {iid: Book(inst) for iid, inst in instruments.items()}
        self.orders: dict[int, Order] = {}
        self.by_client: dict[tuple[str, str], Order] = {}
        self.by_user: dict[str, dict[int, Order]] = {}
        self.expiries: list[tuple[int, int]] = []
        self.trade_seq = 0
        self.stp_default = stp_default
        self.events: list[Event] = []
        self.dirty: list[Book] = []

    # -- indices ---------------------------------------------------------------------
    def add_live(self, o: Order) -> None:
        self.orders[o.order_id] = o
        if o.client_order_id is not None:
            self.by_client[(o.user, o.client_order_id)] = o
        mine = self.by_user.get(o.user)
        if mine is None:
            mine = self.by_user[o.user] = {}
        mine[o.order_id] = o

    def remove_live(self, o: Order) -> None:
        del self.orders[o.order_id]
        if o.client_order_id is not None:
            del self.by_client[(o.user, o.client_order_id)]
        mine = self.by_user[o.user]
        del mine[o.order_id]
        if not mine:
            del self.by_user[o.user]

    def find(self, user: str, order_id: int | None, client_order_id: str | None) -> Order | None:
        """A live order of ``user``; another user's order is as unknown as a missing one."""
        if order_id is not None:
            o = self.orders.get(order_id)
            if o is None or o.user != user:
                return None
            if client_order_id is not None and o.client_order_id != client_order_id:
                return None
            return o
        if client_order_id is not None:
            return self.by_client.get((user, client_order_id))
        return None

    # -- order transitions -------------------------------------------------------------
    def touch(self, book: Book, is_buy: bool, price: int) -> None:
        touched = book.touched
        if not touched:
            self.dirty.append(book)
        touched[price if is_buy else -price] = None

    def unbook(self, book: Book, o: Order) -> None:
        """Take a live order out of the book (its resting leg); stops are left to finish."""
        if not o.pending:
            book.side(o.is_buy).remove(o)
            self.touch(book, o.is_buy, o.limit)

    def disarm(self, book: Book, o: Order) -> None:
        """Cancel an OCO's stop leg (its limit leg filled)."""
        del book.stops[o.order_id]
        o.oco_stop = False
        o.stop_price = None
        o.stop_limit_price = None

    def finish(self, book: Book, o: Order, status: OrderStatus, reason: Reason, ts: int) -> None:
        """End a live order that is not (or no longer) in the book: cancel its remainder."""
        if o.pending or o.oco_stop:
            del book.stops[o.order_id]
            o.pending = False
            o.oco_stop = False
        o.cancelled += o.remaining
        o.remaining = 0
        o.status = status
        self.remove_live(o)
        self.events.append(o.update(reason))

    # -- output --------------------------------------------------------------------------
    def flush(self) -> list[Event]:
        events = self.events
        self.events = []
        dirty = self.dirty
        if dirty:
            append = events.append
            for book in dirty:
                bids = book.bids.level_event
                asks = book.asks.level_event
                for k in book.touched:
                    append(bids(k) if k > 0 else asks(-k))
                book.touched.clear()
            dirty.clear()
        return events
