"""The dashboard in a real browser (Debian's chromium driven by Playwright): it loads,
lists instruments, and shows the live order book and trades updating over the flat
WebSocket dialect while the simulator trades.

Skipped only when /usr/bin/chromium is missing and OPENPIT_REQUIRE_BROWSER is unset
(CI sets it, so CI never skips silently). Never runs ``playwright install``.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from openpit.config import load_demo_config
from openpit.server.main import run_server

CHROMIUM = Path("/usr/bin/chromium")
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
]

if not CHROMIUM.exists() and not os.environ.get("OPENPIT_REQUIRE_BROWSER"):
    pytest.skip("no /usr/bin/chromium (apt-get install chromium)", allow_module_level=True)


@pytest.fixture
def venue_url(tmp_path: Path) -> Iterator[str]:
    loop = asyncio.new_event_loop()
    stop = asyncio.Event()
    urls: dict[str, str] = {}
    started = threading.Event()
    args = argparse.Namespace(
        host="127.0.0.1", port=0, data_dir=str(tmp_path), fsync="off",
        no_simulator=False, seed=3,
    )  # fmt: skip

    async def main() -> None:
        ready: asyncio.Future[dict[str, str]] = loop.create_future()
        ready.add_done_callback(lambda f: (urls.update(f.result()), started.set()))
        await run_server(load_demo_config(), args, stop, ready)

    thread = threading.Thread(target=lambda: loop.run_until_complete(main()), daemon=True)
    thread.start()
    assert started.wait(60)
    try:
        yield urls["health"].rsplit("/", 1)[0]
    finally:
        loop.call_soon_threadsafe(stop.set)
        thread.join(30)
        loop.close()


def test_dashboard_in_chromium_shows_live_book_and_trades(venue_url: str) -> None:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=ARGS, headless=True)
        try:
            page = browser.new_page()
            errors: list[str] = []
            page.on("pageerror", lambda exc: errors.append(str(exc)))
            missing: list[str] = []  # every asset the page loads exists (favicon included)
            page.on("response", lambda r: missing.append(r.url) if r.status >= 400 else None)
            page.goto(venue_url + "/?symbol=BTCUSDT")
            page.wait_for_selector("#instruments tbody tr[data-id='BTCUSDT']", timeout=30_000)
            assert page.locator("#instruments tbody tr").count() >= 5
            page.wait_for_selector("#book tbody tr", timeout=30_000)
            page.wait_for_function(
                "document.querySelector('#conn').textContent === 'live'", timeout=30_000
            )
            first = int(page.get_attribute("#book", "data-updates") or "0")
            page.wait_for_function(
                f"Number(document.querySelector('#book').dataset.updates) > {first}",
                timeout=60_000,
            )
            page.wait_for_function(
                "Number(document.querySelector('#trades').dataset.count) > 0", timeout=60_000
            )
            seen = int(page.get_attribute("#trades", "data-count") or "0")
            page.wait_for_function(
                f"Number(document.querySelector('#trades').dataset.count) > {seen}",
                timeout=60_000,
            )
            bid = page.locator("#book tbody tr").first.locator("td.bid").inner_text()
            assert float(bid) > 0
            page.wait_for_selector("#venues li", timeout=30_000)
            assert "binance" in page.locator("#venues").inner_text()
            assert page.locator("a[href='/api/v1/docs']").count() == 1
            assert errors == []
            assert missing == []
        finally:
            browser.close()
