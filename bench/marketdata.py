"""Market-data derivation throughput for one busy instrument, against the engine.

The requirement: events/s through market-data derivation for a busy instrument, and
the cost per extra depth view, as a ratio to the *engine's own event rate in the same
run*; derivation must not be the bottleneck (ratio >= 1.0).

Stream: ``bench.engine.make_stream(SEED, COMMANDS)``, the engine benchmark's seeded
command stream for one instrument (a warm-up of 1,000 resting orders, then a mix of
gtc/ioc limits, cancels and modifies from 1,000 users over ~750 price levels). It is
driven through the real ``openpit.engine.Engine``; every command's result (its list
of events: ``OrderUpdate``, ``Trade``, ``BookLevel``) is one batch.

Measured, in interleaved rounds (median per measurement; CPU time of this process;
the captured stream is built first and frozen out of the cyclic GC with
``gc.freeze()``, for both measurements):
- ``engine``: the post-warm-up commands through ``check_*`` + the engine command,
  as ``bench/engine.py`` runs them; ``engine events/s = events ÷ engine time``;
- ``derive``: the same events through ``MarketData.apply``, one ``apply`` per
  non-empty command result (as the gateway does), with views 10, 10+25 and
  10+25+50 (delta subscribers) registered before the warm-up;
  ``derive events/s = events ÷ apply time``.
``ratio = derive events/s (one view) ÷ engine events/s``; ``passed = ratio >= 1.0``.
The ratios with the extra views and the cost of each extra view (µs per command
and per event) are reported alongside, and ``by_instructions``: the same two sides
counted in instructions per command under callgrind (deterministic; skipped without
valgrind or with ``BENCH_CALLGRIND=0``).
"""

from __future__ import annotations

import gc
import itertools
import statistics
import time
from dataclasses import replace
from typing import Any

from bench.engine import (
    CANCEL,
    IOC,
    LIMIT,
    WARMUP,
    Prepared,
    bench_instrument,
    make_stream,
    prepare_ours,
)
from openpit.config.loader import VenueConfig, load_demo_config
from openpit.core.commands import ModifyOrder
from openpit.core.enums import STPMode
from openpit.core.events import BookLevel, Event, OrderUpdate, Trade
from openpit.engine import Engine
from openpit.marketdata import MarketData

SEED = 7
COMMANDS = 100_000
ROUNDS = 7
VIEWS: tuple[tuple[int, ...], ...] = ((10,), (10, 25), (10, 25, 50))


def _engine(
    prepared: list[Prepared],
    out: list[list[Event]] | None,
    md: MarketData | None = None,
) -> float:
    """Run the stream through a fresh engine; CPU seconds for the post-warm-up part.

    With ``out``, every command's event list is appended to it (not timed: this
    run is only for capture). With ``md``, every non-empty command result is also
    applied to it right after the command (in line, as the gateway does): the time
    then covers engine + derivation.
    """
    apply = md.apply if md is not None else None
    inst = bench_instrument()
    eng = Engine({inst.id: inst}, STPMode.NONE)
    check_place, place = eng.check_place, eng.place
    check_cancel, cancel = eng.check_cancel, eng.cancel
    check_modify, modify = eng.check_modify, eng.modify
    orders = eng.orders
    ts = 1
    events: list[Event]
    started = time.process_time()
    for i, (kind, ref, cmd) in enumerate(prepared):
        if i == WARMUP:
            started = time.process_time()
        ts += 1
        if kind is LIMIT or kind is IOC:
            events = place(cmd, ref, ts) if check_place(cmd) is None else []
        elif kind is CANCEL:
            events = cancel(cmd, ts) if check_cancel(cmd) is None else []
        elif type(cmd) is ModifyOrder:  # a move, or a resize prepared with its new total
            events = modify(cmd, ts) if check_modify(cmd) is None else []
        else:  # a resize prepared as (user, new open qty): the total needs the order
            user, open_qty = cmd
            o = orders.get(ref)
            done = 0 if o is None else o.filled + o.cancelled
            m = ModifyOrder(user=user, order_id=ref, qty=done + open_qty)
            events = modify(m, ts) if check_modify(m) is None else []
        if out is not None:
            out.append(events)
        elif apply is not None and events:
            apply(events)
    return time.process_time() - started


def _config() -> VenueConfig:
    inst = bench_instrument()
    return replace(load_demo_config(), instruments={inst.id: inst})


def _derive(
    config: VenueConfig, warm: list[list[Event]], timed: list[list[Event]], depths: tuple[int, ...]
) -> float:
    """CPU seconds of ``apply`` over ``timed`` (one call per command result)."""
    md = MarketData(config)
    for d in depths:
        md.subscribe_depth("BENCH", d)
    apply = md.apply
    for b in warm:
        apply(b)
    gc.collect()
    t0 = time.process_time()
    for b in timed:
        apply(b)
    return time.process_time() - t0


def _inline(config: VenueConfig, prepared: list[Prepared], depths: tuple[int, ...]) -> float:
    """CPU seconds of engine + ``apply`` per command, in line (events still hot)."""
    md = MarketData(config)
    for d in depths:
        md.subscribe_depth("BENCH", d)
    return _engine(prepared, None, md)


# -- instruction counts (callgrind) -------------------------------------------------------

CG_COMMANDS = 20_000


def _cg_child(which: str) -> None:
    """One side under callgrind: ``engine``/``engine0`` run the stream's commands (all /
    warm-up only); ``derive``/``derive0`` capture the stream, then apply all / none of
    the post-warm-up batches to a MarketData with view 10."""
    ops = make_stream(SEED, CG_COMMANDS)
    prepared = prepare_ours(ops)
    if which.startswith("engine"):
        _engine(prepared if which == "engine" else prepared[:WARMUP], None)
        return
    captured: list[list[Event]] = []
    _engine(prepared, captured)
    md = MarketData(_config())
    md.subscribe_depth("BENCH", 10)
    for b in captured[:WARMUP]:
        if b:
            md.apply(b)
    gc.collect()
    gc.freeze()
    if which == "derive":
        for b in captured[WARMUP:]:
            if b:
                md.apply(b)


def callgrind_per_command() -> dict[str, Any] | None:
    """Instructions per post-warm-up command, engine and derivation (view 10), or None
    without valgrind (or with ``BENCH_CALLGRIND=0``). Deterministic, unlike CPU time."""
    from bench import _callgrind

    if not _callgrind.available():
        return None
    code = "from bench.marketdata import _cg_child; import sys; _cg_child(sys.argv[1])"
    n = _callgrind.counts(code, ("engine0", "engine", "derive0", "derive"))
    engine = (n["engine"] - n["engine0"]) // CG_COMMANDS
    derive = (n["derive"] - n["derive0"]) // CG_COMMANDS
    return {
        "commands": CG_COMMANDS,
        "engine_instructions_per_command": engine,
        "derive_instructions_per_command": derive,
        "ratio": round(engine / derive, 3),
    }


def main(n: int = COMMANDS, seed: int = SEED, rounds: int = ROUNDS) -> dict[str, Any]:
    ops = make_stream(seed, n)
    prepared = prepare_ours(ops)
    captured: list[list[Event]] = []
    _engine(prepared, captured)
    warm = [b for b in captured[:WARMUP] if b]
    timed = [b for b in captured[WARMUP:] if b]
    n_events = sum(len(b) for b in timed)
    kinds = {"trade": 0, "level": 0, "order": 0, "other": 0}
    for b in timed:
        for e in b:
            t = type(e)
            kinds[
                "trade"
                if t is Trade
                else "level"
                if t is BookLevel
                else "order"
                if t is OrderUpdate
                else "other"
            ] += 1
    config = _config()
    # The captured stream (~100k event lists) stays alive for the whole run; freeze it
    # (and everything else built so far) out of the cyclic GC so neither measurement
    # pays for re-scanning it. Applied before every round: engine and derivation alike.
    gc.collect()
    gc.freeze()

    engine_s: list[float] = []
    derive_s: dict[tuple[int, ...], list[float]] = {v: [] for v in VIEWS}
    inline_s: list[float] = []
    for r in range(rounds):
        order = VIEWS if r % 2 == 0 else VIEWS[::-1]
        gc.collect()
        engine_s.append(_engine(prepared, None))
        for views in order:
            derive_s[views].append(_derive(config, warm, timed, views))
        gc.collect()
        inline_s.append(_inline(config, prepared, VIEWS[0]))

    gc.unfreeze()
    eng = statistics.median(engine_s)
    med = {v: statistics.median(s) for v, s in derive_s.items()}
    engine_eps = n_events / eng
    t1 = med[VIEWS[0]]
    per_cmd = len(timed)
    ratios = {"+".join(map(str, v)): round(n_events / t / engine_eps, 3) for v, t in med.items()}
    extra: dict[str, dict[str, float]] = {}
    for prev, cur in itertools.pairwise(VIEWS):
        dt = med[cur] - med[prev]
        extra[str(cur[-1])] = {
            "us_per_command": round(dt / per_cmd * 1e6, 3),
            "us_per_event": round(dt / n_events * 1e6, 4),
        }
    ratio = (n_events / t1) / engine_eps
    inline = statistics.median(inline_s)
    inline_derive = max(inline - eng, 1e-9)
    return {
        "stream": {
            "source": "bench.engine.make_stream",
            "seed": seed,
            "commands": n,
            "warmup_commands": WARMUP,
            "command_results_applied": per_cmd,
            "events": n_events,
            "events_by_kind": kinds,
        },
        "rounds": rounds,
        "timer": "process_time, median of interleaved rounds (stream gc.freeze()d)",
        "engine_s": round(eng, 4),
        "engine_events_per_s": round(engine_eps),
        "derive_s": {"+".join(map(str, v)): round(t, 4) for v, t in med.items()},
        "derive_events_per_s": {"+".join(map(str, v)): round(n_events / t) for v, t in med.items()},
        "derive_1_view_us_per_event": round(t1 / n_events * 1e6, 3),
        "derive_1_view_us_per_command": round(t1 / per_cmd * 1e6, 3),
        "extra_view_cost": extra,
        "ratio_by_views": ratios,
        "inline": {
            "what": "engine + apply per command in one loop (events hot, as in the "
            "gateway), view 10; derivation time = inline - engine",
            "engine_plus_derive_s": round(inline, 4),
            "derive_s": round(inline_derive, 4),
            "derive_us_per_command": round(inline_derive / per_cmd * 1e6, 3),
            "ratio": round(eng / inline_derive, 3),
        },
        "by_instructions": callgrind_per_command(),
        "ratio": round(ratio, 3),
        "passed": ratio >= 1.0,
    }


if __name__ == "__main__":
    import json

    print(json.dumps(main(), indent=2))
