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
"""

from __future__ import annotations

from bisect import bisect_left, insort
from collections.abc import Sequence

import msgspec

from openpit.config.loader import VenueConfig
from openpit.core.enums import Side
from openpit.core.events import Balance, BookLevel, Event, Fill, OrderUpdate, Position, Trade
from openpit.core.instrument import Instrument
from openpit.marketdata.book import BookDelta, BookSnapshot, L2Book
from openpit.marketdata.candles import INTERVALS, Candle, CandleSeries
from openpit.marketdata.portfolio import Portfolio, PortfolioBook
from openpit.marketdata.prices import PriceUpdate, market_cap, supply_units
from openpit.marketdata.tape import PublicTrade, TradeTape
from openpit.marketdata.throttle import Conflator
from openpit.marketdata.ticker import DAY_MS, RollingWindow, Ticker, ratio_ppm

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
    candles: list[Candle] = msgspec.field(default_factory=list)  # live candles now
    closed: list[Candle] = msgspec.field(default_factory=list)  # final candles
    price: PriceUpdate | None = None


class MarketUpdates(msgspec.Struct, kw_only=True):
    ts: int  # market-data clock after the batch
    instruments: dict[str, InstrumentUpdate] = msgspec.field(default_factory=dict)
    portfolio_users: list[str] = msgspec.field(default_factory=list)  # balances/positions moved


class _Inst:
    """Per-instrument derivation state."""

    __slots__ = (
        "book",
        "candles",
        "conflators",
        "deadline",
        "id",
        "inst",
        "interval_ms",
        "last_price",
        "last_qty",
        "pending_closed",
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
        self.candles = {iv: CandleSeries(inst.id, iv, max_candles) for iv in INTERVALS}
        self.interval_ms = interval_ms
        self.last_price: int | None = None
        self.last_qty: int | None = None
        self.subs: dict[int, list[int]] = {}  # depth -> [delta subscribers, conflated]
        self.conflators: dict[int, Conflator] = {}
        self.supply = supply_units(inst)
        self.trades: list[Trade] = []  # this batch's trade events, folded by ``finish``
        self.pending_closed: list[Candle] = []
        self.deadline = _NEVER

    def on_trades(self, trades: list[Trade]) -> list[PublicTrade]:
        """Fold one batch's trades (in order) into tape, 24 h window and candles."""
        out = [PublicTrade.of(ev) for ev in trades]
        tape = self.tape
        window = self.window
        notional = self.inst.notional
        pending_closed = self.pending_closed
        series = self.candles.values()
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
        if same_ts:  # one command's trades: fold them into each series at once
            close, count = trades[-1].price, len(trades)
            for s in series:
                closed = s.add_many(ts0, first.price, hi, lo, close, vol, nsum, count)
                if closed is not None:
                    pending_closed.append(closed)
        else:
            for ev in trades:
                price, qty, ts = ev.price, ev.qty, ev.ts
                n = notional(price, qty)
                for s in series:
                    closed = s.add(ts, price, qty, n)
                    if closed is not None:
                        pending_closed.append(closed)
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
                u.candles = [x for s in self.candles.values() if (x := s.live()) is not None]
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
    ``valuation_asset``: default asset portfolios are valued in (default: the quote
    asset of the first-declared instrument).
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
        self._insts = {
            iid: _Inst(inst, tape_size, max_candles, book_interval_ms)
            for iid, inst in config.instruments.items()
        }
        self._portfolio = PortfolioBook(config.instruments)
        first = next(iter(config.instruments.values()), None)
        self.valuation_asset = valuation_asset or (first.quote.symbol if first else "")
        self._deadline = _NEVER

    # -- input -------------------------------------------------------------------------
    def apply(self, events: Sequence[Event]) -> MarketUpdates:
        """Fold one batch of events; returns what changed, per instrument.

        Book levels go straight into the book's staging (``L2Book.hot``), trades are
        collected; each touched instrument then commits once (``_Inst.finish``). The
        usual batch (one instrument, no trade, every changed level below the book's
        work edges, nothing due) only bumps the book's sequence: no commit call.
        """
        insts = self._insts
        touched: list[_Inst] = []
        users: set[str] | None = None
        now = self.clock
        last: str | None = None  # instrument of the previous market event, and its state
        st: _Inst | None = None
        slow = False  # a change at/above a work edge, a repeated key, or a trade
        for ev in events:
            t = type(ev)
            if t is BookLevel:
                if ev.instrument is not last:  # type: ignore[attr-defined]
                    last = ev.instrument  # type: ignore[attr-defined]
                    st = insts.get(last)
                    if st is not None:
                        if st not in touched:
                            touched.append(st)
                        book = st.book
                        bq, bk, bch, bold, aq, ak, ach, aold = book.hot
                        bw, aw = book._bid_work, book._ask_work
                if st is not None:
                    qty = ev.qty  # type: ignore[attr-defined]
                    if ev.side is _BUY:  # type: ignore[attr-defined]
                        key = -ev.price  # type: ignore[attr-defined]
                        old = bq.get(key, 0)
                        if old != qty:
                            if key <= bw:
                                slow = True
                            if key in bch:
                                book._rep = slow = True
                            else:
                                bch.append(key)
                                bold.append(old)
                            if qty:
                                if not old:
                                    insort(bk, key)
                                bq[key] = qty
                            else:
                                del bq[key]
                                del bk[bisect_left(bk, key)]
                    else:
                        key = ev.price  # type: ignore[attr-defined]
                        old = aq.get(key, 0)
                        if old != qty:
                            if key <= aw:
                                slow = True
                            if key in ach:
                                book._rep = slow = True
                            else:
                                ach.append(key)
                                aold.append(old)
                            if qty:
                                if not old:
                                    insort(ak, key)
                                aq[key] = qty
                            else:
                                del aq[key]
                                del ak[bisect_left(ak, key)]
                ts = ev.ts  # one ``ts`` read per event type: each site stays specialised
            elif t is OrderUpdate or t is Fill:
                ts = ev.ts
            elif t is Trade:
                if ev.instrument is not last:  # type: ignore[attr-defined]
                    last = ev.instrument  # type: ignore[attr-defined]
                    st = insts.get(last)
                    if st is not None:
                        if st not in touched:
                            touched.append(st)
                        book = st.book
                        bq, bk, bch, bold, aq, ak, ach, aold = book.hot
                        bw, aw = book._bid_work, book._ask_work
                if st is not None:
                    st.trades.append(ev)  # type: ignore[arg-type]
                    slow = True
                ts = ev.ts
            else:
                if isinstance(ev, BookLevel | Trade):
                    slow = True
                users = self._other(ev, touched, users)
                ts = ev.ts
            if ts > now:
                now = ts
        self.clock = now
        deadline = self._deadline
        if not slow and len(touched) == 1 and users is None:
            s = touched[0]
            if now < s.deadline and not s.conflators:
                # the usual batch: levels below every work edge (see ``L2Book._publish``)
                if book._out:
                    book.reset_out()
                if bch:
                    book.sequence += 1
                    book.ts = now
                    bch.clear()
                    bold.clear()
                    if ach:
                        ach.clear()
                        aold.clear()
                elif ach:
                    book.sequence += 1
                    book.ts = now
                    ach.clear()
                    aold.clear()
                out = MarketUpdates(ts=now)
                if now >= deadline:
                    self._sweep(now, out)
                return out
        updates: dict[str, InstrumentUpdate] = {}
        for s in touched:
            u = s.finish(now)
            if u is not None:
                updates[s.id] = u
            if s.deadline < deadline:
                deadline = s.deadline
        self._deadline = deadline
        out = MarketUpdates(
            ts=now, instruments=updates, portfolio_users=sorted(users) if users else []
        )
        if now >= deadline:
            self._sweep(now, out)
        return out

    def _other(self, ev: Event, touched: list[_Inst], users: set[str] | None) -> set[str] | None:
        """Events other than the exact ``BookLevel``/``Trade``/skipped types."""
        if isinstance(ev, BookLevel | Trade):  # a subclass
            st = self._insts.get(ev.instrument)
            if st is not None:
                if isinstance(ev, BookLevel):
                    st.book.set_level(ev.side, ev.price, ev.qty)  # same staging, in order
                else:
                    st.trades.append(ev)
                if st not in touched:
                    touched.append(st)
        elif isinstance(ev, Balance):
            self._portfolio.on_balance(ev)
            users = users if users is not None else set()
            users.add(ev.user)
        elif isinstance(ev, Position):
            self._portfolio.on_position(ev)
            users = users if users is not None else set()
            users.add(ev.user)
        return users

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
        for iid, st in self._insts.items():
            if now >= st.deadline:
                u = out.instruments.get(iid)
                if u is None:
                    u = InstrumentUpdate(instrument=iid)
                    st.tick(now, u)
                    if _non_empty(u):
                        out.instruments[iid] = u
                else:
                    st.tick(now, u)
            if st.deadline < deadline:
                deadline = st.deadline
        self._deadline = deadline

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
