"""The engine's live order record and the ``OrderUpdate`` it renders to.

Invariants:
- ``qty == filled + remaining + cancelled`` at all times; ``remaining > 0`` while live.
- ``price`` is the user's limit price (None for market-like orders); ``limit`` is the
  effective bound used when the order takes liquidity (the limit price, or the
  protection cap/floor of a market or triggered stop-market order).
- ``pending`` marks a stop waiting for its trigger (it is not in the book);
  ``oco_stop`` marks an OCO whose stop leg is still armed (its limit leg rests).
- Updates are built with ``msgspec.structs.replace`` from a per-order prototype that
  holds the fields that never change (constructing the 26-field struct from keywords
  costs ~5x more). Events leave ``seq``/``ts`` 0: the sequencer stamps them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import msgspec

from openpit.core.commands import PlaceOrder
from openpit.core.enums import OrderStatus, OrderType, Reason, Side, STPMode, TimeInForce
from openpit.core.events import OrderUpdate

if TYPE_CHECKING:
    from openpit.engine.book import BookSide

_NEW = OrderStatus.NEW
_replace = msgspec.structs.replace
_OK = Reason.OK

# Order types that trigger when the price rises through the stop for a buy.
_STOP_TYPES = frozenset(
    {OrderType.STOP, OrderType.STOP_LIMIT, OrderType.TRAILING_STOP, OrderType.OCO}
)
_TP_TYPES = frozenset({OrderType.TAKE_PROFIT, OrderType.TAKE_PROFIT_LIMIT})


_BLANK = OrderUpdate(
    user="",
    order_id=0,
    client_order_id=None,
    instrument="",
    side=Side.BUY,
    type=OrderType.LIMIT,
    tif=TimeInForce.GTC,
    status=_NEW,
    price=None,
    stop_price=None,
    qty=0,
    filled=0,
    remaining=0,
    cancelled=0,
    filled_value=0,
)
_BLANK_SELL = _replace(_BLANK, side=Side.SELL)
_LIMIT = OrderType.LIMIT
_GTC = TimeInForce.GTC


class Order:
    """One live (or just finished) order. Plain slots class: picklable, cheap."""

    __slots__ = (
        "bside",
        "cancelled",
        "client_order_id",
        "created_ts",
        "deadline",
        "expires_at",
        "filled",
        "filled_value",
        "instrument",
        "is_buy",
        "is_market",
        "leverage",
        "limit",
        "margin",
        "oco_stop",
        "order_id",
        "pending",
        "post_only",
        "price",
        "proto",
        "qty",
        "reduce_only",
        "remaining",
        "rising",
        "side",
        "status",
        "stop_limit_price",
        "stop_price",
        "stp",
        "tif",
        "trail_ppm",
        "trail_ticks",
        "type",
        "user",
        "watermark",
    )

    def __init__(
        self, cmd: PlaceOrder, order_id: int, stp: STPMode, ts: int, bside: BookSide
    ) -> None:
        self.bside = bside  # the side of the book it rests on (or would)
        self.order_id = order_id
        self.user = cmd.user
        self.instrument = cmd.instrument
        self.side = cmd.side
        self.is_buy = cmd.side is Side.BUY
        self.type = cmd.type
        tif = cmd.tif
        if cmd.type is OrderType.MARKET and tif is not TimeInForce.FOK:
            tif = TimeInForce.IOC  # market orders never rest
        self.tif = tif
        self.price = cmd.price
        self.limit = cmd.price if cmd.price is not None else 0
        self.stop_price = cmd.stop_price
        self.stop_limit_price = cmd.stop_limit_price
        self.trail_ticks = cmd.trail_ticks
        self.trail_ppm = cmd.trail_ppm
        self.watermark = 0
        self.qty = cmd.qty
        self.filled = 0
        self.remaining = cmd.qty
        self.cancelled = 0
        self.filled_value = 0
        self.status = _NEW
        self.client_order_id = cmd.client_order_id
        self.post_only = cmd.post_only
        self.reduce_only = cmd.reduce_only
        self.margin = cmd.margin
        self.leverage = cmd.leverage
        self.deadline = cmd.deadline
        self.stp = stp
        self.created_ts = ts
        self.expires_at = 0
        self.is_market = cmd.type is OrderType.MARKET
        self.pending = False
        self.oco_stop = False
        t = cmd.type
        self.rising = self.is_buy if t in _STOP_TYPES else (not self.is_buy and t in _TP_TYPES)
        if cmd.post_only or cmd.reduce_only or cmd.margin or cmd.leverage != 1:
            self.proto = _replace(
                _BLANK,
                user=cmd.user,
                order_id=order_id,
                client_order_id=cmd.client_order_id,
                instrument=cmd.instrument,
                side=cmd.side,
                type=t,
                tif=tif,
                created_ts=ts,
                post_only=cmd.post_only,
                reduce_only=cmd.reduce_only,
                margin=cmd.margin,
                leverage=cmd.leverage,
            )
        elif t is _LIMIT and tif is _GTC and cmd.client_order_id is None:
            # the common case: only the per-order identity differs from a blank
            self.proto = _replace(
                _BLANK if self.is_buy else _BLANK_SELL,
                user=cmd.user,
                order_id=order_id,
                instrument=cmd.instrument,
                created_ts=ts,
            )
        else:
            self.proto = _replace(
                _BLANK,
                user=cmd.user,
                order_id=order_id,
                client_order_id=cmd.client_order_id,
                instrument=cmd.instrument,
                side=cmd.side,
                type=t,
                tif=tif,
                created_ts=ts,
            )

    def update(self, reason: Reason = _OK) -> OrderUpdate:
        """The order's full state as a new event (``ts`` left for the sequencer)."""
        if (
            reason is _OK
            and self.status is _NEW
            and not self.filled
            and not self.cancelled
            and self.stop_price is None
        ):  # the prototype already holds these defaults
            return _replace(self.proto, price=self.price, qty=self.qty, remaining=self.remaining)
        return _replace(
            self.proto,
            status=self.status,
            price=self.price,
            stop_price=self.stop_price,
            qty=self.qty,
            filled=self.filled,
            remaining=self.remaining,
            cancelled=self.cancelled,
            filled_value=self.filled_value,
            reason=reason,
        )

    def fill_update(self, fill_price: int, fill_qty: int) -> OrderUpdate:
        """The order's state right after a fill of ``fill_qty`` at ``fill_price``."""
        return _replace(
            self.proto,
            status=self.status,
            price=self.price,
            stop_price=self.stop_price,
            qty=self.qty,
            filled=self.filled,
            remaining=self.remaining,
            cancelled=self.cancelled,
            filled_value=self.filled_value,
            last_fill_price=fill_price,
            last_fill_qty=fill_qty,
        )

    def key(self) -> tuple[object, ...]:
        """Canonical content (for state hashes)."""
        return (
            self.order_id,
            self.user,
            self.instrument,
            self.side.value,
            self.type.value,
            self.tif.value,
            self.status.value,
            self.price,
            self.limit,
            self.stop_price,
            self.stop_limit_price,
            self.trail_ticks,
            self.trail_ppm,
            self.watermark,
            self.qty,
            self.filled,
            self.remaining,
            self.cancelled,
            self.filled_value,
            self.client_order_id,
            self.post_only,
            self.reduce_only,
            self.margin,
            self.leverage,
            self.deadline,
            self.stp.value,
            self.created_ts,
            self.expires_at,
            self.is_market,
            self.pending,
            self.oco_stop,
        )

    def __repr__(self) -> str:
        return (
            f"Order({self.order_id} {self.user} {self.side} {self.type} {self.qty}@{self.price}"
            f" filled={self.filled} rem={self.remaining} {self.status})"
        )


def is_tif_immediate(tif: TimeInForce) -> bool:
    return tif is TimeInForce.IOC or tif is TimeInForce.FOK
