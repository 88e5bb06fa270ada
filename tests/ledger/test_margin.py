from openpit.core.enums import Reason, Side
from openpit.core.events import Fill
from openpit.ledger import FEES, LENDER
from tests.ledger.helpers import POOL, M, make_ledger, order
from tests.ledger.helpers import margin_fill as _fill
from tests.ledger.helpers import margin_ledger as _ledger
from tests.ledger.helpers import margin_pos as _pos


def test_margin_reserve_holds_margin_fee_and_pool_loan() -> None:
    led = _ledger()
    led.reserve(1, order("alice", Side.BUY, 10, 100, instrument=M, leverage=5), 100)
    assert led.balance("alice", "Y") == (10_000 - 202, 202)  # ceil(1000/5) + ceil(2)
    assert led.balance(LENDER, "Y") == (POOL - 1000, 1000)
    led.reserve(2, order("alice", Side.SELL, 10, 100, instrument=M, leverage=5), 100)
    assert led.balance(LENDER, "X") == (POOL - 10, 10)


def test_margin_long_open_borrows_quote_from_lender() -> None:
    led = _ledger()
    before = led.totals()
    _fill(led, 1, Side.BUY, 10, 100)
    pos = _pos(led)
    assert (pos.qty, pos.cost, pos.margin, pos.debt, pos.leverage) == (10, 1000, 200, 800, 5)
    assert pos.liquidation_price == 85  # 800 / (10 x 0.95) = 84.2 -> up
    assert led.balance("alice", "Y") == (10_000 - 201, 0)  # margin 200 + maker fee 1
    assert led.balance(LENDER, "Y") == (POOL - 800, 0)
    assert led.balance("alice", "X") == (0, 0)  # the base is inside the position
    assert led.totals() == before


def test_margin_long_increase_adds_margin_and_debt() -> None:
    led = _ledger()
    _fill(led, 1, Side.BUY, 10, 100)
    _fill(led, 2, Side.BUY, 5, 110)
    pos = _pos(led)
    assert (pos.qty, pos.cost, pos.margin, pos.debt) == (15, 1550, 310, 1240)


def test_margin_long_reduce_repays_debt_pro_rata() -> None:
    led = _ledger()
    _fill(led, 1, Side.BUY, 10, 100)
    _fill(led, 2, Side.SELL, 4, 110, reduce_only=True, alice_taker=True)
    pos = _pos(led)
    assert (pos.qty, pos.cost, pos.margin, pos.debt, pos.realized_pnl) == (6, 600, 120, 480, 40)
    # proceeds 440, taker fee floor(0.88) = 0, repay 320, 120 back to available
    assert led.balance("alice", "Y") == (10_000 - 201 + 120, 0)


def test_margin_long_close_returns_equity_and_zeroes_position() -> None:
    led = _ledger()
    before = led.totals()
    _fill(led, 1, Side.BUY, 10, 100)
    events = _fill(led, 2, Side.SELL, 10, 110, reduce_only=True, alice_taker=True)
    pos = _pos(led)
    assert (pos.qty, pos.cost, pos.margin, pos.debt, pos.realized_pnl) == (0, 0, 0, 0, 100)
    assert pos.liquidation_price is None
    # 1100 - taker fee 2 - debt 800 = 298 back
    assert led.balance("alice", "Y") == (10_000 - 201 + 298, 0)
    assert led.balance(LENDER, "Y") == (POOL, 0)
    fill = next(e for e in events if isinstance(e, Fill) and e.user == "alice")
    assert fill.margin and fill.fee == 2
    assert led.totals() == before


def test_margin_short_open_borrows_base_and_holds_proceeds() -> None:
    led = _ledger()
    before = led.totals()
    _fill(led, 1, Side.SELL, 10, 100)
    pos = _pos(led)
    assert (pos.qty, pos.cost, pos.margin, pos.debt) == (-10, 1000, 200, 10)
    assert pos.liquidation_price == 114  # 1200 / (10 x 1.05) = 114.3 -> down
    assert led.balance(LENDER, "X") == (POOL - 10, 0)
    assert led.balance("bob", "X") == (1010, 0)
    assert led.totals() == before


def test_margin_short_close_buys_back_and_repays_base() -> None:
    led = _ledger()
    _fill(led, 1, Side.SELL, 10, 100)
    _fill(led, 2, Side.BUY, 10, 90, reduce_only=True, alice_taker=True)
    pos = _pos(led)
    assert (pos.qty, pos.debt, pos.margin, pos.realized_pnl) == (0, 0, 0, 100)
    # held 1200, pays 900 + fee 1, 299 back
    assert led.balance("alice", "Y") == (10_000 - 201 + 299, 0)
    assert led.balance(LENDER, "X") == (POOL, 0)


def test_margin_short_filled_above_floor_tops_up_margin_from_available() -> None:
    led = _ledger()
    _fill(led, 1, Side.SELL, 10, 120, cap=100)
    pos = _pos(led)
    assert (pos.margin, pos.cost) == (240, 1200)  # ceil(1200 / 5)
    assert led.balance("alice", "Y") == (10_000 - 241, 0)


def test_margin_flip_long_to_short_closes_then_opens() -> None:
    led = _ledger()
    before = led.totals()
    _fill(led, 1, Side.BUY, 10, 100)
    events = _fill(led, 2, Side.SELL, 15, 100, alice_taker=True)
    pos = _pos(led)
    assert (pos.qty, pos.cost, pos.margin, pos.debt) == (-5, 500, 100, 5)
    fill = next(e for e in events if isinstance(e, Fill) and e.user == "alice")
    assert fill.fee == 3  # closing 2 + opening 1
    # -201 (open long) + 998 (close: 1000 - 2 - 800) - 101 (new short margin + fee)
    assert led.balance("alice", "Y") == (10_000 - 201 + 198 - 101, 0)
    assert led.balance(LENDER, "X") == (POOL - 5, 0)
    assert led.totals() == before


def test_margin_long_bad_debt_lender_takes_loss_assets_conserved() -> None:
    led = _ledger()
    before = led.totals()
    _fill(led, 1, Side.BUY, 10, 100)
    _fill(led, 2, Side.SELL, 10, 70, reduce_only=True, alice_taker=True)
    pos = _pos(led)
    assert (pos.qty, pos.debt, pos.realized_pnl) == (0, 0, -300)
    assert led.balance(LENDER, "Y") == (POOL - 800 + 699, 0)  # 700 - fee 1 recovered
    assert led.balance("alice", "Y") == (10_000 - 201, 0)
    assert led.totals() == before


def test_margin_short_bad_debt_lender_pays_shortfall() -> None:
    led = _ledger()
    before = led.totals()
    _fill(led, 1, Side.SELL, 10, 100)
    _fill(led, 2, Side.BUY, 10, 130, reduce_only=True, alice_taker=True)
    assert led.balance(LENDER, "Y") == (POOL - 102, 0)  # 1300 + fee 2 - 1200 held
    assert led.balance(LENDER, "X") == (POOL, 0)
    assert led.balance("alice", "Y") == (10_000 - 201, 0)
    assert led.balance(FEES, "Y")[0] == 1 + 1 + 2 + 2  # alice + bob, open + close
    assert led.totals() == before


def test_margin_order_on_spot_instrument_rejected() -> None:
    led = _ledger()
    assert led.reserve(1, order("alice", Side.BUY, 1, 100, leverage=2), 100)[0] == (
        Reason.LEVERAGE_NOT_ALLOWED
    )
    assert led.reserve(1, order("alice", Side.BUY, 1, 100, margin=True), 100)[0] == (
        Reason.LEVERAGE_NOT_ALLOWED
    )


def test_margin_leverage_out_of_range_rejected() -> None:
    led = _ledger()
    high = order("alice", Side.BUY, 1, 100, instrument=M, leverage=6)
    assert led.reserve(1, high, 100)[0] == Reason.LEVERAGE_NOT_ALLOWED
    low = order("alice", Side.BUY, 1, 100, instrument=M, leverage=0)
    assert led.reserve(1, low, 100)[0] == Reason.LEVERAGE_NOT_ALLOWED


def test_reduce_only_without_opposite_position_rejected() -> None:
    led = _ledger()
    ro = order("alice", Side.SELL, 1, 100, instrument=M, reduce_only=True)
    assert led.reserve(1, ro, 100)[0] == Reason.REDUCE_ONLY
    _fill(led, 2, Side.BUY, 10, 100)
    same_side = order("alice", Side.BUY, 1, 100, instrument=M, reduce_only=True)
    assert led.reserve(3, same_side, 100)[0] == Reason.REDUCE_ONLY
    too_big = order("alice", Side.SELL, 11, 100, instrument=M, reduce_only=True)
    assert led.reserve(4, too_big, 100)[0] == Reason.REDUCE_ONLY
    ok = order("alice", Side.SELL, 10, 100, instrument=M, reduce_only=True)
    assert led.reserve(5, ok, 100) == []  # reserves nothing
    assert led.check_modify(5, 11, 100) == (
        Reason.REDUCE_ONLY,
        "quantity 11 exceeds the position 10 X",
    )


def test_reduce_only_on_spot_instrument_rejected() -> None:
    led = _ledger()
    ro = order("alice", Side.SELL, 1, 100, reduce_only=True)
    assert led.reserve(1, ro, 100)[0] == Reason.REDUCE_ONLY


def test_margin_pool_cannot_lend_insufficient_funds() -> None:
    led = make_ledger(alice={"Y": 10_000})
    led.withdraw(LENDER, "X", POOL - 5)
    short = order("alice", Side.SELL, 10, 100, instrument=M, leverage=2)
    rejected = led.reserve(1, short, 100)
    assert isinstance(rejected, tuple) and rejected[0] == Reason.INSUFFICIENT_FUNDS
    assert "lending pool" in rejected[1]


def test_add_margin_long_repays_debt_short_adds_quote() -> None:
    led = _ledger()
    _fill(led, 1, Side.BUY, 10, 100)
    events = led.add_margin("alice", M, 100)
    assert isinstance(events, list)
    pos = _pos(led)
    assert (pos.margin, pos.debt) == (300, 700)
    assert led.add_margin("alice", "XY", 1)[0] == Reason.INVALID_PARAMETER
    assert led.add_margin("alice", M, 10**9)[0] == Reason.INSUFFICIENT_FUNDS
