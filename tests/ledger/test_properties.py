"""Property tests: random sequences of reserve / fill / cancel / mark / liquidate / cash.

Invariants checked after every step:
- conservation: ``totals()`` changes only by deposits and withdrawals;
- no ``reserved`` is negative, no ``available`` is negative (except the pool's);
- each account's ``reserved`` is exactly the sum of its open orders' reservations
  (the pool's: the sum of their loans), so a final status releases exactly;
- determinism: the same inputs give the same events and the same ``state_items``,
  and a pickled copy continues identically.
"""

from __future__ import annotations

import pickle
from dataclasses import dataclass

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from openpit.core.commands import PlaceOrder
from openpit.core.enums import OrderStatus, Side
from openpit.core.events import Event
from openpit.ledger import FEES, LENDER
from tests.ledger.helpers import final, make_ledger, order, trade

USERS = ("u0", "u1", "u2")
MM = "mm"  # deep-pocketed counterparty for liquidations
ACCOUNTS = (*USERS, MM, LENDER, FEES)
INSTRUMENTS = ("XY", "MXY", "BY")
MAX_LEVERAGE = {"XY": 1, "MXY": 5, "BY": 10}

Op = tuple[object, ...]

place_op = st.tuples(
    st.just("place"),
    st.integers(0, len(USERS) - 1),
    st.integers(0, len(INSTRUMENTS) - 1),
    st.booleans(),  # buy?
    st.integers(1, 20),  # lots
    st.integers(50, 150),  # limit price
    st.integers(1, 10),  # leverage
    st.integers(0, 3),  # 0 spot, 1 margin, 2 margin+leverage, 3 reduce-only
)
fill_op = st.tuples(
    st.just("fill"),
    st.integers(0, 10**6),
    st.integers(0, 10**6),
    st.integers(0, 10**6),
    st.integers(0, 10**6),
    st.booleans(),
)
cancel_op = st.tuples(st.just("cancel"), st.integers(0, 10**6))
mark_op = st.tuples(
    st.just("mark"), st.integers(1, 2), st.one_of(st.integers(20, 250), st.integers(80, 120))
)
take_op = st.tuples(
    st.just("take"),
    st.integers(0, 10**6),  # which resting order
    st.integers(0, len(USERS) - 1),
    st.integers(0, 10**6),  # lots (mod remaining)
    st.integers(1, 10),  # leverage
    st.integers(0, 3),  # kind, as in place
)
liq_op = st.tuples(st.just("liquidate"))
cash_op = st.tuples(
    st.just("cash"),
    st.integers(0, len(USERS) - 1),
    st.sampled_from(("X", "Y", "B")),
    st.integers(-3000, 3000),
)
ops_strategy = st.lists(
    st.one_of(place_op, place_op, take_op, take_op, fill_op, cancel_op, mark_op, liq_op, cash_op),
    min_size=20,
    max_size=80,
)


@dataclass
class Open:
    oid: int
    user: str
    instrument: str
    side: Side
    remaining: int
    price: int


class Sim:
    """Drives a ledger the way the venue would, playing the engine by hand."""

    def __init__(self, check: bool) -> None:
        self.check = check
        self.led = make_ledger(
            u0={"Y": 20_000, "X": 100, "B": 5_000},
            u1={"Y": 5_000, "X": 50, "B": 2_000},
            u2={"Y": 50_000, "X": 20, "B": 500},
            mm={"Y": 10**8, "X": 10**6, "B": 10**8},
        )
        self.expected = self.led.totals()
        self.open: dict[int, Open] = {}
        self.next_oid = 1
        self.next_trade = 1
        self.events: list[Event] = []

    # -- operations ------------------------------------------------------------
    def run(self, op: Op) -> None:
        getattr(self, f"op_{op[0]}")(*op[1:])
        if self.check:
            self.verify()

    def place(self, cmd: PlaceOrder, cap: int) -> int | None:
        oid = self.next_oid
        self.next_oid += 1
        result = self.led.reserve(oid, cmd, cap)
        if isinstance(result, tuple):
            return None
        self.events += result
        self.open[oid] = Open(oid, cmd.user, cmd.instrument, cmd.side, cmd.qty, cap)
        return oid

    def op_place(
        self, u: int, i: int, buy: bool, qty: int, price: int, lev: int, kind: int
    ) -> None:
        self.place(self.command(USERS[u], INSTRUMENTS[i], buy, qty, price, lev, kind), price)

    def command(
        self, user: str, inst: str, buy: bool, qty: int, price: int, lev: int, kind: int
    ) -> PlaceOrder:
        side = Side.BUY if buy else Side.SELL
        if kind == 0:
            return order(user, side, qty, price, instrument=inst)
        return order(
            user,
            side,
            qty,
            price,
            instrument=inst,
            leverage=min(lev, MAX_LEVERAGE[inst]) if kind == 2 else 1,
            margin=True,
            reduce_only=kind == 3,
        )

    def op_take(self, a: int, u: int, q: int, lev: int, kind: int) -> None:
        """A new order from ``u`` that takes (part of) resting order ``a`` at its price."""
        if not self.open:
            return
        maker = sorted(self.open.values(), key=lambda o: o.oid)[a % len(self.open)]
        qty = 1 + q % maker.remaining
        buy = maker.side is Side.SELL
        cmd = self.command(USERS[u], maker.instrument, buy, qty, maker.price, lev, kind)
        oid = self.place(cmd, maker.price)
        if oid is not None:
            self.trade(maker, self.open[oid], True, maker.price, qty)

    def op_fill(self, a: int, b: int, q: int, p: int, first_is_maker: bool) -> None:
        if not self.open:
            return
        orders = sorted(self.open.values(), key=lambda o: o.oid)
        first = orders[a % len(orders)]
        others = [
            o
            for o in orders
            if o.instrument == first.instrument
            and o.side is first.side.opposite
            and (o.price >= first.price if o.side is Side.BUY else o.price <= first.price)
        ]
        if not others:
            return
        second = others[b % len(others)]
        buy, sell = (first, second) if first.side is Side.BUY else (second, first)
        qty = 1 + q % min(first.remaining, second.remaining)
        price = sell.price + p % (buy.price - sell.price + 1)
        self.trade(first, second, first_is_maker, price, qty)

    def trade(self, first: Open, second: Open, first_is_maker: bool, price: int, qty: int) -> None:
        maker, taker = (first, second) if first_is_maker else (second, first)
        batch: list[Event] = [
            trade(
                (maker.user, maker.oid),
                (taker.user, taker.oid),
                taker.side,
                price,
                qty,
                instrument=first.instrument,
                trade_id=self.next_trade,
            )
        ]
        self.next_trade += 1
        for o in (maker, taker):
            o.remaining -= qty
            if o.remaining == 0:
                del self.open[o.oid]
                batch.append(
                    final(o.user, o.oid, OrderStatus.FILLED, instrument=o.instrument, side=o.side)
                )
        self.events += self.led.apply(batch)

    def op_cancel(self, a: int) -> None:
        if not self.open:
            return
        o = sorted(self.open.values(), key=lambda o: o.oid)[a % len(self.open)]
        del self.open[o.oid]
        self.events += self.led.apply([final(o.user, o.oid, instrument=o.instrument, side=o.side)])

    def op_mark(self, i: int, price: int) -> None:
        self.events += self.led.mark(INSTRUMENTS[i], price)

    def op_liquidate(self) -> None:
        due = self.led.due_liquidations()
        if not due:
            return
        user, inst, side, qty = due[0]
        mark = self.led.mark_price(inst)
        assert mark is not None
        mine = self.place(order(user, side, qty, mark, instrument=inst, reduce_only=True), mark)
        theirs = self.place(order(MM, side.opposite, qty, mark, instrument=inst), mark)
        assert mine is not None and theirs is not None
        self.trade(self.open[theirs], self.open[mine], True, mark, qty)
        assert (user, inst) not in {(u, i) for u, i, _, _ in self.led.due_liquidations()}

    def op_cash(self, u: int, asset: str, amount: int) -> None:
        if amount > 0:
            result = self.led.deposit(USERS[u], asset, amount)
        else:
            result = self.led.withdraw(USERS[u], asset, -amount)
        if isinstance(result, list):
            self.expected[asset] += amount
            self.events += result

    def cancel_all(self) -> None:
        while self.open:
            self.op_cancel(0)

    # -- invariants ------------------------------------------------------------
    def verify(self) -> None:
        led = self.led
        assert led.totals() == self.expected
        held: dict[tuple[str, str], int] = {}
        for oid in self.open:
            rec = led.reservation(oid)
            assert rec is not None
            held[(rec.user, rec.asset)] = held.get((rec.user, rec.asset), 0) + rec.reserved
            held[(LENDER, rec.lend_asset)] = held.get((LENDER, rec.lend_asset), 0) + rec.lent
        for account in ACCOUNTS:
            for asset, (available, reserved) in led.balances(account).items():
                assert reserved >= 0
                assert account == LENDER or available >= 0
                assert reserved == held.get((account, asset), 0)


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(ops_strategy)
def test_random_sequences_conserve_assets_and_release_exactly(ops: list[Op]) -> None:
    sim = Sim(check=True)
    for op in ops:
        sim.run(op)
    sim.cancel_all()
    sim.verify()
    for account in ACCOUNTS:
        assert all(reserved == 0 for _, reserved in sim.led.balances(account).values())


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(ops_strategy)
def test_random_sequences_same_inputs_same_state(ops: list[Op]) -> None:
    one, two = Sim(check=False), Sim(check=False)
    half = len(ops) // 2
    for op in ops[:half]:
        one.run(op)
        two.run(op)
    two.led = pickle.loads(pickle.dumps(two.led))
    for op in ops[half:]:
        one.run(op)
        two.run(op)
    assert one.events == two.events
    assert list(one.led.state_items()) == list(two.led.state_items())


def test_sim_liquidation_path_exercised() -> None:
    sim = Sim(check=True)
    sim.run(("place", 0, 1, True, 10, 100, 5, 2))  # u0 margin long 10 @ 100, 5x
    sim.run(("place", 2, 1, False, 10, 100, 1, 0))  # u2 cannot sell spot X: rejected
    sim.led.deposit("u2", "X", 10)
    sim.expected["X"] += 10
    sim.run(("place", 2, 1, False, 10, 100, 1, 0))
    sim.run(("fill", 0, 0, 9, 0, True))
    sim.run(("mark", 1, 60))
    assert sim.led.due_liquidations() == [("u0", "MXY", Side.SELL, 10)]
    sim.run(("liquidate",))
    assert sim.led.due_liquidations() == []
