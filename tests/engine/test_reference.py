"""Differential test: the engine against the reference matcher on random streams."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from openpit.core.commands import CancelOrder, PlaceOrder
from openpit.core.enums import OrderType, Side, STPMode, TimeInForce
from openpit.core.events import Trade
from openpit.engine import Engine
from tests.engine.helpers import instrument
from tests.engine.reference import RefBook, RefTrade

USERS = ("a", "b", "c")

place_op = st.tuples(
    st.sampled_from(["limit", "limit", "limit", "ioc", "market"]),
    st.sampled_from(USERS),
    st.booleans(),
    st.integers(95, 105),
    st.integers(1, 6),
)
cancel_op = st.tuples(st.just("cancel"), st.sampled_from(USERS), st.integers(0, 10_000))
stream = st.lists(st.one_of(place_op, place_op, cancel_op), max_size=80)


@settings(max_examples=150, deadline=None)
@given(stream)
def test_engine_matches_reference_on_random_streams(ops: list[tuple[object, ...]]) -> None:
    inst = instrument("X")
    eng = Engine({"X": inst}, STPMode.NONE)
    ref = RefBook(inst.price_band_ppm)
    placed: list[tuple[int, str]] = []
    for step, op in enumerate(ops):
        ts = 1000 + step
        if op[0] == "cancel":
            _, user, k = op
            assert isinstance(user, str) and isinstance(k, int)
            if not placed:
                continue
            oid, owner = placed[k % len(placed)]
            if k % 3:  # mostly the owner; otherwise maybe someone else (must be refused)
                user = owner
            cmd = CancelOrder(user=user, order_id=oid)
            ok = eng.check_cancel(cmd) is None
            assert ok == ref.cancel(user, oid)
            if ok:
                eng.cancel(cmd, ts)
        else:
            kind, user, is_buy, price, qty = op
            assert isinstance(kind, str) and isinstance(user, str)
            assert isinstance(is_buy, bool) and isinstance(price, int) and isinstance(qty, int)
            oid = step + 1
            cmd_p = PlaceOrder(
                user=user,
                instrument="X",
                side=Side.BUY if is_buy else Side.SELL,
                type=OrderType.MARKET if kind == "market" else OrderType.LIMIT,
                qty=qty,
                price=None if kind == "market" else price,
                tif=TimeInForce.IOC if kind == "ioc" else TimeInForce.GTC,
            )
            expected = ref.place(oid, user, is_buy, kind, None if kind == "market" else price, qty)
            bad = eng.check_place(cmd_p)
            assert (bad is None) == (expected is not None), bad
            if bad is not None:
                continue
            placed.append((oid, user))
            events = eng.place(cmd_p, oid, ts)
            got = [
                RefTrade(e.price, e.qty, e.maker_order_id, e.taker_order_id)
                for e in events
                if isinstance(e, Trade)
            ]
            assert got == expected
        assert eng.depth("X", 1000) == ref.depth()
        assert eng.last_price("X") == ref.last
