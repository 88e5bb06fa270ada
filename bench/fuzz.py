"""Live fuzz at volume: 1,000,000 hostile frames handled by the server (more are sent:
what follows a close the server decided is read and dropped; ``bench/_fuzzframes.py``) over every
dialect and endpoint of a real ``openpit serve`` subprocess, with a well-behaved trader
alongside (``bench/_fuzzlive.py``; the same run as ``tests/reliability/test_live_fuzz.py``
at 50× the frames).

Passes when: 0 internal errors, every reply JSON, every batch answered, no
``Traceback`` in the server's output, ``/healthz`` 200 after, every order and cancel of
the trader acknowledged, and no close without a close frame (1006, ``abnormal_closes``).

Run: ``python -m bench fuzz`` (bounded: stops after ``MAX_SECONDS`` even if short of
the frames; ``OPENPIT_FUZZ_SEED`` and ``OPENPIT_FUZZ_FRAMES`` override).
"""

from __future__ import annotations

import asyncio
import os
import random
import tempfile
import time
from pathlib import Path
from typing import Any

import aiohttp

from bench._fuzzlive import messages_handled, run_fuzz

FRAMES = 1_000_000
MAX_SECONDS = 900.0


def main() -> dict[str, Any]:
    from tests.reliability.harness import healthz, venue

    seed = int(os.environ.get("OPENPIT_FUZZ_SEED") or random.SystemRandom().randrange(2**32))
    frames = int(os.environ.get("OPENPIT_FUZZ_FRAMES") or FRAMES)

    async def run() -> dict[str, Any]:
        with tempfile.TemporaryDirectory() as tmp:
            async with venue(Path(tmp)) as v:
                started = time.perf_counter()
                tally, trader = await asyncio.wait_for(
                    run_fuzz(v.base, v.keys, seed, 20 * frames, parallel=3, handled=frames),
                    MAX_SECONDS,
                )
                elapsed = time.perf_counter() - started
                async with aiohttp.ClientSession() as http:
                    status, _ = await healthz(http, v.base)
                    handled = await messages_handled(http, v.base)
                tracebacks = len(v.tracebacks())
        passed = (
            not tally.problems
            and not tally.abnormal
            and not trader.problems
            and trader.acks > 0
            and status == 200
            and tracebacks == 0
            and handled >= frames
        )
        return {
            "seed": seed,
            "frames_sent": tally.frames,
            # frames the server handled: the run goes on until they reach ``frames`` (the
            # rest of a batch after a close the server decided, e.g. 4002 at the 10th bad
            # subscribe, is read and dropped, so more are sent)
            "frames_handled": handled,
            "frames_handled_per_s": round(handled / elapsed),
            "fuzz_s": round(elapsed, 1),
            "replies": tally.replies,
            "connections": tally.reconnects,
            "kinds": dict(tally.kinds),
            "closes": {str(k): n for k, n in tally.closes.items()},
            "abnormal_closes": len(tally.abnormal),
            "abnormal_examples": tally.abnormal[:5],
            "problems": tally.problems[:5],
            "trader_acks": trader.acks,
            "trader_problems": trader.problems[:5],
            "healthz": status,
            "tracebacks": tracebacks,
            "passed": passed,
        }

    return asyncio.run(run())
