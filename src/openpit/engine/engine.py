"""The matching engine for all instruments: the API the venue sequencer calls.

Invariants:
- Pure, synchronous and deterministic: time (``ts``, ms) and order ids come in as
  arguments; no clock, no I/O, no globals. Same calls → same events, same state.
- Integers only: prices in ticks, quantities in lots.
- ``check_*`` never change state; the matching command is only called after its check
  passed, and then applies completely.
- Events of one call, in order: the acceptance/modification ``OrderUpdate``; per match
  Trade, maker update, taker update; cancels and expiries; stop triggers and their
  matches (order-id order, cascading); finally one ``BookLevel`` per touched level.
- The book is never crossed after a call; FIFO within a level; every order keeps
  ``qty == filled + remaining + cancelled``.
- Picklable: plain ``__slots__`` classes and builtin containers only.
"""

from __future__ import annotations

import heapq
from collections.abc import Iterator, Mapping
from operator import attrgetter

import msgspec

from openpit.core.commands import CancelOrder, ModifyOrder, PlaceOrder
from openpit.core.enums import OrderStatus, OrderType, Reason, Side, STPMode, TimeInForce
from openpit.core.events import Event
from openpit.core.instrument import Instrument
from openpit.engine import validate
from openpit.engine.matching import execute
from openpit.engine.order import Order
from openpit.engine.pricing import band_cap, trailing_stop
from openpit.engine.state import State
from openpit.engine.stops import arm, run_triggers

_LIMIT = OrderType.LIMIT
_MARKET = OrderType.MARKET
_OCO = OrderType.OCO
_DAY = TimeInForce.DAY
_PENDING = OrderStatus.PENDING
_NEW = OrderStatus.NEW
_CANCELLED = OrderStatus.CANCELLED
_GTC = TimeInForce.GTC
_BUY = Side.BUY
_OK = Reason.OK
_by_id = attrgetter("order_id")
_UNKNOWN_ORDER = validate.UNKNOWN_ORDER
_replace = msgspec.structs.replace


class Engine(State):
    __slots__ = ()

    def __init__(self, instruments: Mapping[str, Instrument], stp_default: STPMode) -> None:
        super().__init__(instruments, stp_default)

    # -- queries ---------------------------------------------------------------------
    def order(self, order_id: int) -> Order | None:
        """A live order (resting or pending stop); None once final."""
        return self.orders.get(order_id)

    def order_by_client_id(self, user: str, client_order_id: str) -> Order | None:
        return self.by_client.get((user, client_order_id))

    def open_orders(self, user: str, instrument: str | None = None) -> list[Order]:
        mine = self.by_user.get(user)
        if not mine:
            return []
        if instrument is None:
            return list(mine.values())
        return [o for o in mine.values() if o.instrument == instrument]

    def last_price(self, instrument: str) -> int | None:
        return self.books[instrument].last

    def best_bid(self, instrument: str) -> int | None:
        return self.books[instrument].bids.best()

    def best_ask(self, instrument: str) -> int | None:
        return self.books[instrument].asks.best()

    def depth(
        self, instrument: str, levels: int
    ) -> tuple[list[tuple[int, int]], list[tuple[int, int]]]:
        """(bids best first, asks best first) of (price, total qty), ``levels`` deep."""
        book = self.books[instrument]
        return book.bids.depth(levels), book.asks.depth(levels)

    def level_orders(self, instrument: str, is_buy: bool, price: int) -> list[Order]:
        """The orders resting at one level, in queue (FIFO) order."""
        od = self.books[instrument].side(is_buy).levels.get(price)
        return [] if od is None else list(od.values())

    def pending_stops(self, instrument: str) -> list[Order]:
        """Armed stops (pending stops and OCO stop legs), in order-id order."""
        return sorted(self.books[instrument].stops.values(), key=_by_id)

    # -- validation and reservations -------------------------------------------------
    def check_place(self, cmd: PlaceOrder) -> tuple[Reason, str] | None:
        return validate.check_place(self, cmd)

    def check_cancel(self, cmd: CancelOrder) -> tuple[Reason, str] | None:
        return validate.check_cancel(self, cmd)

    def check_modify(self, cmd: ModifyOrder) -> tuple[Reason, str] | None:
        oid = cmd.order_id
        if oid is None:
            return validate.check_modify(self, cmd)
        o = self.orders.get(oid)
        if o is None or o.user != cmd.user:
            return _UNKNOWN_ORDER
        if cmd.client_order_id is not None or o.pending or o.oco_stop or o.post_only:
            return validate.check_modify(self, cmd)
        # fast path: a plain resting order, new price or new quantity (not both), in bounds
        if cmd.stop_price is None:
            price = cmd.price
            qty = cmd.qty
            inst = self.books[o.instrument].inst
            if qty is None:
                if price is not None and 0 < price <= inst.max_ticks:
                    return None
            elif price is None and o.filled + o.cancelled < qty <= inst.max_lots:
                return None
        return validate.check_modify_order(self, o, cmd)

    def price_cap(self, cmd: PlaceOrder) -> int:
        """Worst price the order could ever trade at (see docs/engine.md)."""
        return validate.price_cap(self, cmd)

    def order_price_cap(self, order_id: int) -> int | None:
        """Worst price a live order could still trade at; None if not live."""
        o = self.orders.get(order_id)
        return None if o is None else validate.order_cap(self, o)

    def modify_price_cap(self, cmd: ModifyOrder) -> int | None:
        """Worst price the order could trade at after ``cmd`` (which passed its check)."""
        o = self.find(cmd.user, cmd.order_id, cmd.client_order_id)
        if o is None:
            return None
        band = self.books[o.instrument].inst.price_band_ppm
        price = o.price if cmd.price is None else cmd.price
        stop = o.stop_price if cmd.stop_price is None else cmd.stop_price
        if o.pending and price is None:
            assert stop is not None
            return band_cap(stop, o.is_buy, band)
        assert price is not None
        if o.oco_stop:
            assert stop is not None
            leg = o.stop_limit_price
            if leg is None:
                leg = band_cap(stop, o.is_buy, band)
            return max(price, leg) if o.is_buy else min(price, leg)
        return price

    # -- commands --------------------------------------------------------------------
    def place(self, cmd: PlaceOrder, order_id: int, ts: int) -> list[Event]:
        """Accept an order that passed ``check_place`` and run it."""
        book = self.books[cmd.instrument]
        stp = cmd.stp
        side = book.bids if cmd.side is _BUY else book.asks
        o = Order(cmd, order_id, self.stp_default if stp is None else stp, ts, side)
        self.add_live(o)
        t = o.type
        if o.tif is _DAY and t is not _MARKET:
            o.expires_at = book.inst.session.day_end(ts)
            heapq.heappush(self.expiries, (o.expires_at, order_id))
        events = self.events
        if t is _LIMIT:
            price = o.limit
            is_buy = o.is_buy
            opp = side.opp
            if (o.tif is _GTC or o.tif is _DAY) and (
                not opp or ((-opp[-1] > price) if is_buy else (opp[-1] < price))
            ):
                # fast path: rests without taking; no trade, so no trigger either
                rem = o.remaining
                dest = side.levels.get(price)
                if dest is None:
                    side.new_level(price, o)
                    size = rem
                else:
                    dest[order_id] = o
                    sizes = side.sizes
                    sizes[price] = size = sizes[price] + rem
                return [
                    _replace(o.proto, price=price, qty=o.qty, remaining=rem),
                    _replace(side.blproto, price=price, qty=size),
                ]
            events.append(o.update())
            execute(self, book, o, ts)
        elif t is _MARKET:
            ref = book.reference(o.is_buy)
            assert ref is not None, "market order placed without check_place"
            o.limit = band_cap(ref, o.is_buy, book.inst.price_band_ppm)
            events.append(o.update())
            execute(self, book, o, ts)
        elif t is _OCO:
            o.oco_stop = True
            book.stops[order_id] = o
            events.append(o.update())
            execute(self, book, o, ts)
            if o.oco_stop:
                arm(self, book, o, ts)
        else:
            if t is OrderType.TRAILING_STOP:
                ref = book.reference(o.is_buy)
                assert ref is not None, "trailing stop placed without check_place"
                o.watermark = ref
                o.stop_price = trailing_stop(ref, o.is_buy, o.trail_ticks, o.trail_ppm)
            o.pending = True
            o.status = _PENDING
            book.stops[order_id] = o
            events.append(o.update())
            arm(self, book, o, ts)
        run_triggers(self, book, ts)
        return self.flush()

    def cancel(
        self, cmd: CancelOrder, ts: int, reason: Reason = Reason.USER_CANCELLED
    ) -> list[Event]:
        o = self.find(cmd.user, cmd.order_id, cmd.client_order_id)
        assert o is not None, "cancel without check_cancel"
        if o.pending or o.oco_stop:
            self._end(o, OrderStatus.CANCELLED, reason, ts)
            return self.flush()
        # fast path: a resting order leaves its level
        price = o.limit
        side = o.bside
        od = side.levels[price]
        del od[o.order_id]
        rem = o.remaining
        sizes = side.sizes
        sizes[price] = size = sizes[price] - rem
        if not od:
            side.emptied(price)
        o.cancelled += rem
        o.remaining = 0
        o.status = _CANCELLED
        self.remove_live(o)
        return [o.update(reason), _replace(side.blproto, price=price, qty=size)]

    def cancel_all(self, user: str, instrument: str | None, ts: int) -> list[Event]:
        for o in self.open_orders(user, instrument):
            self._end(o, OrderStatus.CANCELLED, Reason.USER_CANCELLED, ts)
        return self.flush()

    def cancel_order(self, order_id: int, ts: int, reason: Reason) -> list[Event]:
        """Venue-initiated cancel (liquidation, cancel-on-disconnect...); [] if not live."""
        o = self.orders.get(order_id)
        if o is not None:
            self._end(o, OrderStatus.CANCELLED, reason, ts)
        return self.flush()

    def expire(self, ts: int) -> list[Event]:
        """Expire day orders whose trading day ended at or before ``ts``."""
        heap = self.expiries
        orders = self.orders
        while heap and heap[0][0] <= ts:
            at, oid = heapq.heappop(heap)
            o = orders.get(oid)
            if o is not None and o.expires_at == at:
                self._end(o, OrderStatus.EXPIRED, Reason.DAY_EXPIRED, ts)
        return self.flush()

    def modify(self, cmd: ModifyOrder, ts: int) -> list[Event]:
        """Apply a modification that passed ``check_modify``."""
        oid = cmd.order_id
        if oid is None:
            assert cmd.client_order_id is not None
            o = self.by_client[(cmd.user, cmd.client_order_id)]
            oid = o.order_id
        else:
            o = self.orders[oid]
        if o.pending or o.oco_stop:
            return self._modify_stop(o, cmd, ts)
        # a resting limit order (plain, triggered stop-limit or OCO without its stop leg)
        side = o.bside
        old = o.limit
        price = cmd.price
        qty = cmd.qty
        if qty is None:
            if price is None or price == old:
                return [o.update()]
        else:
            if price is None:
                price = old
            if price == old and qty <= o.qty:  # same price, not larger: keeps its place
                delta = qty - o.qty
                if not delta:
                    return [o.update()]
                o.qty = qty
                o.remaining += delta
                sizes = side.sizes
                sizes[price] = size = sizes[price] + delta
                return [o.update(), _replace(side.blproto, price=price, qty=size)]
        # loses priority: leave the old level, then re-enter as if new
        levels = side.levels
        od = levels[old]
        del od[oid]
        rem = o.remaining
        sizes = side.sizes
        sizes[old] = old_size = sizes[old] - rem
        if not od:
            side.emptied(old)
        if qty is None:  # a move: same quantity, new price
            qty = o.qty
        else:  # larger quantity (and maybe a new price)
            rem += qty - o.qty
            o.remaining = rem
            o.qty = qty
        o.price = o.limit = price
        if o.status is _NEW and not o.filled and not o.cancelled and o.stop_price is None:
            update = _replace(o.proto, price=price, qty=qty, remaining=rem)
        else:
            update = _replace(
                o.proto,
                status=o.status,
                price=price,
                stop_price=o.stop_price,
                qty=qty,
                filled=o.filled,
                remaining=rem,
                cancelled=o.cancelled,
                filled_value=o.filled_value,
            )
        opp = side.opp
        if opp and ((-opp[-1] <= price) if side.is_buy else (opp[-1] >= price)):
            book = self.books[o.instrument]
            self.events.append(update)
            self.touch(book, side.is_buy, old)
            execute(self, book, o, ts)
            run_triggers(self, book, ts)
            return self.flush()
        dest = levels.get(price)
        if dest is None:
            side.new_level(price, o)
            size = rem
        else:
            dest[oid] = o
            sizes[price] = size = sizes[price] + rem
        blproto = side.blproto
        if price == old:  # quantity up: back of the same level
            return [update, _replace(blproto, price=price, qty=size)]
        return [
            update,
            _replace(blproto, price=old, qty=old_size),
            _replace(blproto, price=price, qty=size),
        ]

    def _modify_stop(self, o: Order, cmd: ModifyOrder, ts: int) -> list[Event]:
        """Modify a pending stop or an OCO whose stop leg is armed."""
        book = self.books[o.instrument]
        events = self.events
        qty = cmd.qty
        delta = 0 if qty is None else qty - o.qty
        stop = cmd.stop_price
        if o.pending:
            o.qty += delta
            o.remaining += delta
            if cmd.price is not None:
                o.price = o.limit = cmd.price
            if stop is not None:
                o.stop_price = stop
            events.append(o.update())
        else:  # OCO: the limit leg rests
            if stop is not None:
                o.stop_price = stop
            price = o.limit if cmd.price is None else cmd.price
            if price == o.limit and delta <= 0:
                if delta:
                    o.qty += delta
                    o.remaining += delta
                    book.side(o.is_buy).sizes[price] += delta
                    self.touch(book, o.is_buy, price)
                events.append(o.update())
            else:
                self.unbook(book, o)
                o.qty += delta
                o.remaining += delta
                o.price = o.limit = price
                events.append(o.update())
                execute(self, book, o, ts)
        if stop is not None and (o.pending or o.oco_stop):
            arm(self, book, o, ts)
        run_triggers(self, book, ts)
        return self.flush()

    def _end(self, o: Order, status: OrderStatus, reason: Reason, ts: int) -> None:
        book = self.books[o.instrument]
        self.unbook(book, o)
        self.finish(book, o, status, reason, ts)

    # -- snapshots -------------------------------------------------------------------
    def state_items(self) -> Iterator[tuple[object, ...]]:
        """Canonical, deterministic content of all state (for the venue's state hash)."""
        yield ("engine", self.stp_default.value, self.trade_seq)
        for iid in sorted(self.books):
            book = self.books[iid]
            yield ("book", iid, book.last)
            for side in (book.bids, book.asks):
                for price in side.prices():
                    yield ("level", iid, side.is_buy, price, side.sizes[price])
                    for o in side.levels[price].values():
                        yield ("order", *o.key())
            for oid in sorted(book.stops):
                yield ("stop", *book.stops[oid].key())
