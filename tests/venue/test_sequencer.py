from collections import Counter

from openpit.core.commands import (
    Batch,
    CancelAll,
    CancelOrder,
    Clock,
    Deposit,
    ModifyOrder,
    PlaceOrder,
    SetHalt,
    Withdraw,
)
from openpit.core.enums import OrderStatus, OrderType, Reason, Side, TimeInForce
from openpit.core.events import (
    Balance,
    CommandRejected,
    Fill,
    InstrumentStatus,
    MarketEvent,
    OrderUpdate,
    Trade,
    UserEvent,
)
from tests.venue.helpers import CONFIG, T0, fresh_venue, limit, market, px, qty, run


def test_sequencer_commands_get_consecutive_sequence_numbers() -> None:
    venue = fresh_venue()
    start = venue.seq
    results = [run(venue, Clock()) for _ in range(3)]
    assert [r.seq for r in results] == [start + 1, start + 2, start + 3]


def test_sequencer_time_never_goes_backwards() -> None:
    venue = fresh_venue()
    first = run(venue, Clock(), T0 + 1000)
    second = run(venue, Clock(), T0)
    assert second.ts == first.ts == T0 + 1000


def test_sequencer_place_and_match_stamps_iseq_and_useq_consecutively() -> None:
    venue = fresh_venue()
    run(venue, limit("alice", Side.SELL, "42650.50", "0.5"))
    result = run(venue, limit("bob", Side.BUY, "42700", "0.2"))
    assert result.ok and result.order_id is not None
    trades = [e for e in result.events if isinstance(e, Trade)]
    assert len(trades) == 1 and trades[0].price == px("42650.50") and trades[0].qty == qty("0.2")
    per_inst: dict[str, list[int]] = {}
    per_user: dict[str, list[int]] = {}
    for e in result.events:
        assert e.seq == result.seq and e.ts == result.ts
        if isinstance(e, MarketEvent):
            per_inst.setdefault(e.instrument, []).append(e.iseq)
        elif isinstance(e, UserEvent):
            per_user.setdefault(e.user, []).append(e.useq)
    for seqs in [*per_inst.values(), *per_user.values()]:
        assert seqs == list(range(seqs[0], seqs[0] + len(seqs)))


def test_sequencer_fill_moves_funds_and_charges_fees() -> None:
    venue = fresh_venue()
    alice_usdt = venue.ledger.balance("alice", "USDT")
    bob_btc = venue.ledger.balance("bob", "BTC")
    run(venue, limit("alice", Side.BUY, "42500", "0.1"))
    run(venue, limit("bob", Side.SELL, "42500", "0.1"))
    notional = CONFIG.instruments["BTCUSDT"].notional(px("42500"), qty("0.1"))
    fee = notional * 1000 // 1_000_000
    assert venue.ledger.balance("alice", "USDT")[0] == alice_usdt[0] - notional - fee
    assert venue.ledger.balance("bob", "BTC")[0] == bob_btc[0] - qty("0.1") * 1000
    assert venue.ledger.balance("alice", "USDT")[1] == 0


def test_sequencer_unknown_instrument_rejected_without_state_change() -> None:
    venue = fresh_venue()
    before = venue.engine.state_items(), list(venue.ledger.state_items())
    cmd = PlaceOrder(
        user="alice", instrument="NOPE", side=Side.BUY, type=OrderType.LIMIT, qty=1, price=1
    )
    result = run(venue, cmd)
    assert not result.ok and result.reason is Reason.UNKNOWN_INSTRUMENT
    assert [type(e) for e in result.events] == [CommandRejected]
    assert list(before[0]) == list(venue.engine.state_items())
    assert before[1] == list(venue.ledger.state_items())


def test_sequencer_insufficient_funds_rejected_without_state_change() -> None:
    venue = fresh_venue()
    before = list(venue.ledger.state_items())
    result = run(venue, limit("alice", Side.BUY, "42500", "1000"))
    assert not result.ok and result.reason is Reason.INSUFFICIENT_FUNDS
    assert before == list(venue.ledger.state_items())
    assert venue.engine.open_orders("alice") == []


def test_sequencer_equity_order_outside_session_is_market_closed() -> None:
    venue = fresh_venue()
    saturday = T0 + 4 * 86_400_000
    result = run(venue, limit("alice", Side.BUY, "150.00", "100", inst="AAPL"), saturday)
    assert result.reason is Reason.MARKET_CLOSED
    assert "AAPL" in result.message


def test_sequencer_day_order_expires_at_session_close() -> None:
    venue = fresh_venue()
    placed = run(venue, limit("alice", Side.BUY, "150.00", "100", inst="AAPL", tif=TimeInForce.DAY))
    assert placed.ok
    after_close = T0 + 7 * 3_600_000  # 17:00 New York
    result = run(venue, Clock(), after_close)
    updates = [e for e in result.events if isinstance(e, OrderUpdate)]
    assert [u.status for u in updates] == [OrderStatus.EXPIRED]
    assert venue.ledger.balance("alice", "USD")[1] == 0


def test_sequencer_halt_rejects_orders_until_resumed() -> None:
    venue = fresh_venue()
    halted = run(
        venue, SetHalt(instrument="BTCUSDT", halted=True, reason="test", until=T0 + 60_000)
    )
    assert any(isinstance(e, InstrumentStatus) and e.halted for e in halted.events)
    assert run(venue, limit("alice", Side.BUY, "42500", "0.1")).reason is Reason.TRADING_HALTED
    resumed = run(venue, Clock(), T0 + 60_000)
    assert any(isinstance(e, InstrumentStatus) and not e.halted for e in resumed.events)
    assert run(venue, limit("alice", Side.BUY, "42500", "0.1"), T0 + 60_000).ok


def test_sequencer_deadline_passed_rejects_stale_order() -> None:
    venue = fresh_venue()
    result = run(venue, limit("alice", Side.BUY, "42500", "0.1", deadline=T0 - 1))
    assert result.reason is Reason.DEADLINE_PASSED


def test_sequencer_cancel_unknown_order_is_rejected_event() -> None:
    venue = fresh_venue()
    result = run(venue, CancelOrder(user="alice", order_id=999_999))
    assert not result.ok and result.reason is Reason.UNKNOWN_ORDER


def test_sequencer_cannot_cancel_another_users_order() -> None:
    venue = fresh_venue()
    placed = run(venue, limit("alice", Side.BUY, "42500", "0.1"))
    result = run(venue, CancelOrder(user="bob", order_id=placed.order_id))
    assert result.reason is Reason.UNKNOWN_ORDER
    assert venue.engine.order(placed.order_id) is not None  # type: ignore[arg-type]


def test_sequencer_modify_price_up_reserves_more_and_cancel_releases_all() -> None:
    venue = fresh_venue()
    placed = run(venue, limit("alice", Side.BUY, "42500", "0.1", client_order_id="c1"))
    reserved = venue.ledger.balance("alice", "USDT")[1]
    modified = run(venue, ModifyOrder(user="alice", client_order_id="c1", price=px("42600")))
    assert modified.ok, modified.message
    assert venue.ledger.balance("alice", "USDT")[1] > reserved
    cancelled = run(venue, CancelOrder(user="alice", client_order_id="c1"))
    assert cancelled.ok and cancelled.order_id == placed.order_id
    assert venue.ledger.balance("alice", "USDT")[1] == 0


def test_sequencer_batch_answers_each_operation_on_its_own() -> None:
    venue = fresh_venue()
    batch = Batch(
        user="alice",
        ops=[
            limit("alice", Side.BUY, "42500", "0.1", client_order_id="b1"),
            CancelOrder(user="alice", order_id=123_456_789),
            limit("alice", Side.BUY, "0", "0.1"),
        ],
    )
    result = run(venue, batch)
    assert [r.ok for r in result.results] == [True, False, False]
    assert result.results[1].reason is Reason.UNKNOWN_ORDER
    assert venue.engine.order_by_client_id("alice", "b1") is not None


def test_sequencer_cancel_all_cancels_only_that_user() -> None:
    venue = fresh_venue()
    run(venue, limit("alice", Side.BUY, "42500", "0.1"))
    run(venue, limit("alice", Side.BUY, "42400", "0.1"))
    run(venue, limit("bob", Side.BUY, "42300", "0.1"))
    result = run(venue, CancelAll(user="alice"))
    statuses = Counter(e.status for e in result.events if isinstance(e, OrderUpdate))
    assert statuses == {OrderStatus.CANCELLED: 2}
    assert len(venue.engine.open_orders("bob")) == 1


def test_sequencer_withdraw_more_than_available_is_rejected() -> None:
    venue = fresh_venue()
    result = run(venue, Withdraw(user="alice", asset="BTC", units=10**15))
    assert result.reason is Reason.INSUFFICIENT_FUNDS
    ok = run(venue, Deposit(user="carol", asset="BTC", units=5))
    assert ok.ok and any(isinstance(e, Balance) for e in ok.events)


def test_sequencer_market_order_fills_and_reports_fills_to_both_users() -> None:
    venue = fresh_venue()
    run(venue, limit("alice", Side.SELL, "42650.50", "0.5"))
    result = run(venue, market("bob", Side.BUY, "0.1"))
    fills = [e for e in result.events if isinstance(e, Fill)]
    assert sorted(f.user for f in fills) == ["alice", "bob"]
