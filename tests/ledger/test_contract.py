import pytest

from openpit.core.enums import Side
from openpit.ledger import LedgerError
from tests.ledger.helpers import make_ledger, order, trade


def test_apply_trade_unknown_order_raises_state_unchanged() -> None:
    led = make_ledger(alice={"Y": 2000})
    led.reserve(1, order("alice", Side.BUY, 10, 100), 100)
    state = list(led.state_items())
    with pytest.raises(LedgerError):
        led.apply([trade(("alice", 1), ("bob", 2), Side.SELL, 100, 1)])
    assert list(led.state_items()) == state


def test_apply_overfill_raises_state_unchanged() -> None:
    led = make_ledger(alice={"Y": 2000}, bob={"X": 20})
    led.reserve(1, order("alice", Side.BUY, 10, 100), 100)
    led.reserve(2, order("bob", Side.SELL, 20, 100), 100)
    state = list(led.state_items())
    batch = [
        trade(("alice", 1), ("bob", 2), Side.SELL, 100, 6, trade_id=1),
        trade(("alice", 1), ("bob", 2), Side.SELL, 100, 6, trade_id=2),
    ]
    with pytest.raises(LedgerError):
        led.apply(batch)
    assert list(led.state_items()) == state


def test_apply_spot_buy_above_cap_raises() -> None:
    led = make_ledger(alice={"Y": 2000}, bob={"X": 20})
    led.reserve(1, order("alice", Side.BUY, 10, 100), 100)
    led.reserve(2, order("bob", Side.SELL, 10, 100), 100)
    with pytest.raises(LedgerError):
        led.apply([trade(("bob", 2), ("alice", 1), Side.BUY, 101, 10)])


def test_modify_without_passing_check_raises() -> None:
    led = make_ledger(alice={"Y": 2000})
    led.reserve(1, order("alice", Side.BUY, 10, 100), 100)
    with pytest.raises(LedgerError):
        led.modify(1, 100, 100)
    assert led.balance("alice", "Y") == (998, 1002)
