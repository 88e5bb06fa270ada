from datetime import UTC, datetime
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from openpit.config import load_demo_config
from openpit.core.instrument import NotAMultiple
from openpit.core.session import TradingSession

BTC = load_demo_config().instruments["BTCUSDT"]
AAPL = load_demo_config().instruments["AAPL"]


def ms(*args: int) -> int:
    return int(datetime(*args, tzinfo=UTC).timestamp() * 1000)


TUE_10AM_NEW_YORK = ms(2026, 11, 17, 15, 0)


def test_instrument_price_conversion_exact_multiple_roundtrips() -> None:
    assert BTC.price_to_ticks(Decimal("42650.50")) == 4265050
    assert BTC.ticks_to_price(4265050) == Decimal("42650.50")


def test_instrument_price_not_multiple_of_tick_raises() -> None:
    with pytest.raises(NotAMultiple):
        BTC.price_to_ticks(Decimal("42650.505"))


def test_instrument_notional_is_quote_units() -> None:
    # 0.1 BTC at 42500.00 USDT = 4250 USDT = 4250 * 10**8 units
    lots = BTC.qty_to_lots(Decimal("0.1"))
    ticks = BTC.price_to_ticks(Decimal("42500"))
    assert BTC.notional(ticks, lots) == 4250 * 10**8


@given(
    st.integers(min_value=1, max_value=BTC.max_ticks),
    st.integers(min_value=1, max_value=BTC.max_lots),
)
def test_instrument_conversions_roundtrip_for_any_integers(ticks: int, lots: int) -> None:
    assert BTC.price_to_ticks(BTC.ticks_to_price(ticks)) == ticks
    assert BTC.qty_to_lots(BTC.lots_to_qty(lots)) == lots


def test_session_regular_hours_open_and_closed() -> None:
    session = AAPL.session
    assert session.is_open(TUE_10AM_NEW_YORK)
    assert not session.is_open(ms(2026, 11, 17, 21, 0))  # 16:00 New York: closed
    assert not session.is_open(ms(2026, 11, 21, 15, 0))  # Saturday


def test_session_day_end_is_next_close() -> None:
    assert AAPL.session.day_end(TUE_10AM_NEW_YORK) == ms(2026, 11, 17, 21, 0)
    # Friday after the close: the next day end is Monday's close
    assert AAPL.session.day_end(ms(2026, 11, 20, 22, 0)) == ms(2026, 11, 23, 21, 0)


def test_session_always_open_day_ends_at_utc_midnight() -> None:
    assert TradingSession().day_end(TUE_10AM_NEW_YORK) == ms(2026, 11, 18, 0, 0)
