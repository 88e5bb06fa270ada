"""Bounds where decimals become integers: the exact edges, per instrument and asset."""

from __future__ import annotations

from decimal import Decimal
from math import isqrt

import pytest

from openpit.config import load_demo_config
from openpit.core.instrument import INT64_MAX, NotAMultiple, OutOfRange, to_steps

CONFIG = load_demo_config()
LUX = CONFIG.instruments["LUXURY001-XRP-XRPL"]
BTC = CONFIG.instruments["BTCUSDT"]
AAPL = CONFIG.instruments["AAPL"]
USDT = CONFIG.assets["USDT"]


@pytest.mark.parametrize("inst", [LUX, BTC, AAPL], ids=lambda i: i.id)
def test_bounds_largest_order_notional_fits_int64(inst: object) -> None:
    from openpit.core.instrument import Instrument

    assert isinstance(inst, Instrument)
    assert inst.max_ticks * inst.max_lots * inst.notional_units <= INT64_MAX
    assert inst.max_lots * inst.lot_units <= INT64_MAX
    # not an arbitrary cap: one more tick and one more lot would not fit
    assert (inst.max_ticks + 1) * (inst.max_lots + 1) * inst.notional_units > INT64_MAX


def test_bounds_split_int64_evenly_between_ticks_and_lots() -> None:
    assert BTC.max_ticks == BTC.max_lots == isqrt(INT64_MAX // BTC.notional_units)


def test_bounds_price_largest_accepted_smallest_refused() -> None:
    largest = BTC.ticks_to_price(BTC.max_ticks)
    assert BTC.price_to_ticks(largest) == BTC.max_ticks
    with pytest.raises(OutOfRange) as info:
        BTC.price_to_ticks(largest + BTC.tick_size)
    assert info.value.largest == largest
    assert info.value.unit == "USDT"


def test_bounds_quantity_largest_accepted_smallest_refused() -> None:
    largest = LUX.lots_to_qty(LUX.max_lots)
    assert LUX.qty_to_lots(largest) == LUX.max_lots
    with pytest.raises(OutOfRange) as info:
        LUX.qty_to_lots(largest + LUX.lot_size)
    assert info.value.largest == largest
    assert info.value.unit == "LUXURY001"


def test_bounds_asset_units_largest_accepted_smallest_refused() -> None:
    largest = USDT.from_units(INT64_MAX)
    assert USDT.to_units(largest) == INT64_MAX
    with pytest.raises(OutOfRange):
        USDT.to_units(largest + USDT.unit)


def test_bounds_hundred_million_usdt_deposit_fits() -> None:
    assert USDT.to_units(Decimal("100000000")) == 10**16


def test_bounds_poison_price_is_out_of_range_not_overflow() -> None:
    with pytest.raises(OutOfRange) as info:
        LUX.price_to_ticks(Decimal("100000000000000000000"))
    assert "3037000.49 XRP" in str(info.value)


@pytest.mark.parametrize("text", ["1e400", "1E+999999", "-1e400", "Infinity", "NaN", "sNaN"])
def test_bounds_huge_or_not_finite_is_out_of_range_never_invalid_operation(text: str) -> None:
    with pytest.raises(OutOfRange):
        LUX.qty_to_lots(Decimal(text))


def test_bounds_out_of_range_is_a_value_error_and_checked_before_the_multiple() -> None:
    with pytest.raises(ValueError):
        BTC.price_to_ticks(Decimal("1e30"))
    with pytest.raises(OutOfRange):
        BTC.price_to_ticks(Decimal("1e20") + Decimal("0.001"))  # too large and not a multiple
    with pytest.raises(NotAMultiple):
        BTC.price_to_ticks(Decimal("0.001"))


def test_bounds_to_steps_default_limit_is_int64() -> None:
    assert to_steps(Decimal(INT64_MAX), Decimal(1)) == INT64_MAX
    with pytest.raises(OutOfRange):
        to_steps(Decimal(INT64_MAX + 1), Decimal(1))


def test_bounds_instrument_unpickled_from_state_without_bounds_gets_them() -> None:
    from openpit.core.instrument import Instrument

    old_state = BTC.__getstate__()[:-2]  # a snapshot pickled before the bounds existed
    restored = object.__new__(Instrument)
    restored.__setstate__(old_state)
    assert restored == BTC and (restored.max_ticks, restored.max_lots) == (
        BTC.max_ticks,
        BTC.max_lots,
    )
