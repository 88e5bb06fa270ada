"""Isolated margin positions: one net position per (user, instrument), funded by
posted margin and a loan from the venue's lending pool (``LENDER``).

A long holds the bought base units and owes quote; a short holds the sale proceeds
plus its posted margin (quote) and owes the borrowed base:

    long  q lots: base = q * lot_units, debt = quote units borrowed, quote = 0
    short q lots: quote = proceeds + margin,  debt = q * lot_units (base)

Settling one side of a trade (``settle_margin``) for ``q`` lots at price ``p``:
- A fill against the position *reduces* first (``c = min(q, |qty|)`` lots), then
  *opens* the other way with what remains (``o = q - c``).
- Opening (fee ``F = floor(N * rate)`` on ``N = notional(p, o)``): the order's
  reservation share pays ``F`` and posts margin ``M = min(ceil(N / L), share - F)``;
  if the share is short (a sell filled above its floor, a reduce-only overflow) the
  rest comes from the user's available quote, and if that is short too the position
  opens with less margin. The unused share is released at once. A long borrows
  ``N - M`` quote, a short ``o * lot_units`` base, from the order's lend share first.
- Closing a long: the ``c * lot_units`` base are sold; from the proceeds ``N`` the fee
  is paid, then ``ceil(debt * c / |qty|)`` is repaid; the rest goes to the user's
  available. Closing a short: the ``floor(quote * c / |qty|)`` held quote buy back the
  base (``N + F``), the base repays the loan, the rest goes to available.
- Bad debt: if a long's proceeds do not cover its debt the pool gets what there is;
  if a short's quote does not cover the buy-back the pool pays the difference (and may
  go negative). Either way the debt is written off and every asset is conserved.
- ``cost`` is entry notional of the open lots (reduced pro rata, floor), ``margin``
  likewise; ``realized_pnl`` is gross of fees: ``N - cost_part`` (long),
  ``cost_part - N`` (short). A full close leaves base, quote, debt, margin, cost at 0.

Conservation: each side pays/receives exactly the trade's ``N`` quote and
``q * lot_units`` base, and every fee goes to ``FEES``; so per asset the sum of all
balances plus the assets held by positions never changes.
"""

from __future__ import annotations

from dataclasses import dataclass

from openpit.core.enums import Side
from openpit.core.instrument import Instrument
from openpit.ledger.accounts import FEES, LENDER, Accounts
from openpit.ledger.money import ceil_div, fee, pro_rata_ceil, pro_rata_floor
from openpit.ledger.orders import OrderRecord


@dataclass(slots=True)
class MarginPosition:
    qty: int = 0  # signed lots
    base: int = 0  # base units held (longs)
    quote: int = 0  # quote units held (shorts)
    debt: int = 0  # owed to LENDER: quote units (long) or base units (short)
    margin: int = 0  # posted margin, quote units
    cost: int = 0  # entry notional of the open lots, quote units
    realized_pnl: int = 0
    leverage: int = 1
    level: int = 0  # margin-call level already signalled (see openpit.ledger.risk)

    def key(self) -> tuple[int, ...]:
        return (
            self.qty,
            self.base,
            self.quote,
            self.debt,
            self.margin,
            self.cost,
            self.realized_pnl,
            self.leverage,
            self.level,
        )


def settle_margin(
    acc: Accounts,
    pos: MarginPosition,
    inst: Instrument,
    rec: OrderRecord,
    price: int,
    qty: int,
    rate_ppm: int,
    share: int,
    lend_share: int,
) -> int:
    """Settle one margin side of a trade; consumes or releases both shares; returns the fee."""
    buying = rec.side is Side.BUY
    against = pos.qty < 0 if buying else pos.qty > 0
    closing = min(qty, abs(pos.qty)) if against else 0
    opening = qty - closing
    fee_paid = 0
    if closing:
        if buying:
            fee_paid += _close_short(acc, pos, inst, rec.user, price, closing, rate_ppm)
        else:
            fee_paid += _close_long(acc, pos, inst, rec.user, price, closing, rate_ppm)
    if opening:
        fee_paid += _open(acc, pos, inst, rec, price, opening, rate_ppm, share, lend_share)
    else:
        acc.release(rec.user, rec.asset, share)
        acc.release(LENDER, rec.lend_asset, lend_share)
    if pos.qty == 0:
        pos.level = 0
    return fee_paid


def _open(
    acc: Accounts,
    pos: MarginPosition,
    inst: Instrument,
    rec: OrderRecord,
    price: int,
    lots: int,
    rate_ppm: int,
    share: int,
    lend_share: int,
) -> int:
    user, quote = rec.user, inst.quote.symbol
    notional = inst.notional(price, lots)
    want_fee = fee(notional, rate_ppm)
    want = want_fee + ceil_div(notional, rec.leverage)
    from_share = min(share, want)
    acc.consume(user, quote, from_share)
    acc.release(user, quote, share - from_share)
    topup = min(want - from_share, max(0, acc.available(user, quote)))
    acc.debit(user, quote, topup)
    funds = from_share + topup
    fee_paid = min(want_fee, funds)
    posted = funds - fee_paid
    acc.credit(FEES, quote, fee_paid)
    if rec.side is Side.BUY:
        loan, loan_asset = notional - posted, quote
        pos.base += inst.base_units(lots)
        pos.qty += lots
    else:
        loan, loan_asset = inst.base_units(lots), inst.base.symbol
        pos.quote += notional + posted
        pos.qty -= lots
    from_lend = min(lend_share, loan)
    acc.consume(LENDER, loan_asset, from_lend)
    acc.release(LENDER, loan_asset, lend_share - from_lend)
    acc.debit(LENDER, loan_asset, loan - from_lend)
    pos.debt += loan
    pos.margin += posted
    pos.cost += notional
    pos.leverage = rec.leverage
    return fee_paid


def _reduce_common(pos: MarginPosition, lots: int) -> int:
    """Take the closed part's share of cost and margin off ``pos``; returns the cost part."""
    whole = abs(pos.qty)
    cost_part = pro_rata_floor(pos.cost, lots, whole)
    pos.margin -= pro_rata_floor(pos.margin, lots, whole)
    pos.cost -= cost_part
    return cost_part


def _close_long(
    acc: Accounts,
    pos: MarginPosition,
    inst: Instrument,
    user: str,
    price: int,
    lots: int,
    rate_ppm: int,
) -> int:
    quote = inst.quote.symbol
    notional = inst.notional(price, lots)
    fee_paid = fee(notional, rate_ppm)
    debt_part = pro_rata_ceil(pos.debt, lots, pos.qty)
    quote_part = pro_rata_floor(pos.quote, lots, pos.qty)
    cost_part = _reduce_common(pos, lots)
    net = notional - fee_paid + quote_part
    repaid = min(net, debt_part)
    acc.credit(FEES, quote, fee_paid)
    acc.credit(LENDER, quote, repaid)
    acc.credit(user, quote, net - repaid)
    pos.base -= inst.base_units(lots)
    pos.quote -= quote_part
    pos.debt -= debt_part
    pos.qty -= lots
    pos.realized_pnl += notional - cost_part
    return fee_paid


def _close_short(
    acc: Accounts,
    pos: MarginPosition,
    inst: Instrument,
    user: str,
    price: int,
    lots: int,
    rate_ppm: int,
) -> int:
    quote = inst.quote.symbol
    whole = -pos.qty
    notional = inst.notional(price, lots)
    fee_paid = fee(notional, rate_ppm)
    quote_part = pro_rata_floor(pos.quote, lots, whole)
    base_in = inst.base_units(lots)
    cost_part = _reduce_common(pos, lots)
    pay = notional + fee_paid
    acc.credit(FEES, quote, fee_paid)
    if quote_part >= pay:
        acc.credit(user, quote, quote_part - pay)
    else:
        acc.debit(LENDER, quote, pay - quote_part)  # bad debt: the pool pays
    acc.credit(LENDER, inst.base.symbol, base_in)
    pos.quote -= quote_part
    pos.debt -= pro_rata_ceil(pos.debt, lots, whole)
    pos.qty += lots
    pos.realized_pnl += cost_part - notional
    return fee_paid
