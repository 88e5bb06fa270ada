"""The public endpoints of the Binance surface: market data from openpit's own views.

Invariants:
- Same books, trades and candles as every other dialect (``MarketData``), rendered by
  ``render``; ``depth``'s ``lastUpdateId`` is the whole book's sequence (never a depth
  view's, whatever views other dialects hold), so a diff stream's ``U``/``u`` can be
  matched against it.
- Lists are in chronological order (oldest first) as Binance returns them; without a
  time or id bound the most recent ``limit`` items are returned.
- Older trades (``historicalTrades``, ``aggTrades`` with ``fromId`` or a time range) come
  from the store after the history writer has caught up; a lookup scans at most
  ``MAX_SCAN`` pages of the store, newest first.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import TypeVar

from openpit.binance import errors as e
from openpit.binance import render
from openpit.binance.request import limit_param, opt_long, required
from openpit.binance.symbols import Listing, SymbolMap
from openpit.marketdata import MarketData
from openpit.marketdata.candles import INTERVALS
from openpit.marketdata.tape import PublicTrade
from openpit.store import HistoryWriter, Store
from openpit.store.base import Page

MAX_SCAN = 20
MAX_PAGE = 1000
Params = Mapping[str, str]
T = TypeVar("T")


def newest_first(fetch: Callable[[int | None], Page[T]], pages: int = MAX_SCAN) -> Iterator[T]:
    """The items of a store listing paged newest first (``fetch(before)``), at most
    ``pages`` pages of it."""
    before = None
    for _ in range(pages):
        page = fetch(before)
        yield from page.items
        if page.next_cursor is None:
            return
        before = page.next_cursor


def depth_weight(params: Params) -> int:
    n = limit_param(params, 100, 5000)
    return 5 if n <= 100 else 25 if n <= 500 else 50 if n <= 1000 else 250


def many_weight(single: int, all_: int) -> Callable[[Params], int]:
    def weight(params: Params) -> int:
        return single if "symbol" in params else all_

    return weight


@dataclass
class Market:
    symbols: SymbolMap
    marketdata: MarketData
    store: Store
    history: HistoryWriter | None
    halted: Callable[[str], bool]

    def listing(self, params: Params) -> Listing:
        return self.symbols.get(required(params, "symbol"))

    def selection(self, params: Params) -> tuple[list[Listing], bool]:
        """(listings, single): ``symbol``, ``symbols=["A","B"]`` or every symbol, narrowed
        by ``symbolStatus`` (one symbol whose status differs: ``-1220``)."""
        listings, single = self._named(params)
        wanted = params.get("symbolStatus")
        if wanted is None:
            return listings, single
        if wanted not in ("TRADING", "HALT", "BREAK"):
            raise e.BinanceError(-1122, "Invalid symbolStatus.")
        kept = [lst for lst in listings if self.status(lst) == wanted]
        if single and not kept:
            raise e.BinanceError(
                -1220, "The symbol's status does not match the requested symbolStatus."
            )
        return kept, single

    def status(self, lst: Listing) -> str:
        return "HALT" if self.halted(lst.inst.id) else "TRADING"

    def _named(self, params: Params) -> tuple[list[Listing], bool]:
        if "symbol" in params:
            if "symbols" in params:
                raise e.BinanceError(
                    e.TOO_MANY_PARAMETERS,
                    "Parameter 'symbol' and 'symbols' cannot be used in combination.",
                )
            return [self.listing(params)], True
        if "symbols" in params:
            try:
                names = json.loads(params["symbols"])
            except ValueError:
                raise e.mandatory("symbols") from None
            if (
                not isinstance(names, list)
                or not names
                or not all(isinstance(n, str) for n in names)
            ):
                raise e.mandatory("symbols")
            return [self.symbols.get(n) for n in names], False
        return list(self.symbols), False

    async def caught_up(self) -> None:
        if self.history is not None:
            await self.history.drain()

    # -- endpoints ------------------------------------------------------------------
    async def depth(self, params: Params) -> object:
        lst = self.listing(params)
        n = limit_param(params, 100, 5000)
        # the whole book's sequence (what the diff streams' U/u count), not a depth view's
        snap = self.marketdata.book_snapshot(lst.inst.id, 0)
        return render.depth(lst, snap, n)

    async def trades(self, params: Params) -> object:
        lst = self.listing(params)
        n = limit_param(params, 500, 1000)
        recent = self.marketdata.recent_trades(lst.inst.id, n)
        return [render.trade(lst, t) for t in reversed(recent)]

    async def _stored(
        self, lst: Listing, keep: Callable[[PublicTrade], bool], from_id: int | None,
        start: int | None, limit: int,
    ) -> list[PublicTrade]:  # fmt: skip
        """Stored trades passing ``keep``, oldest first: the newest ``limit``, or with
        ``from_id`` (``start``) the oldest ``limit`` from that id (time) on."""
        await self.caught_up()
        found: list[PublicTrade] = []
        inst = lst.inst.id
        for t in newest_first(lambda b: self.store.list_trades(inst, before=b, limit=MAX_PAGE)):
            if (from_id is not None and t.trade_id < from_id) or (
                start is not None and t.ts < start
            ):
                break
            pt = PublicTrade.of(t)
            if keep(pt):
                found.append(pt)
            if from_id is None and start is None and len(found) >= limit:
                break
        found.reverse()
        return found[:limit]

    async def historical_trades(self, params: Params) -> object:
        lst = self.listing(params)
        n = limit_param(params, 500, 1000)
        from_id = opt_long(params, "fromId")
        if from_id is None:
            return await self.trades(params)
        got = await self._stored(lst, lambda t: True, from_id, None, n)
        return [render.trade(lst, t) for t in got]

    async def agg_trades(self, params: Params) -> object:
        lst = self.listing(params)
        n = limit_param(params, 500, 1000)
        from_id = opt_long(params, "fromId")
        start = opt_long(params, "startTime")
        end = opt_long(params, "endTime")
        if from_id is None and start is None and end is None:
            recent = self.marketdata.recent_trades(lst.inst.id, n)
            return [render.agg_trade(lst, t) for t in reversed(recent)]
        if start is not None and end is not None and end < start:
            raise e.mandatory("endTime")

        def keep(t: PublicTrade) -> bool:
            return end is None or t.ts <= end

        got = await self._stored(lst, keep, from_id, start, n)
        return [render.agg_trade(lst, t) for t in got]

    async def klines(self, params: Params) -> object:
        lst = self.listing(params)
        interval = required(params, "interval")
        if interval not in INTERVALS:
            raise e.bad_interval()
        n = limit_param(params, 500, 1000)
        start = opt_long(params, "startTime")
        end = opt_long(params, "endTime")
        stop = None if end is None else end + 1  # Binance's endTime is inclusive
        if start is not None:
            candles = self.marketdata.history(lst.inst.id, interval, start, stop)[:n]
        else:
            candles = self.marketdata.history(lst.inst.id, interval, None, stop, n)
        return [render.kline(lst, c) for c in candles]

    async def avg_price(self, params: Params) -> object:
        lst = self.listing(params)
        t = self.marketdata.ticker(lst.inst.id)
        now = t.ts
        minute = now - now % 60_000
        bars = self.marketdata.history(lst.inst.id, "1m", minute - 4 * 60_000, None)
        last = self.marketdata.recent_trades(lst.inst.id, 1)
        close = last[0].ts if last else now
        return render.avg_price(lst, bars, t.last_price, close)

    async def ticker_24hr(self, params: Params) -> object:
        listings, single = self.selection(params)
        kind = params.get("type", "FULL")
        if kind not in ("FULL", "MINI"):
            raise e.mandatory("type")
        out = [
            render.ticker_24hr(lst, self.marketdata.ticker(lst.inst.id), kind == "MINI")
            for lst in listings
        ]
        return out[0] if single else out

    async def ticker_price(self, params: Params) -> object:
        listings, single = self.selection(params)
        out = [render.ticker_price(lst, self.marketdata.ticker(lst.inst.id)) for lst in listings]
        return out[0] if single else out

    async def book_ticker(self, params: Params) -> object:
        listings, single = self.selection(params)
        out = [render.book_ticker(lst, self.marketdata.ticker(lst.inst.id)) for lst in listings]
        return out[0] if single else out
