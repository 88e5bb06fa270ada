from importlib import resources
from pathlib import Path

import pytest

from openpit.cli import main


def test_cli_config_check_demo_lists_venues(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["config", "check"]) == 0
    out = capsys.readouterr().out
    assert "venue binance: BTCUSDT, ETHUSDT" in out
    assert "venue xrpl: LUXURY001-XRP-XRPL" in out


def test_cli_config_check_bad_file_says_what_is_wrong(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "openpit.toml"
    path.write_text("nonsense = 1\n")
    assert main(["config", "check", "--config", str(path)]) == 2
    assert "nonsense: unknown key" in capsys.readouterr().err


def test_cli_config_check_refuses_unknown_server_keys(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "openpit.toml"
    demo = resources.files("openpit.config").joinpath("demo.toml").read_text(encoding="utf-8")
    path.write_text(demo + "\n[server]\nsnapshot_every_comands = 10\n")
    assert main(["config", "check", "--config", str(path)]) == 2
    err = capsys.readouterr().err
    assert "server.snapshot_every_comands: unknown key" in err and "snapshot_every_commands" in err


def test_cli_without_command_prints_help(capsys: pytest.CaptureFixture[str]) -> None:
    assert main([]) == 2
    assert "serve" in capsys.readouterr().out
