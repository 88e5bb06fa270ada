from decimal import Decimal
from pathlib import Path

import pytest

from openpit.config import ConfigError, load_config, load_demo_config
from openpit.core.enums import InstrumentKind


def test_demo_config_loads_every_spec_instrument() -> None:
    cfg = load_demo_config()
    assert cfg.resolve("BTCUSDT", "binance") is not None
    assert cfg.resolve("BTC/USDT") is cfg.resolve("BTCUSDT")
    assert cfg.resolve("ETHUSDT", "binance") is not None
    assert cfg.resolve("AAPL") is not None
    xrpl = cfg.resolve("LUXURY001/XRP", "xrpl")
    flare = cfg.resolve("LUXURY001/XRP", "flare")
    assert xrpl is not None and flare is not None and xrpl.id != flare.id
    assert [i.venue for i in cfg.listings("LUXURY001/XRP")] == ["xrpl", "flare"]


def test_demo_config_equities_have_regular_session() -> None:
    aapl = load_demo_config().instruments["AAPL"]
    assert not aapl.session.always_open
    assert aapl.kind is InstrumentKind.SPOT


def test_demo_config_token_supply_gives_market_cap() -> None:
    cfg = load_demo_config()
    assert cfg.assets["LUXURY001"].circulating_supply == Decimal(50000)


def test_config_unknown_top_level_key_names_file_and_key(tmp_path: Path) -> None:
    path = tmp_path / "openpit.toml"
    path.write_text("colour = 'blue'\n")
    with pytest.raises(ConfigError, match=r"openpit\.toml: colour: unknown key"):
        load_config(path)


def test_config_unknown_instrument_key_names_dotted_path(tmp_path: Path) -> None:
    path = tmp_path / "openpit.toml"
    path.write_text(
        """
[[venues]]
id = "v"
[[assets]]
symbol = "A"
[[assets]]
symbol = "B"
[[instruments]]
id = "AB"
venue = "v"
base = "A"
quote = "B"
tick_size = "0.01"
lot_size = "1"
tick_sise = "0.1"
"""
    )
    with pytest.raises(ConfigError, match=r"instruments\[0\]\.tick_sise: unknown key"):
        load_config(path)


def test_config_tick_finer_than_quote_units_is_rejected(tmp_path: Path) -> None:
    path = tmp_path / "openpit.toml"
    path.write_text(
        """
[[venues]]
id = "v"
[[assets]]
symbol = "A"
decimals = 0
[[assets]]
symbol = "B"
decimals = 2
[[instruments]]
id = "AB"
venue = "v"
base = "A"
quote = "B"
tick_size = "0.001"
lot_size = "1"
"""
    )
    with pytest.raises(ConfigError, match=r"instruments\[0\]"):
        load_config(path)


def test_config_unknown_venue_is_rejected(tmp_path: Path) -> None:
    path = tmp_path / "openpit.toml"
    path.write_text(
        '[[assets]]\nsymbol = "A"\n[[instruments]]\nid = "X"\nvenue = "nowhere"\n'
        'base = "A"\nquote = "A"\ntick_size = "1"\nlot_size = "1"\n'
    )
    with pytest.raises(ConfigError, match=r"instruments\[0\]\.venue: unknown venue"):
        load_config(path)


def test_config_invalid_toml_is_reported_with_file(tmp_path: Path) -> None:
    path = tmp_path / "bad.toml"
    path.write_text("[[venues]\n")
    with pytest.raises(ConfigError, match=r"bad\.toml: invalid TOML"):
        load_config(path)
