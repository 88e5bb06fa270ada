"""Level-2 order book per instrument, depth views with sequenced deltas, and the checksum.

Invariants:
- The book is maintained only from ``BookLevel`` events: the total resting quantity
  at one (side, price); ``qty == 0`` deletes the level. Prices are ticks, sizes lots.
- Each side keeps a sorted list of *keys* (best first): asks key = price, bids key =
  -price, so "better" is always "smaller key" and one code path serves both sides.
- Changes are staged with ``set_level`` and published by ``commit(ts)``, once per
  command batch. A batch that changes at least one level bumps the book's
  ``sequence`` by exactly one; the full-depth delta lists every level whose quantity
  differs from before the batch (0 = deleted). A batch with no net change leaves it,
  except one that changed and restored a level below every work edge (those are not
  recorded, see ``MarketData.apply``): that one may bump it too. No view and no
  depth-0 subscriber can tell (while depth 0 is subscribed every change is recorded).
- A ``DepthView`` of depth N holds the top N levels per side as last published.
  ``DepthView.update`` emits only levels that changed *within the view*, including
  levels entering it (because something above was deleted) and levels leaving it
  (quantity 0, because something better was inserted). Its ``sequence`` is
  consecutive per view and each delta carries ``prev_sequence``: snapshot + every
  delta, applied in order, equals the server's top N exactly.
- A view is computed once per batch and shared by every subscriber of that depth;
  when every changed key lies below a full view, the view does no work at all.
- ``checksum`` is CRC32 (IEEE, unsigned) over the top 10 levels of each side, asks
  best→worse then bids best→worse, each as price then quantity written at the
  instrument's precision with the decimal point and leading zeros removed
  (Kraken's v2 algorithm; see docs/market-data.md for a worked example).
"""

from __future__ import annotations

import zlib
from bisect import bisect_left, bisect_right, insort
from collections.abc import Iterable
from decimal import Decimal

import msgspec

from openpit.core.enums import Side
from openpit.core.events import BookLevel
from openpit.core.instrument import Instrument

CHECKSUM_DEPTH = 10

Level = tuple[int, int]  # (price ticks, qty lots)

# Key sentinels (real keys are prices or negated prices, far smaller in magnitude):
# ``_OPEN`` is the edge of a side or view that is not full (any change may matter),
# ``_NONE`` the smallest changed key of a side that did not change (> any edge).
_OPEN = 1 << 62
_NONE = 1 << 63
_BUY = Side.BUY
_REGION_MIN = 64  # keys listed in sorted order per side, at least


class BookSnapshot(msgspec.Struct, frozen=True, kw_only=True):
    """The top ``depth`` levels per side (``depth == 0``: the whole book).

    ``bids`` are best (highest) first, ``asks`` best (lowest) first. ``sequence`` is the
    sequence of the view (or of the book, for depth 0) this snapshot belongs to: the
    first delta to apply on top of it has ``prev_sequence == sequence``.
    """

    instrument: str
    depth: int
    sequence: int
    bids: list[Level]
    asks: list[Level]
    checksum: int
    ts: int


class BookDelta(msgspec.Struct, frozen=True, kw_only=True):
    """Levels that changed within one view in one batch; ``qty == 0`` deletes a level."""

    instrument: str
    depth: int
    sequence: int
    prev_sequence: int
    bids: list[Level]
    asks: list[Level]
    checksum: int
    ts: int


class _Side:
    """One side of the book. ``qty`` by key holds every level; ``keys`` is sorted
    ascending (best first) but lists only the keys ``<= cut`` (the *region*): levels
    deeper than that live in ``qty`` alone, so a change far from the top costs one
    dict operation. ``cut == _OPEN``: every key is listed. ``head(n)`` rebuilds the
    region when it holds fewer than ``n`` keys but deeper levels exist."""

    __slots__ = ("cell", "cells", "cut", "hi", "keys", "qty", "region", "sign")

    def __init__(self, sign: int, cells: list[int], cell: int) -> None:
        self.sign = sign
        self.keys: list[int] = []
        self.qty: dict[int, int] = {}
        self.region = _REGION_MIN
        self.hi = 4 * _REGION_MIN  # more listed keys than this: ``fit`` trims
        # ``cut`` is mirrored in ``cells[cell]`` (``L2Book.edges``: what the staging
        # loop reads in one go)
        self.cells, self.cell = cells, cell
        self.set_cut(_OPEN)

    def set_cut(self, cut: int) -> None:
        self.cut = self.cells[self.cell] = cut

    def head(self, n: int) -> list[int]:
        """The ``n`` best keys (fewer if the side is shorter)."""
        keys = self.keys
        if len(keys) < n and self.cut != _OPEN:
            self.rebuild(n)
        return keys[:n]

    def rebuild(self, n: int = 0) -> None:
        """Re-list the best ``max(region, n)`` keys (all of them when few remain)."""
        everything = sorted(self.qty)
        r = max(self.region, n)
        if len(everything) <= 2 * r:
            self.keys[:] = everything  # in place: ``L2Book.hot`` holds the list
            self.set_cut(_OPEN)
        else:
            self.keys[:] = everything[:r]
            self.set_cut(everything[r - 1])

    def fit(self, need: int) -> None:
        """Keep the region between ``need`` and a few times ``region`` keys."""
        self.region = r = max(_REGION_MIN, 2 * need)
        self.hi = 4 * r
        keys = self.keys
        if len(keys) > 4 * r:
            del keys[2 * r :]
            self.set_cut(keys[-1])
        elif len(keys) < need and self.cut != _OPEN:
            self.rebuild()

    def top(self, n: int) -> list[Level]:
        s, q = self.sign, self.qty
        return [(s * k, q[k]) for k in self.head(n)]

    def __getstate__(self) -> tuple[object, ...]:
        return (self.sign, self.keys, self.qty, self.cut, self.region, self.cells, self.cell)

    def __setstate__(self, state: tuple[object, ...]) -> None:
        sign, keys, qty, cut, region, cells, cell = state
        assert isinstance(sign, int) and isinstance(keys, list) and isinstance(qty, dict)
        assert isinstance(cut, int) and isinstance(region, int)
        assert isinstance(cells, list) and isinstance(cell, int)
        self.sign, self.keys, self.qty, self.cut, self.region = sign, keys, qty, cut, region
        self.cells, self.cell, self.hi = cells, cell, 4 * region


class _Checksummer:
    """Formats levels the documented way; integers only (no Decimal on the hot path)."""

    __slots__ = ("price_mult", "qty_mult")

    def __init__(self, instrument: Instrument) -> None:
        # price at price_decimals with the point removed == ticks * tick_size * 10**pd
        self.price_mult = int(instrument.tick_size.scaleb(instrument.price_decimals))
        self.qty_mult = int(instrument.lot_size.scaleb(instrument.qty_decimals))
        assert Decimal(self.price_mult) == instrument.tick_size.scaleb(instrument.price_decimals)
        assert Decimal(self.qty_mult) == instrument.lot_size.scaleb(instrument.qty_decimals)

    def text(self, asks: list[Level], bids: list[Level]) -> str:
        pm, qm = self.price_mult, self.qty_mult
        parts = [f"{p * pm}{q * qm}" for p, q in asks[:CHECKSUM_DEPTH]]
        parts += [f"{p * pm}{q * qm}" for p, q in bids[:CHECKSUM_DEPTH]]
        return "".join(parts)

    def crc(self, asks: list[Level], bids: list[Level]) -> int:
        return zlib.crc32(self.text(asks, bids).encode("ascii"))


def checksum_text(instrument: Instrument, asks: list[Level], bids: list[Level]) -> str:
    """The exact string the checksum is computed over (for docs, debugging, clients)."""
    return _Checksummer(instrument).text(asks, bids)


def checksum_levels(instrument: Instrument, asks: list[Level], bids: list[Level]) -> int:
    """CRC32 over the top 10 ``asks`` (best first) then the top 10 ``bids`` (best first)."""
    return _Checksummer(instrument).crc(asks, bids)


def _frag(frag: dict[int, tuple[int, str]], key: int, qty: int, price: int, qm: int) -> str:
    """Cache and return one level's checksum text (``price`` already scaled)."""
    t = frag[key] = (qty, f"{price}{qty * qm}")
    return t[1]


class L2Book:
    """The full level-2 book of one instrument, with staged changes and depth views.

    Staging (``set_level``/``stage``, or ``MarketData.apply`` writing straight into
    ``hot``) updates the book at once and records each changed key once per side, in
    first-change order, with its quantity before the batch (``_bch`` for bids,
    ``_ach`` for asks: key -> old quantity); ``_rep`` says a key changed twice, so
    the commit must drop keys that ended where they started. A new or deleted level
    enters or leaves the sorted ``keys`` only when it lies within the side's region
    (``key <= cut``, see ``_Side``); ``commit`` re-fits the regions.
    """

    __slots__ = (
        "_ach",
        "_ask_best",
        "_ask_crc",
        "_ask_frag",
        "_bch",
        "_bid_best",
        "_bid_frag",
        "_bid_text",
        "_ck",
        "_crc",
        "_crc_ask_edge",
        "_crc_bid_edge",
        "_full_deltas",
        "_need",
        "_out",
        "_pm",
        "_qm",
        "_rep",
        "_views_ask_edge",
        "_views_bid_edge",
        "asks",
        "bids",
        "deep_changed",
        "delta",
        "edges",
        "hot",
        "instrument",
        "sequence",
        "top_changed",
        "ts",
        "view_deltas",
        "views",
    )

    def __init__(self, instrument: Instrument) -> None:
        self.instrument = instrument
        # [bid work edge, ask work edge, bid cut, ask cut], what the staging loop reads.
        # Work edges: a commit whose smallest changed key per side is greater touches
        # nothing but the sequence; the max of the best key, the checksum edge and the
        # view edge (``_OPEN`` with full deltas: every change builds the delta). Cuts:
        # mirrored from ``_Side.cut`` by ``_Side.set_cut``.
        self.edges = [_OPEN, _OPEN, _OPEN, _OPEN]
        self.bids = _Side(-1, self.edges, 2)
        self.asks = _Side(1, self.edges, 3)
        self.sequence = 0
        self.ts = 0
        self._ck = _Checksummer(instrument)
        self._pm, self._qm = self._ck.price_mult, self._ck.qty_mult
        # checksum of the top 10 per side, and its parts: the CRC of the asks' text and
        # the bids' text (None: recompute); the checksum is crc32(bids, crc32(asks))
        self._crc: int | None = None
        self._ask_crc: int | None = None
        self._bid_text: bytes | None = None
        self._ask_frag: dict[int, tuple[int, str]] = {}  # key -> (qty, its checksum text)
        self._bid_frag: dict[int, tuple[int, str]] = {}
        # 10th key per side when its part was computed (_OPEN: fewer than 10 levels):
        # a change at or above it invalidates that part (-_OPEN: already invalid)
        self._crc_bid_edge = -_OPEN
        self._crc_ask_edge = -_OPEN
        # best key per side after the last commit (_OPEN: empty side)
        self._bid_best = _OPEN
        self._ask_best = _OPEN
        self.top_changed = False  # the last commit changed the best bid or ask (or its qty)
        # staged changes of the current batch (see the class docstring)
        self._bch: dict[int, int] = {}
        self._ach: dict[int, int] = {}
        self._need = CHECKSUM_DEPTH  # keys each region must hold: checksum and views
        self._rep = False
        # a level below every work edge changed without being recorded (see
        # ``MarketData.apply``): the next commit bumps the sequence even if nothing
        # recorded changed
        self.deep_changed = False
        # everything the staging loop needs, in one tuple (the same objects)
        self.hot = (
            self.bids.qty,
            self.bids.keys,
            self._bch,
            self.asks.qty,
            self.asks.keys,
            self._ach,
        )
        self.views: dict[int, DepthView] = {}
        self._full_deltas = False  # build the full-depth delta on commit (depth-0 subscribers)
        self.delta: BookDelta | None = None
        self.view_deltas: dict[int, BookDelta] = {}  # depth -> delta of the last commit
        self._out = False  # delta, view_deltas or top_changed are set (see ``reset_out``)
        self._views_bid_edge = -_OPEN  # the largest edge over all views (see ``_edges``)
        self._views_ask_edge = -_OPEN

    @property
    def full_deltas(self) -> bool:
        return self._full_deltas

    @full_deltas.setter
    def full_deltas(self, on: bool) -> None:
        self._full_deltas = on
        if not on:
            self.delta = None
        self._work_edges()

    def _work_edges(self) -> None:
        if self._full_deltas:
            bw = aw = _OPEN
        else:
            bw = max(self._bid_best, self._crc_bid_edge, self._views_bid_edge)
            aw = max(self._ask_best, self._crc_ask_edge, self._views_ask_edge)
        edges = self.edges
        edges[0] = bw
        edges[1] = aw

    # -- staging ---------------------------------------------------------------------
    def set_level(self, side: Side, price: int, qty: int) -> None:
        """Stage ``qty`` (0 deletes) at (side, price); published by ``commit``."""
        if side is _BUY:
            s, changed, key = self.bids, self._bch, -price
        else:
            s, changed, key = self.asks, self._ach, price
        book_qty = s.qty
        old = book_qty.get(key, 0)
        if old == qty:
            return  # no change (a later change still sees ``old``)
        if key in changed:
            self._rep = True
        else:
            changed[key] = old
        if qty:
            if not old and key <= s.cut:
                insort(s.keys, key)
            book_qty[key] = qty
        else:
            del book_qty[key]
            if key <= s.cut:
                keys = s.keys
                del keys[bisect_left(keys, key)]

    def stage(self, levels: Iterable[BookLevel]) -> None:
        """``set_level`` for each event, in order; published by ``commit``."""
        bq, bk, bch, aq, ak, ach = self.hot
        bcut, acut = self.bids.cut, self.asks.cut
        rep = False
        for ev in levels:
            qty = ev.qty
            if ev.side is _BUY:
                key, book_qty, keys, changed, cut = -ev.price, bq, bk, bch, bcut
            else:
                key, book_qty, keys, changed, cut = ev.price, aq, ak, ach, acut
            old = book_qty.get(key, 0)
            if old == qty:
                continue
            if key in changed:
                rep = True
            else:
                changed[key] = old
            if qty:
                if not old and key <= cut:
                    insort(keys, key)
                book_qty[key] = qty
            else:
                del book_qty[key]
                if key <= cut:
                    del keys[bisect_left(keys, key)]
        if rep:
            self._rep = True

    def apply_levels(self, levels: Iterable[BookLevel], ts: int) -> bool:
        """``stage(levels)`` then ``commit(ts)``."""
        self.stage(levels)
        return self.commit(ts)

    def commit(self, ts: int) -> bool:
        """Publish the staged changes: bump the sequence and update every view.

        Returns False when nothing actually changed. With ``full_deltas`` set, the
        full-depth delta of the batch is left in ``self.delta`` (else None); the
        deltas of the views that changed are in ``self.view_deltas`` (a new dict,
        empty when no view changed), and ``top_changed`` says whether the best bid or
        ask (price or quantity) moved.
        """
        bch, ach = self._bch, self._ach
        deep, self.deep_changed = self.deep_changed, False
        need = self._need
        bids, asks = self.bids, self.asks
        n = len(bids.keys)
        if n < need or n > bids.hi:
            bids.fit(need)
        n = len(asks.keys)
        if n < need or n > asks.hi:
            asks.fit(need)
        if self._rep:  # drop keys that ended where they started
            self._rep = False
            bq, aq = bids.qty, asks.qty
            bl = [k for k, o in bch.items() if bq.get(k, 0) != o]
            al = [k for k, o in ach.items() if aq.get(k, 0) != o]
            bch.clear()
            ach.clear()
            bmin = min(bl) if bl else _NONE
            return self._publish(bl, al, bmin, min(al) if al else _NONE, ts, deep)
        if bch:
            bl = list(bch)
            bch.clear()
            bmin = bl[0] if len(bl) == 1 else min(bl)
        else:
            bl = []
            bmin = _NONE
        if ach:
            al = list(ach)
            ach.clear()
            amin = al[0] if len(al) == 1 else min(al)
        else:
            al = []
            amin = _NONE
        return self._publish(bl, al, bmin, amin, ts, deep)

    def _publish(
        self,
        bid_changed: list[int],
        ask_changed: list[int],
        bmin: int,
        amin: int,
        ts: int,
        deep: bool = False,
    ) -> bool:
        """The net changed keys per side (and the smallest of each, ``_NONE`` if none)
        are final: bump the sequence, update views, checksum, top of book."""
        if self._out:
            self.reset_out()
        edges = self.edges
        if bmin > edges[0] and amin > edges[1]:
            # no change at all (``_NONE`` is above every edge), or only changes below
            # the top, both checksum parts and every full view (and no full deltas)
            if bmin == _NONE and amin == _NONE and not deep:
                return False
            self.sequence += 1
            self.ts = ts
            return True
        self._out = True
        self.sequence += 1
        self.ts = ts
        if bmin <= self._bid_best or amin <= self._ask_best:
            # a change at or better than a best level: the top of book moved
            self.top_changed = True
            bk, ak = self.bids.keys, self.asks.keys
            self._bid_best = bk[0] if bk else _OPEN
            self._ask_best = ak[0] if ak else _OPEN
        else:
            self.top_changed = False
        if bmin <= self._crc_bid_edge:
            self._bid_text = None
            self._crc = None
            self._crc_bid_edge = -_OPEN
        if amin <= self._crc_ask_edge:
            self._ask_crc = None
            self._crc = None
            self._crc_ask_edge = -_OPEN
        if bmin <= self._views_bid_edge or amin <= self._views_ask_edge:
            self._update_views(bid_changed, ask_changed, bmin, amin, ts)
        if self._full_deltas:
            bid_changed.sort()
            ask_changed.sort()
            bq, aq = self.bids.qty, self.asks.qty
            self.delta = BookDelta(
                instrument=self.instrument.id,
                depth=0,
                sequence=self.sequence,
                prev_sequence=self.sequence - 1,
                bids=[(-k, bq.get(k, 0)) for k in bid_changed],
                asks=[(k, aq.get(k, 0)) for k in ask_changed],
                checksum=self._checksum(),
                ts=ts,
            )
        self._work_edges()
        return True

    def reset_out(self) -> None:
        """Forget the last commit's outputs (deltas, ``top_changed``)."""
        self._out = False
        self.delta = None
        self.top_changed = False
        if self.view_deltas:
            for view in self.views.values():
                view.deltas = None
            self.view_deltas = {}

    def _update_views(
        self, bid_changed: list[int], ask_changed: list[int], bmin: int, amin: int, ts: int
    ) -> None:
        out: dict[int, BookDelta] = {}
        bid_edge = ask_edge = -_OPEN  # as ``_edges``, in the same pass
        for depth, view in self.views.items():
            if bmin <= view.bid_edge or amin <= view.ask_edge:  # else all below the view
                d = view.update(self, bid_changed, ask_changed, ts, bmin, amin)
                if d is not None:
                    out[depth] = d
            if view.bid_edge > bid_edge:
                bid_edge = view.bid_edge
            if view.ask_edge > ask_edge:
                ask_edge = view.ask_edge
        self.view_deltas = out
        self._views_bid_edge = bid_edge
        self._views_ask_edge = ask_edge

    def _edges(self) -> None:
        """A change worse than both edges is below every (full) view."""
        bid_edge = ask_edge = -_OPEN
        for v in self.views.values():
            if v.bid_edge > bid_edge:
                bid_edge = v.bid_edge
            if v.ask_edge > ask_edge:
                ask_edge = v.ask_edge
        self._views_bid_edge = bid_edge
        self._views_ask_edge = ask_edge

    # -- queries ---------------------------------------------------------------------
    def best_bid(self) -> Level | None:
        keys = self.bids.keys
        return (-keys[0], self.bids.qty[keys[0]]) if keys else None

    def best_ask(self) -> Level | None:
        keys = self.asks.keys
        return (keys[0], self.asks.qty[keys[0]]) if keys else None

    def crc_top(self, n: int) -> int:
        """CRC32 over the top ``n`` (≤ 10) levels per side (integer formatting only)."""
        pm, qm = self._pm, self._qm
        aq, bq = self.asks.qty, self.bids.qty
        text = "".join([f"{k * pm}{aq[k] * qm}" for k in self.asks.head(n)]) + "".join(
            [f"{-k * pm}{bq[k] * qm}" for k in self.bids.head(n)]
        )
        return zlib.crc32(text.encode("ascii"))

    def checksum(self) -> int:
        """CRC32 of the top 10 levels per side (each side's part cached until a change
        at or above its 10th level; each level's text cached while its qty holds)."""
        if self._crc is None:
            self._checksum()
            self._work_edges()  # the checksum edges moved
        crc = self._crc
        assert crc is not None
        return crc

    def _checksum(self) -> int:
        """``checksum`` within a commit (``_publish`` re-derives the work edges last)."""
        crc = self._crc
        if crc is None:
            ask_crc = self._ask_crc
            if ask_crc is None:
                text, self._ask_frag, self._crc_ask_edge = self._side_text(
                    self.asks, self._ask_frag
                )
                ask_crc = self._ask_crc = zlib.crc32(text)
            bid_text = self._bid_text
            if bid_text is None:
                bid_text, self._bid_frag, self._crc_bid_edge = self._side_text(
                    self.bids, self._bid_frag
                )
                self._bid_text = bid_text
            crc = self._crc = zlib.crc32(bid_text, ask_crc)
        return crc

    def _side_text(
        self, side: _Side, frag: dict[int, tuple[int, str]]
    ) -> tuple[bytes, dict[int, tuple[int, str]], int]:
        """(checksum text of the side's top 10, the per-level texts, the 10th key).

        ``frag`` is reused (and returned) until it holds stale levels well beyond 10.
        """
        pm, qm, sign, book_qty = self._pm, self._qm, side.sign, side.qty
        keys = side.head(CHECKSUM_DEPTH)
        if len(frag) > 4 * CHECKSUM_DEPTH:
            frag = {}
        get = frag.get
        parts = [
            t[1]
            if (t := get(k)) is not None and t[0] == book_qty[k]
            else _frag(frag, k, book_qty[k], sign * k * pm, qm)
            for k in keys
        ]
        edge = keys[-1] if len(keys) == CHECKSUM_DEPTH else _OPEN
        return "".join(parts).encode("ascii"), frag, edge

    def snapshot(self, depth: int = 0) -> BookSnapshot:
        """Top ``depth`` levels per side (0: all). Sequence: the view's if one exists."""
        view = self.views.get(depth) if depth else None
        n = depth if depth > 0 else len(self.bids.keys) + len(self.asks.keys)
        bids, asks = self.bids.top(n), self.asks.top(n)
        seq = view.sequence if view is not None else self.sequence
        crc = self.crc_top(depth) if 0 < depth < CHECKSUM_DEPTH else self.checksum()
        return BookSnapshot(
            instrument=self.instrument.id,
            depth=depth,
            sequence=seq,
            bids=bids,
            asks=asks,
            checksum=crc,
            ts=self.ts,
        )

    # -- views -------------------------------------------------------------------------
    def view(self, depth: int) -> DepthView:
        """The shared view of ``depth`` levels, created (from the current book) if needed."""
        if depth <= 0:
            raise ValueError("depth must be positive")
        v = self.views.get(depth)
        if v is None:
            v = self.views[depth] = DepthView(self, depth)
            self._need = max(self._need, depth)
            self._edges()
            self._work_edges()
        return v

    def drop_view(self, depth: int) -> None:
        self.views.pop(depth, None)
        self._need = max(CHECKSUM_DEPTH, *self.views) if self.views else CHECKSUM_DEPTH
        if depth in self.view_deltas:
            self.view_deltas = {d: x for d, x in self.view_deltas.items() if d != depth}
        self._edges()
        self._work_edges()


class DepthView:
    """Top ``depth`` levels per side as last published, with a consecutive sequence.

    A view created mid-stream starts at sequence 0 with the current top N as its
    snapshot; its first delta has ``prev_sequence == 0``. ``bid_edge``/``ask_edge``
    are the worst key of a full side (``_OPEN`` if not full): a batch whose changed
    keys are all greater than both edges leaves the view untouched.
    """

    __slots__ = (
        "ask_edge",
        "ask_keys",
        "ask_qty",
        "bid_edge",
        "bid_keys",
        "bid_qty",
        "deltas",
        "depth",
        "sequence",
    )

    def __init__(self, book: L2Book, depth: int) -> None:
        self.depth = depth
        self.sequence = 0
        self.bid_keys: list[int] = book.bids.head(depth)
        self.ask_keys: list[int] = book.asks.head(depth)
        self.bid_qty = {k: book.bids.qty[k] for k in self.bid_keys}
        self.ask_qty = {k: book.asks.qty[k] for k in self.ask_keys}
        self.bid_edge = self.bid_keys[-1] if len(self.bid_keys) == depth else _OPEN
        self.ask_edge = self.ask_keys[-1] if len(self.ask_keys) == depth else _OPEN
        self.deltas: BookDelta | None = None  # the delta of the last batch, if any

    def _diff(
        self, side: _Side, keys: list[int], held: dict[int, int], changed: list[int]
    ) -> tuple[list[int], list[Level]] | None:
        """Work proportional to the changes, not to the depth.

        A level can enter or leave the view only if it changed itself, or (unchanged)
        by crossing the view's bottom: unchanged levels leave only when they are
        worse than the new worst key of a full view, and enter only when they are worse
        than the old worst key of a view that was full.
        Everything else inside the view is untouched.
        """
        n = self.depth
        old_full = len(keys) == n
        if not changed or (
            old_full and (changed[0] if len(changed) == 1 else min(changed)) > keys[-1]
        ):
            return None  # every change is below a full view: nothing to do
        new_keys = side.head(n)
        new_full = len(new_keys) == n
        new_worst = new_keys[-1] if new_full else None
        book_qty = side.qty
        out: list[tuple[int, int]] = []  # (key, qty)
        for k in changed:
            q = book_qty.get(k, 0)
            inside = q and (new_worst is None or k <= new_worst)
            if k in held:
                if not inside:
                    del held[k]
                    out.append((k, 0))
                elif held[k] != q:
                    held[k] = q
                    out.append((k, q))
            elif inside:
                held[k] = q
                out.append((k, q))
        if keys:
            old_worst = keys[-1]
            if new_worst is not None and new_worst < old_worst:  # pushed out at the bottom
                for k in keys[bisect_right(keys, new_worst) :]:
                    if k in held:
                        del held[k]
                        out.append((k, 0))
            elif old_full and new_keys and new_keys[-1] > old_worst:  # pulled in at the bottom
                for k in new_keys[bisect_right(new_keys, old_worst) :]:
                    if k not in held:
                        q = held[k] = book_qty[k]
                        out.append((k, q))
        if not out:
            return None
        out.sort()
        s = side.sign
        return new_keys, [(s * k, q) for k, q in out]

    def update(
        self,
        book: L2Book,
        bid_changed: list[int],
        ask_changed: list[int],
        ts: int,
        bmin: int | None = None,
        amin: int | None = None,
    ) -> BookDelta | None:
        """Fold one committed batch into the view; sets and returns ``self.deltas``
        (None: no change within the view). ``bmin``/``amin``: the smallest changed
        key per side, if the caller knows it (``_NONE``: that side did not change)."""
        if bmin is None:
            bmin = min(bid_changed) if bid_changed else _NONE
        if amin is None:
            amin = min(ask_changed) if ask_changed else _NONE
        b = (
            self._diff(book.bids, self.bid_keys, self.bid_qty, bid_changed)
            if bmin <= self.bid_edge
            else None
        )
        a = (
            self._diff(book.asks, self.ask_keys, self.ask_qty, ask_changed)
            if amin <= self.ask_edge
            else None
        )
        if b is None and a is None:
            self.deltas = None
            return None
        n = self.depth
        bids: list[Level] = []
        asks: list[Level] = []
        if b is not None:
            keys, bids = b
            self.bid_keys = keys
            self.bid_edge = keys[-1] if len(keys) == n else _OPEN
        if a is not None:
            keys, asks = a
            self.ask_keys = keys
            self.ask_edge = keys[-1] if len(keys) == n else _OPEN
        self.sequence += 1
        d = self.deltas = BookDelta(
            instrument=book.instrument.id,
            depth=n,
            sequence=self.sequence,
            prev_sequence=self.sequence - 1,
            bids=bids,
            asks=asks,
            checksum=self.checksum(book),
            ts=ts,
        )
        return d

    def checksum(self, book: L2Book) -> int:
        """Checksum over the view's own top min(depth, 10) levels (= book's for depth ≥ 10)."""
        if self.depth >= CHECKSUM_DEPTH:
            return book._checksum()
        return book.crc_top(self.depth)

    def levels(self) -> tuple[list[Level], list[Level]]:
        """(bids, asks) as the view holds them, best first."""
        bids = [(-k, self.bid_qty[k]) for k in self.bid_keys]
        asks = [(k, self.ask_qty[k]) for k in self.ask_keys]
        return bids, asks
