"""The sorted index fires exactly what a brute-force scan of every alert fires."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from openpit.alerts import AlertService
from tests.alerts.helpers import CONFIG, T0

INST = CONFIG.instruments["BTCUSDT"]


@dataclass
class Ref:
    id: int
    user: str
    above: bool
    threshold: int
    repeat: bool
    cooldown: int
    armed: bool
    last: int | None = None
    done: bool = False


def brute(refs: list[Ref], v: int, ts: int) -> list[int]:
    fired = []
    for r in refs:
        if r.done:
            continue
        firing_side = v > r.threshold if r.above else v < r.threshold
        if r.armed and firing_side:
            r.armed = False
            if r.last is None or ts >= r.last + r.cooldown:
                r.last = ts
                fired.append(r.id)
                r.done = not r.repeat
        elif not r.armed and not firing_side:
            r.armed = True
    return sorted(fired)


create = st.tuples(
    st.just("create"),
    st.sampled_from(["alice", "bob"]),
    st.booleans(),
    st.integers(95, 105),
    st.booleans(),
    st.sampled_from([0, 3, 10]),
)
value = st.tuples(st.just("value"), st.integers(90, 110), st.integers(0, 5))
delete = st.tuples(st.just("delete"), st.integers(0, 30))


@settings(max_examples=200, deadline=None)
@given(st.lists(st.one_of(create, value, value, delete), max_size=60))
def test_index_random_ops_same_triggers_as_bruteforce(ops: list[tuple[object, ...]]) -> None:
    s = AlertService(CONFIG.instruments, max_per_user=1000)
    refs: list[Ref] = []
    current: int | None = None
    ts = T0
    for op in ops:
        if op[0] == "create":
            _, user, above, thr, repeat, cooldown = op
            assert isinstance(thr, int) and isinstance(cooldown, int)
            a = s.create(
                str(user),
                "x",
                "price_above" if above else "price_below",
                "BTCUSDT",
                Decimal(thr) * INST.tick_size,
                ts,
                repeat=bool(repeat),
                cooldown_ms=cooldown,
            )
            armed = current is not None and (current <= thr if above else current >= thr)
            refs.append(Ref(a.id, str(user), bool(above), thr, bool(repeat), cooldown, armed))
        elif op[0] == "value":
            _, v, dt = op
            assert isinstance(v, int) and isinstance(dt, int)
            ts += dt
            got = s.evaluate("BTCUSDT", ts, price=v)
            expected = brute(refs, v, ts) if v != current else []
            current = v
            assert sorted(e.alert_id for e in got) == expected
            owners = {r.id: r.user for r in refs}
            assert all(owners[e.alert_id] == e.user for e in got)
        else:
            i = op[1]
            assert isinstance(i, int)
            if i < len(refs):
                r = refs[i]
                assert s.delete(r.user, r.id) is (not r.done)
                r.done = True
