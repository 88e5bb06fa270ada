"""Matching engine throughput and latency, against ``bourse`` (a Rust order book).

``make_stream(seed, n)`` builds an engine-agnostic, seeded command stream: a warm-up
of ``WARMUP`` resting limit orders, then ``n`` operations mixed 9% gtc limit, 3% ioc
limit, 6% cancel and 82% modify (two thirds price moves, one third resizes), from
1,000 users, over ~750 price levels around a fixed mid (bids below, asks above;
moves stay on their side, ioc orders cross up to 100 ticks). The venue-level bench
reuses it for engine + ledger.

Both engines run the same stream: ours through ``check_*`` then the command
(commands are built from the stream before timing, as the venue gets them already
decoded); bourse through ``place_order`` /
``modify_order`` / ``cancel_order`` with ``set_time`` before every call (it has no
ioc: an ioc is a limit order cancelled right after if still active; it has no
self-trade prevention: ours runs with ``stp = none``). Both must report the same
trade count and traded volume.
"""

from __future__ import annotations

import random
import time
from decimal import Decimal
from typing import Any

from openpit.core.commands import CancelOrder, ModifyOrder, PlaceOrder
from openpit.core.enums import InstrumentKind, OrderType, Side, STPMode, TimeInForce
from openpit.core.events import Event, OrderUpdate, Trade
from openpit.core.instrument import Asset, Instrument
from openpit.engine import Engine

WARMUP = 1_000
USERS = 1_000
MID = 100_000
HALF_LEVELS = 750  # per side; ~1,000 orders occupy ~750 of the 1,500 prices

# op kinds
LIMIT, IOC, CANCEL, MOVE, RESIZE = "limit", "ioc", "cancel", "move", "resize"

# (kind, ref, user, is_buy, price, qty): ``ref`` names the order (its index in the
# stream, used as our order id); cancel/move/resize refer to an earlier ref. A resize
# carries both forms of the new quantity: ``price`` = new total (openpit's ModifyOrder
# semantics, filled included) and ``qty`` = new open quantity (bourse's ``new_vol``).
Op = tuple[str, int, int, bool, int, int]


def make_stream(seed: int, n: int) -> list[Op]:
    """``WARMUP`` resting limit orders followed by ``n`` mixed operations.

    A shadow engine follows the stream while it is generated, so cancels and modifies
    always target live orders and the book stays near ``WARMUP`` resting orders.
    """
    rng = random.Random(seed)
    ops: list[Op] = []
    live: list[int] = []
    pos: dict[int, int] = {}
    side_of: dict[int, bool] = {}
    user_of: dict[int, int] = {}
    shadow = Engine({"BENCH": bench_instrument()}, STPMode.NONE)

    def forget(ref: int) -> None:
        i = pos.pop(ref)
        last = live.pop()
        if last != ref:
            live[i] = last
            pos[last] = i

    def apply(op: Op) -> None:
        for e in _apply(shadow, op, len(ops)):
            if type(e) is OrderUpdate and e.status.is_final and e.order_id in pos:
                forget(e.order_id)
        ops.append(op)

    def passive_price(is_buy: bool) -> int:
        off = rng.randint(1, HALF_LEVELS)
        return MID - off if is_buy else MID + off

    def add_limit(ref: int) -> None:
        is_buy = rng.random() < 0.5
        user = rng.randrange(USERS)
        pos[ref] = len(live)
        live.append(ref)
        side_of[ref], user_of[ref] = is_buy, user
        apply((LIMIT, ref, user, is_buy, passive_price(is_buy), rng.randint(1, 20)))

    for _ in range(WARMUP):
        add_limit(len(ops))
    for _ in range(n):
        ref = len(ops)
        r = rng.random()
        if r < 0.09 or not live:
            add_limit(ref)
        elif r < 0.12:
            is_buy = rng.random() < 0.5
            cross = rng.randint(1, 100)
            price = MID + cross if is_buy else MID - cross
            apply((IOC, ref, rng.randrange(USERS), is_buy, price, rng.randint(1, 25)))
        elif r < 0.18:
            target = live[rng.randrange(len(live))]
            apply((CANCEL, target, user_of[target], side_of[target], 0, 0))
        else:
            target = live[rng.randrange(len(live))]
            o = shadow.order(target)
            assert o is not None
            if rng.random() < 2 / 3:
                price = o.limit
                while price == o.limit:
                    price = passive_price(side_of[target])
                apply((MOVE, target, user_of[target], side_of[target], price, 0))
            else:
                # never "resize" to the same open quantity: venues differ on its priority
                qty = o.remaining
                while qty == o.remaining:
                    qty = rng.randint(1, 20)
                total = o.filled + o.cancelled + qty
                apply((RESIZE, target, user_of[target], side_of[target], total, qty))
    return ops


def _apply(eng: Engine, op: Op, ts: int) -> list[Event]:
    """One stream operation through the engine (check, then apply)."""
    kind, ref, user, is_buy, price, qty = op
    u = f"u{user}"
    if kind is LIMIT or kind is IOC:
        cmd = PlaceOrder(
            user=u,
            instrument="BENCH",
            side=Side.BUY if is_buy else Side.SELL,
            type=OrderType.LIMIT,
            qty=qty,
            price=price,
            tif=TimeInForce.IOC if kind is IOC else TimeInForce.GTC,
        )
        return eng.place(cmd, ref, ts) if eng.check_place(cmd) is None else []
    if kind is CANCEL:
        c = CancelOrder(user=u, order_id=ref)
        return eng.cancel(c, ts) if eng.check_cancel(c) is None else []
    if kind is MOVE:
        m = ModifyOrder(user=u, order_id=ref, price=price)
    else:
        m = ModifyOrder(user=u, order_id=ref, qty=price)  # the new total quantity
    return eng.modify(m, ts) if eng.check_modify(m) is None else []


def bench_instrument() -> Instrument:
    return Instrument(
        id="BENCH",
        venue="bench",
        symbol="BENCH",
        base=Asset("B", 8),
        quote=Asset("Q", 8),
        kind=InstrumentKind.SPOT,
        tick_size=Decimal("0.01"),
        lot_size=Decimal("0.001"),
        min_qty=Decimal("0.001"),
        price_band=Decimal("0.05"),
    )


# -- ours --------------------------------------------------------------------------------

Prepared = tuple[str, int, Any]


def prepare_ours(ops: list[Op]) -> list[Prepared]:
    """Stream → (kind, ref, command); resizes keep their new open quantity."""
    users = [f"u{i}" for i in range(USERS)]
    out: list[Prepared] = []
    buy, sell = Side.BUY, Side.SELL
    for kind, ref, user, is_buy, price, qty in ops:
        u = users[user]
        cmd: Any
        if kind is LIMIT or kind is IOC:
            cmd = PlaceOrder(
                user=u,
                instrument="BENCH",
                side=buy if is_buy else sell,
                type=OrderType.LIMIT,
                qty=qty,
                price=price,
                tif=TimeInForce.IOC if kind is IOC else TimeInForce.GTC,
            )
        elif kind is CANCEL:
            cmd = CancelOrder(user=u, order_id=ref)
        elif kind is MOVE:
            cmd = ModifyOrder(user=u, order_id=ref, price=price)
        else:
            cmd = ModifyOrder(user=u, order_id=ref, qty=price)  # new total quantity
        out.append((kind, ref, cmd))
    return out


def run_ours(prepared: list[Prepared], timings: list[int] | None) -> tuple[Engine, int, int, float]:
    """Run the stream; CPU seconds for the ops after the warm-up (per-op ns into timings)."""
    inst = bench_instrument()
    eng = Engine({inst.id: inst}, STPMode.NONE)
    for ts, (_, ref, cmd) in enumerate(prepared[:WARMUP]):
        eng.place(cmd, ref, ts)
    ops = prepared[WARMUP:]
    trades = volume = 0
    ts = WARMUP
    check_place, place = eng.check_place, eng.place
    check_cancel, cancel = eng.check_cancel, eng.cancel
    check_modify, modify = eng.check_modify, eng.modify
    clock = time.perf_counter_ns
    timed = timings is not None
    t0 = 0
    started = time.process_time()
    for kind, ref, cmd in ops:
        if timed:
            t0 = clock()
        ts += 1
        if kind is MOVE or kind is RESIZE:
            events = modify(cmd, ts) if check_modify(cmd) is None else []
        elif kind is CANCEL:
            events = cancel(cmd, ts) if check_cancel(cmd) is None else []
        else:
            events = place(cmd, ref, ts) if check_place(cmd) is None else []
        if timed:
            timings.append(clock() - t0)  # type: ignore[union-attr]
        if eng.trade_seq != trades:
            trades = eng.trade_seq
            for e in events:
                if type(e) is Trade:
                    volume += e.qty
    elapsed = time.process_time() - started
    return eng, trades, volume, elapsed


# -- bourse ------------------------------------------------------------------------------


def run_bourse(ops: list[Op], timings: list[int] | None) -> tuple[int, int, float]:
    """Same stream through bourse: CPU seconds after the warm-up (per-op ns into timings)."""
    import bourse

    book = bourse.core.OrderBook(0, True)
    ids: dict[int, int] = {}
    set_time = book.set_time
    place_order, cancel_order = book.place_order, book.cancel_order
    modify_order, order_status = book.modify_order, book.order_status
    for t, (_, ref, user, is_buy, price, qty) in enumerate(ops[:WARMUP]):
        set_time(t)
        ids[ref] = place_order(is_buy, qty, user, price=price)
    t = WARMUP
    clock = time.perf_counter_ns
    timed = timings is not None
    t0 = 0
    started = time.process_time()
    for kind, ref, user, is_buy, price, qty in ops[WARMUP:]:
        if timed:
            t0 = clock()
        t += 1
        set_time(t)
        if kind is MOVE:
            modify_order(ids[ref], new_price=price)
        elif kind is RESIZE:
            modify_order(ids[ref], new_vol=qty)
        elif kind is CANCEL:
            cancel_order(ids[ref])
        elif kind is LIMIT:
            ids[ref] = place_order(is_buy, qty, user, price=price)
        else:  # ioc: bourse has none; a limit order cancelled at once if still active
            oid = place_order(is_buy, qty, user, price=price)
            if order_status(oid) == 1:
                cancel_order(oid)
        if timed:
            timings.append(clock() - t0)  # type: ignore[union-attr]
    elapsed = time.process_time() - started
    traded = book.get_trades()
    return len(traded), sum(tr[3] for tr in traded), elapsed


# -- instruction counts (callgrind) -------------------------------------------------------

CG_OPS = 20_000


def _cg_child(path: str, which: str) -> None:
    """Run one side over the pickled stream (``which``: ours, ours0, theirs, theirs0)."""
    import pickle

    kinds = {k: k for k in (LIMIT, IOC, CANCEL, MOVE, RESIZE)}  # ``kind is MOVE`` needs these
    with open(path, "rb") as f:
        ops = [(kinds[op[0]], *op[1:]) for op in pickle.load(f)]
    prepared = prepare_ours(ops)
    import bourse  # noqa: F401  (imported by every variant: same start-up cost)

    if which == "ours":
        run_ours(prepared, None)
    elif which == "ours0":
        run_ours(prepared[:WARMUP], None)
    elif which == "theirs":
        run_bourse(ops, None)
    elif which == "theirs0":
        run_bourse(ops[:WARMUP], None)


def callgrind_per_op(seed: int) -> dict[str, int] | None:
    """Instructions per op after the warm-up (full run minus warm-up-only run), or None
    without valgrind. Deterministic, unlike CPU time on a shared machine."""
    import os
    import pickle
    import tempfile

    from bench import _callgrind

    if not _callgrind.available():
        return None
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "ops.pkl")
        with open(path, "wb") as f:
            pickle.dump(make_stream(seed, CG_OPS), f)
        code = f"from bench.engine import _cg_child; import sys; _cg_child({path!r}, sys.argv[1])"
        n = _callgrind.counts(code, ("ours0", "ours", "theirs0", "theirs"))
    return {
        "ours": (n["ours"] - n["ours0"]) // CG_OPS,
        "bourse": (n["theirs"] - n["theirs0"]) // CG_OPS,
    }


def _pct(values: list[int], p: float) -> int:
    s = sorted(values)
    return s[min(len(s) - 1, int(p * len(s)))]


def main(n: int = 200_000, seed: int = 7) -> dict[str, Any]:
    ops = make_stream(seed, n)
    prepared = prepare_ours(ops)
    # throughput: best of 3 runs each, alternating
    ours_s: list[float] = []
    theirs_s: list[float] = []
    result_ours = result_bourse = (0, 0)
    for _ in range(3):
        _, tr, vol, el = run_ours(prepared, None)
        ours_s.append(el)
        result_ours = (tr, vol)
        tr, vol, el = run_bourse(ops, None)
        theirs_s.append(el)
        result_bourse = (tr, vol)
    lat_ours: list[int] = []
    lat_bourse: list[int] = []
    eng, _, _, _ = run_ours(prepared, lat_ours)
    run_bourse(ops, lat_bourse)
    ours_ops = n / min(ours_s)
    bourse_ops = n / min(theirs_s)
    ratio = ours_ops / bourse_ops
    bids, asks = eng.depth("BENCH", 10_000)
    cg = callgrind_per_op(seed)
    return {
        "ops": n,
        "seed": seed,
        "mix": {"limit_gtc": 0.09, "limit_ioc": 0.03, "cancel": 0.06, "modify": 0.82},
        "resting_orders_end": len(eng.orders),
        "levels_end": len(bids) + len(asks),
        "ours_ops_per_s": round(ours_ops),
        "ours_p50_ns": _pct(lat_ours, 0.50),
        "ours_p99_ns": _pct(lat_ours, 0.99),
        "bourse_ops_per_s": round(bourse_ops),
        "bourse_p50_ns": _pct(lat_bourse, 0.50),
        "bourse_p99_ns": _pct(lat_bourse, 0.99),
        "trades": result_ours[0],
        "volume_lots": result_ours[1],
        "bourse_trades": result_bourse[0],
        "bourse_volume_lots": result_bourse[1],
        "same_trades_and_volume": result_ours == result_bourse,
        "ratio_vs_bourse": round(ratio, 3),
        "callgrind_ops": CG_OPS if cg else None,
        "ours_instructions_per_op": cg["ours"] if cg else None,
        "bourse_instructions_per_op": cg["bourse"] if cg else None,
        "ratio_by_instructions": round(cg["bourse"] / cg["ours"], 3) if cg else None,
        "passed": ratio >= 0.3 and result_ours == result_bourse,
    }


if __name__ == "__main__":
    import json

    print(json.dumps(main(), indent=2))
