from openpit.core.enums import Side
from openpit.core.events import Position
from openpit.ledger import Ledger
from tests.ledger.helpers import make_ledger, order, trade


def _setup() -> Ledger:
    return make_ledger(alice={"Y": 100_000, "X": 5}, bob={"X": 1000, "Y": 100_000})


def _buy(led: Ledger, oid: int, qty: int, price: int) -> list[object]:
    led.reserve(oid, order("alice", Side.BUY, qty, price), price)
    led.reserve(oid + 1000, order("bob", Side.SELL, qty, price), price)
    return list(led.apply([trade(("bob", oid + 1000), ("alice", oid), Side.BUY, price, qty)]))


def _sell(led: Ledger, oid: int, qty: int, price: int) -> list[object]:
    led.reserve(oid, order("alice", Side.SELL, qty, price), price)
    led.reserve(oid + 1000, order("bob", Side.BUY, qty, price), price)
    return list(led.apply([trade(("bob", oid + 1000), ("alice", oid), Side.SELL, price, qty)]))


def test_spot_buys_average_cost() -> None:
    led = _setup()
    _buy(led, 1, 10, 100)
    events = _buy(led, 2, 10, 120)
    pos = [e for e in events if isinstance(e, Position) and e.user == "alice"]
    assert len(pos) == 1
    assert (pos[0].qty, pos[0].cost, pos[0].realized_pnl, pos[0].margin_mode) == (
        20,
        2200,
        0,
        False,
    )


def test_spot_sell_realizes_pnl_on_average_cost() -> None:
    led = _setup()
    _buy(led, 1, 10, 100)
    _buy(led, 2, 10, 120)
    _sell(led, 3, 5, 130)
    (pos,) = led.positions("alice")
    # cost part = 2200 * 5 / 20 = 550; proceeds 650
    assert (pos.qty, pos.cost, pos.realized_pnl) == (15, 1650, 100)


def test_spot_sell_beyond_tracked_floors_at_zero() -> None:
    led = _setup()  # alice deposited 5 X that were never bought
    _buy(led, 1, 10, 100)
    _sell(led, 2, 15, 90)
    (pos,) = led.positions("alice")
    assert (pos.qty, pos.cost, pos.realized_pnl) == (0, 0, -100)
    assert led.balance("alice", "X") == (0, 0)


def test_spot_sell_without_position_emits_no_position_event() -> None:
    led = _setup()
    events = _sell(led, 1, 5, 100)
    assert [e for e in events if isinstance(e, Position) and e.user == "alice"] == []
    assert led.positions("alice") == []
