"""The aiohttp side of the Binance surface: ``/binance/api/v3/...`` and its one wrapper.

Invariants:
- Every endpoint runs in ``Surface.run``: weight is charged to the remote IP first (a
  ``-1003`` 429 has decoded and run nothing, the weight header reports the minute's
  total on every reply, refusals included); then, for signed endpoints, the API key
  (``X-MBX-APIKEY``), the signature, the timing and the permission are checked before
  the handler sees any parameter.
- Every reply is JSON; every refusal Binance's ``{"code", "msg"}`` with its status.
  An unexpected failure is logged and answered ``-1000`` (HTTP 500).
- Permissions: ``USER_DATA`` endpoints need the key's ``read``, ``TRADE`` endpoints its
  ``trade`` permission (``admin`` holds both); otherwise ``-2015``.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from enum import StrEnum

import msgspec
from aiohttp import web

from openpit.binance import errors as e
from openpit.binance.exchange import exchange_info
from openpit.binance.limits import OrderCounter, WeightLimiter
from openpit.binance.market import Market, depth_weight, many_weight
from openpit.binance.request import check_signature, check_timing, signed_payload, split_params
from openpit.binance.symbols import SymbolMap
from openpit.binance.trading import Caller, Trading
from openpit.core.access import ApiKey, Permission
from openpit.store import Store

log = logging.getLogger("openpit.binance")

PREFIX = "/binance/api/v3"
MAX_BODY = 64 * 1024
_encoder = msgspec.json.Encoder()

Params = Mapping[str, str]
Reply = object | tuple[object, dict[str, str]]


class Security(StrEnum):
    NONE = "NONE"
    USER_DATA = "USER_DATA"
    TRADE = "TRADE"


@dataclass(frozen=True, slots=True)
class Endpoint:
    method: str
    path: str
    weight: Callable[[Params], int]
    security: Security
    public: Callable[[Params], Awaitable[object]] | None = None
    private: Callable[[Params, Caller], Awaitable[Reply]] | None = None


def fixed_weight(n: int) -> Callable[[Params], int]:
    return lambda params: n


def reply(status: int, body: object, headers: Mapping[str, str]) -> web.Response:
    return web.Response(
        body=_encoder.encode(body), status=status, headers=headers, content_type="application/json"
    )


class Surface:
    def __init__(
        self,
        symbols: SymbolMap,
        market: Market,
        trading: Trading,
        store: Store,
        weights: WeightLimiter,
        clock_ms: Callable[[], int],
        halted: Callable[[str], bool],
        limits: list[dict[str, object]],
    ) -> None:
        self.symbols = symbols
        self.market = market
        self.trading = trading
        self.store = store
        self.weights = weights
        self.clock_ms = clock_ms
        self.halted = halted
        self.limits = limits

    def api_key(self, request: web.Request) -> ApiKey:
        """The active key named by ``X-MBX-APIKEY`` (``-2014`` none, ``-2015`` unknown or
        revoked); also what key-only endpoints (``userDataStream``) check."""
        key_id = request.headers.get("X-MBX-APIKEY")
        if not key_id:
            raise e.bad_api_key_format()
        key = self.store.get_api_key(key_id)
        if key is None or not key.active:
            raise e.rejected_key()
        return key

    def authenticate(self, request: web.Request, query: str, body: str, params: Params,
                     security: Security, now: int) -> Caller:  # fmt: skip
        key = self.api_key(request)
        payload, signature = signed_payload(query, body)
        check_signature(key.secret, payload, signature)
        check_timing(params, now)
        needed = Permission.TRADE if security is Security.TRADE else Permission.READ
        if needed not in key.permissions and Permission.ADMIN not in key.permissions:
            raise e.rejected_key()
        return Caller(key.user, key.permissions, now, request.remote or "")

    def handler(self, ep: Endpoint) -> Callable[[web.Request], Awaitable[web.Response]]:
        async def run(request: web.Request) -> web.Response:
            ip = request.remote or ""
            headers: dict[str, str] = {}
            try:
                now = self.clock_ms()
                raw_query = request.raw_path.partition("?")[2]
                if request.content_length is not None and request.content_length > MAX_BODY:
                    raise e.BinanceError(-1000, f"request body over {MAX_BODY} bytes", 413)
                raw_body = await request.read() if request.method != "GET" else b""
                if len(raw_body) > MAX_BODY:
                    raise e.BinanceError(-1000, f"request body over {MAX_BODY} bytes", 413)
                try:
                    body = raw_body.decode("ascii")
                except UnicodeDecodeError:
                    raise e.illegal_chars("body") from None
                weight = 1
                try:
                    params = split_params(raw_query, body)
                    weight = ep.weight(params)
                finally:
                    used = self.weights.charge(ip, weight, now)
                    headers["X-MBX-USED-WEIGHT-1M"] = str(used)
                if ep.security is Security.NONE:
                    assert ep.public is not None
                    result: Reply = await ep.public(params)
                else:
                    assert ep.private is not None
                    caller = self.authenticate(request, raw_query, body, params, ep.security, now)
                    result = await ep.private(params, caller)
                if isinstance(result, tuple):
                    result, extra = result
                    headers.update(extra)
                return reply(200, result, headers)
            except e.BinanceError as exc:
                if exc.code == e.TOO_MANY_REQUESTS:
                    headers["X-MBX-USED-WEIGHT-1M"] = str(self.weights.used(ip, self.clock_ms()))
                return reply(exc.status, exc.body(), {**headers, **exc.headers})
            except Exception:
                log.exception("%s %s failed", request.method, request.path)
                body_ = {
                    "code": -1000,
                    "msg": "An unknown error occurred while processing the request.",
                }
                return reply(500, body_, headers)

        run.__name__ = "binance_" + ep.path.replace("/", "_")
        return run

    # -- the two general endpoints that need the surface itself ------------------------
    async def ping(self, params: Params) -> object:
        return {}

    async def time(self, params: Params) -> object:
        return {"serverTime": self.clock_ms()}

    async def exchange_info(self, params: Params) -> object:
        listings, _ = self.market.selection(params)
        stp = self.trading.service.config.risk.stp_default
        return exchange_info(listings, self.halted, stp, self.clock_ms(), self.limits)

    def endpoints(self) -> list[Endpoint]:
        m, t, N, U, T = self.market, self.trading, Security.NONE, Security.USER_DATA, Security.TRADE
        w = fixed_weight

        async def test_order(params: Params, caller: Caller) -> Reply:
            return await t.place(params, caller, test=True)

        return [
            Endpoint("GET", "/ping", w(1), N, public=self.ping),
            Endpoint("GET", "/time", w(1), N, public=self.time),
            Endpoint("GET", "/exchangeInfo", w(20), N, public=self.exchange_info),
            Endpoint("GET", "/depth", depth_weight, N, public=m.depth),
            Endpoint("GET", "/trades", w(25), N, public=m.trades),
            Endpoint("GET", "/historicalTrades", w(25), N, public=m.historical_trades),
            Endpoint("GET", "/aggTrades", w(4), N, public=m.agg_trades),
            Endpoint("GET", "/klines", w(2), N, public=m.klines),
            Endpoint("GET", "/avgPrice", w(2), N, public=m.avg_price),
            Endpoint("GET", "/ticker/24hr", many_weight(2, 80), N, public=m.ticker_24hr),
            Endpoint("GET", "/ticker/price", many_weight(2, 4), N, public=m.ticker_price),
            Endpoint("GET", "/ticker/bookTicker", many_weight(2, 4), N, public=m.book_ticker),
            Endpoint("POST", "/order", w(1), T, private=t.place),
            Endpoint("POST", "/order/test", w(1), T, private=test_order),
            Endpoint("GET", "/order", w(4), U, private=t.query),
            Endpoint("DELETE", "/order", w(1), T, private=t.cancel),
            Endpoint("GET", "/openOrders", many_weight(6, 80), U, private=t.open_orders),
            Endpoint("DELETE", "/openOrders", w(1), T, private=t.cancel_all),
            Endpoint("GET", "/allOrders", w(20), U, private=t.all_orders),
            Endpoint("GET", "/account", w(20), U, private=t.account),
            Endpoint("GET", "/myTrades", w(20), U, private=t.my_trades),
            Endpoint("GET", "/rateLimit/order", w(40), U, private=t.order_count),
        ]

    def register(self, app: web.Application) -> None:
        for ep in self.endpoints():
            app.router.add_route(ep.method, PREFIX + ep.path, self.handler(ep))


__all__ = ["PREFIX", "Endpoint", "OrderCounter", "Security", "Surface"]
