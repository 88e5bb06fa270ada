"""Test harness for the engine: a venue-like driver that validates, applies and records."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from openpit.core.commands import CancelOrder, ModifyOrder, PlaceOrder
from openpit.core.enums import (
    InstrumentKind,
    OrderStatus,
    OrderType,
    Reason,
    Side,
    STPMode,
    TimeInForce,
)
from openpit.core.events import BookLevel, Event, OrderUpdate, Trade
from openpit.core.instrument import Asset, Instrument
from openpit.core.session import TradingSession
from openpit.engine import Engine

BTC = Asset("BTC", 8)
USD = Asset("USD", 6)
BUY, SELL = Side.BUY, Side.SELL
T = OrderType
TIF = TimeInForce
S = OrderStatus
R = Reason


def instrument(
    iid: str = "X",
    min_qty: str = "1",
    band: str = "0.05",
    session: TradingSession | None = None,
) -> Instrument:
    kw: dict[str, Any] = {}
    if session is not None:
        kw["session"] = session
    return Instrument(
        id=iid,
        venue="v",
        symbol=iid,
        base=BTC,
        quote=USD,
        kind=InstrumentKind.SPOT,
        tick_size=Decimal(1),
        lot_size=Decimal(1),
        min_qty=Decimal(min_qty),
        price_band=Decimal(band),
        **kw,
    )


class Venue:
    """Drives an Engine the way the sequencer does: check, then apply; ids and ts grow."""

    def __init__(
        self,
        stp: STPMode = STPMode.CANCEL_NEWEST,
        instruments: tuple[Instrument, ...] | None = None,
    ) -> None:
        insts = instruments or (instrument("X"), instrument("Y", min_qty="2"))
        self.engine = Engine({i.id: i for i in insts}, stp)
        self.next_id = 1
        self.ts = 1_000
        self.log: list[Event] = []

    def tick(self, ts: int | None = None) -> int:
        self.ts = self.ts + 1 if ts is None else ts
        return self.ts

    def place(
        self,
        user: str = "a",
        side: Side = BUY,
        qty: int = 1,
        price: int | None = None,
        type: OrderType = T.LIMIT,
        instrument: str = "X",
        **kw: Any,
    ) -> list[Event]:
        cmd = PlaceOrder(
            user=user, instrument=instrument, side=side, type=type, qty=qty, price=price, **kw
        )
        bad = self.engine.check_place(cmd)
        if bad is not None:
            raise Rejected(bad[0], bad[1])
        oid = self.next_id
        self.next_id += 1
        ev = self.engine.place(cmd, oid, self.tick())
        self.log += ev
        return ev

    def reject(self, **kw: Any) -> Reason:
        try:
            self.place(**kw)
        except Rejected as exc:
            return exc.reason
        raise AssertionError("accepted")

    def cancel(
        self, user: str = "a", order_id: int | None = None, client_order_id: str | None = None
    ) -> list[Event]:
        cmd = CancelOrder(user=user, order_id=order_id, client_order_id=client_order_id)
        bad = self.engine.check_cancel(cmd)
        if bad is not None:
            raise Rejected(bad[0], bad[1])
        ev = self.engine.cancel(cmd, self.tick())
        self.log += ev
        return ev

    def modify(self, user: str = "a", order_id: int | None = None, **kw: Any) -> list[Event]:
        cmd = ModifyOrder(user=user, order_id=order_id, **kw)
        bad = self.engine.check_modify(cmd)
        if bad is not None:
            raise Rejected(bad[0], bad[1])
        ev = self.engine.modify(cmd, self.tick())
        self.log += ev
        return ev


class Rejected(Exception):
    def __init__(self, reason: Reason, message: str) -> None:
        super().__init__(f"{reason}: {message}")
        self.reason = reason
        self.message = message


def trades(events: list[Event]) -> list[tuple[int, int]]:
    return [(e.price, e.qty) for e in events if isinstance(e, Trade)]


def updates(events: list[Event], order_id: int | None = None) -> list[OrderUpdate]:
    return [
        e
        for e in events
        if isinstance(e, OrderUpdate) and (order_id is None or e.order_id == order_id)
    ]


def last_update(events: list[Event], order_id: int) -> OrderUpdate:
    return updates(events, order_id)[-1]


def levels(events: list[Event]) -> list[tuple[str, int, int]]:
    return [(e.side.value, e.price, e.qty) for e in events if isinstance(e, BookLevel)]
