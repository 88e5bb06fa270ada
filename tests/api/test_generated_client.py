"""A client generated from our OpenAPI document by openapi-python-client trades as written.

The generator runs on the document the server serves (no network: the tool is a dev
dependency), the generated package is imported from a temporary directory, and it
places, reads and cancels an order on a real server over HTTP. Requests are signed in
an httpx request hook, as a user of the generated client would do.
"""

from __future__ import annotations

import asyncio
import importlib
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from openpit.api import signed_headers
from tests.api.helpers import RestEnv, rest_env

PACKAGE = "openpit_generated_client"


def _generate(document: dict[str, Any], where: Path) -> Path:
    tool = shutil.which("openapi-python-client", path=str(Path(sys.executable).parent))
    if tool is None:
        pytest.fail("openapi-python-client is a dev dependency: `make test` installs it")
    spec = where / "openapi.json"
    spec.write_text(json.dumps(document))
    out = where / PACKAGE
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"}
    done = subprocess.run(
        [tool, "generate", "--path", str(spec), "--output-path", str(out), "--meta", "none"],
        capture_output=True,
        text=True,
        timeout=180,
        env=env,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "Warning" not in done.stdout + done.stderr, done.stdout + done.stderr
    return out


def test_generated_python_client_places_and_cancels_an_order(tmp_path: Path) -> None:
    async def scenario(env: RestEnv) -> None:
        _, document = await env.call("GET", "/api/v1/openapi.json")
        await asyncio.to_thread(_generate, document, tmp_path)
        sys.path.insert(0, str(tmp_path))
        try:
            client_mod = importlib.import_module(PACKAGE)
            create_order = importlib.import_module(f"{PACKAGE}.api.orders.create_order")
            get_order = importlib.import_module(f"{PACKAGE}.api.orders.get_order")
            cancel_order = importlib.import_module(f"{PACKAGE}.api.orders.cancel_order")
            models = importlib.import_module(f"{PACKAGE}.models")
        finally:
            sys.path.remove(str(tmp_path))
        creds = env.keys["alice"]
        stamps = [int(time.time() * 1000)]

        async def sign(request: httpx.Request) -> None:
            stamps.append(max(stamps[-1] + 1, int(time.time() * 1000)))
            path = request.url.raw_path.decode()
            request.headers.update(
                signed_headers(
                    creds.api_key,
                    creds.api_secret,
                    stamps[-1],
                    request.method,
                    path,
                    request.content,
                )
            )

        client = client_mod.Client(
            base_url=env.base, httpx_args={"event_hooks": {"request": [sign]}}
        )
        async with client as c:
            body = models.OrderRequest(
                symbol="BTCUSDT",
                side=models.Side.BUY,
                amount="0.01",
                type_=models.OrderType.LIMIT,
                price="30000.00",
                client_order_id="generated-1",
            )
            placed = await create_order.asyncio_detailed(client=c, body=body)
            assert placed.status_code == 201, placed.content
            order = placed.parsed
            assert isinstance(order, models.OrderReply)
            assert order.status == models.OrderStatus.NEW and order.price == "30000.00"
            seen = await get_order.asyncio(client=c, order_id=int(order.id))
            assert isinstance(seen, models.OrderReply) and seen.client_order_id == "generated-1"
            gone = await cancel_order.asyncio_detailed(client=c, order_id=int(order.id))
            assert gone.status_code == 200, gone.content
            assert gone.parsed.status == models.OrderStatus.CANCELLED

    async def main() -> None:
        async with rest_env(tmp_path) as env:
            await scenario(env)

    asyncio.run(asyncio.wait_for(main(), 240))
