"""The REST API under ``/api/v1`` on the gateway's aiohttp app (same port, same keys).

``add_rest_routes(app, service, marketdata, store, ...)`` registers every endpoint,
``/api/v1/openapi.json`` and the ``/api/v1/docs`` page; see docs/rest.md.
"""

from __future__ import annotations

from collections.abc import Callable

from aiohttp import web

from openpit.alerts import RiskServices
from openpit.api.docs_page import render_docs
from openpit.api.handlers import AlertPublisher, Api, TokenIssuer, wall_clock_ms
from openpit.api.openapi import build_document
from openpit.api.routing import PREFIX, Route, error_middleware, json_response, wrap
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
from openpit.server.service import VenueService
from openpit.store import HistoryWriter, Store

API = web.AppKey("openpit.api", Api)


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
) -> Api:
    """Register the REST API on ``app`` (a gateway app from ``create_app``).

    ``history``: read-your-writes for order history and fills (the writer is drained
    before those queries). ``risk``: the ``RiskServices`` wired to the venue (alerts
    and notifications); ``publish_alerts`` delivers alert events to WebSocket clients.
    ``issue_token(user, permissions, ttl_s, now_ms)``: JWTs for the typed dialect.
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
    window = app[HUB].settings.signature_window_ms
    verifier = RequestVerifier(store, clock_ms, window)
    routes = api.routes()
    for route in routes:
        app.router.add_route(route.method, route.aiohttp_path, wrap(route, verifier))
    document = build_document(routes)
    page = render_docs(document)

    async def openapi(request: web.Request) -> web.Response:
        return json_response(document)

    async def docs(request: web.Request) -> web.Response:
        return web.Response(text=page, content_type="text/html", charset="utf-8")

    app.router.add_get(PREFIX + "/openapi.json", openapi)
    app.router.add_get(PREFIX + "/docs", docs)
    app.middlewares.append(error_middleware)
    app[API] = api
    return api


__all__ = [
    "API",
    "HEADER_KEY",
    "HEADER_SIGNATURE",
    "HEADER_TIMESTAMP",
    "PREFIX",
    "Api",
    "Route",
    "add_rest_routes",
    "build_document",
    "sign_request",
    "signed_headers",
]
