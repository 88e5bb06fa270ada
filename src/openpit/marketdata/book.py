"""Level-2 order book per instrument, depth views with sequenced deltas, and the checksum.

Invariants:
- The book is maintained only from ``BookLevel`` events: the total resting quantity
  at one (side, price); ``qty == 0`` deletes the level. Prices are ticks, sizes lots.
- Each side keeps a sorted list of *keys* (best first): asks key = price, bids key =
  -price, so "better" is always "smaller key" and one code path serves both sides.
- Changes are staged with ``set_level`` and published by ``commit(ts)``, once per
  command batch. A commit that changes at least one level bumps the book's
  ``sequence`` by exactly one; the full-depth delta lists every level whose quantity
  differs from before the batch (0 = deleted).
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
from decimal import Decimal

import msgspec

from openpit.core.enums import Side
from openpit.core.instrument import Instrument

CHECKSUM_DEPTH = 10

Level = tuple[int, int]  # (price ticks, qty lots)


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
    """One side of the book. ``keys`` sorted ascending = best first; ``qty`` by key."""

    __slots__ = ("frag", "keys", "qty", "sign")

    def __init__(self, sign: int) -> None:
        self.sign = sign
        self.keys: list[int] = []
        self.qty: dict[int, int] = {}
        self.frag: dict[int, str] = {}  # key -> the level's checksum text (kept by L2Book)

    def top(self, n: int) -> list[Level]:
        s, q = self.sign, self.qty
        return [(s * k, q[k]) for k in self.keys[:n]]

    def __getstate__(self) -> tuple[int, list[int], dict[int, int], dict[int, str]]:
        return (self.sign, self.keys, self.qty, self.frag)

    def __setstate__(self, state: tuple[int, list[int], dict[int, int], dict[int, str]]) -> None:
        self.sign, self.keys, self.qty, self.frag = state


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


class L2Book:
    """The full level-2 book of one instrument, with staged changes and depth views."""

    def __init__(self, instrument: Instrument) -> None:
        self.instrument = instrument
        self.bids = _Side(-1)
        self.asks = _Side(1)
        self.sequence = 0
        self.ts = 0
        self._ck = _Checksummer(instrument)
        self._pm, self._qm = self._ck.price_mult, self._ck.qty_mult
        self._crc: int | None = 0  # None: must recompute
        self._crc_bound: list[int | None] = [None, None]  # [bids, asks] 10th key at crc time
        # staged changes of the current batch: key -> qty before the batch
        self._before: tuple[dict[int, int], dict[int, int]] = ({}, {})
        self.views: dict[int, DepthView] = {}
        self.full_deltas = False  # build the full-depth delta on commit (depth-0 subscribers)
        self.delta: BookDelta | None = None

    # -- staging ---------------------------------------------------------------------
    def set_level(self, side: Side, price: int, qty: int) -> None:
        """Stage ``qty`` (0 deletes) at (side, price); published by ``commit``."""
        if side is Side.BUY:
            s, before, key = self.bids, self._before[0], -price
        else:
            s, before, key = self.asks, self._before[1], price
        book_qty = s.qty
        old = book_qty.get(key, 0)
        if key not in before:
            before[key] = old
        if qty:
            if not old:
                insort(s.keys, key)
            book_qty[key] = qty
            s.frag[key] = f"{price * self._pm}{qty * self._qm}"
        elif old:
            del book_qty[key]
            del s.frag[key]
            keys = s.keys
            del keys[bisect_left(keys, key)]

    def commit(self, ts: int) -> bool:
        """Publish the staged changes: bump the sequence and update every view.

        Returns False when nothing actually changed. With ``full_deltas`` set, the
        full-depth delta of the batch is left in ``self.delta`` (else None).
        """
        bid_before, ask_before = self._before
        self.delta = None
        if not bid_before and not ask_before:
            return False
        bq, aq = self.bids.qty, self.asks.qty
        bid_changed = [k for k, q in bid_before.items() if bq.get(k, 0) != q]
        ask_changed = [k for k, q in ask_before.items() if aq.get(k, 0) != q]
        bid_before.clear()
        ask_before.clear()
        if not bid_changed and not ask_changed:
            return False
        self.sequence += 1
        self.ts = ts
        if self._crc is not None:
            b10, a10 = self._crc_bound
            if (bid_changed and (b10 is None or min(bid_changed) <= b10)) or (
                ask_changed and (a10 is None or min(ask_changed) <= a10)
            ):
                self._crc = None
        for view in self.views.values():
            view.update(self, bid_changed, ask_changed, ts)
        if self.full_deltas:
            bid_changed.sort()
            ask_changed.sort()
            self.delta = BookDelta(
                instrument=self.instrument.id,
                depth=0,
                sequence=self.sequence,
                prev_sequence=self.sequence - 1,
                bids=[(-k, bq.get(k, 0)) for k in bid_changed],
                asks=[(k, aq.get(k, 0)) for k in ask_changed],
                checksum=self.checksum(),
                ts=ts,
            )
        return True

    # -- queries ---------------------------------------------------------------------
    def best_bid(self) -> Level | None:
        keys = self.bids.keys
        return (-keys[0], self.bids.qty[keys[0]]) if keys else None

    def best_ask(self) -> Level | None:
        keys = self.asks.keys
        return (keys[0], self.asks.qty[keys[0]]) if keys else None

    def crc_top(self, n: int) -> int:
        """CRC32 over the top ``n`` (≤ 10) levels per side, from the per-level texts."""
        a, b = self.asks, self.bids
        text = "".join(map(a.frag.__getitem__, a.keys[:n])) + "".join(
            map(b.frag.__getitem__, b.keys[:n])
        )
        return zlib.crc32(text.encode("ascii"))

    def checksum(self) -> int:
        """CRC32 of the top 10 levels per side (cached until the top 10 change)."""
        crc = self._crc
        if crc is None:
            crc = self._crc = self.crc_top(CHECKSUM_DEPTH)
            bk, ak = self.bids.keys, self.asks.keys
            n = CHECKSUM_DEPTH
            self._crc_bound = [
                bk[n - 1] if len(bk) >= n else None,
                ak[n - 1] if len(ak) >= n else None,
            ]
        return crc

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
        return v

    def drop_view(self, depth: int) -> None:
        self.views.pop(depth, None)


class DepthView:
    """Top ``depth`` levels per side as last published, with a consecutive sequence.

    A view created mid-stream starts at sequence 0 with the current top N as its
    snapshot; its first delta has ``prev_sequence == 0``.
    """

    __slots__ = ("ask_keys", "ask_qty", "bid_keys", "bid_qty", "deltas", "depth", "sequence")

    def __init__(self, book: L2Book, depth: int) -> None:
        self.depth = depth
        self.sequence = 0
        self.bid_keys: list[int] = book.bids.keys[:depth]
        self.ask_keys: list[int] = book.asks.keys[:depth]
        self.bid_qty = {k: book.bids.qty[k] for k in self.bid_keys}
        self.ask_qty = {k: book.asks.qty[k] for k in self.ask_keys}
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
        if not changed or (old_full and min(changed) > keys[-1]):
            return None  # every change is below a full view: nothing to do
        new_keys = side.keys[:n]
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

    def update(self, book: L2Book, bid_changed: list[int], ask_changed: list[int], ts: int) -> None:
        """Fold one committed batch into the view; sets ``self.deltas`` (None: no change)."""
        b = self._diff(book.bids, self.bid_keys, self.bid_qty, bid_changed)
        a = self._diff(book.asks, self.ask_keys, self.ask_qty, ask_changed)
        if b is None and a is None:
            self.deltas = None
            return
        bids: list[Level] = []
        asks: list[Level] = []
        if b is not None:
            self.bid_keys, bids = b
        if a is not None:
            self.ask_keys, asks = a
        if not bids and not asks:
            self.deltas = None
            return
        self.sequence += 1
        self.deltas = BookDelta(
            instrument=book.instrument.id,
            depth=self.depth,
            sequence=self.sequence,
            prev_sequence=self.sequence - 1,
            bids=bids,
            asks=asks,
            checksum=self.checksum(book),
            ts=ts,
        )

    def checksum(self, book: L2Book) -> int:
        """Checksum over the view's own top min(depth, 10) levels (= book's for depth ≥ 10)."""
        if self.depth >= CHECKSUM_DEPTH:
            return book.checksum()
        return book.crc_top(self.depth)

    def levels(self) -> tuple[list[Level], list[Level]]:
        """(bids, asks) as the view holds them, best first."""
        bids = [(-k, self.bid_qty[k]) for k in self.bid_keys]
        asks = [(k, self.ask_qty[k]) for k in self.ask_keys]
        return bids, asks
