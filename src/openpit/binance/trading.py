"""The signed endpoints of the Binance surface: orders, account, trades, order counts.

Invariants:
- The gateway's rule holds: every state change is a venue command through
  ``VenueService.submit`` (journaled before the reply); a rejection becomes the Binance
  error of ``errors.rejection``. The user comes from the verified API key only.
- Live orders are read from the venue (O(1) by id or client id); finished ones from
  the store after the history writer has caught up (read-your-writes). A user only
  ever sees their own orders and trades.
- ``orderId`` and ``origClientOrderId`` together must name the same order, as Binance
  checks.
"""

from __future__ import annotations

import zlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from openpit.binance import errors as e
from openpit.binance import render
from openpit.binance.exchange import STP_OUT, account
from openpit.binance.limits import OrderCounter
from openpit.binance.market import MAX_PAGE, newest_first
from openpit.binance.request import client_order_id, limit_param, new_order, opt_long, required
from openpit.binance.symbols import Listing, SymbolMap
from openpit.core.access import Permission
from openpit.core.commands import CancelAll, CancelOrder
from openpit.core.events import Fill, OrderUpdate
from openpit.store import HistoryWriter, Store
from openpit.venue.service import VenueService

Params = Mapping[str, str]
MAX_ID = 2**53


@dataclass(frozen=True, slots=True)
class Caller:
    user: str
    permissions: frozenset[Permission]
    now: int
    ip: str


@dataclass
class Trading:
    symbols: SymbolMap
    service: VenueService
    store: Store
    history: HistoryWriter | None
    orders: OrderCounter
    clock_ms: Callable[[], int]

    @property
    def default_stp(self) -> str:
        return STP_OUT[self.service.config.risk.stp_default]

    async def caught_up(self) -> None:
        if self.history is not None:
            await self.history.drain()

    def listing(self, params: Params) -> Listing:
        return self.symbols.get(required(params, "symbol"))

    async def find(self, user: str, lst: Listing, params: Params) -> OrderUpdate:
        order_id = opt_long(params, "orderId")
        cid = params.get("origClientOrderId") or None
        if order_id is None and cid is None:
            raise e.either("orderId", "origClientOrderId")
        u = None
        if order_id is None or order_id < MAX_ID:
            u = self.service.order(user, order_id, None if order_id is not None else cid)
            if u is None:
                await self.caught_up()
                if order_id is not None:
                    u = self.store.get_order(order_id)
                else:
                    assert cid is not None
                    u = self.store.get_order_by_client_id(user, cid)
        if u is None or u.user != user or u.instrument != lst.inst.id:
            raise e.no_such_order()
        if cid is not None and order_id is not None and u.client_order_id != cid:
            raise e.no_such_order()
        return u

    # -- orders ---------------------------------------------------------------------
    async def place(
        self, params: Params, caller: Caller, test: bool = False
    ) -> tuple[object, dict[str, str]]:
        lst = self.listing(params)
        parsed = new_order(params, lst, caller.user, self.default_stp)
        if test:
            return {}, {}
        self.orders.check(caller.user, caller.now)
        result = await self.service.submit(parsed.command)
        if not result.ok:
            raise e.rejection(result.reason, result.message)
        short, day = self.orders.add(caller.user, caller.now)
        headers = {"X-MBX-ORDER-COUNT-10S": str(short), "X-MBX-ORDER-COUNT-1D": str(day)}
        last: OrderUpdate | None = None
        fills: list[Fill] = []
        for ev in result.events:
            if isinstance(ev, OrderUpdate) and ev.order_id == result.order_id:
                last = ev
            elif isinstance(ev, Fill) and ev.order_id == result.order_id:
                fills.append(ev)
        if last is None:
            last = self.service.order(caller.user, result.order_id, None)
        assert last is not None, "an accepted order has an update"
        body = render.new_order(lst, last, parsed.resp_type, result.ts, parsed.stp, fills)
        return body, headers

    async def query(self, params: Params, caller: Caller) -> object:
        lst = self.listing(params)
        return render.order(lst, await self.find(caller.user, lst, params), self.default_stp)

    async def cancel(self, params: Params, caller: Caller) -> object:
        lst = self.listing(params)
        order_id = opt_long(params, "orderId")
        cid = params.get("origClientOrderId") or None
        if order_id is None and cid is None:
            raise e.either("orderId", "origClientOrderId")
        cancel_id = client_order_id(params.get("newClientOrderId"))
        live = None
        if order_id is None or order_id < MAX_ID:
            live = self.service.order(caller.user, order_id, None if order_id is not None else cid)
        if live is None or live.instrument != lst.inst.id:
            raise e.unknown_order_cancel()
        if cid is not None and order_id is not None and live.client_order_id != cid:
            raise e.unknown_order_cancel()
        result = await self.service.submit(CancelOrder(user=caller.user, order_id=live.order_id))
        if not result.ok:
            raise e.rejection(result.reason, result.message, cancel=True)
        final = live
        for ev in result.events:
            if isinstance(ev, OrderUpdate) and ev.order_id == live.order_id:
                final = ev
        return render.cancelled(lst, final, cancel_id, result.ts, self.default_stp)

    async def open_orders(self, params: Params, caller: Caller) -> object:
        lst = self.listing(params) if "symbol" in params else None
        orders = self.service.open_orders(caller.user, None if lst is None else lst.inst.id)
        return [
            render.order(self.symbols.of(u.instrument), u, self.default_stp)
            for u in sorted(orders, key=lambda u: u.order_id)
        ]

    async def cancel_all(self, params: Params, caller: Caller) -> object:
        lst = self.listing(params)
        if not self.service.open_orders(caller.user, lst.inst.id):
            raise e.unknown_order_cancel()
        result = await self.service.submit(CancelAll(user=caller.user, instrument=lst.inst.id))
        if not result.ok:
            raise e.rejection(result.reason, result.message, cancel=True)
        last: dict[int, OrderUpdate] = {}
        for ev in result.events:
            if isinstance(ev, OrderUpdate) and ev.user == caller.user:
                last[ev.order_id] = ev
        return [
            render.cancelled(lst, u, client_order_id(None), result.ts, self.default_stp)
            for u in last.values()
        ]

    async def all_orders(self, params: Params, caller: Caller) -> object:
        lst = self.listing(params)
        n = limit_param(params, 500, 1000)
        from_id = opt_long(params, "orderId")
        start = opt_long(params, "startTime")
        end = opt_long(params, "endTime")
        await self.caught_up()
        bounded = from_id is not None or start is not None
        found: list[OrderUpdate] = []
        inst = lst.inst.id
        for u in newest_first(
            lambda b: self.store.list_orders(caller.user, instrument=inst, before=b, limit=MAX_PAGE)
        ):
            if (from_id is not None and u.order_id < from_id) or (
                start is not None and u.created_ts < start
            ):
                break
            if end is None or u.created_ts <= end:
                found.append(u)
            if not bounded and len(found) >= n:
                break
        found.reverse()
        return [render.order(lst, self._fresh(caller.user, u), self.default_stp) for u in found[:n]]

    def _fresh(self, user: str, u: OrderUpdate) -> OrderUpdate:
        if u.status.is_final:
            return u
        return self.service.order(user, u.order_id, None) or u

    # -- account --------------------------------------------------------------------
    async def account(self, params: Params, caller: Caller) -> object:
        omit = params.get("omitZeroBalances", "false")
        if omit not in ("true", "false"):
            raise e.mandatory("omitZeroBalances")
        insts = list(self.service.config.instruments.values())
        maker = max((i.maker_fee_ppm for i in insts), default=0)
        taker = max((i.taker_fee_ppm for i in insts), default=0)
        uid = zlib.crc32(caller.user.encode())
        return account(
            self.service.config.assets, self.service.balances(caller.user), maker, taker,
            Permission.TRADE in caller.permissions or Permission.ADMIN in caller.permissions,
            uid, caller.now, omit == "true",
        )  # fmt: skip

    async def my_trades(self, params: Params, caller: Caller) -> object:
        lst = self.listing(params)
        n = limit_param(params, 500, 1000)
        order_id = opt_long(params, "orderId")
        from_id = opt_long(params, "fromId")
        start = opt_long(params, "startTime")
        end = opt_long(params, "endTime")
        await self.caught_up()

        def keep(f: Fill) -> bool:
            return (order_id is None or f.order_id == order_id) and (end is None or f.ts <= end)

        bounded = from_id is not None or start is not None
        found: list[Fill] = []
        inst = lst.inst.id
        for f in newest_first(
            lambda b: self.store.list_fills(caller.user, instrument=inst, before=b, limit=MAX_PAGE)
        ):
            if (from_id is not None and f.trade_id < from_id) or (
                start is not None and f.ts < start
            ):
                break
            if keep(f):
                found.append(f)
            if not bounded and len(found) >= n:
                break
        found.sort(key=lambda f: (f.trade_id, f.order_id))
        return [render.my_trade(lst, f) for f in found[:n]]

    async def order_count(self, params: Params, caller: Caller) -> object:
        short, day = self.orders.counts(caller.user, caller.now)
        return [
            {"rateLimitType": "ORDERS", "interval": "SECOND", "intervalNum": 10,
             "limit": self.orders.per_10s, "count": short},
            {"rateLimitType": "ORDERS", "interval": "DAY", "intervalNum": 1,
             "limit": self.orders.per_day, "count": day},
        ]  # fmt: skip
