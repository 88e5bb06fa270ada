"""``MarketData``: everything a market-data subscriber sees, derived from venue events.

Invariants:
- Pure and synchronous: ``apply(events)`` folds one batch of venue events (one or
  more commands' worth) and returns what changed; nothing reads a clock. The
  market-data clock is the largest event ``ts`` seen (any event) or ``advance(ts)``;
  it never runs backwards.
- One book per instrument; depth views are shared per (instrument, depth) and
  computed once per batch, whatever the number of subscribers.
- Time-driven changes (24 h window eviction, candle closes, trailing edges of
  conflated book snapshots) happen when the clock reaches the earliest pending
  deadline; the facade tracks that deadline so idle instruments cost nothing.
- Events for instruments the config does not know are ignored.
- Picklable: the whole state is plain objects, dicts, lists and deques.
- ``restore_history`` rebuilds tape, 24 h window, candles and last prices after a
  restart from durable trades (the store plus the journal tail), before any other
  trade is applied; the state it leaves is the state the same trades applied live
  would have left (``tests/marketdata/test_rebuild.py`` checks it).
"""

from __future__ import annotations

from bisect import bisect_left, insort
from collections.abc import Iterable, Mapping, Sequence
from itertools import chain
from types import MappingProxyType

import msgspec

from openpit.config.loader import VenueConfig
from openpit.core.enums import Side
from openpit.core.events import Balance, BookLevel, Event, Fill, OrderUpdate, Position, Trade
from openpit.core.instrument import Instrument
from openpit.marketdata.book import BookDelta, BookSnapshot, L2Book
from openpit.marketdata.candles import (
    INTERVALS,
    Candle,
    MinuteBar,
    RolledSeries,
    candle_series,
    sync_rolled,
)
from openpit.marketdata.portfolio import Portfolio, PortfolioBook
from openpit.marketdata.prices import PriceUpdate, market_cap, supply_units
from openpit.marketdata.tape import PublicTrade, TradeTape
from openpit.marketdata.throttle import Conflator
from openpit.marketdata.ticker import DAY_MS, RollingWindow, Ticker, ratio_ppm
from openpit.marketdata.valuation import ValuationSettings

_NEVER = 1 << 62
_BUY = Side.BUY


class InstrumentUpdate(msgspec.Struct, kw_only=True):
    """What changed for one instrument in one batch (or one ``advance``)."""

    instrument: str
    trades: list[PublicTrade] = msgspec.field(default_factory=list)
    book_changed: bool = False  # the book's sequence moved in this batch
    book: BookDelta | None = None  # full-depth delta (only with depth-0 subscribers)
    depth: dict[int, BookDelta] = msgspec.field(default_factory=dict)  # per registered view
    conflated: dict[int, BookSnapshot] = msgspec.field(default_factory=dict)  # throttled
    ticker_changed: bool = False
    candles_changed: bool = False  # live candles moved: ``MarketData.live_candles``
    closed: list[Candle] = msgspec.field(default_factory=list)  # final candles
    price: PriceUpdate | None = None


_NO_UPDATES: Mapping[str, InstrumentUpdate] = MappingProxyType({})


class MarketUpdates(msgspec.Struct, kw_only=True):
    """What one ``apply``/``advance`` changed. Read-only for consumers; a batch that
    changed nothing a subscriber sees shares one empty, immutable ``instruments``."""

    ts: int  # market-data clock after the batch
    instruments: Mapping[str, InstrumentUpdate] = _NO_UPDATES
    portfolio_users: Sequence[str] = ()  # balances/positions moved (sorted)


class _Inst:
    """Per-instrument derivation state."""

    __slots__ = (
        "book",
        "candles",
        "conflators",
        "deadline",
        "hot",
        "id",
        "inst",
        "interval_ms",
        "last_price",
        "last_qty",
        "minute",
        "pending_closed",
        "rolled",
        "subs",
        "supply",
        "tape",
        "trades",
        "window",
    )

    def __init__(self, inst: Instrument, tape_size: int, max_candles: int, interval_ms: int):
        self.inst = inst
        self.id = inst.id
        self.book = L2Book(inst)
        self.tape = TradeTape(tape_size)
        self.window = RollingWindow(DAY_MS)
        self.candles = candle_series(inst.id, max_candles)  # INTERVALS order, 1m first
        self.minute = self.candles["1m"]
        self.rolled = [s for s in self.candles.values() if isinstance(s, RolledSeries)]
        self.interval_ms = interval_ms
        self.last_price: int | None = None
        self.last_qty: int | None = None
        self.subs: dict[int, list[int]] = {}  # depth -> [delta subscribers, conflated]
        self.conflators: dict[int, Conflator] = {}
        self.supply = supply_units(inst)
        self.trades: list[Trade] = []  # this batch's trade events, folded by ``finish``
        self.pending_closed: list[Candle] = []
        self.deadline = _NEVER
        # what ``MarketData.apply``'s short loop reads (the same objects, for life)
        self.hot = (self.id, self.book, *self.book.hot, self.book.edges)

    def on_trades(self, trades: list[Trade]) -> list[PublicTrade]:
        """Fold one batch's trades (in order) into tape, 24 h window and candles."""
        out = [PublicTrade.of(ev) for ev in trades]
        tape = self.tape
        window = self.window
        notional = self.inst.notional
        pending_closed = self.pending_closed
        base, rolled = self.minute, self.rolled
        first = trades[0]
        ts0 = first.ts
        hi = lo = first.price
        vol = nsum = 0
        same_ts = True
        for ev in trades:
            price, qty, ts = ev.price, ev.qty, ev.ts
            n = notional(price, qty)
            window.add(ts, price, qty, n)
            if ts != ts0:
                same_ts = False
            if price > hi:
                hi = price
            elif price < lo:
                lo = price
            vol += qty
            nsum += n
        # the 1m series takes the trades; the larger intervals roll up from it and
        # only need to learn that time moved (``RolledSeries.sync``)
        if same_ts:  # one command's trades: fold them into the minute at once
            closed = base.add_many(
                ts0, first.price, hi, lo, trades[-1].price, vol, nsum, len(trades)
            )
            if closed is not None:
                pending_closed.append(closed)
            sync_rolled(rolled, ts0, pending_closed)
        else:
            for ev in trades:
                price, qty, ts = ev.price, ev.qty, ev.ts
                closed = base.add(ts, price, qty, notional(price, qty))
                if closed is not None:
                    pending_closed.append(closed)
                sync_rolled(rolled, ts, pending_closed)
        for t in out:
            tape.append(t)
        last = trades[-1]
        self.last_price = last.price
        self.last_qty = last.qty
        return out

    def finish(self, now: int) -> InstrumentUpdate | None:
        """Commit the batch staged by ``MarketData.apply`` (levels, trades); None when
        nothing a subscriber sees changed (e.g. only levels below every view)."""
        book = self.book
        u: InstrumentUpdate | None = None
        changed = book.commit(now)
        if changed:
            vd, d, top = book.view_deltas, book.delta, book.top_changed
            if vd or top or d is not None:
                u = InstrumentUpdate(
                    instrument=self.id,
                    book_changed=True,
                    book=d,
                    depth=vd,
                    ticker_changed=top,
                )
                if self.conflators:
                    self._mark(u)
        trades = self.trades
        if trades or self.pending_closed or self.conflators or now >= self.deadline:
            if u is None:
                u = InstrumentUpdate(instrument=self.id, book_changed=changed)
            if trades:
                self.trades = []
                u.trades = self.on_trades(trades)
                u.ticker_changed = True
                u.candles_changed = True
            self.tick(now, u)
            if not (u.depth or u.book is not None or u.trades or _non_empty(u)):
                return None
        return u

    def _mark(self, u: InstrumentUpdate) -> None:
        """Conflated subscribers of a depth whose view (or full book) changed."""
        conflators = self.conflators
        if u.book is not None:
            c = conflators.get(0)
            if c is not None:
                c.mark()
        for d in u.depth:
            c = conflators.get(d)
            if c is not None:
                c.mark()

    def tick(self, now: int, u: InstrumentUpdate) -> None:
        """Time-driven work: window eviction, candle closes, conflation edges."""
        evicted = False
        timed = now >= self.deadline
        if timed:
            evicted = self.window.evict(now)
            for series in self.candles.values():
                closed = series.advance(now)
                if closed is not None:
                    self.pending_closed.append(closed)
        if evicted:
            u.ticker_changed = True
        if self.pending_closed:
            u.closed = self.pending_closed
            self.pending_closed = []
        for d, c in self.conflators.items():
            if c.poll(now):
                u.conflated[d] = self.book.snapshot(d)
        if u.trades or evicted:
            u.price = self.price_update(now)
            self.deadline = self._deadline()
        elif timed or self.conflators:
            self.deadline = self._deadline()

    def _deadline(self) -> int:
        d = _NEVER
        exp = self.window.next_expiry()
        if exp is not None:
            d = exp
        # candles are nested (each contains the live candles of the smaller intervals,
        # which saw the same trades), so the first live one, in INTERVALS order, ends first
        for series in self.candles.values():
            e = series.deadline()
            if e is not None:
                if e < d:
                    d = e
                break
        for c in self.conflators.values():
            e = c.deadline()
            if e is not None and e < d:
                d = e
        return d

    def ticker(self, now: int) -> Ticker:
        w = self.window
        bid, ask = self.book.best_bid(), self.book.best_ask()
        open_, last = w.open, self.last_price
        change = None if open_ is None or last is None else last - open_
        return Ticker(
            instrument=self.inst.id,
            last_price=last,
            last_qty=self.last_qty,
            bid=None if bid is None else bid[0],
            bid_qty=None if bid is None else bid[1],
            ask=None if ask is None else ask[0],
            ask_qty=None if ask is None else ask[1],
            open=open_,
            high=w.high,
            low=w.low,
            volume=w.volume,
            quote_volume=w.quote_volume,
            trades=w.count,
            change=change,
            change_ppm=None if change is None or not open_ else ratio_ppm(change, open_),
            ts=now,
        )

    def price_update(self, now: int) -> PriceUpdate:
        w = self.window
        open_, last = w.open, self.last_price
        return PriceUpdate(
            symbol=self.inst.base.symbol,
            instrument=self.inst.id,
            price=last,
            change_ppm=None if open_ is None or last is None else ratio_ppm(last - open_, open_),
            volume=w.volume,
            quote_volume=w.quote_volume,
            high=w.high,
            low=w.low,
            market_cap=market_cap(self.inst, self.supply, last),
            ts=now,
        )


class MarketData:
    """Market-data derivation for every instrument of a venue configuration.

    ``book_interval_ms``: minimum event-time spacing of conflated (snapshot-style) book
    messages per (instrument, depth); 100 ms = at most 10 per second.
    ``valuation_asset``: default asset portfolios are valued in (default: ``[valuation]
    asset``, else the quote asset of the first-declared instrument); ``[valuation]
    reference_prices`` add fixed-price edges to the valuation routes
    (``openpit.marketdata.valuation``).
    """

    def __init__(
        self,
        config: VenueConfig,
        *,
        tape_size: int = 1000,
        max_candles: int = 1000,
        book_interval_ms: int = 100,
        valuation_asset: str | None = None,
    ) -> None:
        self.config = config
        self.clock = 0
        self._tape_size = tape_size
        self._insts = {
            iid: _Inst(inst, tape_size, max_candles, book_interval_ms)
            for iid, inst in config.instruments.items()
        }
        valuation = ValuationSettings.from_config(config)
        self._portfolio = PortfolioBook(
            config.instruments, valuation.reference_prices, config.assets
        )
        first = next(iter(config.instruments.values()), None)
        self.valuation_asset = (
            valuation_asset or valuation.asset or (first.quote.symbol if first else "")
        )
        self._deadline = _NEVER

    # -- input -------------------------------------------------------------------------
    def apply(self, events: Sequence[Event]) -> MarketUpdates:
        """Fold one batch of events; returns what changed, per instrument.

        The batch is in sequence order (one or more command results), so its last
        event carries its largest ``ts``. Book levels go straight into the book's
        staging (``L2Book.hot``; a level outside the side's sorted region is one dict
        operation), trades are collected; each touched instrument then commits once
        (``_Inst.finish``).

        The usual batch — one instrument, only ``BookLevel``/``Trade``/``OrderUpdate``/
        ``Fill`` events, no repeated level at or above a work edge, nothing due — runs a short
        loop that stages its levels. A level below the book's work edges (no view,
        checksum or top of book can see it) is written to the book without being
        recorded as changed; when every change is of that kind the batch only bumps
        the book's sequence (no commit). The first event outside that shape
        hands the rest of the batch, with what is already staged, to
        ``_apply_general``.
        """
        now = self.clock
        if not events:
            return self._apply_general(events, now, None)
        ts = events[-1].ts
        if ts > now:
            self.clock = now = ts
        try:
            st = self._insts.get(events[0].instrument)  # type: ignore[attr-defined]
        except AttributeError:  # an account event first: not the usual shape
            st = None
        # ``self._deadline`` is the earliest instrument deadline: nothing is due for st
        if st is None or now >= self._deadline or st.conflators:
            return self._apply_general(events, now, None)
        iid, book, bq, bk, bch, aq, ak, ach, edges = st.hot
        bw, aw, bc, ac = edges
        slow = False  # a change at or above a work edge: commit (``_Inst.finish``)
        deep = False  # a change below the work edges (not recorded: no view sees it)
        it = iter(events)
        for ev in it:
            t = type(ev)
            if t is BookLevel:
                i = ev.instrument  # type: ignore[attr-defined]
                if i is not iid and i != iid:
                    break
                qty = ev.qty  # type: ignore[attr-defined]
                if ev.side is _BUY:  # type: ignore[attr-defined]
                    key = -ev.price  # type: ignore[attr-defined]
                    old = bq.get(key, 0)
                    if old == qty:
                        continue
                    if key <= bw:
                        if key in bch:
                            break
                        slow = True
                        bch[key] = old
                    else:
                        deep = True
                    if qty:
                        bq[key] = qty
                        if not old and key <= bc:
                            insort(bk, key)
                    else:
                        del bq[key]
                        if key <= bc:
                            del bk[bisect_left(bk, key)]
                else:
                    key = ev.price  # type: ignore[attr-defined]
                    old = aq.get(key, 0)
                    if old == qty:
                        continue
                    if key <= aw:
                        if key in ach:
                            break
                        slow = True
                        ach[key] = old
                    else:
                        deep = True
                    if qty:
                        aq[key] = qty
                        if not old and key <= ac:
                            insort(ak, key)
                    else:
                        del aq[key]
                        if key <= ac:
                            del ak[bisect_left(ak, key)]
            elif t is Trade:
                i = ev.instrument  # type: ignore[attr-defined]
                if i is not iid and i != iid:
                    break
                st.trades.append(ev)  # type: ignore[arg-type]
                slow = True
            elif t is not OrderUpdate and t is not Fill:
                break
        else:
            if slow:
                return self._commit([st], now, None)
            # the usual batch: levels below every work edge (see ``L2Book._publish``)
            if book._out:
                book.reset_out()
            if deep:
                book.sequence += 1
                book.ts = now
            return MarketUpdates(ts=now)
        if deep:
            book.deep_changed = True
        return self._apply_general(chain((ev,), it), now, st)

    def _apply_general(
        self, events: Iterable[Event], now: int, started: _Inst | None
    ) -> MarketUpdates:
        """``apply`` for any batch (several instruments, trades, account events, a level
        twice, something due); ``started``: an instrument ``apply`` already staged
        levels of (its changes are in its book's staging, not yet published). Every
        touched instrument commits."""
        insts = self._insts
        touched: list[_Inst] = [] if started is None else [started]
        users: set[str] | None = None
        for ev in events:
            t = type(ev)
            if t is OrderUpdate or t is Fill:
                continue
            if t is BookLevel or t is Trade or isinstance(ev, BookLevel | Trade):
                st = insts.get(ev.instrument)  # type: ignore[attr-defined]
                if st is None:
                    continue
                if st not in touched:
                    touched.append(st)
                if isinstance(ev, BookLevel):
                    st.book.set_level(ev.side, ev.price, ev.qty)
                else:
                    st.trades.append(ev)  # type: ignore[arg-type]
            elif isinstance(ev, Balance | Position):
                if isinstance(ev, Balance):
                    self._portfolio.on_balance(ev)
                else:
                    self._portfolio.on_position(ev)
                users = users if users is not None else set()
                users.add(ev.user)
        return self._commit(touched, now, users)

    def _commit(self, touched: list[_Inst], now: int, users: set[str] | None) -> MarketUpdates:
        """Publish each touched instrument's staged batch (``_Inst.finish``)."""
        deadline = self._deadline
        updates: dict[str, InstrumentUpdate] = {}
        for s in touched:
            u = s.finish(now)
            if u is not None:
                updates[s.id] = u
            if s.deadline < deadline:
                deadline = s.deadline
        self._deadline = deadline
        out = MarketUpdates(
            ts=now, instruments=updates, portfolio_users=sorted(users) if users else ()
        )
        if now >= deadline:
            self._sweep(now, out)
        return out

    def advance(self, ts: int) -> MarketUpdates:
        """Move the clock to ``ts`` (no events): closes candles, evicts the 24 h
        window, releases conflated book snapshots that became due."""
        if ts > self.clock:
            self.clock = ts
        out = MarketUpdates(ts=self.clock)
        if self.clock >= self._deadline:
            self._sweep(self.clock, out)
        return out

    def _sweep(self, now: int, out: MarketUpdates) -> None:
        deadline = _NEVER
        updates = dict(out.instruments)
        for iid, st in self._insts.items():
            if now >= st.deadline:
                u = updates.get(iid)
                if u is None:
                    u = InstrumentUpdate(instrument=iid)
                    st.tick(now, u)
                    if _non_empty(u):
                        updates[iid] = u
                else:
                    st.tick(now, u)
            if st.deadline < deadline:
                deadline = st.deadline
        self._deadline = deadline
        if updates:
            out.instruments = updates

    # -- rebuild after a restart ---------------------------------------------------------
    def restore_history(
        self,
        *,
        minutes: Mapping[str, Sequence[MinuteBar]],
        older: Mapping[str, Sequence[Trade]],
        trades: Iterable[Trade],
        now: int,
    ) -> int:
        """Rebuild the trade-derived state of a fresh ``MarketData``; returns the number
        of trades folded one by one.

        ``minutes``: per instrument, per-minute aggregates of the trades older than the
        24 h window (``ts <= now - 24 h``), oldest first: they build the candles.
        ``older``: per instrument, the newest ``tape_size`` of those same trades, oldest
        first: they refill the tape and the last price (not the candles again).
        ``trades``: every later trade, in sequence order: applied as live (window,
        candles, tape, last price). Then the clock moves to ``now``."""
        insts = self._insts
        for iid, bars in minutes.items():
            st = insts.get(iid)
            if st is None:
                continue
            drop: list[Candle] = []
            for b in bars:
                closed = st.minute.add_many(
                    b.start, b.open, b.high, b.low, b.close, b.qty, b.notional, b.count
                )
                if closed is not None:
                    drop.append(closed)
                sync_rolled(st.rolled, b.start, drop)
        for iid, old in older.items():
            st = insts.get(iid)
            if st is None or not old:
                continue
            for t in old:
                st.tape.append(PublicTrade.of(t))
            st.last_price, st.last_qty = old[-1].price, old[-1].qty
        self._reset_deadlines()
        folded = 0
        batch: list[Event] = []
        for t in trades:
            batch.append(t)
            if len(batch) >= 4096:
                self.apply(batch)
                folded += len(batch)
                batch = []
        if batch:
            self.apply(batch)
            folded += len(batch)
        self._reset_deadlines()
        self.advance(now)
        self._reset_deadlines()
        return folded

    def _reset_deadlines(self) -> None:
        """Forget closed candles nobody is told of; recompute every deadline."""
        deadline = _NEVER
        for st in self._insts.values():
            st.pending_closed = []
            st.deadline = st._deadline()
            deadline = min(deadline, st.deadline)
        self._deadline = deadline

    @property
    def tape_size(self) -> int:
        return self._tape_size

    # -- subscriptions -------------------------------------------------------------------
    def subscribe_depth(self, instrument: str, depth: int, conflated: bool = False) -> BookSnapshot:
        """Register one subscriber of ``depth`` levels; returns the snapshot to send first.

        Delta-style subscribers (``conflated=False``) then apply every
        ``InstrumentUpdate.depth[depth]``; snapshot-style ones receive
        ``InstrumentUpdate.conflated[depth]`` at most once per ``book_interval_ms``.
        ``depth == 0`` means the whole book (``InstrumentUpdate.book`` carries its deltas).
        """
        if depth < 0:
            raise ValueError("depth must be >= 0")
        st = self._inst(instrument)
        if depth == 0:
            st.book.full_deltas = True
        else:
            st.book.view(depth)
        counts = st.subs.setdefault(depth, [0, 0])
        counts[1 if conflated else 0] += 1
        if conflated and depth not in st.conflators:
            st.conflators[depth] = Conflator(st.interval_ms)
        return st.book.snapshot(depth)

    def unsubscribe_depth(self, instrument: str, depth: int, conflated: bool = False) -> None:
        st = self._inst(instrument)
        counts = st.subs.get(depth)
        if counts is None:
            return
        i = 1 if conflated else 0
        counts[i] = max(0, counts[i] - 1)
        if counts[1] == 0:
            st.conflators.pop(depth, None)
        if counts == [0, 0]:
            del st.subs[depth]
            if depth == 0:
                st.book.full_deltas = False
            else:
                st.book.drop_view(depth)

    # -- queries -----------------------------------------------------------------------
    def _inst(self, name: str) -> _Inst:
        st = self._insts.get(name)
        if st is None:
            inst = self.config.resolve(name)
            if inst is None:
                raise KeyError(f"unknown instrument {name!r}")
            st = self._insts[inst.id]
        return st

    def instrument(self, name: str) -> Instrument:
        return self._inst(name).inst

    def book_snapshot(self, instrument: str, depth: int = 0) -> BookSnapshot:
        """Top ``depth`` levels per side (0: whole book); sequence of that depth's view."""
        return self._inst(instrument).book.snapshot(depth)

    def checksum(self, instrument: str) -> int:
        return self._inst(instrument).book.checksum()

    def ticker(self, instrument: str) -> Ticker:
        return self._inst(instrument).ticker(self.clock)

    def recent_trades(self, instrument: str, limit: int | None = None) -> list[PublicTrade]:
        """Newest first."""
        return self._inst(instrument).tape.recent(limit)

    def history(
        self,
        instrument: str,
        interval: str,
        start: int | None = None,
        end: int | None = None,
        limit: int | None = None,
    ) -> list[Candle]:
        """Candles with ``start <= candle.start < end``, oldest first, the live one last;
        with ``limit`` the most recent ``limit``. Unknown interval: ``KeyError``."""
        series = self._inst(instrument).candles.get(interval)
        if series is None:
            raise KeyError(f"unknown interval {interval!r} (one of {', '.join(INTERVALS)})")
        return series.query(start, end, limit)

    candles = history

    def live_candles(self, instrument: str) -> list[Candle]:
        """The live candle of every interval that has one (``INTERVALS`` order)."""
        return [c for s in self._inst(instrument).candles.values() if (c := s.live()) is not None]

    def price(self, symbol: str) -> PriceUpdate | None:
        """Price of an asset symbol (``"LUXURY001"``, ``"BTC"``) or instrument name."""
        st = self._insts.get(symbol)
        if st is None:
            inst = self.config.resolve(symbol)
            if inst is None:
                inst = next(
                    (i for i in self.config.instruments.values() if i.base.symbol == symbol),
                    None,
                )
            if inst is None:
                return None
            st = self._insts[inst.id]
        return st.price_update(self.clock)

    def portfolio(self, user: str, valuation_asset: str | None = None) -> Portfolio:
        insts = self._insts

        def prices(iid: str) -> tuple[int | None, int | None]:
            st = insts[iid]
            return st.last_price, st.window.open

        return self._portfolio.value(user, valuation_asset or self.valuation_asset, prices)


def _non_empty(u: InstrumentUpdate) -> bool:
    return bool(u.closed or u.conflated or u.ticker_changed or u.price is not None)
