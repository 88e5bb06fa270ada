from openpit.core.enums import Reason
from openpit.core.events import Balance
from openpit.ledger import LENDER, Ledger
from tests.ledger.helpers import ASSETS, INSTRUMENTS, RISK, make_ledger


def test_deposit_new_user_creates_account() -> None:
    led = Ledger(INSTRUMENTS, ASSETS, RISK)
    assert led.balance("alice", "Y") == (0, 0)
    events = led.deposit("alice", "Y", 500)
    assert events == [Balance(user="alice", asset="Y", available=500, reserved=0)]
    assert led.balances("alice") == {"Y": (500, 0)}


def test_deposit_non_positive_or_unknown_asset_rejected() -> None:
    led = Ledger(INSTRUMENTS, ASSETS, RISK)
    assert led.deposit("alice", "Y", 0)[0] == Reason.INVALID_PARAMETER
    assert led.deposit("alice", "Y", -5)[0] == Reason.INVALID_PARAMETER
    assert led.deposit("alice", "NOPE", 5)[0] == Reason.INVALID_PARAMETER
    assert led.totals() == {"B": 0, "X": 0, "Y": 0}


def test_withdraw_available_only_reserved_untouched() -> None:
    led = make_ledger(alice={"Y": 100})
    assert led.withdraw("alice", "Y", 40) == [
        Balance(user="alice", asset="Y", available=60, reserved=0)
    ]
    rejected = led.withdraw("alice", "Y", 61)
    assert isinstance(rejected, tuple) and rejected[0] == Reason.INSUFFICIENT_FUNDS
    assert led.balance("alice", "Y") == (60, 0)


def test_withdraw_unknown_user_insufficient_funds() -> None:
    led = make_ledger()
    assert led.withdraw("ghost", "Y", 1)[0] == Reason.INSUFFICIENT_FUNDS
    assert led.withdraw("ghost", "Y", 0)[0] == Reason.INVALID_PARAMETER
    assert led.withdraw("ghost", "Q", 1)[0] == Reason.INVALID_PARAMETER


def test_totals_change_only_by_deposits_and_withdrawals() -> None:
    led = make_ledger(alice={"Y": 100})
    before = led.totals()
    led.deposit("bob", "X", 7)
    led.withdraw("alice", "Y", 30)
    after = led.totals()
    assert after["X"] == before["X"] + 7
    assert after["Y"] == before["Y"] - 30


def test_lender_funded_by_deposit_counts_in_totals() -> None:
    led = Ledger(INSTRUMENTS, ASSETS, RISK)
    led.deposit(LENDER, "Y", 1000)
    assert led.totals()["Y"] == 1000
    assert led.balance(LENDER, "Y") == (1000, 0)
