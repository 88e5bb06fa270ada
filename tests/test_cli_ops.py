"""Operator CLI: ``main(argv)`` against a data directory and a live server, and one real
subprocess run of ``openpit serve`` + ``openpit keys create`` + a flat WebSocket login."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import re
import stat
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from websockets.sync.client import connect

from openpit.cli import build_parser, main
from openpit.config import load_demo_config
from openpit.gateway import sign
from openpit.server.main import run_server


def _run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_cli_every_command_has_help(capsys: pytest.CaptureFixture[str]) -> None:
    commands = [
        ["serve"], ["config", "check"], ["users", "create"], ["users", "list"],
        ["keys", "create"], ["keys", "list"], ["keys", "revoke"],
        ["keys", "rotate-master"], ["token", "create"],
        ["deposit"], ["withdraw"], ["notify"], ["halt"], ["resume"],
    ]  # fmt: skip
    for cmd in commands:
        with pytest.raises(SystemExit) as exit_:
            main([*cmd, "--help"])
        assert exit_.value.code == 0
        assert "usage: openpit " + " ".join(cmd) in capsys.readouterr().out
    parser = build_parser()
    assert isinstance(parser, argparse.ArgumentParser)


def test_cli_users_and_keys_work_on_the_data_directory_without_a_server(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("openpit.cli_commands.DEFAULT_SERVER", "http://127.0.0.1:9")
    monkeypatch.delenv("OPENPIT_SERVER", raising=False)
    d = str(tmp_path)
    code, out, _ = _run(capsys, "users", "create", "--user", "alice", "--data-dir", d, "--json")
    assert code == 0 and json.loads(out)["id"] == "alice"
    code, _, err = _run(capsys, "users", "create", "--user", "alice", "--data-dir", d)
    assert code == 2 and "already exists" in err
    code, out, _ = _run(capsys, "keys", "create", "--user", "alice", "--data-dir", d, "--json")
    key = json.loads(out)
    assert code == 0 and set(key) >= {"user", "api_key", "api_secret"} and key["user"] == "alice"
    code, _, err = _run(capsys, "keys", "create", "--user", "zed", "--data-dir", d,
                        "--no-create-user")  # fmt: skip
    assert code == 2 and "users create --user zed" in err
    code, out, _ = _run(capsys, "keys", "create", "--user", "zed", "--data-dir", d, "--json")
    assert code == 0 and json.loads(out)["user"] == "zed"
    code, out, _ = _run(capsys, "keys", "list", "--user", "alice", "--data-dir", d, "--json")
    assert [k["api_key"] for k in json.loads(out)] == [key["api_key"]]
    code, out, _ = _run(capsys, "keys", "revoke", key["api_key"], "--data-dir", d, "--json")
    assert code == 0 and json.loads(out)["revoked"] is True
    code, out, _ = _run(capsys, "users", "list", "--data-dir", d, "--json")
    assert [u["id"] for u in json.loads(out)] == ["alice", "zed"]
    code, _, err = _run(capsys, "deposit", "--user", "alice", "--asset", "USDT",
                        "--amount", "1", "--data-dir", d)  # fmt: skip
    assert code == 2 and "openpit serve" in err
    code, _, err = _run(capsys, "keys", "list", "--data-dir", str(tmp_path / "missing"))
    assert code == 2 and "does not exist" in err


@pytest.fixture
def live_server(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    """``run_server`` on 127.0.0.1:0 in a background loop (no simulator)."""
    with serving(tmp_path) as base:
        yield base, tmp_path


@contextlib.contextmanager
def serving(data_dir: Path) -> Iterator[str]:
    """``run_server`` on ``data_dir`` in a background loop; yields the base URL."""
    tmp_path = data_dir
    loop = asyncio.new_event_loop()
    stop = asyncio.Event()
    urls: dict[str, str] = {}
    started = threading.Event()
    args = argparse.Namespace(
        host="127.0.0.1", port=0, data_dir=str(tmp_path), fsync="batch",
        no_simulator=True, seed=1,
    )  # fmt: skip

    async def main_() -> None:
        ready: asyncio.Future[dict[str, str]] = loop.create_future()
        ready.add_done_callback(lambda f: (urls.update(f.result()), started.set()))
        await run_server(load_demo_config(), args, stop, ready)

    thread = threading.Thread(target=lambda: loop.run_until_complete(main_()), daemon=True)
    thread.start()
    assert started.wait(30)
    try:
        yield urls["health"].rsplit("/", 1)[0]
    finally:
        loop.call_soon_threadsafe(stop.set)
        thread.join(30)
        loop.close()


def test_cli_commands_against_a_running_server(
    live_server: tuple[str, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    base, data_dir = live_server
    common = ["--server", base, "--data-dir", str(data_dir), "--json"]
    code, out, _ = _run(capsys, "users", "create", "--user", "carol", *common)
    assert code == 0 and json.loads(out)["id"] == "carol"
    code, out, _ = _run(capsys, "keys", "create", "--user", "carol", *common)
    key = json.loads(out)
    assert code == 0 and key["user"] == "carol" and key["api_secret"]
    code, out, _ = _run(capsys, "keys", "list", "--user", "carol", *common)
    assert [k["api_key"] for k in json.loads(out)] == [key["api_key"]]
    code, out, _ = _run(capsys, "deposit", "--user", "carol", "--asset", "USDT",
                        "--amount", "250.5", *common)  # fmt: skip
    assert code == 0 and json.loads(out)["balance"]["available"] == "250.50000000"
    code, out, _ = _run(capsys, "withdraw", "--user", "carol", "--asset", "USDT",
                        "--amount", "0.5", *common)  # fmt: skip
    assert code == 0 and json.loads(out)["balance"]["available"] == "250.00000000"
    code, _, err = _run(capsys, "deposit", "--user", "carol", "--asset", "USDT",
                        "--amount", "0.000000001", *common)  # fmt: skip
    assert code == 2 and "not a multiple" in err
    code, out, _ = _run(capsys, "notify", "--title", "Hi", "--message", "there", *common)
    assert code == 0 and json.loads(out)["title"] == "Hi"
    code, out, _ = _run(capsys, "halt", "BTCUSDT", "--reason", "drill", *common)
    assert code == 0 and json.loads(out)["halted"] is True
    code, out, _ = _run(capsys, "resume", "BTCUSDT", *common)
    assert code == 0 and json.loads(out)["halted"] is False
    code, out, _ = _run(capsys, "keys", "revoke", key["api_key"], *common)
    assert code == 0 and json.loads(out)["revoked"] is True
    code, out, _ = _run(capsys, "token", "create", "--user", "carol",
                        "--data-dir", str(data_dir), "--json")  # fmt: skip
    assert code == 0 and json.loads(out)["token"].count(".") == 2
    code, _, err = _run(capsys, "users", "list", "--server", base, "--data-dir",
                        str(data_dir / "elsewhere"))  # fmt: skip
    assert code == 2 and "no admin key" in err
    code, _, err = _run(capsys, "users", "list", "--server", "http://127.0.0.1:9",
                        "--data-dir", str(data_dir))  # fmt: skip
    assert code == 2 and "openpit serve" in err
    admin_file = data_dir / "admin-key.json"
    assert oct(admin_file.stat().st_mode & 0o777) == "0o600"


def test_cli_subprocess_serve_keys_create_and_flat_login(tmp_path: Path) -> None:
    exe = Path(sys.executable).with_name("openpit")
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    env.pop("OPENPIT_SERVER", None)
    server = subprocess.Popen(
        [str(exe), "serve", "--port", "0", "--data-dir", str(tmp_path), "--no-simulator"],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=env,
    )
    try:
        assert server.stdout is not None
        base = None
        for line in server.stdout:
            m = re.search(r"dashboard\s+(http://\S+)/", line)
            if m:
                base = m.group(1)
                break
        assert base is not None, "serve did not print its dashboard URL"
        created = subprocess.run(
            [str(exe), "keys", "create", "--user", "alice", "--server", base,
             "--data-dir", str(tmp_path), "--json"],
            capture_output=True, text=True, env=env, timeout=60, check=True,
        )  # fmt: skip
        key = json.loads(created.stdout)
        ws_url = base.replace("http://", "ws://") + "/ws"
        with connect(ws_url) as ws:
            ts = time.time_ns() // 1_000_000
            signature = sign(key["api_secret"], key["api_key"], ts)
            login = {"action": "authenticate", "api_key": key["api_key"], "timestamp": ts,
                     "signature": signature}  # fmt: skip
            ws.send(json.dumps(login))
            reply = json.loads(ws.recv(timeout=20))
        assert reply["event"] == "authenticated" and reply["success"] is True
    finally:
        server.terminate()
        try:
            assert server.wait(30) == 0
        finally:
            if server.poll() is None:
                server.kill()
            if server.stdout is not None:
                server.stdout.close()


def _typed_login(base: str, token: str) -> dict[str, Any]:
    with connect(base.replace("http://", "ws://") + "/ws?dialect=typed") as ws:
        ws.send(json.dumps({"type": "authenticate", "token": token}))
        reply: dict[str, Any] = json.loads(ws.recv(timeout=20))
    return reply


def test_cli_offline_revocation_ends_the_keys_tokens_on_the_next_start(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from openpit.api.client import RestClient

    monkeypatch.delenv("OPENPIT_SERVER", raising=False)
    d = str(tmp_path)
    with serving(tmp_path) as base:
        capsys.readouterr()  # the banner
        common = ["--server", base, "--data-dir", d, "--json"]
        code, out, _ = _run(capsys, "keys", "create", "--user", "carol", *common)
        key = json.loads(out)
        minted = RestClient(base, key["api_key"], key["api_secret"]).request(
            "POST", "/api/v1/tokens", {"ttl_seconds": 600}
        )
        code, out, _ = _run(capsys, "token", "create", "--user", "carol", "--data-dir", d)
        operator_token = out.strip()
        assert _typed_login(base, minted["token"])["type"] == "authenticated"
        assert _typed_login(base, operator_token)["type"] == "authenticated"
        code, out, err = _run(capsys, "token", "create", "--user", "ghost", "--data-dir", d)
        assert code == 2 and out == "" and "no user 'ghost'" in err and "--create" in err
        code, out, _ = _run(
            capsys, "token", "create", "--user", "ghost", "--create", "--data-dir", d
        )
        assert code == 0 and _typed_login(base, out.strip())["type"] == "authenticated"
    capsys.readouterr()  # "shutting down"
    monkeypatch.setattr("openpit.cli_commands.DEFAULT_SERVER", "http://127.0.0.1:9")
    code, out, _ = _run(capsys, "keys", "revoke", key["api_key"], "--data-dir", d, "--json")
    assert code == 0 and json.loads(out)["revoked"] is True  # offline: on the store
    with serving(tmp_path) as base:
        reply = _typed_login(base, minted["token"])
        assert reply["type"] == "error" and reply["error"]["code"] == "AUTH_FAILED"
        assert "revoked" in reply["error"]["message"]
        assert _typed_login(base, operator_token)["type"] == "authenticated"  # admin key's


def _modes(root: Path) -> dict[str, int]:
    return {
        str(p.relative_to(root)): stat.S_IMODE(p.lstat().st_mode) for p in [root, *root.rglob("*")]
    }


def test_cli_data_directory_is_private_and_older_ones_are_tightened(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data_dir = tmp_path / "data"
    old_umask = os.umask(0o022)
    try:
        with serving(data_dir) as base:
            capsys.readouterr()  # the banner
            common = ["--server", base, "--data-dir", str(data_dir), "--json"]
            _, out, _ = _run(capsys, "keys", "create", "--user", "carol", *common)
            secret = json.loads(out)["api_secret"]
            running = _modes(data_dir)
        stopped = _modes(data_dir)
        for modes in (running, stopped):
            names = set(modes)
            assert {
                "openpit.sqlite3",
                "secrets.key",
                "admin-key.json",
                "jwt-secret",
                "LOCK",
            } <= names
            assert any(n.startswith("journal/") for n in names)
            wide = {
                n: oct(m)
                for n, m in modes.items()
                if m != (0o700 if (data_dir / n).is_dir() else 0o600)
            }
            assert wide == {}
        assert any(n.startswith("snapshots/") for n in stopped)  # the final snapshot
        raw = b"".join(p.read_bytes() for p in data_dir.glob("openpit.sqlite3*"))
        assert secret.encode() not in raw  # sealed at rest
        for p in [data_dir, *data_dir.rglob("*")]:  # what an older version left
            os.chmod(p, 0o755 if p.is_dir() else 0o644)
        with serving(data_dir):
            pass
        wide = {n: oct(m) for n, m in _modes(data_dir).items() if m not in (0o700, 0o600)}
        assert wide == {}
    finally:
        os.umask(old_umask)


def test_cli_keys_rotate_master_reseals_secrets_and_refuses_a_running_server(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from openpit.api.client import RestClient

    d = str(tmp_path)
    with serving(tmp_path) as base:
        capsys.readouterr()  # the banner
        common = ["--server", base, "--data-dir", d, "--json"]
        _, out, _ = _run(capsys, "keys", "create", "--user", "carol", *common)
        key = json.loads(out)
        code, _, err = _run(capsys, "keys", "rotate-master", "--data-dir", d)
        assert code == 2 and "stop it first" in err
    capsys.readouterr()
    before = (tmp_path / "secrets.key").read_text()
    code, out, _ = _run(capsys, "keys", "rotate-master", "--data-dir", d, "--json")
    assert code == 0 and json.loads(out)["resealed"] == 3  # demo, admin, carol
    assert (tmp_path / "secrets.key").read_text() != before
    with serving(tmp_path) as base:  # the secrets still verify signatures
        client = RestClient(base, key["api_key"], key["api_secret"])
        assert isinstance(client.request("GET", "/api/v1/account/balances"), list)
        capsys.readouterr()
        code, out, _ = _run(capsys, "users", "list", "--server", base, "--data-dir", d)
        assert code == 0 and "carol" in out  # and the admin key file's
