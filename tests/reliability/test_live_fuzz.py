"""Live fuzz: 20,000 hostile frames over every dialect and endpoint of a real
``openpit serve`` (bench/_fuzzframes.py, bench/_fuzzlive.py), logged in and not, while a
well-behaved trader keeps trading.

Proves: 0 internal errors in replies, every reply JSON, every batch answered (the pong
after it), no ``Traceback`` in the server's output, ``/healthz`` 200 afterwards, and every
order and cancel of the well-behaved client acknowledged throughout. Closes without a
close frame (1006) are judged separately (strict xfail, see below). Seeded:
``OPENPIT_FUZZ_SEED`` repeats a run; a failure prints the seed and the batch of frames
that caused it.
"""

from __future__ import annotations

import asyncio
import os
import random
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from bench._fuzzlive import TARGETS, Tally, Trader, run_fuzz

from tests.reliability.harness import healthz, venue

FRAMES = 20_000


def _run(tmp_path: Path, seed: int) -> tuple[Tally, Trader, int, Any, list[str]]:
    print(f"live fuzz seed {seed} (OPENPIT_FUZZ_SEED={seed} to repeat)")

    async def scenario() -> tuple[Tally, Trader, int, Any, list[str]]:
        async with venue(tmp_path) as v:
            tally, trader = await run_fuzz(v.base, v.keys, seed, FRAMES)
            async with aiohttp.ClientSession() as http:
                status, body = await healthz(http, v.base)
            print(
                f"frames {tally.frames} replies {tally.replies} connections "
                f"{tally.reconnects} kinds {dict(tally.kinds)} closes {dict(tally.closes)} "
                f"trader acks {trader.acks}"
            )
            return tally, trader, status, body, v.tracebacks()

    return asyncio.run(asyncio.wait_for(scenario(), 120))


def test_live_fuzz_every_dialect_no_internal_error_server_healthy(tmp_path: Path) -> None:
    seed = int(os.environ.get("OPENPIT_FUZZ_SEED") or random.SystemRandom().randrange(2**32))
    tally, trader, status, body, tracebacks = _run(tmp_path, seed)
    assert not tally.problems, f"seed {seed}:\n" + "\n".join(tally.problems)
    assert tally.frames >= FRAMES - len(TARGETS) * 2, tally.frames
    assert not trader.problems, f"seed {seed}: {trader.problems}"
    assert trader.acks > 0
    assert status == 200, body
    assert not tracebacks, f"seed {seed}: server tracebacks:\n" + "\n".join(tracebacks[:3])


@pytest.mark.xfail(
    strict=True,
    reason="server closes (4002 after 10 bad subscribes, 1008/4001 strikes, revocation) "
    "end in 1006 at a client that is still sending: gateway/app.py's closer runs "
    "ws.close() in its own task while the handler waits in ws.receive(); aiohttp then "
    "gets the CLOSING message, sets _closing and closes the transport at once instead of "
    "waiting close_timeout for the client's close frame, so the client's in-flight "
    "frames hit a closed socket, the kernel answers RST and the client's unread close "
    "frame is lost (seed 1: 12-17 of ~130 connections per run; sequential sends never "
    "show it). Fix belongs to the close path (gateway/app.py), being reworked by the "
    "flood-policy helper",
)
def test_live_fuzz_seed1_no_close_without_close_frame(tmp_path: Path) -> None:
    tally, _, _, _, _ = _run(tmp_path, 1)
    assert not tally.abnormal, "\n".join(tally.abnormal[:5])
