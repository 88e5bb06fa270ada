"""Arbitrage: exact amounts from depth and profit after fees, publication and withdrawal.

Worked example (demo LUXURY001/XRP on xrpl and flare: tick 0.01 XRP, lot 0.01 LUXURY001,
taker fee 0.2 % on both; 1 LUXURY001 = 100 base units, 1 XRP = 1e6 units):

  xrpl asks:  1000.00 x 50, 1005.00 x 100, 1012.00 x 200
  flare bids: 1015.00 x 80, 1010.00 x 100, 1000.00 x 500

  per LUXURY001: buy cost = ask x 1.002, sell proceeds = bid x 0.998
  1000 -> 1015: 1012.97 - 1002.00  = 10.97 x 50 = 548.50  (flare 1015 has 30 left)
  1005 -> 1015: 1012.97 - 1007.01  =  5.96 x 30 = 178.80  (xrpl 1005 has 70 left)
  1005 -> 1010: 1007.98 - 1007.01  =  0.97 x 70 =  67.90  (flare 1010 has 30 left)
  1012 -> 1010: 1007.98 - 1014.024 < 0: stop
  max amount 150 LUXURY001, profit 795.20 XRP
  gross spread (1015 - 1000) / 1000 = 1.5 % = 15000 ppm
  net spread 10.97 / 1002 = 1.0948 % -> 10948 ppm (rounded down)
"""

from __future__ import annotations

from openpit.alerts import ArbitrageOpportunity, ArbitrageWithdrawn, Confidence, detect
from openpit.alerts.arbitrage import ArbitrageService, min_amount_units
from openpit.alerts.settings import ArbitrageSettings
from openpit.core.commands import PlaceOrder
from openpit.core.enums import OrderType, Side, TimeInForce
from tests.alerts.helpers import CONFIG, T0, Harness, limit, px, qty

XRPL = CONFIG.instruments["LUXURY001-XRP-XRPL"]
FLARE = CONFIG.instruments["LUXURY001-XRP-FLARE"]
ASKS = [(100_000, 5_000), (100_500, 10_000), (101_200, 20_000)]  # ticks, lots
BIDS = [(101_500, 8_000), (101_000, 10_000), (100_000, 50_000)]


def test_arbitrage_detect_constructed_books_exact_amounts_and_profit() -> None:
    q = detect(XRPL, ASKS, FLARE, BIDS, min_spread_ppm=1_000, min_amount=1)
    assert q is not None
    assert (q.buy_price, q.sell_price) == (100_000, 101_500)
    assert q.spread_ppm == 15_000
    assert q.net_spread_ppm == 10_948
    assert q.max_amount == 15_000  # 150.00 LUXURY001
    assert q.estimated_profit == 795_200_000  # 795.20 XRP
    assert q.min_amount == 1


def test_arbitrage_detect_spread_eaten_by_fees_finds_nothing() -> None:
    # 1003 bid vs 1000 ask: 1003 x 0.998 = 1000.994 < 1000 x 1.002 = 1002
    assert (
        detect(XRPL, [(100_000, 100)], FLARE, [(100_300, 100)], min_spread_ppm=0, min_amount=1)
        is None
    )


def test_arbitrage_detect_below_min_spread_finds_nothing() -> None:
    # net 10948 ppm is not above a 2 % minimum
    assert detect(XRPL, ASKS, FLARE, BIDS, min_spread_ppm=20_000, min_amount=1) is None


def test_arbitrage_detect_depth_below_min_amount_finds_nothing() -> None:
    assert detect(XRPL, ASKS, FLARE, BIDS, min_spread_ppm=0, min_amount=15_001) is None


def test_arbitrage_min_amount_configured_above_instrument_min_qty() -> None:
    assert min_amount_units(XRPL, FLARE) == 1
    assert min_amount_units(XRPL, FLARE, 250) == 250


def test_arbitrage_service_opportunity_then_closed_withdraws() -> None:
    svc = ArbitrageService(CONFIG.instruments, ArbitrageSettings(persistence_ms=5_000))
    assert svc.listings["LUXURY001/XRP"] == [XRPL, FLARE]
    books = {XRPL.id: ([(99_000, 100)], ASKS), FLARE.id: (BIDS, [(102_000, 100)])}
    [opp] = svc.evaluate("LUXURY001/XRP", books, T0)
    assert isinstance(opp, ArbitrageOpportunity)
    assert (opp.buy_venue, opp.sell_venue, opp.base, opp.quote) == (
        "xrpl",
        "flare",
        "LUXURY001",
        "XRP",
    )
    assert opp.expires_at == T0 + 600_000
    assert opp.confidence is Confidence.MEDIUM  # deep, not yet persistent
    assert svc.evaluate("LUXURY001/XRP", books, T0 + 1_000) == []  # unchanged: silent
    assert svc.due(T0 + 5_000) == {"LUXURY001/XRP"}
    [again] = svc.evaluate("LUXURY001/XRP", books, T0 + 5_000)
    assert isinstance(again, ArbitrageOpportunity)
    assert (again.id, again.confidence) == (opp.id, Confidence.HIGH)
    closed = {XRPL.id: ([(99_000, 100)], [(101_600, 100)]), FLARE.id: books[FLARE.id]}
    assert svc.evaluate("LUXURY001/XRP", closed, T0 + 6_000) == [
        ArbitrageWithdrawn(ts=T0 + 6_000, id=opp.id, symbol="LUXURY001/XRP", reason="closed")
    ]


def test_arbitrage_real_venues_books_publish_exact_opportunity_and_withdraw() -> None:
    h = Harness()
    lux = "LUXURY001-XRP-XRPL"
    fl = "LUXURY001-XRP-FLARE"
    for price, amount in (("1000", "50"), ("1005", "100"), ("1012", "200")):
        assert h.run(limit("bob", Side.SELL, price, amount, lux), T0 + 1).ok
    for price, amount in (("1015", "80"), ("1010", "100"), ("1000", "500")):
        assert h.run(limit("alice", Side.BUY, price, amount, fl), T0 + 2).ok
    opps = h.of(ArbitrageOpportunity)
    assert len({o.id for o in opps}) == 1  # one opportunity, refined as the books grew
    last = opps[-1]
    assert (last.buy_instrument, last.sell_instrument) == (lux, fl)
    assert (last.buy_price, last.sell_price) == (px("1000", lux), px("1015", fl))
    assert (last.max_amount, last.estimated_profit) == (15_000, 795_200_000)
    assert (last.spread_ppm, last.net_spread_ppm, last.min_amount) == (15_000, 10_948, 1)
    # someone sells into flare's two best bids: best bid 1000 = xrpl's best ask, closed
    sweep = PlaceOrder(
        user="demo",
        instrument=fl,
        side=Side.SELL,
        type=OrderType.MARKET,
        qty=qty("180", fl),
        tif=TimeInForce.IOC,
    )
    assert h.run(sweep, T0 + 3).ok
    assert h.of(ArbitrageWithdrawn) == [
        ArbitrageWithdrawn(ts=T0 + 3, id=last.id, symbol="LUXURY001/XRP", reason="closed")
    ]
    assert h.services.arbitrage_snapshot() == []
