"""The ``[binance]`` table: checked whole by ``openpit config check`` before anything starts."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

import pytest

from openpit.cli import main


def check(tmp_path: Path, table: str) -> int:
    path = tmp_path / "openpit.toml"
    demo = resources.files("openpit.config").joinpath("demo.toml").read_text(encoding="utf-8")
    path.write_text(demo + "\n[binance]\n" + table)
    return main(["config", "check", "--config", str(path)])


def test_binance_table_accepted_with_a_symbol_and_limits(tmp_path: Path) -> None:
    table = 'symbols = { "LUXURY001-XRP-FLARE" = "LUXFLRXRP" }\nweight_per_minute = 1200\n'
    assert check(tmp_path, table) == 0


@pytest.mark.parametrize(
    ("table", "said"),
    [
        ("weight_per_mnute = 10\n", "unknown [binance] keys: weight_per_mnute"),
        ("orders_per_10s = 0\n", "orders_per_10s must be a positive integer"),
        ('symbols = { "NOPE" = "X" }\n', "unknown instrument 'NOPE'"),
        ('symbols = { "AAPL" = "XUSD", "MSFT" = "XUSD" }\n', "given to two instruments"),
        ('symbols = { "AAPL" = "aapl" }\n', "is not [A-Z0-9-_.]{1,20}"),
    ],
)
def test_binance_table_malformed_is_refused_with_the_reason(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], table: str, said: str
) -> None:
    assert check(tmp_path, table) == 2
    assert said in capsys.readouterr().err
