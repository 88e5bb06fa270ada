"""Property tests over random command streams of every order type, TIF and STP mode."""

from __future__ import annotations

import pickle
import random
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from openpit.core.commands import CancelOrder, ModifyOrder, PlaceOrder
from openpit.core.enums import OrderStatus, OrderType, Side, STPMode, TimeInForce
from openpit.core.events import BookLevel, Event, OrderUpdate, Trade
from openpit.engine import Engine
from tests.engine.helpers import instrument

USERS = ("a", "b", "c")
DAY = 86_400_000
T = OrderType

place = st.fixed_dictionaries(
    {
        "op": st.just("place"),
        "user": st.sampled_from(USERS),
        "side": st.sampled_from([Side.BUY, Side.SELL]),
        "type": st.sampled_from(
            [T.LIMIT] * 6
            + [T.MARKET, T.STOP, T.STOP_LIMIT, T.TAKE_PROFIT, T.TAKE_PROFIT_LIMIT]
            + [T.TRAILING_STOP, T.OCO]
        ),
        "qty": st.integers(1, 6),
        "price": st.integers(98, 102),
        "stop": st.integers(98, 102),
        "trail": st.integers(1, 3),
        "tif": st.sampled_from(
            [TimeInForce.GTC] * 3 + [TimeInForce.IOC, TimeInForce.FOK, TimeInForce.DAY]
        ),
        "post_only": st.sampled_from([False, False, False, True]),
        "stp": st.sampled_from([None, None, *STPMode]),
        "coid": st.sampled_from([None, None, "x", "y"]),
    }
)
modify = st.fixed_dictionaries(
    {
        "op": st.just("modify"),
        "k": st.integers(0, 1000),
        "qty": st.one_of(st.none(), st.integers(1, 8)),
        "price": st.one_of(st.none(), st.integers(96, 104)),
        "stop": st.one_of(st.none(), st.integers(96, 104)),
    }
)
cancel = st.fixed_dictionaries({"op": st.just("cancel"), "k": st.integers(0, 1000)})
other = st.fixed_dictionaries(
    {"op": st.sampled_from(["cancel_all", "expire", "expire"]), "user": st.sampled_from(USERS)}
)
streams = st.tuples(
    st.sampled_from(list(STPMode)),
    st.lists(
        st.one_of(place, place, place, place, place, modify, modify, cancel, other),
        min_size=15,
        max_size=60,
    ),
)


def _place_cmd(d: dict[str, Any]) -> PlaceOrder:
    t: OrderType = d["type"]
    kw: dict[str, Any] = {}
    if t in (T.LIMIT, T.STOP_LIMIT, T.TAKE_PROFIT_LIMIT, T.OCO):
        kw["price"] = d["price"]
    if t in (T.STOP, T.STOP_LIMIT, T.TAKE_PROFIT, T.TAKE_PROFIT_LIMIT, T.OCO):
        kw["stop_price"] = d["stop"]
    if t is T.TRAILING_STOP:
        kw["trail_ticks"] = d["trail"]
    if t is T.OCO:  # keep it valid often: limit leg on the profitable side
        lo, hi = sorted((d["price"], d["stop"]))
        if lo == hi:
            hi += 1
        kw["price"], kw["stop_price"] = (lo, hi) if d["side"] is Side.BUY else (hi, lo)
    return PlaceOrder(
        user=d["user"],
        instrument="X",
        side=d["side"],
        type=t,
        qty=d["qty"],
        tif=d["tif"],
        post_only=d["post_only"],
        stp=d["stp"],
        client_order_id=d["coid"],
        **kw,
    )


class Checker:
    """Runs a stream and checks every invariant after every call."""

    def __init__(self, stp: STPMode) -> None:
        self.engine = Engine({"X": instrument("X")}, stp)
        self.stp_default = stp
        self.ids: list[int] = []
        self.cmds: dict[int, PlaceOrder] = {}
        self.prio: dict[int, tuple[int, int]] = {}
        self.fill_sum: dict[int, int] = {}
        self.known: dict[int, OrderUpdate] = {}  # latest update of every order
        self.log: list[list[Event]] = []
        self.ts = 1000

    def run(self, ops: list[dict[str, Any]]) -> None:
        for step, d in enumerate(ops):
            self.ts += 1 if d["op"] != "expire" else DAY // 3
            self.step(step, d)

    def step(self, step: int, d: dict[str, Any]) -> None:
        e = self.engine
        before = list(e.state_items())
        entering: int | None = None
        events: list[Event]
        if d["op"] == "place":
            cmd = _place_cmd(d)
            if e.check_place(cmd) is not None:
                assert list(e.state_items()) == before
                return
            oid = 1000 + step
            self.ids.append(oid)
            self.cmds[oid] = cmd
            events = e.place(cmd, oid, self.ts)
            entering = oid
        elif d["op"] in ("modify", "cancel"):
            if not self.ids:
                return
            oid = self.ids[d["k"] % len(self.ids)]
            user = self.cmds[oid].user
            if d["op"] == "cancel":
                c = CancelOrder(user=user, order_id=oid)
                if e.check_cancel(c) is not None:
                    assert list(e.state_items()) == before
                    return
                events = e.cancel(c, self.ts)
            else:
                m = ModifyOrder(
                    user=user, order_id=oid, qty=d["qty"], price=d["price"], stop_price=d["stop"]
                )
                if e.check_modify(m) is not None:
                    assert list(e.state_items()) == before
                    return
                o = e.order(oid)
                assert o is not None
                if not o.pending and (
                    (m.price is not None and m.price != o.limit)
                    or (m.qty is not None and m.qty > o.qty)
                ):
                    entering = oid
                events = e.modify(m, self.ts)
        elif d["op"] == "cancel_all":
            events = e.cancel_all(d["user"], None, self.ts)
        else:
            events = e.expire(self.ts)
        self.log.append(events)
        self.check(len(self.log), events, entering)

    def check(self, call: int, events: list[Event], entering: int | None) -> None:
        e = self.engine
        bid, ask = e.best_bid("X"), e.best_ask("X")
        assert bid is None or ask is None or bid < ask, "crossed book"
        last_status: dict[int, OrderUpdate] = {}
        seen_levels: set[tuple[Side, int]] = set()
        for i, ev in enumerate(events):
            if isinstance(ev, OrderUpdate):
                assert ev.qty == ev.filled + ev.remaining + ev.cancelled
                assert ev.remaining >= 0 and ev.cancelled >= 0 and ev.filled >= 0
                if ev.last_fill_qty:
                    self.fill_sum[ev.order_id] = self.fill_sum.get(ev.order_id, 0) + (
                        ev.last_fill_qty
                    )
                assert ev.filled == self.fill_sum.get(ev.order_id, 0)
                first = ev.order_id not in self.prio
                prev = self.known.get(ev.order_id)
                triggered = (
                    prev is not None
                    and prev.status is OrderStatus.PENDING
                    and ev.status is not OrderStatus.PENDING
                ) or ev.reason == "oco_sibling"
                if (
                    first
                    or (ev.order_id == entering and ev.order_id not in last_status)
                    or triggered
                ):
                    self.prio[ev.order_id] = (call, i)
                last_status[ev.order_id] = ev
                self.known[ev.order_id] = ev
            elif isinstance(ev, Trade):
                assert ev.maker_order_id != ev.taker_order_id
                if (self.cmds[ev.taker_order_id].stp or self.stp_default) is not STPMode.NONE:
                    assert ev.maker_user != ev.taker_user, "self-trade with STP on"
                taker = self.cmds[ev.taker_order_id]
                assert not (taker.post_only and taker.type is T.LIMIT), "post-only took"
                maker_up, taker_up = events[i + 1], events[i + 2]
                assert isinstance(maker_up, OrderUpdate) and isinstance(taker_up, OrderUpdate)
                assert maker_up.order_id == ev.maker_order_id
                assert taker_up.order_id == ev.taker_order_id
                assert maker_up.price == ev.price, "not at the maker's price"
                if taker_up.price is not None:
                    if ev.taker_side is Side.BUY:
                        assert ev.price <= taker_up.price
                    else:
                        assert ev.price >= taker_up.price
            elif isinstance(ev, BookLevel):
                key = (ev.side, ev.price)
                assert key not in seen_levels, "level reported twice in one call"
                seen_levels.add(key)
                side = e.books["X"].bids if ev.side is Side.BUY else e.books["X"].asks
                assert side.sizes.get(ev.price, 0) == ev.qty
        for oid, up in last_status.items():
            cmd = self.cmds[oid]
            live = e.order(oid)
            if cmd.tif is TimeInForce.FOK and up.status.is_final:
                assert up.filled in (0, up.qty) or up.reason == "self_trade"
            if live is None:
                assert up.status.is_final
            elif not live.pending:
                assert live.tif not in (TimeInForce.IOC, TimeInForce.FOK), "ioc/fok rests"
                assert not live.is_market
        # FIFO within every level, and level sizes agree with their orders
        for side in (e.books["X"].bids, e.books["X"].asks):
            for price, od in side.levels.items():
                assert sum(o.remaining for o in od.values()) == side.sizes[price]
                prios = [self.prio[o.order_id] for o in od.values()]
                assert prios == sorted(prios), f"FIFO broken at {price}"


@settings(max_examples=200, deadline=None)
@given(streams)
def test_engine_random_streams_keep_invariants(data: tuple[STPMode, list[dict[str, Any]]]) -> None:
    stp, ops = data
    Checker(stp).run(ops)


@settings(max_examples=60, deadline=None)
@given(streams)
def test_engine_same_commands_same_events_and_state(
    data: tuple[STPMode, list[dict[str, Any]]],
) -> None:
    stp, ops = data
    a, b = Checker(stp), Checker(stp)
    half = len(ops) // 2
    a.run(ops)
    b.run(ops[:half])
    b.engine = pickle.loads(pickle.dumps(b.engine))  # snapshot/restore mid-stream
    for step, d in enumerate(ops[half:], start=half):
        b.ts += 1 if d["op"] != "expire" else DAY // 3
        b.step(step, d)
    assert a.log == b.log
    assert list(a.engine.state_items()) == list(b.engine.state_items())


def _random_stream(seed: int, n: int) -> tuple[STPMode, list[dict[str, Any]]]:
    rng = random.Random(seed)
    ops: list[dict[str, Any]] = []
    types = [T.LIMIT] * 10 + [T.MARKET, T.STOP, T.STOP_LIMIT, T.TAKE_PROFIT]
    types += [T.TAKE_PROFIT_LIMIT, T.TRAILING_STOP, T.OCO]
    for _ in range(n):
        r = rng.random()
        if r < 0.6:
            ops.append(
                {
                    "op": "place",
                    "user": rng.choice(USERS),
                    "side": rng.choice([Side.BUY, Side.SELL]),
                    "type": rng.choice(types),
                    "qty": rng.randint(1, 6),
                    "price": rng.randint(97, 103),
                    "stop": rng.randint(97, 103),
                    "trail": rng.randint(1, 3),
                    "tif": rng.choice([TimeInForce.GTC] * 4 + list(TimeInForce)),
                    "post_only": rng.random() < 0.1,
                    "stp": rng.choice([None, None, None, *STPMode]),
                    "coid": rng.choice([None, None, None, "x", "y"]),
                }
            )
        elif r < 0.85:
            ops.append(
                {
                    "op": "modify",
                    "k": rng.randrange(1000),
                    "qty": rng.choice([None, rng.randint(1, 8)]),
                    "price": rng.choice([None, rng.randint(97, 103)]),
                    "stop": rng.choice([None, None, rng.randint(97, 103)]),
                }
            )
        elif r < 0.97:
            ops.append({"op": "cancel", "k": rng.randrange(1000)})
        else:
            ops.append({"op": rng.choice(["cancel_all", "expire"]), "user": rng.choice(USERS)})
    return rng.choice(list(STPMode)), ops


@settings(max_examples=40, deadline=None)
@given(st.integers(0, 2**32))
def test_engine_busy_random_streams_keep_invariants(seed: int) -> None:
    stp, ops = _random_stream(seed, 250)
    checker = Checker(stp)
    checker.run(ops)
    assert any(isinstance(e, Trade) for evs in checker.log for e in evs)
