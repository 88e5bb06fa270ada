"""Top functions from ``py-spy record --gil --format raw`` output (collapsed stacks).

With ``--gil`` py-spy only takes a sample when a thread holds the GIL, so the samples of
a profile are the GIL's busy time; ``samples / (rate x seconds)`` is the share of the
wall time the GIL was held (the rest: the loop waiting in ``epoll``). Per profile:

- ``inclusive``: share of samples with the function anywhere on the stack;
- ``self``: share of samples with the function as the leaf (library code included);
- ``openpit_self``: each sample charged to its deepest openpit frame (so json, aiohttp
  or msgspec time is charged to the openpit function that called it).

With ``--idle --threads`` (``mode="wall"``) every thread is sampled, waiting or not: the
summary then gives each thread's idle share (leaf in ``epoll`` or a pool worker's queue)
and the main thread's top functions over its busy samples.

``python -m bench._pyspy DIR [gil|wall]`` prints the summary of every ``DIR/*.txt``.
"""

from __future__ import annotations

import re
import sys
from collections import Counter
from pathlib import Path
from typing import Any

RATE = 400  # samples per second asked of py-spy (bench/orders.py Profiler)
# leaf frames of a thread that waits: the event loop in epoll, a worker on its queue
_IDLE = (
    "EpollSelector.select (selectors.py)",
    "_worker (concurrent/futures/thread.py)",
    "HistoryWriter._run (openpit/store/history.py)",  # waiting on its queue
)
TOP = 25
_LINE = re.compile(r":\d+\)$")


def _frame(raw: str) -> str:
    """``func (path/file.py:123)`` -> ``func (path/file.py)``."""
    return _LINE.sub(")", raw.strip())


def parse(
    path: Path, threads: Counter[str] | None = None, idle: Counter[str] | None = None
) -> tuple[int, Counter[str], Counter[str], Counter[str]]:
    """Counters over the samples; with ``threads`` (wall mode), only the main thread's
    busy samples are counted, and ``threads``/``idle`` get every thread's totals."""
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
        if threads is not None and idle is not None:
            name = frames.pop(0).split(": ", 1)[-1] if frames[0].startswith("thread") else "?"
            threads[name] += n
            if frames and frames[-1] in _IDLE:
                idle[name] += n
                continue
            if name != "MainThread":
                continue
        total += n
        for f in set(frames):
            inclusive[f] += n
        leaf[frames[-1]] += n
        mine = [f for f in frames if "(openpit/" in f]
        ours[mine[-1] if mine else "(no openpit frame: loop, aiohttp, threads)"] += n
    return total, inclusive, leaf, ours


def summarize(directory: Path, top: int = TOP, mode: str = "gil") -> dict[str, Any]:
    out: dict[str, Any] = {}
    lines: list[str] = []
    for path in sorted(directory.glob("*.txt")):
        if path.name == "summary.txt":
            continue
        threads: Counter[str] | None = Counter() if mode == "wall" else None
        idle: Counter[str] = Counter()
        total, inclusive, leaf, ours = parse(path, threads, idle)
        seconds_file = path.with_suffix(".seconds")
        seconds = float(seconds_file.read_text()) if seconds_file.exists() else None
        busy = None if not seconds else round(100 * total / (RATE * seconds), 1)
        if threads is not None:  # wall: the main thread's busy share of its samples
            busy = round(100 * total / max(1, threads["MainThread"]), 1)

        def pct(c: Counter[str], t: int = total) -> list[tuple[str, float]]:
            return [(f, round(100 * n / max(1, t), 1)) for f, n in c.most_common(top)]

        entry: dict[str, Any] = {
            "mode": mode,
            "samples": total,
            "seconds": seconds,
            ("main_thread_busy_percent" if threads is not None else "gil_busy_percent"): busy,
            "openpit_self": pct(ours),
            "inclusive": pct(inclusive),
            "self": pct(leaf),
        }
        if threads is not None:
            entry["threads_idle_percent"] = {
                t: round(100 * idle[t] / max(1, n), 1) for t, n in threads.most_common()
            }
        out[path.stem] = entry
        if threads is None:
            lines.append(f"== {path.stem}: {total} GIL samples in {seconds} s (GIL busy ~{busy} %)")
        else:
            lines.append(
                f"== {path.stem}: main thread busy in {busy} % of its samples ({total} busy "
                f"samples in {seconds} s); idle % per thread: {entry['threads_idle_percent']}"
            )
        for title in ("openpit_self", "inclusive", "self"):
            unit = "GIL samples" if threads is None else "the main thread's busy samples"
            lines.append(f"  -- {title} (% of {unit})")
            lines.extend(f"  {p:5.1f}  {f}" for f, p in entry[title])
        lines.append("")
    (directory / "summary.txt").write_text("\n".join(lines) + "\n")
    return out


if __name__ == "__main__":
    summarize(Path(sys.argv[1]), mode=sys.argv[2] if len(sys.argv) > 2 else "gil")
    print((Path(sys.argv[1]) / "summary.txt").read_text())
