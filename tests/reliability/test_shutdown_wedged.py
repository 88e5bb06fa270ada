"""SIGTERM stops a real ``openpit serve`` even when a worker is wedged, and ``/healthz``
names the wedged worker first.

The child process's history store blocks forever on the first order update (a wedged
disk); orders are still acknowledged (history is a projection), ``/healthz`` turns 503
naming ``history`` as stuck, and SIGTERM ends the process within the harness's timeout.
"""

from __future__ import annotations

import asyncio
import json
import time
from pathlib import Path

import aiohttp

from tests.durability.server_harness import create_keys
from tests.gateway.helpers import run_async
from tests.reliability.test_poison_server import _flat, _healthz, _server

WEDGE_HISTORY = """
import threading
from openpit.core.events import OrderUpdate
from openpit.store import sqlite as _sqlite
_original = _sqlite.SqliteStore.write_history
def _wedged(self, events):
    events = list(events)
    if any(isinstance(e, OrderUpdate) for e in events):
        threading.Event().wait()  # never returns: a wedged disk
    return _original(self, events)
_sqlite.SqliteStore.write_history = _wedged
"""


@run_async
async def test_sigterm_stops_server_with_a_wedged_history_writer(tmp_path: Path) -> None:
    server = _server(
        tmp_path,
        preamble=WEDGE_HISTORY,
        server_extra="stuck_after_seconds = 0.5\nshutdown_timeout_seconds = 5\n",
    )
    keys = create_keys(server.data_dir)
    await server.start()
    try:
        async with aiohttp.ClientSession() as http:
            ws = await _flat(http, server, keys["demo"])
            ack = await ws.ask(
                json.dumps(
                    {
                        "action": "submit_order",
                        "exchange": "binance",
                        "symbol": "BTCUSDT",
                        "side": "buy",
                        "type": "limit",
                        "amount": 0.001,
                        "price": 1000,
                    }
                )
            )
            assert ack.get("event") == "order_accepted", ack  # publication goes on
            deadline = time.monotonic() + 30
            while True:  # wait for the condition (bounded), never assert on time
                status, body = await _healthz(http, server)
                if status == 503:
                    break
                assert time.monotonic() < deadline, body
                await asyncio.sleep(0.1)
            assert body["status"] == "unhealthy"
            assert {"component": "history", "state": "stuck"}.items() <= body["unhealthy"][
                0
            ].items()
            await ws.ws.close()
        code = await server.stop(timeout=30)  # raises if the process is still there
        assert code == 0, server.log_tail()  # the graceful path skipped the wedged writer
    finally:
        server.ensure_dead()


WEDGE_LOOP_ON_CLOSE = """
import time
from openpit.durability import manager as _manager
async def _wedged_close(self):
    time.sleep(3600)  # blocks the event loop itself: no timeout on the loop can help
_manager.Durability.close = _wedged_close
"""


@run_async
async def test_sigterm_stops_server_whose_event_loop_is_wedged_in_shutdown(
    tmp_path: Path,
) -> None:
    server = _server(
        tmp_path, preamble=WEDGE_LOOP_ON_CLOSE, server_extra="shutdown_timeout_seconds = 3\n"
    )
    await server.start()
    try:
        code = await server.stop(timeout=30)  # the watchdog thread ends the process
        assert code == 1, server.log_tail()
        assert "graceful shutdown did not finish within 3.0 s" in server.log_text()
    finally:
        server.ensure_dead()
