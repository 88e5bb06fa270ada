"""Events: everything a client can ever see comes from one of these.

Invariants:
- Integers only: prices in ticks, quantities in lots, money in asset units.
- ``seq`` is the global sequence of the command that produced the event and ``ts``
  its timestamp; the sequencer stamps them, producers leave them 0.
- A ``MarketEvent`` is public and carries ``iseq``, consecutive per instrument.
- A ``UserEvent`` is private to ``user`` and carries ``useq``, consecutive per user.
- Producers (engine, ledger) create events; only the sequencer mutates them, and
  only to stamp sequence fields before anyone else sees them.
"""

from __future__ import annotations

import msgspec

from openpit.core.enums import (
    Liquidity,
    OrderStatus,
    OrderType,
    Reason,
    Side,
    TimeInForce,
)


class Event(msgspec.Struct, kw_only=True, tag=True, tag_field="event", gc=False):
    seq: int = 0
    ts: int = 0


class MarketEvent(Event, kw_only=True):
    instrument: str
    iseq: int = 0


class UserEvent(Event, kw_only=True):
    user: str
    useq: int = 0


# -- market (public) -------------------------------------------------------------------


class Trade(MarketEvent, kw_only=True, tag="trade"):
    trade_id: int
    price: int
    qty: int
    taker_side: Side
    maker_order_id: int
    taker_order_id: int
    maker_user: str
    taker_user: str


class BookLevel(MarketEvent, kw_only=True, tag="level"):
    """Total resting quantity at one price level after a change; ``qty == 0`` deletes it."""

    side: Side
    price: int
    qty: int


class InstrumentStatus(MarketEvent, kw_only=True, tag="status"):
    halted: bool
    reason: str = ""
    until: int | None = None


# -- private (per user) ---------------------------------------------------------------


class OrderUpdate(UserEvent, kw_only=True, tag="order"):
    """The full state of an order after a change. ``qty == filled + remaining + cancelled``."""

    order_id: int
    client_order_id: str | None
    instrument: str
    side: Side
    type: OrderType
    tif: TimeInForce
    status: OrderStatus
    price: int | None  # limit price (None for market / stop-market)
    stop_price: int | None
    qty: int
    filled: int
    remaining: int  # open quantity still able to trade
    cancelled: int
    filled_value: int  # sum of price_ticks * lots over fills: average = filled_value / filled
    last_fill_price: int | None = None
    last_fill_qty: int = 0
    reason: Reason = Reason.OK
    created_ts: int = 0
    post_only: bool = False
    reduce_only: bool = False
    margin: bool = False
    leverage: int = 1
    # fees charged on this order by the fills this update reports (quote units; the venue
    # fills these in), and the rate of the latest of those fills
    fee: int = 0
    fee_rate_ppm: int = 0


class Fill(UserEvent, kw_only=True, tag="fill"):
    """One side of a trade, as its owner sees it; carries the fee actually charged."""

    instrument: str
    order_id: int
    client_order_id: str | None
    trade_id: int
    side: Side
    price: int
    qty: int
    liquidity: Liquidity
    fee: int  # quote-asset units
    fee_asset: str
    fee_rate_ppm: int
    margin: bool = False


class Balance(UserEvent, kw_only=True, tag="balance"):
    asset: str
    available: int
    reserved: int

    @property
    def total(self) -> int:
        return self.available + self.reserved


class Position(UserEvent, kw_only=True, tag="position"):
    """A spot holding or an isolated margin position on one instrument.

    ``qty`` is signed lots (+ long, - short); ``cost`` the quote units paid for the
    open quantity at entry (average entry price = cost / (|qty| * notional_units) ticks).
    Margin positions also carry posted ``margin`` (quote units), the ``debt`` owed to
    the venue's lending pool (quote units for longs, base units for shorts),
    ``leverage`` and the ``liquidation_price`` in ticks.
    """

    instrument: str
    margin_mode: bool
    qty: int
    cost: int
    realized_pnl: int
    mark_price: int | None = None
    margin: int = 0
    debt: int = 0
    leverage: int = 1
    liquidation_price: int | None = None
    stop_loss: int | None = None
    take_profit: int | None = None
    trailing_stop_ppm: int | None = None


class MarginCall(UserEvent, kw_only=True, tag="margin_call"):
    instrument: str
    severity: str  # "warning" | "critical" | "liquidation"
    margin_ratio_ppm: int  # equity / position value
    required_ratio_ppm: int
    required_deposit: int  # quote units to get back to the required ratio
    mark_price: int
    liquidation_price: int | None


class CommandRejected(UserEvent, kw_only=True, tag="rejected"):
    """A command that changed nothing (cancel of an unknown order, bad withdrawal, ...)."""

    reason: Reason
    message: str
    order_id: int | None = None
    client_order_id: str | None = None


AnyEvent = (
    Trade
    | BookLevel
    | InstrumentStatus
    | OrderUpdate
    | Fill
    | Balance
    | Position
    | MarginCall
    | CommandRejected
)
