"""Shared builders for venue tests: a funded demo venue and terse order commands."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

from openpit.config import load_demo_config
from openpit.core.commands import Command, Deposit, PlaceOrder
from openpit.core.enums import OrderType, Side, TimeInForce
from openpit.venue import CommandResult, Venue

CONFIG = load_demo_config()
BTC = CONFIG.instruments["BTCUSDT"]
# Tuesday 2026-11-17 10:00 New York: equities are open.
T0 = int(datetime(2026, 11, 17, 15, 0, tzinfo=UTC).timestamp() * 1000)


def fresh_venue() -> Venue:
    venue = Venue(CONFIG)
    for cmd in venue.genesis_commands():
        assert venue.execute(cmd, T0).ok
    return venue


def px(value: str, inst: str = "BTCUSDT") -> int:
    return CONFIG.instruments[inst].price_to_ticks(Decimal(value))


def qty(value: str, inst: str = "BTCUSDT") -> int:
    return CONFIG.instruments[inst].qty_to_lots(Decimal(value))


def limit(
    user: str,
    side: Side,
    price: str,
    amount: str,
    inst: str = "BTCUSDT",
    tif: TimeInForce = TimeInForce.GTC,
    **kw: object,
) -> PlaceOrder:
    return PlaceOrder(
        user=user,
        instrument=inst,
        side=side,
        type=OrderType.LIMIT,
        qty=qty(amount, inst),
        price=px(price, inst),
        tif=tif,
        **kw,  # type: ignore[arg-type]
    )


def market(user: str, side: Side, amount: str, inst: str = "BTCUSDT", **kw: object) -> PlaceOrder:
    return PlaceOrder(
        user=user,
        instrument=inst,
        side=side,
        type=OrderType.MARKET,
        qty=qty(amount, inst),
        tif=TimeInForce.IOC,
        **kw,  # type: ignore[arg-type]
    )


def run(venue: Venue, cmd: Command, ts: int = T0) -> CommandResult:
    return venue.execute(cmd, ts)


def fund(venue: Venue, user: str, asset: str, amount: str) -> None:
    units = CONFIG.assets[asset].to_units(Decimal(amount))
    assert venue.execute(Deposit(user=user, asset=asset, units=units), T0).ok
