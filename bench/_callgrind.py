"""Instruction counts under callgrind, for the benchmarks' deterministic figures.

Invariants:
- ``counts(code, variants)`` runs ``python -c code VARIANT`` under callgrind once per
  variant (two at a time) with ``PYTHONHASHSEED=0`` and returns the instructions each
  run executed; a benchmark subtracts a baseline variant from a full one.
- ``available()`` is False without valgrind on PATH or with ``BENCH_CALLGRIND=0``:
  callers then report no instruction figures instead of failing.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor

_VALGRIND = ("valgrind", "--tool=callgrind", "--callgrind-out-file=/dev/null")


def available() -> bool:
    return shutil.which("valgrind") is not None and os.environ.get("BENCH_CALLGRIND") != "0"


def counts(code: str, variants: tuple[str, ...]) -> dict[str, int]:
    """Instructions executed by ``python -c code VARIANT`` for each variant."""
    env = dict(os.environ, PYTHONHASHSEED="0")
    subprocess.run([sys.executable, "-c", code, variants[0]], check=True, env=env)  # warm .pyc

    def count(variant: str) -> int:
        out = subprocess.run(
            [*_VALGRIND, sys.executable, "-c", code, variant],
            capture_output=True,
            text=True,
            env=env,
            check=True,
        ).stderr
        m = re.search(r"Collected : (\d+)", out)
        assert m is not None, out
        return int(m.group(1))

    with ThreadPoolExecutor(2) as pool:
        return dict(zip(variants, pool.map(count, variants), strict=True))
