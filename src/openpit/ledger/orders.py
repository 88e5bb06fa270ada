"""Reservations: what an open order holds back, and why it is always enough.

An order's reservation is a pure function of its remaining quantity ``r`` (lots)
and its ``price_cap`` (ticks), with ``Nc(r) = notional(price_cap, r)`` and
``f = max(maker_fee_ppm, taker_fee_ppm)``:

- spot buy:   ``need(r) = Nc(r) + ceil(Nc(r) * f / 1e6)``          (quote)
- spot sell:  ``need(r) = r * lot_units``                          (base)
- margin:     ``need(r) = ceil(Nc(r) / L) + ceil(Nc(r) * f / 1e6)``  (quote, ``L`` = leverage)
- reduce-only margin: ``need(r) = 0`` (its fee comes out of the position)

Margin orders also hold back what they may borrow from the lending pool, as a
reservation on ``LENDER``: ``lend(r) = Nc(r)`` quote for buys, ``r * lot_units``
base for sells (0 for reduce-only).

Invariants:
- After ``reserve``, every fill and every ``modify``, ``rec.reserved == need(r)``
  and ``rec.lent == lend(r)`` exactly: a fill of ``q`` lots frees the *share*
  ``need(r) - need(r - q)``; what the fill costs is consumed from it and the rest is
  released at once. A final status releases ``need(r)`` and drops the record, so
  fills and cancels release exactly what was reserved.
- The share always covers a spot buy filled at ``p <= price_cap`` (so the reserved
  balance never goes negative). With ``N = notional(p, q) <= Nc(q)`` and
  ``rate <= f``, and ``ceil(a + b) - ceil(a) >= floor(b)`` for integers:

      share = Nc(q) + ceil(Nc(r) f) - ceil(Nc(r - q) f)
            >= Nc(q) + floor(Nc(q) f)  >=  N + floor(N rate)  =  cost of the fill.

  For margin orders the same argument gives ``share >= floor(Nc(q)/L) + fee``; the
  posted margin is ``min(ceil(N/L), share - fee)`` topped up from available (see
  ``openpit.ledger.margin``), so it never overdraws the reservation either. The lend
  share is ``Nc(q) >= N`` (buys) or ``q * lot_units`` (sells), which covers any loan.
"""

from __future__ import annotations

from dataclasses import dataclass

from openpit.core.enums import Side
from openpit.core.instrument import Instrument
from openpit.ledger.money import ceil_div, fee_cap


@dataclass(slots=True)
class OrderRecord:
    """What the ledger remembers about an open order."""

    order_id: int
    user: str
    instrument: str
    side: Side
    client_order_id: str | None
    margin: bool
    reduce_only: bool
    leverage: int
    price_cap: int
    remaining: int
    asset: str  # the asset ``reserved`` is held in
    reserved: int
    lend_asset: str  # the asset ``lent`` is held in (on LENDER)
    lent: int

    def key(self) -> tuple[object, ...]:
        return (
            self.order_id,
            self.user,
            self.instrument,
            self.side.value,
            self.client_order_id,
            self.margin,
            self.reduce_only,
            self.leverage,
            self.price_cap,
            self.remaining,
            self.asset,
            self.reserved,
            self.lend_asset,
            self.lent,
        )


def max_fee_ppm(inst: Instrument) -> int:
    return max(inst.maker_fee_ppm, inst.taker_fee_ppm)


def reserve_asset(inst: Instrument, side: Side, margin: bool) -> str:
    if margin or side is Side.BUY:
        return inst.quote.symbol
    return inst.base.symbol


def lend_asset(inst: Instrument, side: Side) -> str:
    return inst.quote.symbol if side is Side.BUY else inst.base.symbol


def need(
    inst: Instrument,
    side: Side,
    margin: bool,
    reduce_only: bool,
    leverage: int,
    remaining: int,
    price_cap: int,
) -> int:
    """Units the order must hold back for ``remaining`` lots at ``price_cap``."""
    if reduce_only:
        return 0
    if not margin and side is Side.SELL:
        return inst.base_units(remaining)
    nc = inst.notional(price_cap, remaining)
    fees = fee_cap(nc, max_fee_ppm(inst))
    if margin:
        return ceil_div(nc, leverage) + fees
    return nc + fees


def lend_need(
    inst: Instrument, side: Side, margin: bool, reduce_only: bool, remaining: int, price_cap: int
) -> int:
    """Units of the lending pool the order may borrow for ``remaining`` lots."""
    if not margin or reduce_only:
        return 0
    if side is Side.BUY:
        return inst.notional(price_cap, remaining)
    return inst.base_units(remaining)


def rec_need(inst: Instrument, rec: OrderRecord, remaining: int, price_cap: int) -> int:
    return need(inst, rec.side, rec.margin, rec.reduce_only, rec.leverage, remaining, price_cap)


def rec_lend(inst: Instrument, rec: OrderRecord, remaining: int, price_cap: int) -> int:
    return lend_need(inst, rec.side, rec.margin, rec.reduce_only, remaining, price_cap)
