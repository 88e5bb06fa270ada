"""The REST handlers: public market data, the caller's account and orders, admin.

Invariants:
- The gateway's rule holds here too: no business rules. Every state change is a
  venue ``Command`` through ``VenueService.submit`` (journaled before the reply), and
  a rejection is answered with the venue's reason code.
- A user only ever sees their own orders, fills, balances, positions and alerts:
  the user comes from the verified API key, never from the request.
- Reads of live state (balances, positions, open orders) come from the venue;
  history (finished orders, fills) from the store, after the history writer has
  caught up with everything published so far (read-your-writes).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal

from aiohttp import web

from openpit import requests
from openpit.alerts import AlertError, AnyAlertEvent, NotificationService, RiskServices
from openpit.api import convert
from openpit.api import schemas as s
from openpit.api.errors import ALREADY_EXISTS, INVALID, NOT_ENABLED, NOT_FOUND, ApiError
from openpit.api.local import TokenIssuer
from openpit.api.routing import Access, Call, Route
from openpit.core.commands import (
    CancelAll,
    CancelOrder,
    Deposit,
    ModifyOrder,
    PlaceOrder,
    SetHalt,
    Withdraw,
)
from openpit.core.enums import Reason
from openpit.core.events import OrderUpdate
from openpit.core.instrument import PPM, Instrument
from openpit.gateway.app import HUB
from openpit.marketdata import MarketData
from openpit.store import AlreadyExists, HistoryWriter, Permission, Store
from openpit.store.keys import new_key
from openpit.venue import CommandResult
from openpit.venue.service import VenueService

AlertPublisher = Callable[[Sequence[AnyAlertEvent]], None]

_MAX_ID = 2**53


@dataclass
class Api:
    app: web.Application
    service: VenueService
    marketdata: MarketData
    store: Store
    clock_ms: Callable[[], int]
    history: HistoryWriter | None = None
    risk: RiskServices | None = None
    publish_alerts: AlertPublisher | None = None
    issue_token: TokenIssuer | None = None
    notifications: NotificationService = field(default_factory=NotificationService)

    # -- helpers -------------------------------------------------------------------------
    def instrument(self, symbol: str, exchange: str | None = None) -> Instrument:
        cfg = self.service.config
        if exchange is not None and exchange not in cfg.venues:
            raise ApiError(
                404,
                Reason.UNKNOWN_INSTRUMENT.value,
                f"unknown exchange {exchange!r} (one of {', '.join(cfg.venues)})",
            )
        inst = cfg.resolve(symbol, exchange)
        if inst is None:
            where = f" on exchange {exchange!r}" if exchange else ""
            raise ApiError(
                404,
                Reason.UNKNOWN_INSTRUMENT.value,
                f"unknown symbol {symbol!r}{where} (GET /api/v1/instruments lists them)",
            )
        return inst

    def maybe_instrument(self, symbol: str | None, exchange: str | None) -> Instrument | None:
        return None if symbol is None else self.instrument(symbol, exchange)

    def inst_of(self, instrument_id: str) -> Instrument:
        return self.service.config.instruments[instrument_id]

    async def submit(
        self, command: PlaceOrder | CancelOrder | ModifyOrder | CancelAll
    ) -> CommandResult:
        result = await self.service.submit(command)
        if not result.ok:
            raise ApiError.rejected(result.reason, result.message)
        return result

    async def caught_up(self) -> None:
        if self.history is not None:
            await self.history.drain()

    def last_update(self, result: CommandResult, order_id: int | None) -> OrderUpdate | None:
        found = None
        for ev in result.events:
            if isinstance(ev, OrderUpdate) and ev.order_id == order_id:
                found = ev
        return found

    def live(self, user: str, order_id: int | None, client_id: str | None) -> OrderUpdate | None:
        if order_id is not None and order_id >= _MAX_ID:
            return None
        return self.service.order(user, order_id, client_id)

    async def find(self, user: str, order_id: int | None, client_id: str | None) -> OrderUpdate:
        u = self.live(user, order_id, client_id)
        if u is None:
            await self.caught_up()
            if order_id is not None:
                u = self.store.get_order(order_id) if order_id < _MAX_ID else None
            else:
                assert client_id is not None
                u = self.store.get_order_by_client_id(user, client_id)
        if u is None or u.user != user:
            what = f"id {order_id}" if order_id is not None else f"client_order_id {client_id!r}"
            raise ApiError(404, Reason.UNKNOWN_ORDER.value, f"no order with {what}")
        return u

    def order_ref(self, call: Call) -> tuple[int | None, str | None]:
        if "order_id" in call.params:
            return int(call.params["order_id"]), None
        return None, str(call.params["client_order_id"])

    def now(self) -> int:
        return self.clock_ms()

    # -- public ----------------------------------------------------------------------------
    async def get_instruments(self, call: Call) -> list[s.InstrumentInfo]:
        service = self.service
        return [
            s.InstrumentInfo(
                id=i.id,
                exchange=i.venue,
                symbol=i.symbol,
                aliases=list(i.aliases),
                base=i.base.symbol,
                quote=i.quote.symbol,
                kind=i.kind,
                tick_size=convert.dec(i.tick_size),
                lot_size=convert.dec(i.lot_size),
                min_qty=convert.dec(i.min_qty),
                max_leverage=i.max_leverage,
                maker_fee=convert.dec(i.maker_fee),
                taker_fee=convert.dec(i.taker_fee),
                halted=service.is_halted(i.id),
            )
            for i in self.service.config.instruments.values()
        ]

    async def get_orderbook(self, call: Call) -> s.OrderBook:
        q: s.BookQuery = call.query
        inst = self.instrument(q.symbol, q.exchange)
        snap = self.marketdata.book_snapshot(inst.id, q.depth)
        return s.OrderBook(
            symbol=inst.id,
            exchange=inst.venue,
            sequence=snap.sequence,
            checksum=snap.checksum,
            bids=[
                (convert.dec(inst.ticks_to_price(p)), convert.dec(inst.lots_to_qty(n)))
                for p, n in snap.bids
            ],
            asks=[
                (convert.dec(inst.ticks_to_price(p)), convert.dec(inst.lots_to_qty(n)))
                for p, n in snap.asks
            ],
            timestamp=snap.ts,
        )

    async def get_trades(self, call: Call) -> list[s.PublicTrade]:
        q: s.TradesQuery = call.query
        inst = self.instrument(q.symbol, q.exchange)
        return [
            s.PublicTrade(
                id=str(t.trade_id),
                price=convert.dec(inst.ticks_to_price(t.price)),
                amount=convert.dec(inst.lots_to_qty(t.qty)),
                side=t.taker_side,
                timestamp=t.ts,
            )
            for t in self.marketdata.recent_trades(inst.id, q.limit)
        ]

    async def get_ticker(self, call: Call) -> s.TickerReply:
        q: s.SymbolQuery = call.query
        inst = self.instrument(q.symbol, q.exchange)
        t = self.marketdata.ticker(inst.id)
        p = convert.price
        pct = None if t.change_ppm is None else Decimal(t.change_ppm) / (PPM // 100)
        return s.TickerReply(
            symbol=inst.id,
            exchange=inst.venue,
            last=convert.dec_opt(p(inst, t.last_price)),
            bid=convert.dec_opt(p(inst, t.bid)),
            ask=convert.dec_opt(p(inst, t.ask)),
            open=convert.dec_opt(p(inst, t.open)),
            high=convert.dec_opt(p(inst, t.high)),
            low=convert.dec_opt(p(inst, t.low)),
            volume=convert.dec(inst.lots_to_qty(t.volume)),
            quote_volume=convert.dec(convert.money(inst.quote, t.quote_volume)),
            trades=t.trades,
            change=convert.dec_opt(None if t.change is None else inst.ticks_to_price(t.change)),
            change_percent=convert.dec_opt(pct),
            timestamp=t.ts,
        )

    async def get_candles(self, call: Call) -> list[s.CandleReply]:
        q: s.CandlesQuery = call.query
        inst = self.instrument(q.symbol, q.exchange)
        if q.start is not None and q.end is not None and q.end < q.start:
            raise ApiError(400, INVALID, "end must not be before start")
        candles = self.marketdata.history(inst.id, q.interval, q.start, q.end, q.limit)
        tp = inst.ticks_to_price
        return [
            s.CandleReply(
                start=c.start,
                end=c.end,
                open=convert.dec(tp(c.open)),
                high=convert.dec(tp(c.high)),
                low=convert.dec(tp(c.low)),
                close=convert.dec(tp(c.close)),
                volume=convert.dec(inst.lots_to_qty(c.volume)),
                quote_volume=convert.dec(convert.money(inst.quote, c.quote_volume)),
                trades=c.trades,
                closed=c.closed,
            )
            for c in candles
        ]

    async def get_time(self, call: Call) -> s.ServerTime:
        now = self.now()
        iso = datetime.fromtimestamp(now / 1000, UTC).isoformat(timespec="milliseconds")
        return s.ServerTime(server_time=now, iso=iso.replace("+00:00", "Z"))

    async def get_status(self, call: Call) -> s.Status:
        hub = self.app[HUB]
        cfg = self.service.config
        service = self.service
        return s.Status(
            status="ok" if hub.accepting else "shutting_down",
            server_time=self.now(),
            sequence=self.service.published_seq,
            connections=len(hub.connections),
            dialects=sorted(hub.dialects),
            venues=[
                s.VenueStatus(id=v.id, name=v.name, status=hub.venue_status.get(v.id, "connected"))
                for v in cfg.venues.values()
            ],
            instruments=[
                s.InstrumentState(symbol=i.id, exchange=i.venue, halted=service.is_halted(i.id))
                for i in cfg.instruments.values()
            ],
        )

    # -- account ---------------------------------------------------------------------------
    async def get_balances(self, call: Call) -> list[s.BalanceReply]:
        assets = self.service.config.assets
        return [
            convert.balance(assets[a], av, rs)
            for a, (av, rs) in sorted(self.service.balances(call.user).items())
            if a in assets
        ]

    async def get_positions(self, call: Call) -> list[s.PositionReply]:
        return [
            convert.position(self.inst_of(p.instrument), p)
            for p in self.service.positions(call.user)
        ]

    # -- orders ----------------------------------------------------------------------------
    async def create_order(self, call: Call) -> s.OrderReply:
        b: s.OrderRequest = call.body
        inst = self.instrument(b.symbol, b.exchange)
        try:
            trail = None if b.trail_percent is None else requests.trail_ppm(b.trail_percent)
            cmd = requests.place(
                call.user,
                inst,
                side=b.side,
                type=b.type,
                amount=b.amount,
                price=b.price,
                stop_price=b.stop_price,
                stop_limit_price=b.stop_limit_price,
                trail_ppm=trail,
                tif=b.time_in_force,
                client_order_id=b.client_order_id,
                post_only=b.post_only,
                reduce_only=b.reduce_only,
                leverage=b.leverage,
                deadline=b.deadline,
                require_price=True,
            )
        except requests.RequestError as exc:
            raise ApiError.rejected(exc.reason, exc.message) from None
        result = await self.submit(cmd)
        u = self.last_update(result, result.order_id)
        if u is None:
            u = await self.find(call.user, result.order_id, None)
        return convert.order(inst, u)

    async def get_order(self, call: Call) -> s.OrderReply:
        order_id, cid = self.order_ref(call)
        u = await self.find(call.user, order_id, cid)
        return convert.order(self.inst_of(u.instrument), u)

    async def modify_order(self, call: Call) -> s.OrderReply:
        b: s.ModifyRequest = call.body
        order_id, cid = self.order_ref(call)
        current = await self.find(call.user, order_id, cid)
        inst = self.inst_of(current.instrument)
        if b.amount is None and b.price is None and b.stop_price is None:
            raise ApiError(400, INVALID, "nothing to change: send amount, price or stop_price")
        try:
            cmd = requests.modify(
                call.user,
                current.order_id,
                inst,
                amount=b.amount,
                price=b.price,
                stop_price=b.stop_price,
            )
        except requests.RequestError as exc:
            raise ApiError.rejected(exc.reason, exc.message) from None
        result = await self.submit(cmd)
        u = self.last_update(result, current.order_id) or await self.find(
            call.user, current.order_id, None
        )
        return convert.order(inst, u)

    async def cancel_order(self, call: Call) -> s.OrderReply:
        order_id, cid = self.order_ref(call)
        if order_id is not None and order_id >= _MAX_ID:
            raise ApiError(404, Reason.UNKNOWN_ORDER.value, f"no order with id {order_id}")
        result = await self.submit(
            CancelOrder(user=call.user, order_id=order_id, client_order_id=cid)
        )
        u = self.last_update(result, result.order_id) or await self.find(
            call.user, result.order_id, None
        )
        return convert.order(self.inst_of(u.instrument), u)

    async def cancel_all(self, call: Call) -> s.CancelAllReply:
        q: s.OrdersQuery = call.query
        inst = self.maybe_instrument(q.symbol, q.exchange)
        result = await self.submit(
            CancelAll(user=call.user, instrument=None if inst is None else inst.id)
        )
        last: dict[int, OrderUpdate] = {}
        for ev in result.events:
            if isinstance(ev, OrderUpdate) and ev.user == call.user:
                last[ev.order_id] = ev
        return s.CancelAllReply(
            cancelled=[convert.order(self.inst_of(u.instrument), u) for u in last.values()]
        )

    async def list_open_orders(self, call: Call) -> list[s.OrderReply]:
        q: s.OrdersQuery = call.query
        inst = self.maybe_instrument(q.symbol, q.exchange)
        orders = self.service.open_orders(call.user, None if inst is None else inst.id)
        return [
            convert.order(self.inst_of(o.instrument), o)
            for o in sorted(orders, key=lambda o: o.order_id)
        ]

    async def order_history(self, call: Call) -> s.OrderPage:
        q: s.HistoryQuery = call.query
        inst = self.maybe_instrument(q.symbol, q.exchange)
        await self.caught_up()
        page = self.store.list_orders(
            call.user,
            instrument=None if inst is None else inst.id,
            before=q.before,
            limit=q.limit,
        )
        return s.OrderPage(
            items=[convert.order(self.inst_of(u.instrument), u) for u in page.items],
            next_cursor=page.next_cursor,
        )

    async def list_fills(self, call: Call) -> s.FillPage:
        q: s.HistoryQuery = call.query
        inst = self.maybe_instrument(q.symbol, q.exchange)
        await self.caught_up()
        page = self.store.list_fills(
            call.user,
            instrument=None if inst is None else inst.id,
            before=q.before,
            limit=q.limit,
        )
        return s.FillPage(
            items=[convert.fill(self.inst_of(f.instrument), f) for f in page.items],
            next_cursor=page.next_cursor,
        )

    # -- alerts ----------------------------------------------------------------------------
    def _risk(self) -> RiskServices:
        if self.risk is None:
            self.risk = RiskServices(self.service.config, self.store)
        return self.risk

    async def create_alert(self, call: Call) -> s.AlertReply:
        b: s.AlertRequest = call.body
        inst = self.instrument(b.symbol)
        risk = self._risk()
        try:
            alert, fired = risk.create_alert(
                self.marketdata,
                call.user,
                b.name,
                b.condition,
                inst.id,
                b.threshold,
                self.now(),
                repeat=b.repeat,
                cooldown_ms=b.cooldown_ms,
            )
        except AlertError as exc:
            status = {"unknown_instrument": 404, "limit_exceeded": 409}.get(exc.code, 400)
            raise ApiError(status, exc.code, str(exc)) from None
        if fired and self.publish_alerts is not None:
            self.publish_alerts(fired)
        return convert.alert(inst, alert)

    async def list_alerts(self, call: Call) -> list[s.AlertReply]:
        return [
            convert.alert(self.inst_of(a.instrument), a)
            for a in self._risk().alerts.list_alerts(call.user)
        ]

    async def delete_alert(self, call: Call) -> s.Deleted:
        alert_id = int(call.params["alert_id"])
        if alert_id >= _MAX_ID or not self._risk().alerts.delete(call.user, alert_id):
            raise ApiError(404, NOT_FOUND, f"no alert with id {alert_id}")
        return s.Deleted(deleted=True)

    # -- tokens ----------------------------------------------------------------------------
    async def create_token(self, call: Call) -> s.TokenReply:
        b: s.TokenRequest = call.body
        if self.issue_token is None:
            raise ApiError(503, NOT_ENABLED, "JWT tokens are not enabled on this server")
        assert call.caller is not None
        perms = frozenset(
            p.value for p in call.caller.permissions if p in (Permission.READ, Permission.TRADE)
        )
        now = self.now()
        # the token dies with the key that signed this request (revoke it: sessions close)
        token = self.issue_token(
            call.user, perms, b.ttl_seconds, now, minted_with=call.caller.key_id
        )
        return s.TokenReply(
            token=token,
            token_type="Bearer",
            user=call.user,
            expires_at=now // 1000 * 1000 + b.ttl_seconds * 1000,
        )

    # -- admin -----------------------------------------------------------------------------
    async def create_user(self, call: Call) -> s.UserReply:
        b: s.UserRequest = call.body
        try:
            user = self.store.create_user(b.user, self.now())
        except AlreadyExists:
            raise ApiError(409, ALREADY_EXISTS, f"user {b.user!r} already exists") from None
        return s.UserReply(id=user.id, created=user.created)

    async def list_users(self, call: Call) -> list[s.UserReply]:
        return [s.UserReply(id=u.id, created=u.created) for u in self.store.list_users()]

    async def create_key(self, call: Call) -> s.KeyCreated:
        b: s.KeyRequest = call.body
        if self.store.get_user(b.user) is None and b.create_user:
            self.store.create_user(b.user, self.now())
        if self.store.get_user(b.user) is None:
            raise ApiError(
                404,
                Reason.UNKNOWN_USER.value,
                f"unknown user {b.user!r}: create it first (POST /api/v1/admin/users)",
            )
        key = new_key(b.user, frozenset(b.permissions), self.now())
        self.store.create_api_key(key)
        return s.KeyCreated(
            api_key=key.key_id,
            api_secret=key.secret,
            user=key.user,
            permissions=sorted(key.permissions),
            created=key.created,
        )

    async def list_keys(self, call: Call) -> list[s.KeyReply]:
        q: s.KeysQuery = call.query
        users = [q.user] if q.user is not None else [u.id for u in self.store.list_users()]
        return [
            s.KeyReply(
                api_key=k.key_id,
                user=k.user,
                permissions=sorted(k.permissions),
                created=k.created,
                revoked=k.revoked,
            )
            for u in users
            for k in self.store.list_api_keys(u)
        ]

    async def revoke_key(self, call: Call) -> s.RevokeReply:
        key_id = str(call.params["api_key"])
        key = self.store.get_api_key(key_id)
        if key is None:
            raise ApiError(404, NOT_FOUND, f"unknown API key {key_id!r}")
        self.store.revoke_api_key(key_id, self.now())
        closed = self.app[HUB].close_key(key_id, "API key revoked")
        return s.RevokeReply(api_key=key_id, revoked=True, connections_closed=closed)

    async def _funds(self, call: Call, deposit: bool) -> s.FundsReply:
        b: s.FundsRequest = call.body
        cfg = self.service.config
        asset = cfg.assets.get(b.asset)
        if asset is None:
            raise ApiError(
                400, INVALID, f"unknown asset {b.asset!r} (one of {', '.join(cfg.assets)})"
            )
        if self.store.get_user(b.user) is None and not self.service.balances(b.user):
            raise ApiError(404, Reason.UNKNOWN_USER.value, f"unknown user {b.user!r}")
        units = convert.asset_units(asset, b.amount)
        kind = Deposit if deposit else Withdraw
        result = await self.service.submit(kind(user=b.user, asset=asset.symbol, units=units))
        if not result.ok:
            raise ApiError.rejected(result.reason, result.message)
        available, reserved = self.service.balance(b.user, asset.symbol)
        return s.FundsReply(
            user=b.user, asset=asset.symbol, balance=convert.balance(asset, available, reserved)
        )

    async def deposit(self, call: Call) -> s.FundsReply:
        return await self._funds(call, True)

    async def withdraw(self, call: Call) -> s.FundsReply:
        return await self._funds(call, False)

    async def notify(self, call: Call) -> s.NotificationReply:
        b: s.NotificationRequest = call.body
        service = self.risk.notifications if self.risk is not None else self.notifications
        n = service.system(b.level, b.title, b.message, b.link, self.now())
        if self.publish_alerts is not None:
            self.publish_alerts([n])
        return s.NotificationReply(
            id=n.id,
            level=n.level,
            title=n.title,
            message=n.message,
            link=n.link,
            timestamp=n.ts,
            delivered=self.publish_alerts is not None,
        )

    async def _halt(self, call: Call, halted: bool) -> s.HaltReply:
        inst = self.instrument(str(call.params["symbol"]))
        reason, until = "", None
        if halted:
            b: s.HaltRequest = call.body
            reason, until = b.reason, b.until
        result = await self.service.submit(
            SetHalt(instrument=inst.id, halted=halted, reason=reason, until=until)
        )
        if not result.ok:
            raise ApiError.rejected(result.reason, result.message)
        return s.HaltReply(symbol=inst.id, exchange=inst.venue, halted=halted, reason=reason)

    async def halt(self, call: Call) -> s.HaltReply:
        return await self._halt(call, True)

    async def resume(self, call: Call) -> s.HaltReply:
        return await self._halt(call, False)

    # -- the table -------------------------------------------------------------------------
    def routes(self) -> list[Route]:
        R, T, A = Access.READ, Access.TRADE, Access.ADMIN
        oid: dict[str, type[int] | type[str]] = {"order_id": int}
        cid: dict[str, type[int] | type[str]] = {"client_order_id": str}
        return [
            Route("GET", "/instruments", self.get_instruments, "List instruments", "market",
                  reply=list[s.InstrumentInfo]),
            Route("GET", "/orderbook", self.get_orderbook, "Order book snapshot (top N levels)",
                  "market", query=s.BookQuery, reply=s.OrderBook),
            Route("GET", "/trades", self.get_trades, "Recent public trades, newest first",
                  "market", query=s.TradesQuery, reply=list[s.PublicTrade]),
            Route("GET", "/ticker", self.get_ticker, "24 h ticker", "market",
                  query=s.SymbolQuery, reply=s.TickerReply),
            Route("GET", "/candles", self.get_candles,
                  "Candles (start <= candle.start < end), oldest first", "market",
                  query=s.CandlesQuery, reply=list[s.CandleReply]),
            Route("GET", "/time", self.get_time, "Server time", "system", reply=s.ServerTime),
            Route("GET", "/status", self.get_status, "Venue status", "system", reply=s.Status),
            Route("GET", "/account/balances", self.get_balances, "Your balances", "account",
                  R, reply=list[s.BalanceReply]),
            Route("GET", "/account/positions", self.get_positions, "Your positions",
                  "account", R, reply=list[s.PositionReply]),
            Route("POST", "/orders", self.create_order, "Place an order", "orders", T,
                  body=s.OrderRequest, reply=s.OrderReply, status=201,
                  errors=(400, 404, 409, 422)),
            Route("GET", "/orders", self.list_open_orders, "Your open orders", "orders", R,
                  query=s.OrdersQuery, reply=list[s.OrderReply]),
            Route("DELETE", "/orders", self.cancel_all, "Cancel all your open orders",
                  "orders", T, query=s.OrdersQuery, reply=s.CancelAllReply, errors=(400, 422)),
            Route("GET", "/orders/history", self.order_history,
                  "Your orders, newest first (paged by cursor)", "orders", R,
                  query=s.HistoryQuery, reply=s.OrderPage),
            Route("GET", "/orders/{order_id}", self.get_order, "One of your orders", "orders",
                  R, reply=s.OrderReply, params=oid),
            Route("PATCH", "/orders/{order_id}", self.modify_order, "Modify an order",
                  "orders", T, body=s.ModifyRequest, reply=s.OrderReply, params=oid,
                  errors=(400, 404, 409, 422)),
            Route("DELETE", "/orders/{order_id}", self.cancel_order, "Cancel an order",
                  "orders", T, reply=s.OrderReply, params=oid, errors=(400, 404, 409, 422)),
            Route("GET", "/orders/by-client-id/{client_order_id}", self.get_order,
                  "One of your orders by client order id", "orders", R, reply=s.OrderReply,
                  params=cid, op="get_order_by_client_id"),
            Route("PATCH", "/orders/by-client-id/{client_order_id}", self.modify_order,
                  "Modify an order by client order id", "orders", T, body=s.ModifyRequest,
                  reply=s.OrderReply, params=cid, errors=(400, 404, 409, 422),
                  op="modify_order_by_client_id"),
            Route("DELETE", "/orders/by-client-id/{client_order_id}", self.cancel_order,
                  "Cancel an order by client order id", "orders", T, reply=s.OrderReply,
                  params=cid, errors=(400, 404, 409, 422), op="cancel_order_by_client_id"),
            Route("GET", "/fills", self.list_fills, "Your fills, newest first (paged)",
                  "orders", R, query=s.HistoryQuery, reply=s.FillPage),
            Route("POST", "/alerts", self.create_alert, "Create a custom alert", "alerts", R,
                  body=s.AlertRequest, reply=s.AlertReply, status=201, errors=(400, 404, 409)),
            Route("GET", "/alerts", self.list_alerts, "Your active alerts", "alerts", R,
                  reply=list[s.AlertReply]),
            Route("DELETE", "/alerts/{alert_id}", self.delete_alert, "Delete an alert",
                  "alerts", R, reply=s.Deleted, params={"alert_id": int}),
            Route("POST", "/tokens", self.create_token,
                  "A JWT for the typed WebSocket dialect", "auth", R, body=s.TokenRequest,
                  reply=s.TokenReply, status=201, errors=(400, 503)),
            Route("POST", "/admin/users", self.create_user, "Create a user", "admin", A,
                  body=s.UserRequest, reply=s.UserReply, status=201, errors=(400, 409)),
            Route("GET", "/admin/users", self.list_users, "List users", "admin", A,
                  reply=list[s.UserReply]),
            Route("POST", "/admin/keys", self.create_key,
                  "Create an API key (the secret is shown once)", "admin", A,
                  body=s.KeyRequest, reply=s.KeyCreated, status=201),
            Route("GET", "/admin/keys", self.list_keys, "List API keys (no secrets)", "admin",
                  A, query=s.KeysQuery, reply=list[s.KeyReply]),
            Route("DELETE", "/admin/keys/{api_key}", self.revoke_key,
                  "Revoke an API key and close its WebSocket connections", "admin", A,
                  reply=s.RevokeReply, params={"api_key": str}),
            Route("POST", "/admin/deposits", self.deposit, "Credit paper funds", "admin", A,
                  body=s.FundsRequest, reply=s.FundsReply, errors=(400, 404, 422)),
            Route("POST", "/admin/withdrawals", self.withdraw, "Debit paper funds", "admin",
                  A, body=s.FundsRequest, reply=s.FundsReply, errors=(400, 404, 422)),
            Route("POST", "/admin/notifications", self.notify,
                  "Send a system notification to every client", "admin", A,
                  body=s.NotificationRequest, reply=s.NotificationReply, status=201),
            Route("POST", "/admin/instruments/{symbol}/halt", self.halt,
                  "Halt trading on an instrument", "admin", A, body=s.HaltRequest,
                  reply=s.HaltReply, params={"symbol": str}),
            Route("POST", "/admin/instruments/{symbol}/resume", self.resume,
                  "Resume trading on an instrument", "admin", A, reply=s.HaltReply,
                  params={"symbol": str}),
        ]  # fmt: skip


def wall_clock_ms() -> int:
    return time.time_ns() // 1_000_000
