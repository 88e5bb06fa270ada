"""The dashboard: a trader's screen served at ``/`` (plain ES modules, no build step, no CDN).

The page (``static/index.html`` + ``static/js/*.js``) reads instruments, tickers,
candles, orders, fills, balances and positions from the REST API (``/api/v1``, signed
requests computed in the browser with WebCrypto), streams the book, trades and private
updates over the typed dialect (``/ws?dialect=typed``, decimal strings) and live
candles over the envelope dialect's public ``/ws/market-data``. The chart library is
TradingView's ``lightweight-charts`` (``static/vendor/``, Apache-2.0, LICENSE beside it).

Invariants:
- Every asset is served from the package; nothing is fetched from the internet.
- ``/static/<path>`` serves only files under ``static/`` with a known suffix: no
  ``..``, no hidden segment, no directory; anything else is 404.
- ``/web/demo-key`` offers the demo API key and secret (what ``openpit serve`` prints)
  to loopback clients only (127.0.0.0/8, ::1): any other peer gets 404, and so does a
  request carrying a proxy header (``Forwarded``, ``X-Forwarded-For``, ``X-Real-IP``: a
  reverse proxy on the same host would otherwise make every client look local) or a
  server started without a demo key. The response is never cached.
- ``/favicon.ico`` is the SVG icon, so no page of ours answers 404 for an asset.
"""

from __future__ import annotations

import ipaddress
from importlib import resources

from aiohttp import web

STATIC_PREFIX = "/static"
DEMO_KEY_PATH = "/web/demo-key"
_TYPES = {
    ".html": "text/html",
    ".js": "text/javascript",
    ".css": "text/css",
    ".svg": "image/svg+xml",
}
_PROXY_HEADERS = ("Forwarded", "X-Forwarded-For", "X-Real-IP")
_DEMO_KEY: web.AppKey[tuple[str, str]] = web.AppKey("openpit_web_demo_key", tuple)


def _asset(path: str) -> bytes:
    node = resources.files("openpit.web").joinpath("static")
    for part in path.split("/"):
        node = node.joinpath(part)
    return node.read_bytes()


async def dashboard(request: web.Request) -> web.StreamResponse:
    return web.Response(body=_asset("index.html"), content_type="text/html", charset="utf-8")


async def _static(request: web.Request) -> web.StreamResponse:
    path = request.match_info["path"]
    parts = path.split("/")
    suffix = path[path.rfind(".") :] if "." in parts[-1] else ""
    if suffix not in _TYPES or any(not p or p.startswith(".") for p in parts):
        raise web.HTTPNotFound()
    try:
        body = _asset(path)
    except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
        raise web.HTTPNotFound() from None
    return web.Response(body=body, content_type=_TYPES[suffix], charset="utf-8")


async def _favicon(request: web.Request) -> web.StreamResponse:
    """``/favicon.ico``, asked for by browsers on any page: the same SVG icon."""
    return web.Response(body=_asset("favicon.svg"), content_type="image/svg+xml")


def is_loopback(remote: str | None) -> bool:
    """True for 127.0.0.0/8 and ::1 (also IPv4-mapped); False for anything else."""
    if not remote:
        return False
    try:
        addr = ipaddress.ip_address(remote.split("%", 1)[0])
    except ValueError:
        return False
    if isinstance(addr, ipaddress.IPv6Address) and addr.ipv4_mapped is not None:
        addr = addr.ipv4_mapped
    return addr.is_loopback


async def _demo_key(request: web.Request) -> web.StreamResponse:
    """``{"api_key", "api_secret", "user"}`` of the demo key, to loopback clients only."""
    demo = request.app.get(_DEMO_KEY)
    proxied = any(h in request.headers for h in _PROXY_HEADERS)
    if demo is None or proxied or not is_loopback(request.remote):
        raise web.HTTPNotFound()
    return web.json_response(
        {"api_key": demo[0], "api_secret": demo[1], "user": "demo"},
        headers={"Cache-Control": "no-store"},
    )


def add_web_routes(app: web.Application, demo_key: tuple[str, str] | None = None) -> None:
    """Static assets, the favicon and (with ``demo_key`` = (key id, secret)) the
    loopback-only demo key endpoint."""
    app.router.add_get(STATIC_PREFIX + "/{path:.+}", _static)
    app.router.add_get("/favicon.ico", _favicon)
    if demo_key is not None:
        app[_DEMO_KEY] = demo_key
        app.router.add_get(DEMO_KEY_PATH, _demo_key)


__all__ = ["DEMO_KEY_PATH", "add_web_routes", "dashboard", "is_loopback"]
