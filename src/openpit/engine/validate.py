"""Pure validation of order commands against the book, and reservation price caps.

Invariants:
- Nothing here changes state; a command that passes its check can be applied
  without any further rejection (remainders may still expire or be cancelled).
- Checks run in a fixed order, so one command always gets the same reason:
  instrument, quantity, prices and fields, client order id, then book state
  (no liquidity, post-only crossing).
- Field rules per order type: a price that is needed must be present and > 0
  (INVALID_PRICE); a field the type does not use must be absent (INVALID_PARAMETER).
- Bounds, whatever built the command (a dialect, REST, a feed, a journal record written
  before the edges bounded it): quantities at most ``inst.max_lots`` (INVALID_QUANTITY),
  prices at most ``inst.max_ticks`` (INVALID_PRICE), trail ticks at most
  ``inst.max_ticks`` (INVALID_PARAMETER); so every integer of an accepted order fits
  the store (see ``openpit.core.instrument``). Messages show the limit in asset units.
"""

from __future__ import annotations

from openpit.core.amounts import render_lots
from openpit.core.commands import CancelOrder, ModifyOrder, PlaceOrder
from openpit.core.enums import OrderType, Reason, Side, STPMode, TimeInForce
from openpit.core.instrument import PPM, Instrument
from openpit.engine.order import Order
from openpit.engine.pricing import band_cap, trailing_stop
from openpit.engine.state import State

Rejection = tuple[Reason, str] | None

_T = OrderType
_NEEDS_PRICE = frozenset({_T.LIMIT, _T.STOP_LIMIT, _T.TAKE_PROFIT_LIMIT, _T.OCO})
_NEEDS_STOP = frozenset({_T.STOP, _T.STOP_LIMIT, _T.TAKE_PROFIT, _T.TAKE_PROFIT_LIMIT, _T.OCO})
_MARKET_LIKE = frozenset({_T.MARKET, _T.STOP, _T.TAKE_PROFIT, _T.TRAILING_STOP})
_STOP_MODIFIABLE = frozenset({_T.STOP, _T.STOP_LIMIT, _T.TAKE_PROFIT, _T.TAKE_PROFIT_LIMIT})
_IMMEDIATE = frozenset({TimeInForce.IOC, TimeInForce.FOK})
_LIMIT = _T.LIMIT
_GTC = TimeInForce.GTC


def _field(name: str, value: int | None, needed: bool, t: OrderType) -> Rejection:
    if value is None:
        if needed:
            return Reason.INVALID_PRICE, f"{t} orders need {name}"
        return None
    if not needed:
        return Reason.INVALID_PARAMETER, f"{name} is not used by {t} orders"
    if value <= 0:
        return Reason.INVALID_PRICE, f"{name} must be positive, got {value}"
    return None


def _normalise(cmd: PlaceOrder) -> Rejection:
    """Turn plain-string enum fields (a hand-built command) into enum members, in place."""
    try:
        cmd.side = Side(cmd.side)
        cmd.type = OrderType(cmd.type)
        cmd.tif = TimeInForce(cmd.tif)
        if cmd.stp is not None:
            cmd.stp = STPMode(cmd.stp)
    except ValueError as exc:
        return Reason.INVALID_PARAMETER, str(exc)
    return None


def check_place(st: State, cmd: PlaceOrder) -> Rejection:
    if (
        cmd.side.__class__ is not Side
        or cmd.type.__class__ is not OrderType
        or cmd.tif.__class__ is not TimeInForce
        or (cmd.stp is not None and cmd.stp.__class__ is not STPMode)
    ):
        bad = _normalise(cmd)
        if bad is not None:
            return bad
    book = st.books.get(cmd.instrument)
    if book is None:
        return Reason.UNKNOWN_INSTRUMENT, f"unknown instrument {cmd.instrument!r}"
    qty = cmd.qty
    inst = book.inst
    if qty <= 0:
        return Reason.INVALID_QUANTITY, f"quantity must be positive, got {qty}"
    if qty > inst.max_lots:
        return _too_many_lots(inst, qty)
    if qty < book.inst.min_lots:
        return (
            Reason.BELOW_MIN_QUANTITY,
            f"quantity {render_lots(qty, book.inst.lot_size)} is below the minimum "
            f"{render_lots(book.inst.min_lots, book.inst.lot_size)} {book.inst.base.symbol}",
        )
    t = cmd.type
    is_buy = cmd.side == "buy"
    if (
        t is _LIMIT
        and cmd.stop_price is None
        and cmd.stop_limit_price is None
        and cmd.trail_ticks is None
        and cmd.trail_ppm is None
        and cmd.price is not None
        and 0 < cmd.price <= inst.max_ticks
        and not cmd.post_only
    ):
        pass  # the common case: a plain limit order
    else:
        bad = _check_fields(cmd, t) or _check_bounds(cmd, inst)
        if bad is not None:
            return bad
    if cmd.leverage < 1:
        return Reason.INVALID_PARAMETER, "leverage must be at least 1"
    coid = cmd.client_order_id
    if coid is not None:
        if not coid:
            return Reason.INVALID_PARAMETER, "client_order_id must not be empty"
        if (cmd.user, coid) in st.by_client:
            return Reason.DUPLICATE_CLIENT_ORDER_ID, f"client_order_id {coid!r} is already live"
    if t is _T.MARKET and (book.asks if is_buy else book.bids).best() is None:
        return Reason.NO_LIQUIDITY, "no liquidity on the other side of the book"
    if t is _T.TRAILING_STOP and book.reference(is_buy) is None:
        return Reason.NO_LIQUIDITY, "trailing stop needs a last or best price to trail"
    if (
        cmd.post_only
        and (t is _LIMIT or t is _T.OCO)
        and cmd.price is not None
        and book.would_cross(is_buy, cmd.price)
    ):
        return Reason.POST_ONLY_WOULD_TAKE, "post-only order would take liquidity"
    return None


def _check_fields(cmd: PlaceOrder, t: OrderType) -> Rejection:
    bad = _field("price", cmd.price, t in _NEEDS_PRICE, t) or _field(
        "stop_price", cmd.stop_price, t in _NEEDS_STOP, t
    )
    if bad is not None:
        return bad
    slp = cmd.stop_limit_price
    if slp is not None:
        if t is not _T.OCO:
            return Reason.INVALID_PARAMETER, f"stop_limit_price is not used by {t} orders"
        if slp <= 0:
            return Reason.INVALID_PRICE, f"stop_limit_price must be positive, got {slp}"
    ticks, ppm = cmd.trail_ticks, cmd.trail_ppm
    if t is _T.TRAILING_STOP:
        if (ticks is None) == (ppm is None):
            return (
                Reason.INVALID_PARAMETER,
                "trailing stops need exactly one of trail_ticks, trail_ppm",
            )
        if ticks is not None and ticks <= 0:
            return Reason.INVALID_PARAMETER, "trail_ticks must be positive"
        if ppm is not None and not 0 < ppm < PPM:
            return Reason.INVALID_PARAMETER, "trail_ppm must be between 0 and 1,000,000"
    elif ticks is not None or ppm is not None:
        return Reason.INVALID_PARAMETER, f"trail is not used by {t} orders"
    if cmd.post_only and (t in _MARKET_LIKE or cmd.tif in _IMMEDIATE):
        return Reason.INVALID_PARAMETER, "post_only cannot be combined with market, ioc or fok"
    if t is _T.OCO:
        if cmd.tif in _IMMEDIATE:
            return Reason.INVALID_PARAMETER, "OCO orders rest: use gtc or day"
        price, stop = cmd.price, cmd.stop_price
        assert price is not None and stop is not None
        if (price >= stop) if cmd.side == "buy" else (price <= stop):
            return (
                Reason.INVALID_PRICE,
                "OCO limit price must be on the profitable side of the stop price",
            )
    return None


def _too_many_lots(inst: Instrument, lots: int) -> Rejection:
    base = inst.base.symbol
    return (
        Reason.INVALID_QUANTITY,
        f"quantity {render_lots(lots, inst.lot_size)} {base} is above the largest "
        f"{render_lots(inst.max_lots, inst.lot_size)} {base} on {inst.symbol}",
    )


def _too_high(inst: Instrument, name: str, ticks: int) -> Rejection:
    if ticks <= inst.max_ticks:
        return None
    quote = inst.quote.symbol
    return (
        Reason.INVALID_PRICE,
        f"{name} {render_lots(ticks, inst.tick_size)} {quote} is above the largest "
        f"{render_lots(inst.max_ticks, inst.tick_size)} {quote} on {inst.symbol}",
    )


def _check_bounds(cmd: PlaceOrder, inst: Instrument) -> Rejection:
    for name, ticks in (
        ("price", cmd.price),
        ("stop_price", cmd.stop_price),
        ("stop_limit_price", cmd.stop_limit_price),
    ):
        if ticks is not None:
            bad = _too_high(inst, name, ticks)
            if bad is not None:
                return bad
    if cmd.trail_ticks is not None and cmd.trail_ticks > inst.max_ticks:
        return (
            Reason.INVALID_PARAMETER,
            f"trail {render_lots(cmd.trail_ticks, inst.tick_size)} {inst.quote.symbol} is "
            f"above the largest {render_lots(inst.max_ticks, inst.tick_size)} "
            f"{inst.quote.symbol} on {inst.symbol}",
        )
    return None


def price_cap(st: State, cmd: PlaceOrder) -> int:
    """Worst price the order could ever trade at (for the ledger's reservation)."""
    book = st.books[cmd.instrument]
    band = book.inst.price_band_ppm
    is_buy = cmd.side == "buy"
    t = cmd.type
    if t in (_T.LIMIT, _T.STOP_LIMIT, _T.TAKE_PROFIT_LIMIT):
        assert cmd.price is not None
        return cmd.price
    if t is _T.MARKET:
        ref = book.reference(is_buy)
        return band_cap(ref, is_buy, band) if ref is not None else (0 if is_buy else 1)
    if t in (_T.STOP, _T.TAKE_PROFIT):
        assert cmd.stop_price is not None
        return band_cap(cmd.stop_price, is_buy, band)
    if t is _T.TRAILING_STOP:
        ref = book.reference(is_buy)
        if ref is None:
            return 0 if is_buy else 1
        stop = trailing_stop(ref, is_buy, cmd.trail_ticks, cmd.trail_ppm)
        return band_cap(max(1, stop), is_buy, band)
    # OCO: the worse of its legs
    assert cmd.price is not None and cmd.stop_price is not None
    leg = cmd.stop_limit_price
    if leg is None:
        leg = band_cap(cmd.stop_price, is_buy, band)
    return max(cmd.price, leg) if is_buy else min(cmd.price, leg)


def order_cap(st: State, o: Order) -> int:
    """Worst price a live order could still trade at."""
    band = st.books[o.instrument].inst.price_band_ppm
    if o.pending:
        if o.price is not None:
            return o.price
        assert o.stop_price is not None
        return band_cap(o.stop_price, o.is_buy, band)
    if o.oco_stop:
        assert o.price is not None and o.stop_price is not None
        leg = o.stop_limit_price
        if leg is None:
            leg = band_cap(o.stop_price, o.is_buy, band)
        return max(o.price, leg) if o.is_buy else min(o.price, leg)
    return o.limit


def check_cancel(st: State, cmd: CancelOrder) -> Rejection:
    if cmd.order_id is None and cmd.client_order_id is None:
        return Reason.INVALID_PARAMETER, "cancel needs order_id or client_order_id"
    if st.find(cmd.user, cmd.order_id, cmd.client_order_id) is None:
        return UNKNOWN_ORDER
    return None


def check_modify(st: State, cmd: ModifyOrder) -> Rejection:
    if cmd.order_id is None and cmd.client_order_id is None:
        return Reason.INVALID_PARAMETER, "modify needs order_id or client_order_id"
    o = st.find(cmd.user, cmd.order_id, cmd.client_order_id)
    if o is None:
        return UNKNOWN_ORDER
    return check_modify_order(st, o, cmd)


UNKNOWN_ORDER = (Reason.UNKNOWN_ORDER, "unknown order")


def _qty(st: State, o: Order, lots: int) -> str:
    """``lots`` of ``o``'s instrument in base-asset units, for messages."""
    inst = st.books[o.instrument].inst
    return f"{render_lots(lots, inst.lot_size)} {inst.base.symbol}"


def check_modify_order(st: State, o: Order, cmd: ModifyOrder) -> Rejection:
    """``check_modify`` once the live order ``o`` of the user is found."""
    qty, price, stop = cmd.qty, cmd.price, cmd.stop_price
    if qty is None and price is None and stop is None:
        return Reason.INVALID_PARAMETER, "nothing to modify: give qty, price or stop_price"
    inst = st.books[o.instrument].inst
    bad = (None if price is None else _too_high(inst, "price", price)) or (
        None if stop is None else _too_high(inst, "stop_price", stop)
    )
    if bad is not None:
        return bad
    if qty is not None:
        if qty <= 0:
            return Reason.INVALID_QUANTITY, f"quantity must be positive, got {qty}"
        if qty > inst.max_lots:
            return _too_many_lots(inst, qty)
        if qty <= o.filled + o.cancelled:
            return (
                Reason.INVALID_QUANTITY,
                f"new quantity {_qty(st, o, qty)} must exceed the filled quantity "
                f"{_qty(st, o, o.filled + o.cancelled)}",
            )
    if price is not None:
        if o.price is None:
            return Reason.ORDER_NOT_MODIFIABLE, f"{o.type} order has no limit price"
        if price <= 0:
            return Reason.INVALID_PRICE, f"price must be positive, got {price}"
    if stop is not None:
        if not (o.oco_stop or (o.pending and o.type in _STOP_MODIFIABLE)):
            return Reason.ORDER_NOT_MODIFIABLE, "order has no modifiable stop price"
        if stop <= 0:
            return Reason.INVALID_PRICE, f"stop_price must be positive, got {stop}"
    if o.oco_stop and (price is not None or stop is not None):
        p = o.price if price is None else price
        s = o.stop_price if stop is None else stop
        assert p is not None and s is not None
        if (p >= s) if o.is_buy else (p <= s):
            return (
                Reason.INVALID_PRICE,
                "OCO limit price must be on the profitable side of the stop price",
            )
    if (
        o.post_only
        and price is not None
        and not o.pending
        and price != o.limit
        and st.books[o.instrument].would_cross(o.is_buy, price)
    ):
        return Reason.POST_ONLY_WOULD_TAKE, "post-only order would take liquidity"
    return None
