from collections.abc import Sequence

from openpit.core.enums import Liquidity, Side
from openpit.core.events import Fill
from openpit.ledger import FEES
from tests.ledger.helpers import make_ledger, order, trade


def _fills(events: Sequence[object]) -> list[Fill]:
    return [e for e in events if isinstance(e, Fill)]


def test_trade_maker_and_taker_fees_in_quote_to_fees_account() -> None:
    led = make_ledger(alice={"Y": 10_000}, bob={"X": 100})
    led.reserve(1, order("alice", Side.BUY, 50, 100, client_order_id="a1"), 100)
    led.reserve(2, order("bob", Side.SELL, 50, 100, client_order_id="b1"), 100)
    events = led.apply([trade(("alice", 1), ("bob", 2), Side.SELL, 100, 50, trade_id=7)])
    maker, taker = _fills(events)
    # notional 5000: maker 0.1% = 5, taker 0.2% = 10
    assert (maker.user, maker.liquidity, maker.fee, maker.fee_rate_ppm) == (
        "alice",
        Liquidity.MAKER,
        5,
        1000,
    )
    assert (taker.user, taker.liquidity, taker.fee, taker.fee_rate_ppm) == (
        "bob",
        Liquidity.TAKER,
        10,
        2000,
    )
    assert (maker.order_id, maker.client_order_id, maker.trade_id) == (1, "a1", 7)
    assert (taker.order_id, taker.client_order_id, taker.side) == (2, "b1", Side.SELL)
    assert maker.fee_asset == taker.fee_asset == "Y"
    assert led.balance(FEES, "Y") == (15, 0)
    assert led.balance("alice", "Y") == (10_000 - 5005, 0)
    assert led.balance("bob", "Y") == (4990, 0)


def test_fee_rounds_down_small_notional() -> None:
    led = make_ledger(alice={"Y": 10_000}, bob={"X": 100})
    led.reserve(1, order("alice", Side.BUY, 4, 100), 100)
    led.reserve(2, order("bob", Side.SELL, 4, 100), 100)
    events = led.apply([trade(("bob", 2), ("alice", 1), Side.BUY, 100, 4)])
    # 400 x 0.2% = 0.8 -> 0 ; 400 x 0.1% = 0.4 -> 0
    assert [f.fee for f in _fills(events)] == [0, 0]
    assert led.balance(FEES, "Y") == (0, 0)
