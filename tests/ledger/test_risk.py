from collections.abc import Sequence

from openpit.core.enums import Side
from openpit.core.events import MarginCall
from tests.ledger.helpers import M
from tests.ledger.helpers import margin_fill as _fill
from tests.ledger.helpers import margin_ledger as _ledger
from tests.ledger.helpers import margin_pos as _pos

# alice long 10 @ 100, 5x: debt 800. equity = 10 m - 800, value = 10 m.
# warning (< 10 %) at m <= 88, critical (< 7.5 %) at m <= 86, liquidation (< 5 %) at m <= 84.


def _calls(events: Sequence[object]) -> list[tuple[str, int, int]]:
    return [
        (e.severity, e.margin_ratio_ppm, e.required_deposit)
        for e in events
        if isinstance(e, MarginCall)
    ]


def test_mark_above_warning_no_margin_call() -> None:
    led = _ledger()
    _fill(led, 1, Side.BUY, 10, 100)
    assert led.mark(M, 89) == []
    assert led.due_liquidations() == []


def test_mark_crossing_warning_emits_once() -> None:
    led = _ledger()
    _fill(led, 1, Side.BUY, 10, 100)
    # ratio 80/880 = 90909 ppm; deposit to get back to 10 %: ceil(88) - 80 = 8
    assert _calls(led.mark(M, 88)) == [("warning", 90909, 8)]
    assert led.mark(M, 88) == []
    assert led.mark(M, 87) == []  # still warning level


def test_mark_crossing_critical_then_recover_rearms() -> None:
    led = _ledger()
    _fill(led, 1, Side.BUY, 10, 100)
    assert [c[0] for c in _calls(led.mark(M, 86))] == ["critical"]
    assert led.mark(M, 86) == []
    assert led.mark(M, 87) == []  # recovered to warning: critical re-armed
    assert [c[0] for c in _calls(led.mark(M, 86))] == ["critical"]
    assert led.mark(M, 100) == []  # healthy: everything re-armed
    assert [c[0] for c in _calls(led.mark(M, 88))] == ["warning"]


def test_margin_call_carries_mark_and_liquidation_price() -> None:
    led = _ledger()
    _fill(led, 1, Side.BUY, 10, 100)
    (call,) = led.mark(M, 88)
    assert isinstance(call, MarginCall)
    assert (call.user, call.instrument, call.mark_price, call.liquidation_price) == (
        "alice",
        M,
        88,
        85,
    )
    assert call.required_ratio_ppm == 100_000


def test_mark_below_maintenance_liquidation_due_once() -> None:
    led = _ledger()
    _fill(led, 1, Side.BUY, 10, 100)
    assert led.mark(M, 85) != []
    assert led.due_liquidations() == []  # 85 is the liquidation price: not below
    assert [c[0] for c in _calls(led.mark(M, 84))] == ["liquidation"]
    assert led.mark(M, 80) == []
    assert led.due_liquidations() == [("alice", M, Side.SELL, 10)]


def test_short_liquidation_due_above_liquidation_price() -> None:
    led = _ledger()
    _fill(led, 1, Side.SELL, 10, 100)
    assert _pos(led).liquidation_price == 114
    led.mark(M, 114)
    assert led.due_liquidations() == []
    assert [c[0] for c in _calls(led.mark(M, 115))] == ["liquidation"]
    assert led.due_liquidations() == [("alice", M, Side.BUY, 10)]


def test_liquidation_order_closes_position_and_clears_due() -> None:
    led = _ledger()
    before = led.totals()
    _fill(led, 1, Side.BUY, 10, 100)
    led.mark(M, 80)
    ((_, _, side, qty),) = led.due_liquidations()
    _fill(led, 2, side, qty, 80, reduce_only=True, alice_taker=True)
    assert led.due_liquidations() == []
    assert _pos(led).qty == 0
    assert led.totals() == before


def test_add_margin_recovers_and_rearms() -> None:
    led = _ledger()
    _fill(led, 1, Side.BUY, 10, 100)
    assert [c[0] for c in _calls(led.mark(M, 88))] == ["warning"]
    led.add_margin("alice", M, 8)
    assert led.mark(M, 88) == []
    assert [c[0] for c in _calls(led.mark(M, 87))] == ["warning"]


def test_mark_unknown_instrument_ignored() -> None:
    led = _ledger()
    assert led.mark("NOPE", 10) == []
    assert led.mark_price("NOPE") is None
