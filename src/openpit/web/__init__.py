"""The dashboard: one static page (HTML + vanilla JS, no build step, no CDN) served at ``/``.

It reads instruments and venue status from the REST API and shows a live order book
and trades for one instrument over the flat WebSocket dialect (``/ws?dialect=flat``).
``add_web_routes(app)`` serves the assets under ``/static/`` and the icon at
``/favicon.ico`` (no page of ours answers 404 for an asset it names); ``dashboard`` is
the gateway's ``root_handler``.
"""

from __future__ import annotations

from importlib import resources

from aiohttp import web

STATIC_PREFIX = "/static"
_TYPES = {
    ".html": "text/html",
    ".js": "text/javascript",
    ".css": "text/css",
    ".svg": "image/svg+xml",
}


def _asset(name: str) -> bytes:
    return resources.files("openpit.web").joinpath("static", name).read_bytes()


async def dashboard(request: web.Request) -> web.StreamResponse:
    return web.Response(body=_asset("index.html"), content_type="text/html", charset="utf-8")


async def _static(request: web.Request) -> web.StreamResponse:
    name = request.match_info["name"]
    suffix = name[name.rfind(".") :] if "." in name else ""
    if suffix not in _TYPES or "/" in name or name.startswith("."):
        raise web.HTTPNotFound()
    try:
        body = _asset(name)
    except (FileNotFoundError, IsADirectoryError):
        raise web.HTTPNotFound() from None
    return web.Response(body=body, content_type=_TYPES[suffix], charset="utf-8")


async def _favicon(request: web.Request) -> web.StreamResponse:
    """``/favicon.ico``, asked for by browsers on any page: the same SVG icon."""
    return web.Response(body=_asset("favicon.svg"), content_type="image/svg+xml")


def add_web_routes(app: web.Application) -> None:
    app.router.add_get(STATIC_PREFIX + "/{name}", _static)
    app.router.add_get("/favicon.ico", _favicon)


__all__ = ["add_web_routes", "dashboard"]
