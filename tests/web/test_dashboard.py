"""The dashboard in a real browser: Debian's chromium driven by Playwright against a real
``openpit serve`` subprocess with the simulator on (one server and one page per module).

What a trader does, in order: the page fills in (book, trades, candles, a live price on
every listing), a key created by the test logs in, a limit order is placed, seen in open
orders and in the book, modified and cancelled; a marketable order fills and moves the
balance and the position; a price off the tick is refused in the page; an order the venue
refuses shows the venue's reason; the server restarts and the page reconnects and says
"resynced". Screenshots go to tests/artifacts/ (ignored by git).

Skipped only when /usr/bin/chromium is missing and OPENPIT_REQUIRE_BROWSER is unset (CI
sets it). Every wait is on a condition (generous timeouts), never a fixed sleep.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from tests.web.harness import BrowserServer

CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = Path(__file__).resolve().parents[1] / "artifacts"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--no-first-run"]  # fmt: skip
T = 30_000  # ms: generous, the simulator trades several times a second

if not CHROMIUM.exists() and not os.environ.get("OPENPIT_REQUIRE_BROWSER"):
    pytest.skip("no /usr/bin/chromium (apt-get install chromium)", allow_module_level=True)

from playwright.sync_api import Page, expect, sync_playwright  # noqa: E402


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[BrowserServer]:
    root = tmp_path_factory.mktemp("dashboard")
    srv = BrowserServer(root / "data", root / "serve.log")
    srv.start()
    try:
        yield srv
    finally:
        srv.stop()


@pytest.fixture(scope="module")
def page(server: BrowserServer) -> Iterator[Page]:
    ARTIFACTS.mkdir(exist_ok=True)
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=ARGS, headless=True)
        try:
            pg = browser.new_page(viewport={"width": 1400, "height": 1100})
            errors: list[str] = []
            failed: list[str] = []
            pg.on("pageerror", lambda exc: errors.append(str(exc)))
            pg.on(
                "response",  # a refused order is a 4xx on purpose; nothing else may be
                lambda r: (
                    failed.append(f"{r.status} {r.url}")
                    if r.status >= 400 and "/api/v1/orders" not in r.url
                    else None
                ),
            )
            pg.goto(server.url + "/?symbol=BTCUSDT&venue=binance")
            yield pg
            assert errors == [], errors
            assert failed == [], failed
        finally:
            browser.close()


def shot(page: Page, name: str) -> None:
    page.screenshot(path=str(ARTIFACTS / f"dashboard-{name}.png"), full_page=True)


def attr_grows(page: Page, selector: str, attr: str, above: int = 0) -> None:
    page.wait_for_function(
        "([s, a, n]) => Number(document.querySelector(s).getAttribute(a) || 0) > n",
        arg=[selector, attr, above],
        timeout=T,
    )


def nyse_open() -> bool:
    now = datetime.now(ZoneInfo("America/New_York"))
    minutes = now.hour * 60 + now.minute
    return now.weekday() < 5 and 9 * 60 + 30 <= minutes < 16 * 60


def login(page: Page, server: BrowserServer) -> None:
    if page.locator("#account").is_visible():
        return
    key, secret = server.create_key("alice")  # funded by the demo config
    page.fill("#api-key", key)
    page.fill("#api-secret", secret)
    page.click("#login-form button[type=submit]")
    expect(page.locator("#account")).to_be_visible(timeout=T)
    expect(page.locator("#whoami")).to_contain_text("alice")
    expect(page.locator("#balances tr[data-asset='USDT']")).to_be_visible(timeout=T)


def order_form(page: Page, type_: str, amount: str, price: str = "", side: str = "buy") -> None:
    page.click(f"#o-side button[data-side='{side}']")
    page.select_option("#o-type", type_)
    if price:
        page.fill("#o-price", price)
    page.fill("#o-amount", amount)
    page.click("#o-submit")


def deep_bid(server: BrowserServer) -> Decimal:
    """A price below every resting bid but within the page's 15 levels: it rests."""
    book: Any = server.get("/api/v1/orderbook?symbol=BTCUSDT&exchange=binance&depth=10")
    return Decimal(book["bids"][-1][0]) - Decimal("1.00")


def test_dashboard_page_fills_in_book_trades_candles_and_every_listing(
    page: Page, server: BrowserServer
) -> None:
    expect(page.locator("#title")).to_have_text("BTCUSDT · binance", timeout=T)
    rows = page.locator("#instruments tbody tr")
    expect(rows).to_have_count(8, timeout=T)
    names = rows.locator("td.name").all_inner_texts()
    assert "LUXURY001/XRP · xrpl" in names and "LUXURY001/XRP · flare" in names
    assert not any("-XRP-" in n for n in names)  # ids never shown
    expect(page.locator("#conn")).to_have_text("live", timeout=T)
    expect(page.locator("#book-bids tr").first).to_be_visible(timeout=T)
    expect(page.locator("#book-asks tr").first).to_be_visible(timeout=T)
    attr_grows(page, "#book", "data-updates", 1)  # live, not just the first snapshot
    attr_grows(page, "#trades", "data-count")
    attr_grows(page, "#chart", "data-bars")  # history from REST
    attr_grows(page, "#chart", "data-live")  # then candles from the stream
    expect(page.locator("#book-seq")).to_contain_text("seq ")
    expect(page.locator("#book-crc")).to_contain_text("crc32 ")
    bid = page.locator("#book-bids tr td.price").first.inner_text()
    assert re.fullmatch(r"\d+\.\d{2}", bid), bid  # tick precision, trailing zeros kept
    size = page.locator("#book-bids tr td.num").first.inner_text()
    assert re.fullmatch(r"\d+\.\d{5}", size), size  # lot precision
    markets = [n for n in names if nyse_open() or " · nyse" not in n]
    for name in markets:  # every trading listing shows a live last price
        last = rows.filter(has_text=name).locator("td.last")
        expect(last).to_have_text(re.compile(r"^\d+\.\d{2}$"), timeout=T)
    expect(page.locator("#seq")).to_have_text(re.compile(r"· (1 connection|\d+ connections)$"))
    assert "1 connections" not in page.locator("#seq").inner_text()
    expect(page.locator("#stats")).to_contain_text("24h change")
    shot(page, "market")


def test_dashboard_limit_order_shows_in_open_orders_and_book_then_modify_and_cancel(
    page: Page, server: BrowserServer
) -> None:
    login(page, server)
    price = deep_bid(server)
    order_form(page, "limit", "0.01000", f"{price:.2f}")
    row = page.locator("#open-orders tbody tr")
    expect(row).to_have_count(1, timeout=T)
    expect(row.locator("td.price")).to_have_text(f"{price:.2f}")
    expect(row.locator("td.amount")).to_have_text("0.01000")
    expect(page.locator(f"#book-bids tr.mine[data-price='{price:.2f}']")).to_have_count(
        1, timeout=T
    )
    shot(page, "limit-order")

    moved = price - Decimal("2.00")
    row.locator("button.modify").click()
    row.locator("input.edit-price").fill(f"{moved:.2f}")
    row.locator("input.edit-amount").fill("0.02000")
    row.locator("button.save").click()
    expect(row.locator("td.price")).to_have_text(f"{moved:.2f}", timeout=T)
    expect(row.locator("td.amount")).to_have_text("0.02000")
    expect(page.locator(f"#book-bids tr.mine[data-price='{moved:.2f}']")).to_have_count(
        1, timeout=T
    )
    expect(page.locator(f"#book-bids tr[data-price='{price:.2f}'].mine")).to_have_count(0)

    row.locator("button.cancel").click()
    expect(row).to_have_count(0, timeout=T)
    expect(page.locator("#book-bids tr.mine")).to_have_count(0, timeout=T)
    expect(page.locator("#toasts")).to_contain_text("cancelled")


def test_dashboard_marketable_order_fills_and_moves_balance_and_position(
    page: Page, server: BrowserServer
) -> None:
    login(page, server)
    btc = page.locator("#balances tr[data-asset='BTC'] td.total")
    before = btc.inner_text()
    order_form(page, "market", "0.01000")
    expect(page.locator("#fills tbody tr").first).to_be_visible(timeout=T)
    expect(page.locator("#fills tbody tr").first).to_contain_text("BTCUSDT · binance")
    expect(btc).not_to_have_text(before, timeout=T)
    assert Decimal(btc.inner_text()) == Decimal(before) + Decimal("0.01")
    position = page.locator("#positions tr[data-symbol='BTCUSDT']")
    expect(position).to_be_visible(timeout=T)
    expect(position.locator("td.amount")).to_have_text("0.01000")
    expect(position.locator("td.pnl")).to_have_text(re.compile(r"^-?\d+\.\d+$"))
    expect(page.locator("#toasts")).to_contain_text("filled")
    shot(page, "filled")


def test_dashboard_price_off_the_tick_is_refused_in_the_page(
    page: Page, server: BrowserServer
) -> None:
    login(page, server)
    order_form(page, "limit", "0.01000", "42000.001")
    error = page.locator("#order-error")
    expect(error).to_have_text(
        "price 42000.001 is not a multiple of the tick size 0.01 for BTCUSDT", timeout=T
    )
    assert error.get_attribute("data-source") == "client"
    order_form(page, "limit", "0.000001", "42000.00")
    expect(error).to_contain_text("not a multiple of the lot size 0.00001")
    expect(page.locator("#open-orders tbody tr")).to_have_count(0)


def test_dashboard_venue_rejection_shows_the_venues_reason(
    page: Page, server: BrowserServer
) -> None:
    login(page, server)
    order_form(page, "limit", "1000.00000", f"{deep_bid(server):.2f}")
    error = page.locator("#order-error")
    expect(error).to_contain_text("insufficient_funds", timeout=T)
    expect(error).to_have_text(
        re.compile(r"rejected: needs \d+(\.\d+)? USDT, \d+(\.\d+)? USDT available")
    )
    assert error.get_attribute("data-source") == "venue"
    shot(page, "rejected")


def test_dashboard_reconnects_and_resyncs_after_a_server_restart(
    page: Page, server: BrowserServer
) -> None:
    login(page, server)
    server.restart()  # same data dir, same port
    expect(page.locator("#conn")).to_have_text("live · resynced", timeout=60_000)
    expect(page.locator("#book-sync")).to_have_text("resynced")
    updates = int(page.get_attribute("#book", "data-updates") or "0")
    trades = int(page.get_attribute("#trades", "data-count") or "0")
    attr_grows(page, "#book", "data-updates", updates)
    attr_grows(page, "#trades", "data-count", trades)
    expect(page.locator("#fills tbody tr").first).to_be_visible(timeout=T)  # refetched
    expect(page.locator("#toasts")).to_contain_text("resynced")
    shot(page, "resynced")


def test_dashboard_stop_limit_order_waits_in_open_orders_and_cancels(
    page: Page, server: BrowserServer
) -> None:
    login(page, server)
    page.click("#o-side button[data-side='sell']")
    page.select_option("#o-type", "stop_limit")
    expect(page.locator("#o-stop-row")).to_be_visible()
    expect(page.locator("#o-post")).to_be_disabled()
    page.fill("#o-stop", "30000.00")  # far below the market: it does not trigger
    page.fill("#o-price", "29990.00")
    page.fill("#o-amount", "0.01000")
    page.click("#o-submit")
    row = page.locator("#open-orders tbody tr")
    expect(row).to_have_count(1, timeout=T)
    expect(row).to_contain_text("stop_limit")
    expect(row).to_contain_text("sell")
    row.locator("button.cancel").click()
    expect(row).to_have_count(0, timeout=T)
    page.click("#o-side button[data-side='buy']")


def test_dashboard_formats_decimal_strings_without_floats(page: Page) -> None:
    got = page.evaluate(
        """() => import('/static/js/format.js').then((f) => [
            f.fixed('42000', 2), f.fixed('0.1', 5), f.fixed(null, 2),
            f.decimalsOf('0.00001'), f.decimalsOf('1'), f.decimalsOf('0.010'),
            f.isMultiple('42000.001', '0.01'), f.isMultiple('0.30', '0.1'),
            f.isMultiple('123456789012345678.91', '0.01'),
            f.compare('0.10', '0.1'), f.compare('9.99', '10'),
            f.percentChange('101.50', '100.00'), f.percentChange('99', '100.00'),
            f.percentChange('1', '0'), f.fromUnits(-5n, 3), f.plural(1, 'connection'),
            f.plural(2, 'connection')])"""
    )
    assert got == [
        "42000.00", "0.10000", "–", 5, 0, 2, False, True, True, 0, -1,
        "+1.50%", "-1.00%", None, "-0.005", "1 connection", "2 connections",
    ]  # fmt: skip
