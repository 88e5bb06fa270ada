"""L2 book, depth views, sequences and checksum."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from openpit.core.enums import Side
from openpit.marketdata.book import BookDelta, L2Book, checksum_text
from tests.marketdata._helpers import BTC, level, reference_checksum, top

DEPTHS = (1, 3, 10, 25)

changes = st.tuples(
    st.sampled_from([Side.BUY, Side.SELL]),
    st.integers(1, 45),
    st.integers(0, 4),
)
batches = st.lists(st.lists(changes, min_size=1, max_size=8), min_size=1, max_size=40)


def _apply(client: dict[str, dict[int, int]], delta: BookDelta) -> None:
    for key, rows in (("bids", delta.bids), ("asks", delta.asks)):
        for price, qty in rows:
            if qty:
                client[key][price] = qty
            else:
                client[key].pop(price, None)


def _publish(book: L2Book, batch: list[tuple[Side, int, int]], batched: bool) -> bool:
    """One batch through ``set_level`` + ``commit`` or through ``apply_levels``."""
    if batched:
        return book.apply_levels([level(side, p, q) for side, p, q in batch], ts=1)
    for side, price, qty in batch:
        book.set_level(side, price, qty)
    return book.commit(ts=1)


@pytest.mark.parametrize("batched", [False, True], ids=["set_level", "apply_levels"])
@settings(max_examples=150, deadline=None)
@given(batch_list=batches)
def test_depth_views_snapshot_plus_deltas_reproduce_next_snapshot(batched, batch_list):
    book = L2Book(BTC)
    book.full_deltas = True
    for d in DEPTHS:
        book.view(d)
    clients: dict[int, dict[str, dict[int, int]]] = {}
    seqs: dict[int, int] = {}
    for d in (0, *DEPTHS):
        snap = book.snapshot(d)
        clients[d] = {"bids": dict(snap.bids), "asks": dict(snap.asks)}
        seqs[d] = snap.sequence
    truth: dict[Side, dict[int, int]] = {Side.BUY: {}, Side.SELL: {}}
    for batch in batch_list:
        before = {side: dict(levels) for side, levels in truth.items()}
        best_before = (book.best_bid(), book.best_ask())
        seq_before = book.sequence
        for side, price, qty in batch:
            if qty:
                truth[side][price] = qty
            else:
                truth[side].pop(price, None)
        changed = _publish(book, batch, batched)
        full = book.delta
        # the full-depth delta is exactly the net change of the batch
        want = {
            side: sorted(
                (p, truth[side].get(p, 0))
                for p in set(before[side]) | set(truth[side])
                if before[side].get(p, 0) != truth[side].get(p, 0)
            )
            for side in truth
        }
        assert changed == bool(want[Side.BUY] or want[Side.SELL])
        assert book.sequence == seq_before + changed
        if changed:
            assert full is not None
            assert full.bids == want[Side.BUY][::-1] and full.asks == want[Side.SELL]
            assert book.top_changed == (best_before != (book.best_bid(), book.best_ask()))
        deltas = {0: full} | {d: book.views[d].deltas for d in DEPTHS} if full else {}
        for d, delta in deltas.items():
            if delta is None:
                continue
            assert delta.prev_sequence == seqs[d]
            assert delta.sequence == seqs[d] + 1
            seqs[d] = delta.sequence
            _apply(clients[d], delta)
        for d in (0, *DEPTHS):
            want_bids = top(truth[Side.BUY], d, best_high=True)
            want_asks = top(truth[Side.SELL], d, best_high=False)
            assert sorted(clients[d]["bids"].items(), reverse=True) == want_bids
            assert sorted(clients[d]["asks"].items()) == want_asks
            snap = book.snapshot(d)
            assert snap.bids == want_bids and snap.asks == want_asks
            assert snap.sequence == seqs[d]
        assert book.checksum() == reference_checksum(
            BTC, list(truth[Side.SELL].items()), list(truth[Side.BUY].items())
        )


@settings(max_examples=100, deadline=None)
@given(batches)
def test_checksum_after_any_changes_matches_independent_reference(batch_list):
    book = L2Book(BTC)
    book.full_deltas = True
    book.view(5)
    truth: dict[Side, dict[int, int]] = {Side.BUY: {}, Side.SELL: {}}
    for batch in batch_list:
        for side, price, qty in batch:
            book.set_level(side, price * 997, qty * 12345)
            if qty:
                truth[side][price * 997] = qty * 12345
            else:
                truth[side].pop(price * 997, None)
        book.commit(ts=1)
        delta = book.delta
        ref = reference_checksum(BTC, list(truth[Side.SELL].items()), list(truth[Side.BUY].items()))
        assert book.checksum() == ref
        if delta is not None:
            assert delta.checksum == ref
        view5 = book.views[5]
        if view5.deltas is not None and delta is not None:
            bids5, asks5 = view5.levels()
            assert view5.deltas.checksum == reference_checksum(BTC, asks5, bids5)


def test_view_insert_above_full_view_emits_leaving_level_with_zero():
    book = L2Book(BTC)
    view = book.view(2)
    for p in (100, 99, 98):
        book.set_level(Side.BUY, p, 1)
    book.commit(1)
    assert view.deltas is not None and view.deltas.bids == [(100, 1), (99, 1)]
    book.set_level(Side.BUY, 101, 5)
    book.commit(2)
    assert view.deltas is not None
    assert view.deltas.bids == [(101, 5), (99, 0)]
    assert (view.deltas.sequence, view.deltas.prev_sequence) == (2, 1)


def test_view_delete_inside_full_view_emits_entering_level():
    book = L2Book(BTC)
    view = book.view(2)
    for p in (100, 99, 98):
        book.set_level(Side.SELL, p, 3)
    book.commit(1)
    book.set_level(Side.SELL, 98, 0)
    book.commit(2)
    assert view.deltas is not None and view.deltas.asks == [(98, 0), (100, 3)]


def test_view_change_below_full_view_emits_nothing():
    book = L2Book(BTC)
    book.full_deltas = True
    view = book.view(2)
    for p in (100, 99, 98):
        book.set_level(Side.BUY, p, 1)
    book.commit(1)
    seq = view.sequence
    book.set_level(Side.BUY, 50, 7)
    assert book.commit(2)
    assert book.delta is not None and book.delta.bids == [(50, 7)]
    assert view.deltas is None and view.sequence == seq


def test_commit_level_restored_within_batch_emits_nothing():
    book = L2Book(BTC)
    book.set_level(Side.BUY, 100, 1)
    book.commit(1)
    book.set_level(Side.BUY, 100, 0)
    book.set_level(Side.BUY, 100, 1)
    assert not book.commit(2)
    assert book.sequence == 1


def test_checksum_worked_example_matches_docs():
    """The example in docs/market-data.md (BTCUSDT: tick 0.01, lot 0.00001)."""
    asks = [(4265100, 80000), (4265250, 120000)]
    bids = [(4265000, 150000), (4264950, 230000)]
    text = checksum_text(BTC, asks, bids)
    assert text == "426510080000426525012000042650001500004264950230000"
    assert reference_checksum(BTC, asks, bids) == 3169829925
    book = L2Book(BTC)
    for p, q in asks:
        book.set_level(Side.SELL, p, q)
    for p, q in bids:
        book.set_level(Side.BUY, p, q)
    book.commit(1)
    assert book.checksum() == 3169829925


facade_changes = st.tuples(
    st.sampled_from([Side.BUY, Side.SELL]),
    st.integers(1, 45),
    st.integers(0, 4),
    st.sampled_from(["BTCUSDT"] * 7 + ["ETHUSDT"]),
)


@pytest.mark.parametrize("full", [False, True], ids=["views", "views+depth0"])
@settings(max_examples=150, deadline=None)
@given(batch_list=st.lists(st.lists(facade_changes, min_size=1, max_size=8), max_size=40))
def test_facade_snapshot_plus_deltas_reproduce_next_snapshot(full, batch_list):
    """Through ``MarketData.apply`` (its own staging and the fast path for changes
    below every view): every depth's client state equals the server's top N, and the
    book sequence moves exactly once on batches with a net change, and on no other
    batch except one that changed and restored a level (below every view)."""
    from openpit.marketdata import MarketData
    from tests.marketdata._helpers import CONFIG

    md = MarketData(CONFIG)
    depths = (0, 1, 3) if full else (1, 3)  # small: most changes fall below every view
    clients: dict[str, dict[int, dict[str, dict[int, int]]]] = {}
    seqs: dict[str, dict[int, int]] = {}
    truth: dict[str, dict[Side, dict[int, int]]] = {}
    for iid in ("BTCUSDT", "ETHUSDT"):
        clients[iid], seqs[iid] = {}, {}
        truth[iid] = {Side.BUY: {}, Side.SELL: {}}
        for d in depths:
            snap = md.subscribe_depth(iid, d)
            clients[iid][d] = {"bids": dict(snap.bids), "asks": dict(snap.asks)}
            seqs[iid][d] = snap.sequence
    book_seq = {iid: md.book_snapshot(iid, 0).sequence for iid in truth}
    for ts, batch in enumerate(batch_list, start=1):
        before = {iid: {s: dict(v) for s, v in t.items()} for iid, t in truth.items()}
        for side, price, qty, iid in batch:
            if qty:
                truth[iid][side][price] = qty
            else:
                truth[iid][side].pop(price, None)
        upd = md.apply([level(side, p, q, ts=ts, instrument=iid) for side, p, q, iid in batch])
        for iid in truth:
            u = upd.instruments.get(iid)
            deltas = {} if u is None else ({0: u.book} if u.book is not None else {}) | u.depth
            for d, delta in deltas.items():
                assert delta.prev_sequence == seqs[iid][d]
                assert delta.sequence == seqs[iid][d] + 1
                seqs[iid][d] = delta.sequence
                _apply(clients[iid][d], delta)
            for d in depths:
                want_bids = top(truth[iid][Side.BUY], d, best_high=True)
                want_asks = top(truth[iid][Side.SELL], d, best_high=False)
                assert sorted(clients[iid][d]["bids"].items(), reverse=True) == want_bids
                assert sorted(clients[iid][d]["asks"].items()) == want_asks
                snap = md.book_snapshot(iid, d)
                assert snap.bids == want_bids and snap.asks == want_asks
                assert snap.sequence == seqs[iid][d]
            moved = before[iid] != truth[iid]
            seq = md.book_snapshot(iid, 0).sequence
            if moved:
                assert seq == book_seq[iid] + 1
            else:  # a deep level changed and restored in one batch may still count once
                levels = [(side, p) for side, p, _, i in batch if i == iid]
                repeated = len(levels) != len(set(levels))
                assert seq == book_seq[iid] or (repeated and seq == book_seq[iid] + 1)
            book_seq[iid] = seq
            if u is not None and moved:
                assert u.book_changed
    for iid in truth:  # at the end only: asking for it moves the book's work edges
        assert md.checksum(iid) == reference_checksum(
            CONFIG.instruments[iid],
            list(truth[iid][Side.SELL].items()),
            list(truth[iid][Side.BUY].items()),
        )
