"""``/healthz`` names the component that is dead, stuck or failing (HTTP 503), and keeps
its plain ``ok`` body (HTTP 200) while every component is healthy.

A real gateway on 127.0.0.1:0 with a real ``HistoryWriter`` whose store blocks or ends
the writer thread; the tests synchronise on the store having been entered, not on time.
"""

from __future__ import annotations

import threading
from collections.abc import AsyncIterator, Iterable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import aiohttp

from openpit.config import load_demo_config
from openpit.core.events import Event
from openpit.core.health import Health, HealthBoard
from openpit.gateway import InMemoryKeyStore, create_app, start_gateway
from openpit.gateway.app import HEALTH
from openpit.marketdata import MarketData
from openpit.store import HistoryWriter, SqliteStore
from openpit.venue import Venue
from openpit.venue.service import VenueService
from tests.gateway.helpers import FAST, run_async
from tests.store.test_history_writer import FatalStore, _updates


@asynccontextmanager
async def gateway_with(board: HealthBoard) -> AsyncIterator[str]:
    config = load_demo_config()
    service = VenueService(config, Venue(config))
    app = create_app(service, MarketData(config), InMemoryKeyStore(), FAST)
    app[HEALTH] = board
    gw = await start_gateway(app, "127.0.0.1", 0)
    try:
        yield f"http://127.0.0.1:{gw.port}/healthz"
    finally:
        await gw.stop()


async def _get(url: str) -> tuple[int, dict[str, Any]]:
    async with aiohttp.ClientSession() as http, http.get(url) as resp:
        return resp.status, await resp.json()


class BlockingStore(SqliteStore):
    """A store whose writes block until released (a wedged disk)."""

    def __init__(self, path: Path) -> None:
        super().__init__(path)
        self.entered = threading.Event()
        self.release = threading.Event()

    def write_history(self, events: Iterable[Event]):  # type: ignore[no-untyped-def]
        self.entered.set()
        self.release.wait()
        return super().write_history(events)


@run_async
async def test_healthz_all_healthy_is_200_with_the_plain_ok_body(tmp_path: Path) -> None:
    writer = HistoryWriter(tmp_path / "h.sqlite3")
    try:
        async with gateway_with(HealthBoard([writer.health])) as url:
            status, body = await _get(url)
        assert status == 200
        assert body == {"status": "ok", "connections": 0, "dialects": body["dialects"]}
    finally:
        writer.close()


@run_async
async def test_healthz_history_writer_stuck_is_503_naming_history(tmp_path: Path) -> None:
    store = BlockingStore(tmp_path / "h.sqlite3")
    writer = HistoryWriter(store.path, store=store)
    writer.health.stuck_after_s = 0.0  # any unit of work still running counts as stuck
    try:
        async with gateway_with(HealthBoard([writer.health, Health("journal")])) as url:
            writer.submit(_updates(1))
            assert store.entered.wait(10)
            status, body = await _get(url)
            assert status == 503 and body["status"] == "unhealthy", body
            assert [u["component"] for u in body["unhealthy"]] == ["history"]
            assert body["unhealthy"][0]["state"] == "stuck"
            store.release.set()
            writer.flush(timeout=30)
            status, body = await _get(url)
            assert status == 200 and body["status"] == "ok", body
    finally:
        store.release.set()
        writer.close()


@run_async
async def test_healthz_history_writer_dead_is_503_naming_history(tmp_path: Path) -> None:
    store = FatalStore(tmp_path / "h.sqlite3")
    writer = HistoryWriter(store.path, store=store)
    writer.submit(_updates(1))
    writer._thread.join(30)
    async with gateway_with(HealthBoard([writer.health])) as url:
        status, body = await _get(url)
    assert status == 503
    (problem,) = body["unhealthy"]
    assert problem["component"] == "history" and problem["state"] == "dead"
    assert "SystemExit" in problem["detail"]
    writer.close()
