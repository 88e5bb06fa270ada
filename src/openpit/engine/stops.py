"""Stop triggers: stop, stop_limit, take_profit(_limit), trailing_stop and OCO stop legs.

Invariants:
- A stop is armed in ``book.stops`` and triggers on the last trade price: a rising
  trigger (buy stop, sell take-profit, buy trailing, buy OCO) fires when
  ``last >= stop_price``, a falling one when ``last <= stop_price``.
- A trailing stop's watermark follows the extreme trade price (the low for a buy,
  the high for a sell) of every call since it was placed; its ``stop_price`` is
  recomputed from the watermark before the trigger test.
- After a call's trades every armed stop is tested; the fired ones run in order-id
  order, and the test repeats while the fired orders themselves trade (cascade), all
  within the same call. A stop placed (or moved) beyond the last price fires at once.
- A triggered stop-market becomes a market order whose protection bound is the
  band around its stop price (the bound the ledger reserved for); a stop-limit
  becomes a limit order at its price. An OCO whose stop fires first removes its limit
  leg (reason OCO_SIBLING on the trigger update) and continues as the stop leg.
"""

from __future__ import annotations

from operator import attrgetter

from openpit.core.enums import OrderStatus, OrderType, Reason
from openpit.engine.book import Book
from openpit.engine.matching import execute
from openpit.engine.order import Order
from openpit.engine.pricing import band_cap, trailing_stop
from openpit.engine.state import State

_TRAILING = OrderType.TRAILING_STOP
_LIMIT_TYPES = frozenset({OrderType.STOP_LIMIT, OrderType.TAKE_PROFIT_LIMIT})
_by_id = attrgetter("order_id")


def fires(o: Order, last: int) -> bool:
    stop = o.stop_price
    assert stop is not None
    return last >= stop if o.rising else last <= stop


def arm(st: State, book: Book, o: Order, ts: int) -> None:
    """Fire ``o`` right away if the last price is already through its stop."""
    last = book.last
    if last is not None and fires(o, last):
        trigger(st, book, o, ts)


def run_triggers(st: State, book: Book, ts: int) -> None:
    """Evaluate armed stops after trades until no more fire; reset the trade range."""
    while book.trade_hi is not None:
        hi = book.trade_hi
        lo = book.trade_lo
        assert lo is not None
        book.trade_hi = book.trade_lo = None
        if not book.stops:
            return
        last = book.last
        assert last is not None
        fired: list[Order] = []
        for o in book.stops.values():
            if o.type is _TRAILING:
                follow(o, hi, lo)
            if fires(o, last):
                fired.append(o)
        fired.sort(key=_by_id)
        for o in fired:
            if o.order_id in book.stops:
                trigger(st, book, o, ts)


def follow(o: Order, hi: int, lo: int) -> None:
    wm = o.watermark
    if o.is_buy:
        if lo < wm:
            o.watermark = lo
            o.stop_price = trailing_stop(lo, True, o.trail_ticks, o.trail_ppm)
    elif hi > wm:
        o.watermark = hi
        o.stop_price = trailing_stop(hi, False, o.trail_ticks, o.trail_ppm)


def trigger(st: State, book: Book, o: Order, ts: int) -> None:
    del book.stops[o.order_id]
    reason = Reason.OK
    stop = o.stop_price
    assert stop is not None
    band = book.inst.price_band_ppm
    if o.type is OrderType.OCO:
        reason = Reason.OCO_SIBLING
        st.unbook(book, o)
        o.oco_stop = False
        if o.stop_limit_price is not None:
            o.price = o.limit = o.stop_limit_price
        else:
            o.price = None
            o.is_market = True
            o.limit = band_cap(stop, o.is_buy, band)
    else:
        o.pending = False
        if o.type not in _LIMIT_TYPES:
            o.is_market = True
            o.limit = band_cap(stop, o.is_buy, band)
    o.status = OrderStatus.NEW if not o.filled else OrderStatus.PARTIALLY_FILLED
    st.events.append(o.update(reason))
    if o.post_only and not o.is_market and book.would_cross(o.is_buy, o.limit):
        st.finish(book, o, OrderStatus.CANCELLED, Reason.POST_ONLY_WOULD_TAKE, ts)
        return
    execute(st, book, o, ts)
