"""``openpit serve`` assembled in-process: real sockets, a real data directory, a restart."""

from __future__ import annotations

import argparse
import asyncio
import json
from pathlib import Path

import aiohttp

from openpit.config import load_demo_config
from openpit.server.main import run_server


def _args(data_dir: Path, simulator: bool) -> argparse.Namespace:
    return argparse.Namespace(
        host="127.0.0.1",
        port=0,
        data_dir=str(data_dir),
        fsync="batch",
        no_simulator=not simulator,
        seed=7,
    )


async def _start(data_dir: Path, simulator: bool) -> tuple[asyncio.Event, asyncio.Task[int], str]:
    stop = asyncio.Event()
    ready: asyncio.Future[dict[str, str]] = asyncio.get_running_loop().create_future()
    task = asyncio.create_task(
        run_server(load_demo_config(), _args(data_dir, simulator), stop, ready)
    )
    urls = await asyncio.wait_for(ready, 30)
    return stop, task, urls["health"].rsplit("/", 1)[0].replace("http://", "")


async def _trades_seen(base: str) -> list[dict[str, object]]:
    async with aiohttp.ClientSession() as http, http.ws_connect(f"ws://{base}/ws") as ws:
        await ws.send_str(
            json.dumps(
                {
                    "action": "subscribe",
                    "channels": ["trades"],
                    "params": {"exchange": "binance", "symbols": ["BTCUSDT"]},
                }
            )
        )
        seen: list[dict[str, object]] = []
        while len(seen) < 3:
            msg = json.loads((await asyncio.wait_for(ws.receive(), 20)).data)
            if msg.get("channel") == "trades":
                seen.append(msg)
        return seen


def test_serve_simulator_trades_reach_flat_client_and_restart_continues(tmp_path: Path) -> None:
    async def scenario() -> None:
        stop, task, base = await _start(tmp_path, simulator=True)
        async with aiohttp.ClientSession() as http:
            async with http.get(f"http://{base}/healthz") as resp:
                assert (await resp.json())["status"] == "ok"
        trades = await _trades_seen(base)
        assert all(t["symbol"] == "BTCUSDT" for t in trades)
        stop.set()
        assert await task == 0

        stop, task, base = await _start(tmp_path, simulator=False)
        async with aiohttp.ClientSession() as http:
            async with http.get(f"http://{base}/healthz") as resp:
                assert resp.status == 200
        stop.set()
        assert await task == 0

    asyncio.run(scenario())
    assert any((tmp_path / "journal").iterdir())
