"""The Binance stream surface's I/O: WebSocket routes, fan-out, listenKeys.

``add_binance_streams(app, service, marketdata)`` (one line in ``add_rest_routes``)
registers ``/binance/ws``, ``/binance/ws/<stream|listenKey|n>``, ``/binance/stream``
and ``/binance/api/v3/userDataStream``. The REST surface (``openpit.binance``) is found
through ``app[SURFACE]`` at request time: its symbol map, key store and weights are
shared, so the streams serve exactly the symbols and keys REST serves.

Invariants:
- Market streams need no key; a listenKey names one user and only that user's
  ``executionReport``/``outboundAccountPosition`` reach its connections.
- A listenKey lives 60 minutes unless a ``PUT`` extends it; deleting or expiring it
  closes its connections. A connection lives at most 24 hours (then closed, as
  Binance does); the server pings every 20 s.
"""

from __future__ import annotations

from collections.abc import Callable

from aiohttp import web

from openpit.api.binance.fanout import Fanout
from openpit.api.binance.routes import StreamRoutes
from openpit.binance import SURFACE, wall_clock_ms
from openpit.binance.symbols import SymbolMap
from openpit.marketdata import MarketData
from openpit.venue.service import VenueService

STREAMS = web.AppKey("openpit.binance.streams", StreamRoutes)


def add_binance_streams(
    app: web.Application,
    service: VenueService,
    marketdata: MarketData,
    *,
    clock_ms: Callable[[], int] = wall_clock_ms,
) -> StreamRoutes:
    def symbols() -> SymbolMap | None:
        surface = app.get(SURFACE)
        return None if surface is None else surface.symbols

    def stp() -> str:
        surface = app.get(SURFACE)
        return "NONE" if surface is None else surface.trading.default_stp

    fanout = Fanout(service, marketdata, symbols, stp, clock_ms)
    routes = StreamRoutes(app, fanout, clock_ms)
    routes.register()
    app[STREAMS] = routes
    return routes


__all__ = ["STREAMS", "StreamRoutes", "add_binance_streams"]
