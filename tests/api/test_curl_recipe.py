"""The curl + openssl signing recipe in docs/rest.md works exactly as written."""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.api.helpers import RestEnv, rest_env

DOC = Path(__file__).resolve().parents[2] / "docs" / "rest.md"


def recipe() -> str:
    """The first ``sh`` block of the signing section."""
    text = DOC.read_text()
    section = text[text.index("## Signing") :]
    start = section.index("```sh\n") + len("```sh\n")
    return section[start : section.index("```", start)]


def test_curl_recipe_places_an_order_and_reads_balances(tmp_path: Path) -> None:
    for tool in ("bash", "curl", "openssl"):
        if shutil.which(tool) is None:
            pytest.fail(f"{tool} is needed (.ci/run installs it)")

    async def scenario(env: RestEnv) -> None:
        creds = env.keys["alice"]
        run_env = {
            **os.environ,
            "OPENPIT_URL": env.base,
            "OPENPIT_KEY": creds.api_key,
            "OPENPIT_SECRET": creds.api_secret,
        }
        done = await asyncio.to_thread(
            subprocess.run,
            ["bash", "-euo", "pipefail", "-c", recipe()],
            env=run_env,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert done.returncode == 0, done.stderr
        order_line, balances_line = done.stdout.strip().splitlines()
        order = json.loads(order_line)
        assert order["status"] == "new" and order["price"] == "42000.00", order
        balances = json.loads(balances_line)
        assert any(b["asset"] == "USDT" for b in balances), balances

    async def main() -> None:
        async with rest_env(tmp_path) as env:
            await scenario(env)

    asyncio.run(asyncio.wait_for(main(), 90))
