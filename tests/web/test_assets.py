"""The dashboard's assets over real HTTP: every asset the page names answers 200."""

from __future__ import annotations

import asyncio
import re

import aiohttp
from aiohttp import web

from openpit.web import add_web_routes, dashboard


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
