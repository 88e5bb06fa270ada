"""Margin end to end through the venue: open leveraged, price falls, calls, liquidation."""

from openpit.core.enums import OrderStatus, Reason, Side
from openpit.core.events import MarginCall, OrderUpdate, Position
from tests.venue.helpers import T0, fresh_venue, limit, qty, run


def test_margin_long_price_falls_warning_critical_then_liquidated() -> None:
    venue = fresh_venue()
    run(venue, limit("bob", Side.SELL, "42650", "1"))
    opened = run(venue, limit("alice", Side.BUY, "42650", "1", margin=True, leverage=5))
    assert opened.ok, opened.message
    pos = [e for e in opened.events if isinstance(e, Position) and e.user == "alice"]
    assert pos and pos[-1].qty == qty("1") and pos[-1].margin_mode

    # the market trades lower: 37000 is below warning (0.889 x entry) and critical (0.865 x)
    run(venue, limit("demo", Side.BUY, "36800", "0.1"), T0 + 1)
    falling = run(venue, limit("bob", Side.SELL, "36800", "0.1"), T0 + 2)
    calls = [e for e in falling.events if isinstance(e, MarginCall) and e.user == "alice"]
    assert [c.severity for c in calls] == ["critical"]
    assert calls[0].required_deposit > 0

    # bids to absorb the liquidation, then a trade below maintenance (0.842 x entry)
    run(venue, limit("demo", Side.BUY, "35400", "2"), T0 + 3)
    run(venue, limit("demo", Side.BUY, "35500", "0.1"), T0 + 4)
    crash = run(venue, limit("bob", Side.SELL, "35500", "0.1"), T0 + 5)
    liquidations = [
        e
        for e in crash.events
        if isinstance(e, OrderUpdate) and e.user == "alice" and e.status is OrderStatus.FILLED
    ]
    assert liquidations and liquidations[-1].reduce_only
    final = [e for e in crash.events if isinstance(e, Position) and e.user == "alice"]
    assert final[-1].qty == 0
    assert any(isinstance(e, MarginCall) and e.severity == "liquidation" for e in crash.events)


def test_margin_order_on_spot_instrument_is_rejected() -> None:
    venue = fresh_venue()
    result = run(venue, limit("alice", Side.BUY, "150.00", "10", inst="AAPL", leverage=2))
    assert result.reason is Reason.LEVERAGE_NOT_ALLOWED


def test_margin_leverage_above_instrument_max_is_rejected() -> None:
    venue = fresh_venue()
    result = run(venue, limit("alice", Side.BUY, "42650", "0.1", margin=True, leverage=50))
    assert result.reason is Reason.LEVERAGE_NOT_ALLOWED


def test_margin_reduce_only_without_position_is_rejected() -> None:
    venue = fresh_venue()
    result = run(venue, limit("alice", Side.SELL, "42650", "0.1", margin=True, reduce_only=True))
    assert result.reason is Reason.REDUCE_ONLY
