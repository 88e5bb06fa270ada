"""Builders for ledger tests: small integer instruments and hand-made engine events."""

from __future__ import annotations

from decimal import Decimal

from openpit.config.loader import RiskSettings
from openpit.core.commands import PlaceOrder
from openpit.core.enums import InstrumentKind, OrderStatus, OrderType, Side, TimeInForce
from openpit.core.events import OrderUpdate, Position, Trade
from openpit.core.instrument import Asset, Instrument
from openpit.ledger import LENDER, Ledger

X = Asset("X", 0)  # base: 1 unit per lot
Y = Asset("Y", 0)  # quote: 1 unit per tick x lot
B = Asset("B", 2)  # base with 100 units per lot

SPOT = Instrument(
    id="XY",
    venue="v",
    symbol="X/Y",
    base=X,
    quote=Y,
    kind=InstrumentKind.SPOT,
    tick_size=Decimal(1),
    lot_size=Decimal(1),
    min_qty=Decimal(1),
    maker_fee=Decimal("0.001"),
    taker_fee=Decimal("0.002"),
)
MARGIN = Instrument(
    id="MXY",
    venue="v",
    symbol="MX/Y",
    base=X,
    quote=Y,
    kind=InstrumentKind.MARGIN,
    tick_size=Decimal(1),
    lot_size=Decimal(1),
    min_qty=Decimal(1),
    max_leverage=5,
    maker_fee=Decimal("0.001"),
    taker_fee=Decimal("0.002"),
)
LOTS = Instrument(  # lot_units = 100, notional_units = 1 (tick 0.01 Y x lot 1 B)
    id="BY",
    venue="v",
    symbol="B/Y",
    base=B,
    quote=Y,
    kind=InstrumentKind.MARGIN,
    tick_size=Decimal(1),
    lot_size=Decimal(1),
    min_qty=Decimal(1),
    max_leverage=10,
    maker_fee=Decimal("0.0005"),
    taker_fee=Decimal("0.0007"),
)
INSTRUMENTS = {i.id: i for i in (SPOT, MARGIN, LOTS)}
ASSETS = {a.symbol: a for a in (X, Y, B)}
RISK = RiskSettings(maintenance_ppm=50_000, warning_ppm=100_000, critical_ppm=75_000)
POOL = 10**9
M = "MXY"  # notional_units 1, lot_units 1, maker 0.1 %, taker 0.2 %, max leverage 5


def make_ledger(**funds: dict[str, int]) -> Ledger:
    """A ledger whose lending pool holds ``POOL`` of every asset, plus the given funds."""
    led = Ledger(INSTRUMENTS, ASSETS, RISK)
    for asset in ASSETS:
        assert isinstance(led.deposit(LENDER, asset, POOL), list)
    for user, balances in funds.items():
        for asset, units in balances.items():
            assert isinstance(led.deposit(user, asset, units), list)
    return led


def order(
    user: str,
    side: Side,
    qty: int,
    price: int | None = None,
    *,
    instrument: str = "XY",
    leverage: int = 1,
    margin: bool = False,
    reduce_only: bool = False,
    client_order_id: str | None = None,
) -> PlaceOrder:
    return PlaceOrder(
        user=user,
        instrument=instrument,
        side=side,
        type=OrderType.LIMIT if price is not None else OrderType.MARKET,
        qty=qty,
        price=price,
        leverage=leverage,
        margin=margin,
        reduce_only=reduce_only,
        client_order_id=client_order_id,
    )


def trade(
    maker: tuple[str, int],
    taker: tuple[str, int],
    taker_side: Side,
    price: int,
    qty: int,
    *,
    instrument: str = "XY",
    trade_id: int = 1,
) -> Trade:
    return Trade(
        instrument=instrument,
        trade_id=trade_id,
        price=price,
        qty=qty,
        taker_side=taker_side,
        maker_order_id=maker[1],
        taker_order_id=taker[1],
        maker_user=maker[0],
        taker_user=taker[0],
    )


def final(
    user: str,
    order_id: int,
    status: OrderStatus = OrderStatus.CANCELLED,
    *,
    instrument: str = "XY",
    side: Side = Side.BUY,
) -> OrderUpdate:
    return OrderUpdate(
        user=user,
        order_id=order_id,
        client_order_id=None,
        instrument=instrument,
        side=side,
        type=OrderType.LIMIT,
        tif=TimeInForce.GTC,
        status=status,
        price=None,
        stop_price=None,
        qty=0,
        filled=0,
        remaining=0,
        cancelled=0,
        filled_value=0,
    )


def margin_ledger() -> Ledger:
    return make_ledger(alice={"Y": 10_000}, bob={"X": 1000, "Y": 100_000})


def margin_fill(
    led: Ledger,
    oid: int,
    side: Side,
    qty: int,
    price: int,
    *,
    cap: int | None = None,
    leverage: int = 5,
    reduce_only: bool = False,
    alice_taker: bool = False,
) -> list[object]:
    """alice's margin order ``oid`` against a spot counter-order of bob, fully filled."""
    mine = order(
        "alice", side, qty, cap or price, instrument=M, leverage=leverage, reduce_only=reduce_only
    )
    assert isinstance(led.reserve(oid, mine, cap or price), list)
    theirs = order("bob", side.opposite, qty, price, instrument=M)
    assert isinstance(led.reserve(oid + 1000, theirs, price), list)
    a, b = ("alice", oid), ("bob", oid + 1000)
    maker, taker = (b, a) if alice_taker else (a, b)
    taker_side = side if alice_taker else side.opposite
    events = led.apply(
        [
            trade(maker, taker, taker_side, price, qty, instrument=M, trade_id=oid),
            final("alice", oid, OrderStatus.FILLED, instrument=M, side=side),
            final("bob", oid + 1000, OrderStatus.FILLED, instrument=M, side=side.opposite),
        ]
    )
    return list(events)


def margin_pos(led: Ledger) -> Position:
    (pos,) = [p for p in led.positions("alice") if p.margin_mode]
    return pos
