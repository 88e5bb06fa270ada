"""The simulator driving the real Venue, in simulated time (no clock, no sleeping)."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime

import msgspec
import pytest

from openpit.core.commands import Command
from openpit.core.enums import OrderStatus, OrderType, Reason
from openpit.core.events import OrderUpdate, Trade
from openpit.feeds.simulator import Simulator
from openpit.feeds.simulator.view import VenueView
from openpit.venue import Venue
from tests.feeds.helpers import CONFIG, T_OPEN, funded_venue, operations, place_ops

LUX_XRPL, LUX_FLARE = "LUXURY001-XRP-XRPL", "LUXURY001-XRP-FLARE"
ANCHORS = {
    "BTCUSDT": 42650,
    "ETHUSDT": 2500,
    "AAPL": 150,
    "MSFT": 420,
    "GOOGL": 170,
    "TSLA": 250,
    LUX_XRPL: 1000,
    LUX_FLARE: 1000,
}


@dataclass
class RunStats:
    steps: int = 0
    operations: int = 0
    rejected: Counter[str] = field(default_factory=Counter)
    trades: Counter[str] = field(default_factory=Counter)
    checks: int = 0  # (step, open instrument) pairs looked at
    one_sided: int = 0
    mid_ratio_min: float = 1.0
    mid_ratio_max: float = 1.0
    lux_gap_max: float = 0.0
    cascades: int = 0  # commands that triggered and filled at least two stops
    commands: list[tuple[int, Command]] = field(default_factory=list)


def simulate(
    seed: int, steps: int, dt_ms: int, start: int = T_OPEN, warmup: int = 40
) -> tuple[Venue, Simulator, RunStats]:
    venue = funded_venue(start)
    sim = Simulator(CONFIG, seed)
    view = VenueView(venue)
    stats = RunStats()
    for cmd in sim.setup_commands():
        assert venue.execute(cmd, start).ok
    for i in range(steps):
        ts = start + dt_ms * (i + 1)
        for cmd in sim.step(ts, view):
            stats.commands.append((ts, cmd))
            result = venue.execute(cmd, ts)
            for op in operations(cmd, result):
                stats.operations += 1
                if not op.ok:
                    stats.rejected[str(op.reason)] += 1
            fired = 0
            for e in result.events:
                if isinstance(e, Trade):
                    stats.trades[e.instrument] += 1
                elif (
                    isinstance(e, OrderUpdate)
                    and e.type in (OrderType.STOP, OrderType.STOP_LIMIT)
                    and e.status is OrderStatus.FILLED
                ):
                    fired += 1
            stats.cascades += fired >= 2
        stats.steps += 1
        if i < warmup:
            continue
        for iid in sim.instruments:
            if not CONFIG.instruments[iid].session.is_open(ts):
                continue
            stats.checks += 1
            bid, ask = view.best_bid(iid), view.best_ask(iid)
            if bid is None or ask is None:
                stats.one_sided += 1
                continue
            tick = CONFIG.instruments[iid].tick_size
            ratio = (bid + ask) / 2 * float(tick) / ANCHORS[iid]
            stats.mid_ratio_min = min(stats.mid_ratio_min, ratio)
            stats.mid_ratio_max = max(stats.mid_ratio_max, ratio)
        x, f = view.best_bid(LUX_XRPL), view.best_bid(LUX_FLARE)
        if x is not None and f is not None:
            stats.lux_gap_max = max(stats.lux_gap_max, abs(x - f) / min(x, f))
    return venue, sim, stats


@pytest.fixture(scope="module")
def long_run() -> tuple[Venue, Simulator, RunStats]:
    # 12,000 steps of 1 s: 3 h 20 min of one New York trading day.
    return simulate(seed=2026, steps=12_000, dt_ms=1000)


def test_simulator_long_run_books_stay_two_sided(
    long_run: tuple[Venue, Simulator, RunStats],
) -> None:
    venue, sim, stats = long_run
    assert stats.checks > 90_000
    assert stats.one_sided / stats.checks < 0.001
    for iid in sim.instruments:
        assert venue.engine.best_bid(iid) is not None and venue.engine.best_ask(iid) is not None


def test_simulator_long_run_prices_stay_in_plausible_band(
    long_run: tuple[Venue, Simulator, RunStats],
) -> None:
    _, _, stats = long_run
    assert 0.85 < stats.mid_ratio_min <= stats.mid_ratio_max < 1.15


def test_simulator_long_run_rejections_are_rare(
    long_run: tuple[Venue, Simulator, RunStats],
) -> None:
    _, _, stats = long_run
    assert stats.operations > 40_000
    assert sum(stats.rejected.values()) / stats.operations < 0.01


def test_simulator_long_run_every_instrument_trades(
    long_run: tuple[Venue, Simulator, RunStats],
) -> None:
    _, sim, stats = long_run
    assert all(stats.trades[iid] > 500 for iid in sim.instruments)


def test_simulator_long_run_stops_cascade(long_run: tuple[Venue, Simulator, RunStats]) -> None:
    _, _, stats = long_run
    assert stats.cascades > 0


def test_simulator_long_run_cross_venue_luxury_spread_appears(
    long_run: tuple[Venue, Simulator, RunStats],
) -> None:
    _, _, stats = long_run
    assert stats.lux_gap_max > 0.005


def test_simulator_same_seed_same_events_and_state_hash() -> None:
    first_venue, _, first = simulate(seed=5, steps=1500, dt_ms=200)
    second_venue, _, second = simulate(seed=5, steps=1500, dt_ms=200)
    assert msgspec.json.encode(first.commands) == msgspec.json.encode(second.commands)
    assert first_venue.seq == second_venue.seq
    assert first_venue.state_hash() == second_venue.state_hash()


def test_simulator_same_seed_replayed_commands_reproduce_events() -> None:
    venue = funded_venue()
    sim = Simulator(CONFIG, 6)
    view = VenueView(venue)
    log: list[tuple[int, Command]] = [(T_OPEN, c) for c in sim.setup_commands()]
    for ts, cmd in log:
        venue.execute(cmd, ts)
    events = []
    for i in range(800):
        ts = T_OPEN + 300 * (i + 1)
        for cmd in sim.step(ts, view):
            log.append((ts, cmd))
            events.extend(venue.execute(cmd, ts).events)
    again = funded_venue()
    for ts, cmd in log[: len(sim.setup_commands())]:
        again.execute(cmd, ts)
    replayed = []
    for ts, cmd in log[len(sim.setup_commands()) :]:
        replayed.extend(again.execute(cmd, ts).events)
    assert msgspec.json.encode(events) == msgspec.json.encode(replayed)
    assert venue.state_hash() == again.state_hash()


def test_simulator_session_close_stops_equity_orders_without_rejections() -> None:
    # From 15:50 to 16:10 New York: equities close at 16:00 (21:00 UTC).
    start = int(datetime(2026, 11, 17, 20, 50, tzinfo=UTC).timestamp() * 1000)
    close = int(datetime(2026, 11, 17, 21, 0, tzinfo=UTC).timestamp() * 1000)
    _, _, stats = simulate(seed=3, steps=3000, dt_ms=400, start=start)
    assert stats.rejected[str(Reason.MARKET_CLOSED)] == 0
    assert sum(stats.rejected.values()) / stats.operations < 0.01
    assert stats.trades["AAPL"] > 0
    after = [c for ts, c in stats.commands if ts >= close]
    assert after
    assert not {o.instrument for o in place_ops(after)} & {"AAPL", "MSFT", "GOOGL", "TSLA"}
