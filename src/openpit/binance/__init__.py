"""A Binance-spot-compatible REST surface under ``/binance/api/v3`` on the gateway's port.

``add_binance_routes(app, service, marketdata, store, history=...)`` registers it (one
line in the assembly, next to ``add_rest_routes``). Same engine, books and accounts as
every other dialect; the existing openpit API keys sign Binance-style. See
docs/binance.md for what is served and how to point ccxt, freqtrade, python-binance and
nautilus_trader at it.

Layout (the pure modules are reusable by the WebSocket streams):
``symbols`` (the symbol map, decimal text), ``errors`` (Binance's error table),
``request`` (parameters, signatures, timing, new orders), ``render`` (order, fill,
trade, kline, depth, ticker JSON), ``exchange`` (exchangeInfo, account), ``limits``
(request weight, order counts); I/O: ``market``, ``trading``, ``routes``.

Configuration, ``[binance]`` (all optional): ``symbols`` (instrument id -> Binance
symbol), ``weight_per_minute`` (default 6000), ``orders_per_10s`` (100),
``orders_per_day`` (200000).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from aiohttp import web

from openpit.binance.exchange import rate_limits
from openpit.binance.limits import OrderCounter, WeightLimiter
from openpit.binance.market import Market
from openpit.binance.routes import PREFIX, Surface
from openpit.binance.symbols import SymbolClash, SymbolMap
from openpit.binance.trading import Trading
from openpit.config.loader import VenueConfig
from openpit.core.errors import OpenpitError
from openpit.marketdata import MarketData
from openpit.store import HistoryWriter, Store
from openpit.venue.service import VenueService

SURFACE = web.AppKey("openpit.binance", Surface)


class BinanceConfigError(OpenpitError, ValueError):
    """The ``[binance]`` table is malformed."""


@dataclass(frozen=True, slots=True)
class BinanceSettings:
    symbols: Mapping[str, str] = field(default_factory=dict)
    weight_per_minute: int = 6000
    orders_per_10s: int = 100
    orders_per_day: int = 200_000

    @classmethod
    def from_mapping(cls, table: Mapping[str, object]) -> BinanceSettings:
        known = {"symbols", "weight_per_minute", "orders_per_10s", "orders_per_day"}
        unknown = set(table) - known
        if unknown:
            raise BinanceConfigError(
                f"unknown [binance] keys: {', '.join(sorted(unknown))} "
                f"(known: {', '.join(sorted(known))})"
            )
        symbols = table.get("symbols", {})
        if not isinstance(symbols, Mapping) or not all(
            isinstance(k, str) and isinstance(v, str) for k, v in symbols.items()
        ):
            raise BinanceConfigError("[binance] symbols maps instrument ids to symbol strings")
        numbers: dict[str, int] = {}
        for name in ("weight_per_minute", "orders_per_10s", "orders_per_day"):
            if name in table:
                value = table[name]
                if not isinstance(value, int) or isinstance(value, bool) or value < 1:
                    raise BinanceConfigError(f"[binance] {name} must be a positive integer")
                numbers[name] = value
        return cls(symbols=dict(symbols), **numbers)


def settings_of(config: VenueConfig) -> BinanceSettings:
    """The config's ``[binance]`` table, checked whole (its symbol map included): what
    ``openpit config check`` and ``serve`` refuse before anything starts."""
    table = config.extra.get("binance", {})
    settings = BinanceSettings.from_mapping(table if isinstance(table, Mapping) else {})
    try:
        SymbolMap(config.instruments.values(), settings.symbols)
    except SymbolClash as exc:
        raise BinanceConfigError(f"[binance] symbols: {exc.msg}") from None
    return settings


def wall_clock_ms() -> int:
    return time.time_ns() // 1_000_000


def add_binance_routes(
    app: web.Application,
    service: VenueService,
    marketdata: MarketData,
    store: Store,
    *,
    history: HistoryWriter | None = None,
    settings: BinanceSettings | None = None,
    clock_ms: Callable[[], int] = wall_clock_ms,
) -> Surface:
    """Register ``/binance/api/v3`` on ``app``; settings default to the config's ``[binance]``."""
    config = service.config
    if settings is None:
        settings = settings_of(config)
    symbols = SymbolMap(config.instruments.values(), settings.symbols)
    orders = OrderCounter(settings.orders_per_10s, settings.orders_per_day)
    surface = Surface(
        symbols,
        Market(symbols, marketdata, store, history, service.is_halted),
        Trading(symbols, service, store, history, orders, clock_ms),
        store,
        WeightLimiter(settings.weight_per_minute),
        clock_ms,
        service.is_halted,
        rate_limits(settings.weight_per_minute, settings.orders_per_10s, settings.orders_per_day),
    )
    surface.register(app)
    app[SURFACE] = surface
    return surface


__all__ = [
    "PREFIX",
    "SURFACE",
    "BinanceConfigError",
    "BinanceSettings",
    "Surface",
    "SymbolMap",
    "add_binance_routes",
    "settings_of",
]
