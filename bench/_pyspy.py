"""Top functions from ``py-spy record --gil --format raw`` output (collapsed stacks).

With ``--gil`` py-spy only takes a sample when a thread holds the GIL, so the samples of
a profile are the GIL's busy time; ``samples / (rate x seconds)`` is the share of the
wall time the GIL was held (the rest: the loop waiting in ``epoll``). Per profile:

- ``inclusive``: share of samples with the function anywhere on the stack;
- ``self``: share of samples with the function as the leaf (library code included);
- ``openpit_self``: each sample charged to its deepest openpit frame (so json, aiohttp
  or msgspec time is charged to the openpit function that called it).

``python -m bench._pyspy DIR`` prints the summary of every ``DIR/*.txt``.
"""

from __future__ import annotations

import re
import sys
from collections import Counter
from pathlib import Path
from typing import Any

RATE = 200  # samples per second asked of py-spy (bench/orders.py Profiler)
TOP = 25
_LINE = re.compile(r":\d+\)$")


def _frame(raw: str) -> str:
    """``func (path/file.py:123)`` -> ``func (path/file.py)``."""
    return _LINE.sub(")", raw.strip())


def parse(path: Path) -> tuple[int, Counter[str], Counter[str], Counter[str]]:
    total = 0
    inclusive: Counter[str] = Counter()
    leaf: Counter[str] = Counter()
    ours: Counter[str] = Counter()
    for line in path.read_text(errors="replace").splitlines():
        stack, _, count = line.rpartition(" ")
        if not stack or not count.isdigit():
            continue
        n = int(count)
        frames = [_frame(f) for f in stack.split(";")]
        total += n
        for f in set(frames):
            inclusive[f] += n
        leaf[frames[-1]] += n
        mine = [f for f in frames if "(openpit/" in f]
        ours[mine[-1] if mine else "(no openpit frame: loop, aiohttp, threads)"] += n
    return total, inclusive, leaf, ours


def summarize(directory: Path, top: int = TOP) -> dict[str, Any]:
    out: dict[str, Any] = {}
    lines: list[str] = []
    for path in sorted(directory.glob("*.txt")):
        if path.name == "summary.txt":
            continue
        total, inclusive, leaf, ours = parse(path)
        seconds_file = path.with_suffix(".seconds")
        seconds = float(seconds_file.read_text()) if seconds_file.exists() else None
        busy = None if not seconds else round(100 * total / (RATE * seconds), 1)

        def pct(c: Counter[str], t: int = total) -> list[tuple[str, float]]:
            return [(f, round(100 * n / max(1, t), 1)) for f, n in c.most_common(top)]

        entry = {
            "samples": total,
            "seconds": seconds,
            "gil_busy_percent": busy,
            "openpit_self": pct(ours),
            "inclusive": pct(inclusive),
            "self": pct(leaf),
        }
        out[path.stem] = entry
        lines.append(f"== {path.stem}: {total} GIL samples in {seconds} s (GIL busy ~{busy} %)")
        for title in ("openpit_self", "inclusive", "self"):
            lines.append(f"  -- {title} (% of GIL samples)")
            lines.extend(f"  {p:5.1f}  {f}" for f, p in entry[title])
        lines.append("")
    (directory / "summary.txt").write_text("\n".join(lines) + "\n")
    return out


if __name__ == "__main__":
    summarize(Path(sys.argv[1]))
    print((Path(sys.argv[1]) / "summary.txt").read_text())
