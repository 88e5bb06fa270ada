"""Run all benchmarks (or those named on the command line): ``python -m bench [name ...]``."""

from __future__ import annotations

import importlib
import json
import pkgutil
import sys
import time
from pathlib import Path

import bench

RESULTS = Path(__file__).parent / "results"


def main(argv: list[str]) -> int:
    names = argv or sorted(
        m.name for m in pkgutil.iter_modules(bench.__path__) if not m.name.startswith("_")
    )
    RESULTS.mkdir(exist_ok=True)
    failed = []
    for name in names:
        module = importlib.import_module(f"bench.{name}")
        if not hasattr(module, "main"):
            continue
        print(f"== bench {name}", flush=True)
        started = time.perf_counter()
        result = module.main()
        result.setdefault("elapsed_s", round(time.perf_counter() - started, 2))
        (RESULTS / f"{name}.json").write_text(json.dumps(result, indent=2) + "\n")
        print(json.dumps(result, indent=2), flush=True)
        if result.get("passed") is False:
            failed.append(name)
    if failed:
        print(f"requirements not met: {', '.join(failed)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
