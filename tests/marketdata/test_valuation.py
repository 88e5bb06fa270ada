"""Valuation paths: route finding and exact multi-hop valuation (pure, data only)."""

from __future__ import annotations

import tomllib
from decimal import Decimal
from fractions import Fraction

import pytest

from openpit.config import ConfigError
from openpit.config.loader import VenueConfig, load_demo_config, parse_config
from openpit.core.events import Balance
from openpit.marketdata import MarketData
from openpit.marketdata.valuation import ValuationSettings, Valuer
from tests.marketdata._helpers import trade

# A chain: XRP -> LUX (LUXXRP, LUX quoted in XRP) -> USD (LUXUSD) -> USDT (USDUSDT, inverse:
# USDT quoted in USD), plus a longer alternative and a reference price far away.
CHAIN = """
[[venues]]
id = "v"
[[assets]]
symbol = "USDT"
decimals = 8
[[assets]]
symbol = "USD"
decimals = 6
[[assets]]
symbol = "XRP"
decimals = 6
[[assets]]
symbol = "LUX"
decimals = 2
[[assets]]
symbol = "GOLD"
decimals = 5
[[instruments]]
id = "BTCUSDT_FIRST"
venue = "v"
base = "GOLD"
quote = "USDT"
tick_size = "0.01"
lot_size = "0.001"
[[instruments]]
id = "LUXXRP"
venue = "v"
base = "LUX"
quote = "XRP"
tick_size = "0.01"
lot_size = "0.01"
[[instruments]]
id = "LUXUSD"
venue = "v"
base = "LUX"
quote = "USD"
tick_size = "0.01"
lot_size = "0.01"
[[instruments]]
id = "USDTUSD"
venue = "v"
base = "USDT"
quote = "USD"
tick_size = "0.0001"
lot_size = "1"
[[instruments]]
id = "LUXGOLD"
venue = "v"
base = "LUX"
quote = "GOLD"
tick_size = "0.001"
lot_size = "0.01"
"""


def _config(extra: str = "") -> VenueConfig:
    return parse_config(tomllib.loads(CHAIN + extra), "chain.toml")


def _prices(table: dict[str, int]):  # type: ignore[no-untyped-def]
    return lambda iid: (table.get(iid), None)


def test_route_multi_hop_shortest_then_first_declared():
    config = _config()
    v = Valuer(config.instruments, (), config.assets)
    # every instrument priced: XRP -> LUX -> {USD -> USDT (3 hops), GOLD -> USDT (3 hops)}
    prices = _prices({"BTCUSDT_FIRST": 1, "LUXXRP": 1, "LUXUSD": 1, "USDTUSD": 1, "LUXGOLD": 1})
    v.refresh(prices)
    route = v.route("XRP", "USDT")
    assert route is not None
    # XRP->LUX is LUXXRP backwards (key (1, 1)); then LUX->USD (0, 2) beats LUX->GOLD (0, 4)
    assert route.labels == ("LUXXRP", "LUXUSD", "USDTUSD")
    assert v.route("USDT", "USDT") is not None and v.route("USDT", "USDT").labels == ()  # type: ignore[union-attr]


def test_route_skips_instruments_without_a_price_until_they_trade():
    config = _config()
    v = Valuer(config.instruments, (), config.assets)
    table = {"LUXXRP": 1, "LUXGOLD": 1, "BTCUSDT_FIRST": 1}
    v.refresh(_prices(table))
    route = v.route("XRP", "USDT")
    assert route is not None and route.labels == ("LUXXRP", "LUXGOLD", "BTCUSDT_FIRST")
    searches = v.route_computations
    v.refresh(_prices(table))
    v.route("XRP", "USDT")
    assert v.route_computations == searches  # cached: nothing new got a price
    table |= {"LUXUSD": 1, "USDTUSD": 1}
    v.refresh(_prices(table))
    route = v.route("XRP", "USDT")
    assert route is not None and route.labels == ("LUXXRP", "LUXUSD", "USDTUSD")


def test_route_none_when_no_chain_and_no_reference():
    config = _config()
    v = Valuer(config.instruments, (), config.assets)
    v.refresh(_prices({}))
    assert v.route("XRP", "USDT") is None
    assert v.convert("XRP", 5, "USDT", _prices({})) == (None, None, None)


def test_valuation_multi_hop_is_exact_and_floored_once():
    config = _config()
    insts = config.instruments
    lux_xrp, lux_usd, usdt_usd = insts["LUXXRP"], insts["LUXUSD"], insts["USDTUSD"]
    table = {
        "LUXXRP": lux_xrp.price_to_ticks(Decimal("3.00")),  # 1 LUX = 3 XRP
        "LUXUSD": lux_usd.price_to_ticks(Decimal("1.00")),  # 1 LUX = 1 USD
        "USDTUSD": usdt_usd.price_to_ticks(Decimal("0.9999")),  # 1 USDT = 0.9999 USD
    }
    v = Valuer(insts, (), config.assets)
    v.refresh(_prices(table))
    xrp = config.assets["XRP"]
    units = xrp.to_units(Decimal("1"))
    now, then, via = v.convert("XRP", units, "USDT", _prices(table))
    # 1 XRP = 1/3 LUX = 1/3 USD = 1/(3 * 0.9999) USDT, floored in USDT units (1e-8)
    exact = Fraction(1, 3) / Fraction(Decimal("0.9999")) * 10**8
    assert now == then == exact.numerator // exact.denominator == 33336667
    assert via == "LUXXRP,LUXUSD,USDTUSD"


def test_valuation_rate_recomputed_only_when_a_price_on_the_route_changes():
    config = _config()
    table = {"LUXXRP": 300, "LUXUSD": 100, "USDTUSD": 9999, "BTCUSDT_FIRST": 5}
    v = Valuer(config.instruments, (), config.assets)
    v.refresh(_prices(table))
    first = v.rates("XRP", "USDT", _prices(table))
    table["BTCUSDT_FIRST"] = 7  # not on the route: the cached rate stands
    assert v.rates("XRP", "USDT", _prices(table)) == first
    table["LUXUSD"] = 200  # on the route: twice the value
    again = v.rates("XRP", "USDT", _prices(table))
    assert first is not None and again is not None and again[0] == 2 * first[0]


def test_reference_price_connects_an_isolated_asset():
    config = _config('\n[valuation]\nreference_prices = { "GOLD/USD" = "2000.5" }\n')
    settings = ValuationSettings.from_config(config)
    v = Valuer(config.instruments, settings.reference_prices, config.assets)
    v.refresh(_prices({}))
    route = v.route("GOLD", "USD")
    assert route is not None and route.labels == ("GOLD/USD (reference)",)
    gold = config.assets["GOLD"]
    now, _, _ = v.convert("GOLD", gold.to_units(Decimal("1.5")), "USD", _prices({}))
    assert config.assets["USD"].from_units(now or 0) == Decimal("3000.75")
    # backwards through the reference: USD -> GOLD
    back, _, _ = v.convert("USD", 2_000_500_000, "GOLD", _prices({}))
    assert back == 100_000  # 2000.5 USD = 1 GOLD = 100000 GOLD units


@pytest.mark.parametrize(
    "table",
    [
        '{ "GOLD/NOPE" = "1" }',
        '{ "GOLD" = "1" }',
        '{ "GOLD/USD" = "-1" }',
        '{ "GOLD/USD" = "abc" }',
        '{ "GOLD/USD" = 1.5 }',
    ],
)
def test_reference_price_config_errors_name_the_key(table: str):
    config = _config(f"\n[valuation]\nreference_prices = {table}\n")
    with pytest.raises(ConfigError, match=r"valuation\.reference_prices"):
        ValuationSettings.from_config(config)


def test_demo_user_holding_only_xrp_is_worth_more_than_zero():
    md = MarketData(load_demo_config())
    xrp = md.config.assets["XRP"]
    md.apply([Balance(user="x", asset="XRP", available=xrp.to_units(Decimal("1000")), reserved=0)])
    pf = md.portfolio("x")
    assert pf.unpriced == [] and pf.valuation_asset == "USDT"
    assert md.config.assets["USDT"].from_units(pf.total_value) == Decimal("500")  # 0.50 each
    # valued in XRP itself, on request: face value
    assert md.portfolio("x", "XRP").total_value == xrp.to_units(Decimal("1000"))


def test_demo_luxury_valued_through_its_xrp_book_then_the_reference():
    md = MarketData(load_demo_config())
    lux = md.config.instruments["LUXURY001-XRP-XRPL"]
    md.apply([trade(1, lux.price_to_ticks(Decimal("1000.25")), 100, ts=1, instrument=lux.id)])
    md.apply(
        [
            Balance(
                user="x", asset="LUXURY001", available=lux.base.to_units(Decimal("2")), reserved=0
            )
        ]
    )
    pf = md.portfolio("x")
    (row,) = pf.assets
    assert row.via == "LUXURY001-XRP-XRPL,XRP/USDT (reference)"
    assert md.config.assets["USDT"].from_units(pf.total_value) == Decimal("1000.25")
