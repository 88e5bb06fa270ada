"""Settlement of one ``Trade``: both sides, spot or margin, into balances and positions.

Invariants:
- Each side is settled on its own: the buyer pays ``N = notional(price, qty)`` quote
  and receives ``qty * lot_units`` base, the seller the reverse; each pays its own fee
  ``floor(N * rate)`` (maker or taker rate of the instrument) to ``FEES`` in quote.
- A spot buy pays ``N + fee`` out of its reservation share (never short, see
  ``openpit.ledger.orders``) and releases the rest; a spot sell consumes exactly
  ``qty * lot_units`` reserved base and receives ``N - fee`` (``fee < N``, rates < 1).
- The order's record is updated so that ``reserved == need(remaining)`` holds again.
- ``validate`` checks every trade of a batch against the order records before
  anything is mutated; a contract violation raises ``LedgerError`` with state intact.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from openpit.core.enums import Liquidity, Side
from openpit.core.events import Event, Fill, Trade
from openpit.core.instrument import Instrument
from openpit.ledger.accounts import FEES, Accounts, LedgerError
from openpit.ledger.margin import MarginPosition, settle_margin
from openpit.ledger.money import fee
from openpit.ledger.orders import OrderRecord, rec_lend, rec_need
from openpit.ledger.spot import SpotPosition, spot_buy, spot_sell

PosKey = tuple[bool, str, str]  # (margin_mode, user, instrument)


def _sides(trade: Trade) -> tuple[tuple[int, str, Side, Liquidity], ...]:
    return (
        (trade.maker_order_id, trade.maker_user, trade.taker_side.opposite, Liquidity.MAKER),
        (trade.taker_order_id, trade.taker_user, trade.taker_side, Liquidity.TAKER),
    )


def validate(
    events: Sequence[Event],
    orders: Mapping[int, OrderRecord],
    instruments: Mapping[str, Instrument],
) -> None:
    """Raise ``LedgerError`` if any trade does not match the ledger's order records."""
    remaining: dict[int, int] = {}
    for ev in events:
        if not isinstance(ev, Trade):
            continue
        if ev.instrument not in instruments:
            raise LedgerError(f"trade {ev.trade_id}: unknown instrument {ev.instrument}")
        if ev.qty <= 0 or ev.price <= 0:
            raise LedgerError(f"trade {ev.trade_id}: non-positive price or quantity")
        for order_id, user, side, _ in _sides(ev):
            rec = orders.get(order_id)
            if rec is None:
                raise LedgerError(f"trade {ev.trade_id}: no reservation for order {order_id}")
            if (rec.user, rec.instrument, rec.side) != (user, ev.instrument, side):
                raise LedgerError(f"trade {ev.trade_id}: order {order_id} does not match")
            left = remaining.get(order_id, rec.remaining) - ev.qty
            if left < 0:
                raise LedgerError(f"trade {ev.trade_id}: overfills order {order_id}")
            if not rec.margin and side is Side.BUY and ev.price > rec.price_cap:
                raise LedgerError(f"trade {ev.trade_id}: buy {order_id} above its price cap")
            remaining[order_id] = left


def settle_trade(
    trade: Trade,
    inst: Instrument,
    acc: Accounts,
    orders: Mapping[int, OrderRecord],
    spot: dict[tuple[str, str], SpotPosition],
    margin: dict[tuple[str, str], MarginPosition],
    changed: dict[PosKey, None],
) -> list[Event]:
    """Settle both sides of ``trade`` (maker first); returns their two ``Fill`` events."""
    fills: list[Event] = []
    notional = inst.notional(trade.price, trade.qty)
    for order_id, user, side, liquidity in _sides(trade):
        rec = orders[order_id]
        rate = inst.maker_fee_ppm if liquidity is Liquidity.MAKER else inst.taker_fee_ppm
        left = rec.remaining - trade.qty
        new_need = rec_need(inst, rec, left, rec.price_cap)
        new_lend = rec_lend(inst, rec, left, rec.price_cap)
        share, lend_share = rec.reserved - new_need, rec.lent - new_lend
        rec.remaining, rec.reserved, rec.lent = left, new_need, new_lend
        key = (user, inst.id)
        if rec.margin:
            pos = margin.setdefault(key, MarginPosition())
            charged = settle_margin(
                acc, pos, inst, rec, trade.price, trade.qty, rate, share, lend_share
            )
            changed[(True, user, inst.id)] = None
        else:
            charged = fee(notional, rate)
            _settle_spot(acc, inst, rec, trade.qty, notional, charged, share)
            if side is Side.BUY:
                spot_buy(spot.setdefault(key, SpotPosition()), trade.qty, notional)
                changed[(False, user, inst.id)] = None
            elif key in spot and spot_sell(spot[key], inst, trade.price, trade.qty):
                changed[(False, user, inst.id)] = None
        fills.append(
            Fill(
                user=user,
                instrument=inst.id,
                order_id=order_id,
                client_order_id=rec.client_order_id,
                trade_id=trade.trade_id,
                side=side,
                price=trade.price,
                qty=trade.qty,
                liquidity=liquidity,
                fee=charged,
                fee_asset=inst.quote.symbol,
                fee_rate_ppm=rate,
                margin=rec.margin,
            )
        )
    return fills


def _settle_spot(
    acc: Accounts,
    inst: Instrument,
    rec: OrderRecord,
    qty: int,
    notional: int,
    charged: int,
    share: int,
) -> None:
    base, quote = inst.base.symbol, inst.quote.symbol
    if rec.side is Side.BUY:
        cost = notional + charged
        acc.consume(rec.user, quote, cost)
        acc.release(rec.user, quote, share - cost)
        acc.credit(rec.user, base, inst.base_units(qty))
    else:
        acc.consume(rec.user, base, share)  # share == qty * lot_units exactly
        acc.credit(rec.user, quote, notional - charged)
    acc.credit(FEES, quote, charged)
