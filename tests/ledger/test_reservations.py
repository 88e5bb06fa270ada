import pickle

from openpit.core.enums import OrderStatus, Reason, Side
from openpit.core.events import Balance
from openpit.ledger import LENDER
from tests.ledger.helpers import final, make_ledger, order, trade


def test_reserve_limit_buy_holds_notional_plus_max_fee() -> None:
    led = make_ledger(alice={"Y": 2000})
    events = led.reserve(1, order("alice", Side.BUY, 10, 100), 100)
    # 10 x 100 = 1000, max(maker 0.1%, taker 0.2%) fee rounded up = 2
    assert events == [Balance(user="alice", asset="Y", available=998, reserved=1002)]


def test_reserve_limit_sell_holds_base_units() -> None:
    led = make_ledger(bob={"X": 25})
    led.reserve(1, order("bob", Side.SELL, 10, 100), 100)
    assert led.balance("bob", "X") == (15, 10)


def test_reserve_market_buy_uses_price_cap() -> None:
    led = make_ledger(alice={"Y": 2000})
    led.reserve(1, order("alice", Side.BUY, 10), 105)
    assert led.balance("alice", "Y") == (2000 - 1053, 1053)  # 1050 + ceil(2.1)


def test_reserve_insufficient_funds_rejected_nothing_changed() -> None:
    led = make_ledger(alice={"Y": 1001})
    state = list(led.state_items())
    rejected = led.reserve(1, order("alice", Side.BUY, 10, 100), 100)
    assert isinstance(rejected, tuple) and rejected[0] == Reason.INSUFFICIENT_FUNDS
    assert list(led.state_items()) == state


def test_reserve_unknown_user_insufficient_funds() -> None:
    led = make_ledger()
    assert led.reserve(1, order("ghost", Side.SELL, 1, 100), 100)[0] == Reason.INSUFFICIENT_FUNDS


def test_reserve_bad_parameters_rejected() -> None:
    led = make_ledger(alice={"Y": 5000})
    assert led.reserve(1, order("alice", Side.BUY, 0, 100), 100)[0] == Reason.INVALID_PARAMETER
    assert led.reserve(1, order("alice", Side.BUY, 1, 100), 0)[0] == Reason.INVALID_PARAMETER
    bad = order("alice", Side.BUY, 1, 100, instrument="NOPE")
    assert led.reserve(1, bad, 100)[0] == Reason.UNKNOWN_INSTRUMENT
    assert led.reserve(1, order(LENDER, Side.BUY, 1, 100), 100)[0] == Reason.INVALID_PARAMETER
    assert isinstance(led.reserve(1, order("alice", Side.BUY, 1, 100), 100), list)
    assert led.reserve(1, order("alice", Side.BUY, 1, 100), 100)[0] == Reason.INVALID_PARAMETER


def test_fill_at_better_price_releases_improvement() -> None:
    led = make_ledger(alice={"Y": 2000}, bob={"X": 10})
    led.reserve(1, order("alice", Side.BUY, 10, 100), 100)
    led.reserve(2, order("bob", Side.SELL, 10, 90), 90)
    # bob rests at 90 (maker), alice takes at 90: pays 900 + taker fee floor(1.8) = 1
    led.apply([trade(("bob", 2), ("alice", 1), Side.BUY, 90, 10)])
    assert led.balance("alice", "Y") == (2000 - 901, 0)
    assert led.balance("alice", "X") == (10, 0)


def test_partial_fill_keeps_exact_need_for_remaining() -> None:
    led = make_ledger(alice={"Y": 2000}, bob={"X": 10})
    led.reserve(1, order("alice", Side.BUY, 10, 100), 100)
    led.reserve(2, order("bob", Side.SELL, 4, 100), 100)
    led.apply([trade(("alice", 1), ("bob", 2), Side.SELL, 100, 4)])
    # 4 x 100 = 400, maker fee floor(0.4) = 0; need(6) = 600 + ceil(1.2) = 602
    assert led.balance("alice", "Y") == (2000 - 400 - 602, 602)
    rec = led.reservation(1)
    assert rec is not None and rec.remaining == 6 and rec.reserved == 602


def test_cancel_releases_everything_left_and_drops_record() -> None:
    led = make_ledger(alice={"Y": 2000}, bob={"X": 10})
    led.reserve(1, order("alice", Side.BUY, 10, 100), 100)
    led.reserve(2, order("bob", Side.SELL, 4, 100), 100)
    led.apply([trade(("alice", 1), ("bob", 2), Side.SELL, 100, 4)])
    events = led.apply([final("alice", 1, OrderStatus.CANCELLED)])
    assert events == [Balance(user="alice", asset="Y", available=1600, reserved=0)]
    assert led.reservation(1) is None


def test_final_with_nothing_reserved_emits_no_event() -> None:
    led = make_ledger(alice={"Y": 2000}, bob={"X": 10})
    led.reserve(1, order("alice", Side.BUY, 10, 100), 100)
    led.reserve(2, order("bob", Side.SELL, 10, 100), 100)
    led.apply([trade(("alice", 1), ("bob", 2), Side.SELL, 100, 10)])
    assert led.apply([final("alice", 1, OrderStatus.FILLED)]) == []
    assert led.apply([final("zed", 99, OrderStatus.REJECTED)]) == []


def test_final_before_trade_in_batch_still_settles() -> None:
    led = make_ledger(alice={"Y": 2000}, bob={"X": 10})
    led.reserve(1, order("alice", Side.BUY, 10, 100), 100)
    led.reserve(2, order("bob", Side.SELL, 10, 100), 100)
    led.apply(
        [
            final("alice", 1, OrderStatus.FILLED),
            final("bob", 2, OrderStatus.FILLED, side=Side.SELL),
            trade(("alice", 1), ("bob", 2), Side.SELL, 100, 10),
        ]
    )
    assert led.balance("alice", "Y") == (2000 - 1001, 0)
    assert led.balance("bob", "Y") == (998, 0)


def test_modify_up_reserves_more_down_releases() -> None:
    led = make_ledger(alice={"Y": 2000})
    led.reserve(1, order("alice", Side.BUY, 10, 100), 100)
    assert led.check_modify(1, 15, 100) is None
    led.modify(1, 15, 100)
    assert led.balance("alice", "Y") == (2000 - 1503, 1503)
    led.modify(1, 5, 90)
    assert led.balance("alice", "Y") == (2000 - 451, 451)


def test_check_modify_rejections() -> None:
    led = make_ledger(alice={"Y": 2000})
    led.reserve(1, order("alice", Side.BUY, 10, 100), 100)
    assert led.check_modify(2, 5, 100)[0] == Reason.UNKNOWN_ORDER  # type: ignore[index]
    assert led.check_modify(1, 0, 100)[0] == Reason.INVALID_PARAMETER  # type: ignore[index]
    assert led.check_modify(1, 30, 100)[0] == Reason.INSUFFICIENT_FUNDS  # type: ignore[index]
    assert led.balance("alice", "Y") == (998, 1002)


def test_ledger_pickles_with_identical_state() -> None:
    led = make_ledger(alice={"Y": 2000})
    led.reserve(1, order("alice", Side.BUY, 10, 100), 100)
    copy = pickle.loads(pickle.dumps(led))
    assert list(copy.state_items()) == list(led.state_items())
    assert copy.totals() == led.totals()
