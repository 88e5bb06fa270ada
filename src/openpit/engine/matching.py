"""The matching core: one taker against the opposite side of one book.

Invariants:
- Price-time priority: the taker meets the best opposite level first and, within a
  level, the oldest order first; every trade is at the maker's (resting) price and
  never beyond the taker's ``limit``.
- Self-trade prevention (the taker's mode) runs before any trade with an order of
  the same user; unless the mode is ``none`` no self-trade ever happens.
  cancel_newest ends the taker, cancel_oldest removes the maker and goes on,
  cancel_both does both, decrement_and_cancel reduces both by the overlap and
  cancels whichever reaches zero. Reductions count as ``cancelled`` quantity.
- FOK is checked before anything changes: not fully fillable → EXPIRED
  (FOK_NOT_FILLABLE) with no trade and no STP side effect.
- After matching a remainder rests at the back of its level (gtc/day limit) or
  expires: market-like orders with PRICE_BAND if the band stopped them, otherwise
  IOC_REMAINDER. An IOC/FOK/market order never rests.
- Any fill of an OCO's limit leg (maker or taker) disarms its stop leg.
- Per match the events are: Trade, maker OrderUpdate, taker OrderUpdate.
"""

from __future__ import annotations

from openpit.core.enums import OrderStatus, Reason, STPMode, TimeInForce
from openpit.core.events import Trade
from openpit.engine.book import Book, BookSide
from openpit.engine.order import Order
from openpit.engine.state import State

_FILLED = OrderStatus.FILLED
_PARTIAL = OrderStatus.PARTIALLY_FILLED
_CANCELLED = OrderStatus.CANCELLED
_EXPIRED = OrderStatus.EXPIRED
_OK = Reason.OK
_SELF_TRADE = Reason.SELF_TRADE
_NONE = STPMode.NONE
_NEWEST = STPMode.CANCEL_NEWEST
_OLDEST = STPMode.CANCEL_OLDEST
_BOTH = STPMode.CANCEL_BOTH
_IOC = TimeInForce.IOC
_FOK = TimeInForce.FOK


def execute(st: State, book: Book, o: Order, ts: int) -> None:
    """Let ``o`` (live, not in the book) take liquidity, then rest or expire the rest."""
    is_buy = o.is_buy
    opp = book.asks if is_buy else book.bids
    tif = o.tif
    if tif is _FOK and not fok_fillable(opp, o):
        st.finish(book, o, _EXPIRED, Reason.FOK_NOT_FILLABLE, ts)
        return
    keys = opp.keys
    if keys:
        best = keys[-1] if not is_buy else -keys[-1]
        if (best <= o.limit) if is_buy else (best >= o.limit):
            if match(st, book, o, opp, ts):
                return
            if o.remaining == 0:
                return
    if o.is_market or tif is _IOC or tif is _FOK:
        reason = Reason.IOC_REMAINDER
        if o.is_market and keys:
            reason = Reason.PRICE_BAND
        st.finish(book, o, _EXPIRED, reason, ts)
        return
    book.side(is_buy).add(o)
    touched = book.touched
    if not touched:
        st.dirty.append(book)
    touched[o.limit if is_buy else -o.limit] = None


def fok_fillable(opp: BookSide, o: Order) -> bool:
    """Could ``o`` fill completely right now, given its limit and STP mode?"""
    need = o.remaining
    limit = o.limit
    is_buy = o.is_buy
    sign = 1 if opp.is_buy else -1
    stp = o.stp
    user = o.user
    keys = opp.keys
    for i in range(len(keys) - 1, -1, -1):
        price = keys[i] * sign
        if (price > limit) if is_buy else (price < limit):
            return False
        for m in opp.levels[price].values():
            if stp is not _NONE and m.user == user:
                if stp is _OLDEST:
                    continue
                return False
            need -= m.remaining
            if need <= 0:
                return True
    return False


def match(st: State, book: Book, taker: Order, opp: BookSide, ts: int) -> bool:
    """Match ``taker`` against ``opp``; True if self-trade prevention ended the taker."""
    events = st.events
    append = events.append
    touched = book.touched
    if not touched:
        st.dirty.append(book)
    iid = taker.instrument
    is_buy = taker.is_buy
    limit = taker.limit
    keys = opp.keys
    levels = opp.levels
    sizes = opp.sizes
    sign = 1 if opp.is_buy else -1
    user = taker.user
    taker_id = taker.order_id
    taker_side = taker.side
    stp = taker.stp
    stp_on = stp is not _NONE
    last = 0
    hi = book.trade_hi
    lo = book.trade_lo
    killed = False
    while keys:
        key = keys[-1]
        price = key * sign
        if (price > limit) if is_buy else (price < limit):
            break
        od = levels[price]
        if od:
            touched[key] = None
        while od:
            maker = next(iter(od.values()))
            if stp_on and maker.user == user:
                if stp is _NEWEST:
                    killed = True
                    break
                if stp is _OLDEST or stp is _BOTH:
                    del od[maker.order_id]
                    sizes[price] -= maker.remaining
                    st.finish(book, maker, _CANCELLED, _SELF_TRADE, ts)
                    if stp is _BOTH:
                        killed = True
                        break
                    continue
                # decrement and cancel
                ov = min(maker.remaining, taker.remaining)
                sizes[price] -= ov
                maker.remaining -= ov
                maker.cancelled += ov
                if maker.remaining == 0:
                    del od[maker.order_id]
                    maker.remaining = ov  # finish() moves it to cancelled
                    maker.cancelled -= ov
                    st.finish(book, maker, _CANCELLED, _SELF_TRADE, ts)
                else:
                    append(maker.update(_SELF_TRADE))
                taker.remaining -= ov
                taker.cancelled += ov
                if taker.remaining == 0:
                    taker.remaining = ov
                    taker.cancelled -= ov
                    killed = True
                    break
                append(taker.update(_SELF_TRADE))
                continue
            rem = taker.remaining
            q = maker.remaining
            if q > rem:
                q = rem
            st.trade_seq += 1
            append(
                Trade(
                    instrument=iid,
                    trade_id=st.trade_seq,
                    price=price,
                    qty=q,
                    taker_side=taker_side,
                    maker_order_id=maker.order_id,
                    taker_order_id=taker_id,
                    maker_user=maker.user,
                    taker_user=user,
                )
            )
            value = price * q
            maker.filled += q
            maker.filled_value += value
            sizes[price] -= q
            if maker.remaining == q:
                maker.remaining = 0
                maker.status = _FILLED
                del od[maker.order_id]
                st.remove_live(maker)
            else:
                maker.remaining -= q
                maker.status = _PARTIAL
            if maker.oco_stop:
                st.disarm(book, maker)
            append(maker.fill_update(price, q))
            taker.filled += q
            taker.filled_value += value
            rem -= q
            taker.remaining = rem
            taker.status = _PARTIAL if rem else _FILLED
            if taker.oco_stop:
                st.disarm(book, taker)
            append(taker.fill_update(price, q))
            last = price
            if hi is None or price > hi:
                hi = price
            if lo is None or price < lo:
                lo = price
            if not rem:
                break
        if not od:
            del levels[price]
            del sizes[price]
            keys.pop()
        if killed or not taker.remaining:
            break
    if keys and not levels[keys[-1] * sign]:
        opp.trim()
    if last:
        book.last = last
        book.trade_hi = hi
        book.trade_lo = lo
    if killed:
        st.finish(book, taker, _CANCELLED, _SELF_TRADE, ts)
    elif not taker.remaining:
        st.remove_live(taker)
    return killed
