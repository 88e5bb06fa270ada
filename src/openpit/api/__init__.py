"""The REST API under ``/api/v1`` on the gateway's aiohttp app (same port, same keys).

``add_rest_routes(app, service, marketdata, store, ...)`` registers every endpoint,
``/api/v1/openapi.json`` and the ``/api/v1/docs`` page, all behind the per-client
rate limits of ``GatewaySettings.rest_rates`` (``ratelimit.py``); see docs/rest.md.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from aiohttp import web

from openpit.alerts import RiskServices
from openpit.api.binance import add_binance_streams
from openpit.api.docs_page import render_docs
from openpit.api.errors import ApiError
from openpit.api.handlers import AlertPublisher, Api, wall_clock_ms
from openpit.api.local import TokenIssuer
from openpit.api.openapi import build_document
from openpit.api.ratelimit import RestRateLimiter
from openpit.api.routing import (
    PREFIX,
    Route,
    error_middleware,
    error_response,
    json_response,
    wrap,
)
from openpit.api.signing import (
    HEADER_KEY,
    HEADER_SIGNATURE,
    HEADER_TIMESTAMP,
    RequestVerifier,
    sign_request,
    signed_headers,
)
from openpit.gateway.app import HUB
from openpit.marketdata import MarketData
from openpit.store import HistoryWriter, Store
from openpit.venue.service import VenueService

API = web.AppKey("openpit.api", Api)
RATE_LIMITER = web.AppKey("openpit.api.rate_limiter", RestRateLimiter)


def add_rest_routes(
    app: web.Application,
    service: VenueService,
    marketdata: MarketData,
    store: Store,
    *,
    history: HistoryWriter | None = None,
    risk: RiskServices | None = None,
    publish_alerts: AlertPublisher | None = None,
    issue_token: TokenIssuer | None = None,
    clock_ms: Callable[[], int] = wall_clock_ms,
    rate_clock: Callable[[], float] = time.monotonic,
) -> Api:
    """Register the REST API on ``app`` (a gateway app from ``create_app``).

    ``history``: read-your-writes for order history and fills (the writer is drained
    before those queries). ``risk``: the ``RiskServices`` wired to the venue (alerts
    and notifications); ``publish_alerts`` delivers alert events to WebSocket clients.
    ``issue_token(user, permissions, ttl_s, now_ms)``: JWTs for the typed dialect.
    Rate limits come from the gateway settings' ``rest_rates`` (``public`` per remote
    IP, ``signed`` per API key); ``rate_clock`` (seconds, monotonic) drives their buckets.
    """
    api = Api(
        app,
        service,
        marketdata,
        store,
        clock_ms,
        history=history,
        risk=risk,
        publish_alerts=publish_alerts,
        issue_token=issue_token,
    )
    settings = app[HUB].settings
    verifier = RequestVerifier(store, clock_ms, settings.signature_window_ms)
    rates = settings.rest_rates
    limiter = RestRateLimiter(rates["public"], rates["signed"], rate_clock)
    routes = api.routes()
    for route in routes:
        app.router.add_route(route.method, route.aiohttp_path, wrap(route, verifier, limiter))
    document = build_document(routes)
    page = render_docs(document)

    async def openapi(request: web.Request) -> web.Response:
        try:
            limiter.check_ip(request.remote)
        except ApiError as exc:
            return error_response(exc.status, exc.code, exc.message, exc.headers)
        return json_response(document)

    async def docs(request: web.Request) -> web.Response:
        try:
            limiter.check_ip(request.remote)
        except ApiError as exc:
            return error_response(exc.status, exc.code, exc.message, exc.headers)
        return web.Response(text=page, content_type="text/html", charset="utf-8")

    app.router.add_get(PREFIX + "/openapi.json", openapi)
    app.router.add_get(PREFIX + "/docs", docs)
    app.middlewares.append(error_middleware)
    app[API] = api
    app[RATE_LIMITER] = limiter
    add_binance_streams(app, service, marketdata, clock_ms=clock_ms)
    return api


__all__ = [
    "API",
    "HEADER_KEY",
    "HEADER_SIGNATURE",
    "HEADER_TIMESTAMP",
    "PREFIX",
    "RATE_LIMITER",
    "Api",
    "RestRateLimiter",
    "Route",
    "add_rest_routes",
    "build_document",
    "sign_request",
    "signed_headers",
]
