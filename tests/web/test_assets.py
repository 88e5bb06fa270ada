"""The dashboard's assets over real HTTP: every asset the page names answers 200."""

from __future__ import annotations

import asyncio
import re

import aiohttp
from aiohttp import web
from yarl import URL

from openpit.web import DEMO_KEY_PATH, add_web_routes, dashboard, is_loopback


async def _serve() -> tuple[web.AppRunner, str]:
    app = web.Application()
    app.router.add_get("/", dashboard)
    add_web_routes(app)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    return runner, f"http://127.0.0.1:{port}"


def test_dashboard_assets_and_favicon_are_served_with_their_types() -> None:
    async def main() -> None:
        runner, base = await _serve()
        try:
            async with aiohttp.ClientSession() as http:
                async with http.get(base + "/") as r:
                    page = await r.text()
                named = re.findall(r'(?:href|src)="(/static/[^"]+)"', page)
                assert "/static/favicon.svg" in named
                for path in [*named, "/favicon.ico"]:
                    async with http.get(base + path) as r:
                        assert r.status == 200, path
                        body = await r.read()
                        if path.endswith((".svg", ".ico")):
                            assert r.content_type == "image/svg+xml", path
                            assert body.startswith(b"<svg"), path
        finally:
            await runner.cleanup()

    asyncio.run(asyncio.wait_for(main(), 30))


def test_static_serves_nested_modules_and_refuses_traversal_and_unknown_suffixes() -> None:
    async def main() -> None:
        runner, base = await _serve()
        try:
            async with aiohttp.ClientSession() as http:
                for path in ["/static/js/app.js", "/static/js/format.js"]:
                    async with http.get(base + path) as r:
                        assert (r.status, r.content_type) == (200, "text/javascript"), path
                vendor = "/static/vendor/lightweight-charts.standalone.production.js"
                async with http.get(base + vendor) as r:
                    assert r.status == 200 and b"Lightweight Charts" in await r.read()
                for bad in ["/static/js/", "/static/.hidden.js", "/static/js/%2e%2e/index.html",
                            "/static/vendor/lightweight-charts.LICENSE", "/static/nope.js",
                            "/web/demo-key"]:  # fmt: skip
                    async with http.get(URL(base + bad, encoded=True)) as r:
                        assert r.status == 404, bad
        finally:
            await runner.cleanup()

    asyncio.run(asyncio.wait_for(main(), 30))


def test_demo_key_is_offered_to_loopback_clients_only() -> None:
    assert is_loopback("127.0.0.1") and is_loopback("::1") and is_loopback("::ffff:127.0.0.2")
    assert not is_loopback("10.0.0.5") and not is_loopback("") and not is_loopback(None)
    assert not is_loopback("not-an-address")

    async def main() -> None:
        app = web.Application()
        add_web_routes(app, demo_key=("k_demo", "s3cret"))
        runner = web.AppRunner(app)
        await runner.setup()
        await web.TCPSite(runner, "127.0.0.1", 0).start()
        base = f"http://127.0.0.1:{runner.addresses[0][1]}"
        try:
            async with aiohttp.ClientSession() as http:
                async with http.get(base + DEMO_KEY_PATH) as r:
                    assert r.status == 200
                    assert r.headers["Cache-Control"] == "no-store"
                    assert await r.json() == {
                        "api_key": "k_demo", "api_secret": "s3cret", "user": "demo"
                    }  # fmt: skip
                for header in ["X-Forwarded-For", "Forwarded", "X-Real-IP"]:  # behind a proxy
                    async with http.get(base + DEMO_KEY_PATH, headers={header: "1.2.3.4"}) as r:
                        assert r.status == 404, header
        finally:
            await runner.cleanup()

    asyncio.run(asyncio.wait_for(main(), 30))
