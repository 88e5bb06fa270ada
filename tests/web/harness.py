"""A real ``openpit serve`` subprocess for the browser tests: simulator on, one port kept
across restarts (the page must reconnect to the same address), keys made with the CLI.

``restart()`` stops with SIGTERM and starts again on the same data directory and port.
Waits poll ``/healthz``; nothing sleeps a fixed time.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

STARTUP_TIMEOUT_S = 60.0
_CLI = "import sys; from openpit.cli import main; sys.exit(main())"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


class BrowserServer:
    def __init__(self, data_dir: Path, log: Path, seed: int = 7) -> None:
        self.data_dir = data_dir
        self.log = log
        self.seed = seed
        self.port = free_port()
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def _env(self) -> dict[str, str]:
        return {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path), "PYTHONUNBUFFERED": "1"}

    def start(self) -> None:
        assert self.proc is None
        with open(self.log, "ab") as log:
            self.proc = subprocess.Popen(
                [sys.executable, "-c", _CLI, "serve", "--port", str(self.port),
                 "--data-dir", str(self.data_dir), "--fsync", "off", "--seed", str(self.seed)],
                stdout=log, stderr=subprocess.STDOUT, env=self._env(),
            )  # fmt: skip
        deadline = time.monotonic() + STARTUP_TIMEOUT_S
        while True:
            if self.proc.poll() is not None:
                self.proc = None
                raise AssertionError("openpit serve exited early:\n" + self.tail())
            try:
                with urllib.request.urlopen(self.url + "/healthz", timeout=2) as resp:
                    if json.loads(resp.read())["status"] == "ok":
                        return
            except OSError:
                pass
            if time.monotonic() > deadline:
                raise AssertionError("no /healthz:\n" + self.tail())
            time.sleep(0.1)  # polling interval, not a wait for a condition

    def stop(self) -> None:
        if self.proc is None:
            return
        proc, self.proc = self.proc, None
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()

    def restart(self) -> None:
        self.stop()
        self.start()

    def create_key(self, user: str) -> tuple[str, str]:
        """``openpit keys create --json`` against the running server: (key, secret)."""
        out = subprocess.run(
            [sys.executable, "-c", _CLI, "keys", "create", "--user", user, "--json",
             "--permissions", "read,trade", "--data-dir", str(self.data_dir),
             "--server", self.url],
            capture_output=True, env=self._env(), check=True, timeout=60,
        )  # fmt: skip
        made = json.loads(out.stdout)
        return made["api_key"], made["api_secret"]

    def get(self, path: str) -> object:
        with urllib.request.urlopen(self.url + path, timeout=10) as resp:
            return json.loads(resp.read())

    def tail(self, lines: int = 40) -> str:
        text = self.log.read_text(errors="replace") if self.log.exists() else ""
        return "\n".join(text.splitlines()[-lines:])
