"""Defence in depth: the venue refuses out-of-range integers from any command source.

Commands built by hand (feeds, an old journal record) bypass the edge conversions, so the
sequencer's validation holds the same bounds (``openpit.core.instrument``); every event
of an accepted command then fits the store.
"""

from __future__ import annotations

from pathlib import Path

from openpit.core.commands import Batch, Deposit, ModifyOrder, PlaceOrder, Withdraw
from openpit.core.enums import OrderType, Reason, Side
from openpit.core.instrument import INT64_MAX
from openpit.store import SqliteStore
from tests.venue.helpers import CONFIG, T0, fresh_venue

LUX = CONFIG.instruments["LUXURY001-XRP-XRPL"]
POISON_TICKS = 10**22  # price 1e20 XRP, the issue-13 order


def _sell(price: int, qty: int = 100, **kw: object) -> PlaceOrder:
    return PlaceOrder(
        user="demo",
        instrument=LUX.id,
        side=Side.SELL,
        type=OrderType.LIMIT,
        qty=qty,
        price=price,
        **kw,  # type: ignore[arg-type]
    )


def test_venue_poison_price_is_rejected_invalid_price_in_quote_units() -> None:
    venue = fresh_venue()
    result = venue.execute(_sell(POISON_TICKS), T0)
    assert not result.ok and result.reason is Reason.INVALID_PRICE
    assert "3037000.49 XRP" in result.message and "LUXURY001/XRP" in result.message


def test_venue_largest_price_accepted_one_tick_more_refused() -> None:
    venue = fresh_venue()
    assert venue.execute(_sell(LUX.max_ticks), T0).ok
    refused = venue.execute(_sell(LUX.max_ticks + 1), T0)
    assert refused.reason is Reason.INVALID_PRICE


def test_venue_quantity_beyond_max_lots_is_rejected_invalid_quantity() -> None:
    venue = fresh_venue()
    result = venue.execute(_sell(100, qty=LUX.max_lots + 1), T0)
    assert result.reason is Reason.INVALID_QUANTITY
    assert "LUXURY001" in result.message


def test_venue_stop_and_trail_beyond_bound_are_rejected() -> None:
    venue = fresh_venue()
    stop = PlaceOrder(
        user="demo",
        instrument=LUX.id,
        side=Side.SELL,
        type=OrderType.STOP,
        qty=100,
        stop_price=LUX.max_ticks + 1,
    )
    assert venue.execute(stop, T0).reason is Reason.INVALID_PRICE
    trail = PlaceOrder(
        user="demo",
        instrument=LUX.id,
        side=Side.SELL,
        type=OrderType.TRAILING_STOP,
        qty=100,
        trail_ticks=LUX.max_ticks + 1,
    )
    assert venue.execute(trail, T0).reason is Reason.INVALID_PARAMETER


def test_venue_leverage_above_instrument_max_is_rejected() -> None:
    venue = fresh_venue()
    result = venue.execute(_sell(100, margin=True, leverage=10**30), T0)
    assert result.reason is Reason.LEVERAGE_NOT_ALLOWED


def test_venue_modify_to_poison_price_or_quantity_is_rejected() -> None:
    venue = fresh_venue()
    placed = venue.execute(_sell(100), T0)
    assert placed.ok
    oid = placed.order_id
    price = venue.execute(ModifyOrder(user="demo", order_id=oid, price=POISON_TICKS), T0)
    assert price.reason is Reason.INVALID_PRICE
    qty = venue.execute(ModifyOrder(user="demo", order_id=oid, qty=LUX.max_lots + 1), T0)
    assert qty.reason is Reason.INVALID_QUANTITY


def test_venue_batch_rejects_only_the_poison_operation() -> None:
    venue = fresh_venue()
    result = venue.execute(Batch(user="demo", ops=[_sell(POISON_TICKS), _sell(100)]), T0)
    assert [r.reason for r in result.results] == [Reason.INVALID_PRICE, Reason.OK]


def test_venue_deposit_beyond_int64_units_is_rejected_and_balance_stays_bounded() -> None:
    venue = fresh_venue()
    assert venue.execute(Deposit(user="x", asset="USDT", units=INT64_MAX + 1), T0).reason is (
        Reason.INVALID_PARAMETER
    )
    assert venue.execute(Deposit(user="x", asset="USDT", units=INT64_MAX), T0).ok
    again = venue.execute(Deposit(user="x", asset="USDT", units=1), T0)
    assert again.reason is Reason.INVALID_PARAMETER and "USDT" in again.message
    assert venue.execute(Withdraw(user="x", asset="USDT", units=INT64_MAX + 1), T0).reason is (
        Reason.INVALID_PARAMETER
    )


def test_venue_hundred_million_usdt_deposit_is_accepted() -> None:
    venue = fresh_venue()
    units = CONFIG.assets["USDT"].to_units(__import__("decimal").Decimal("100000000"))
    assert venue.execute(Deposit(user="whale", asset="USDT", units=units), T0).ok


def test_venue_largest_accepted_order_events_fit_the_store(tmp_path: Path) -> None:
    venue = fresh_venue()
    funded = venue.execute(Deposit(user="big", asset="LUXURY001", units=INT64_MAX), T0)
    assert funded.ok
    big = PlaceOrder(
        user="big",
        instrument=LUX.id,
        side=Side.SELL,
        type=OrderType.LIMIT,
        qty=LUX.max_lots,
        price=LUX.max_ticks,
    )
    placed = venue.execute(big, T0)
    assert placed.ok, placed.message
    store = SqliteStore(tmp_path / "h.sqlite3")
    try:
        counts = store.write_history(placed.events)
        assert counts.orders == 1
    finally:
        store.close()
