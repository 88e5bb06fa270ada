"""Order updates carry the cumulative fee of the fills they report, computed by the venue
(``openpit.venue.fees``), and the total survives a snapshot and a journal replay."""

from __future__ import annotations

import pickle

from hypothesis import given, settings
from hypothesis import strategies as st

from openpit.core.commands import CancelOrder
from openpit.core.enums import OrderStatus, Side
from openpit.core.events import Fill, OrderUpdate
from openpit.venue import CommandResult, Venue
from tests.venue.helpers import T0, fresh_venue, limit, market, run


def _updates(result: CommandResult, order_id: int) -> list[OrderUpdate]:
    return [e for e in result.events if isinstance(e, OrderUpdate) and e.order_id == order_id]


def _fees(result: CommandResult, order_id: int) -> int:
    return sum(e.fee for e in result.events if isinstance(e, Fill) and e.order_id == order_id)


def test_a_taker_across_two_levels_reads_each_fill_fee_in_order() -> None:
    venue = fresh_venue()
    run(venue, limit("alice", Side.SELL, "42000", "0.1"))
    run(venue, limit("alice", Side.SELL, "42010", "0.1"))
    taker = run(venue, market("bob", Side.BUY, "0.2"))
    updates = _updates(taker, taker.order_id or 0)
    fills = [e for e in taker.events if isinstance(e, Fill) and e.order_id == taker.order_id]
    assert [u.status for u in updates][-1] is OrderStatus.FILLED
    assert updates[0].fee == 0
    assert [u.fee for u in updates if u.filled] == [fills[0].fee, fills[0].fee + fills[1].fee]
    assert updates[-1].fee_rate_ppm == fills[1].fee_rate_ppm


def _partly_filled() -> tuple[Venue, int, int]:
    venue = fresh_venue()
    maker = run(venue, limit("alice", Side.SELL, "42000", "0.5"))
    assert maker.order_id is not None
    first = run(venue, market("bob", Side.BUY, "0.1"))
    return venue, maker.order_id, _fees(first, maker.order_id)


def test_a_partly_filled_order_keeps_counting_after_a_snapshot_restore() -> None:
    venue, oid, first_fee = _partly_filled()
    assert first_fee > 0
    restored: Venue = pickle.loads(pickle.dumps(venue))
    assert restored.state_hash() == venue.state_hash()
    second = run(restored, market("bob", Side.BUY, "0.2"))
    assert _updates(second, oid)[-1].fee == first_fee + _fees(second, oid)
    cancel = run(restored, CancelOrder(user="alice", order_id=oid))
    assert _updates(cancel, oid)[-1].fee == first_fee + _fees(second, oid)
    assert restored.fees.fee(oid) == (0, 0)  # gone with the order's final update


def test_a_snapshot_from_before_fees_were_kept_still_loads() -> None:
    venue, _, _ = _partly_filled()
    state = dict(venue.__dict__)
    del state["fees"]
    old = Venue.__new__(Venue)
    old.__setstate__(state)
    assert old.fees.fee(1) == (0, 0)


@settings(max_examples=25, deadline=None)
@given(st.lists(st.sampled_from(["0.05", "0.1", "0.15"]), min_size=1, max_size=8))
def test_the_last_update_of_an_order_carries_the_sum_of_its_fill_fees(takes: list[str]) -> None:
    venue = fresh_venue()
    maker = run(venue, limit("alice", Side.SELL, "42000", "0.5"))
    oid = maker.order_id
    assert oid is not None
    total = 0
    replay = [limit("alice", Side.SELL, "42000", "0.5")]
    for amount in takes:
        result = run(venue, market("bob", Side.BUY, amount))
        replay.append(market("bob", Side.BUY, amount))
        total += _fees(result, oid)
        updates = _updates(result, oid)
        if updates:
            assert updates[-1].fee == total
    again = fresh_venue()
    for command in replay:
        again.execute(command, T0)
    assert again.state_hash() == venue.state_hash()
