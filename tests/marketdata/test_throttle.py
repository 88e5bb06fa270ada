"""Conflated (snapshot-style) book subscribers against delta subscribers."""

from __future__ import annotations

from itertools import pairwise

from hypothesis import given, settings
from hypothesis import strategies as st

from openpit.core.enums import Side
from openpit.marketdata import MarketData
from openpit.marketdata.throttle import Conflator
from tests.marketdata._helpers import CONFIG, level

steps = st.lists(
    st.tuples(
        st.integers(0, 60),
        st.lists(
            st.tuples(
                st.sampled_from([Side.BUY, Side.SELL]), st.integers(1, 30), st.integers(0, 3)
            ),
            min_size=1,
            max_size=5,
        ),
    ),
    min_size=1,
    max_size=60,
)


@settings(max_examples=120, deadline=None)
@given(steps)
def test_throttled_subscriber_any_stream_ends_at_unthrottled_state(stream):
    md = MarketData(CONFIG, book_interval_ms=100)
    snap = md.subscribe_depth("BTCUSDT", 5)
    md.subscribe_depth("BTCUSDT", 5, conflated=True)
    client = {"bids": dict(snap.bids), "asks": dict(snap.asks)}
    conflated_last = None
    emitted_at: list[int] = []
    ts = 1_000
    for gap, changes in stream:
        ts += gap
        upd = md.apply([level(side, p, q, ts) for side, p, q in changes])
        u = upd.instruments.get("BTCUSDT")
        if u is None:
            continue
        delta = u.depth.get(5)
        if delta is not None:
            for key, rows in (("bids", delta.bids), ("asks", delta.asks)):
                for p, q in rows:
                    if q:
                        client[key][p] = q
                    else:
                        client[key].pop(p, None)
        if 5 in u.conflated:
            conflated_last = u.conflated[5]
            emitted_at.append(ts)
    final = md.advance(ts + 100).instruments.get("BTCUSDT")
    if final is not None and 5 in final.conflated:
        conflated_last = final.conflated[5]
        emitted_at.append(ts + 100)
    assert all(b - a >= 100 for a, b in pairwise(emitted_at))
    want = md.book_snapshot("BTCUSDT", 5)
    assert sorted(client["bids"].items(), reverse=True) == want.bids
    assert sorted(client["asks"].items()) == want.asks
    if conflated_last is not None:
        assert (conflated_last.bids, conflated_last.asks) == (want.bids, want.asks)
        assert conflated_last.sequence == want.sequence
    else:
        assert want.bids == [] and want.asks == []


def test_conflator_changes_within_interval_emit_once_on_trailing_edge():
    c = Conflator(100)
    c.mark()
    assert c.poll(0)
    c.mark()
    assert not c.poll(50)
    c.mark()
    assert c.deadline() == 100
    assert not c.poll(99)
    assert c.poll(100)
    assert not c.poll(500)
