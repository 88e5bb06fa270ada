"""The simulator's pure decision core, against fake market views (no venue)."""

from __future__ import annotations

import math
import random

import msgspec
import pytest

from openpit.config import ConfigError
from openpit.config.loader import parse_config
from openpit.core.commands import Batch, Command, Deposit, PlaceOrder
from openpit.core.enums import OrderType, Side
from openpit.feeds.simulator import SimSettings, Simulator
from openpit.feeds.simulator.fair import FairValues
from tests.feeds.helpers import CONFIG, T_OPEN, T_SATURDAY, StaticView, place_ops

EQUITIES = {"AAPL", "MSFT", "GOOGL", "TSLA"}


def _view_at_fair(sim: Simulator) -> StaticView:
    view = StaticView()
    for iid in sim.instruments:
        fair = round(sim.fair_price(iid))
        view.bids[iid], view.asks[iid], view.last[iid] = fair - 5, fair + 5, fair
    return view


def _run(seed: int, steps: int, start: int = T_OPEN) -> list[Command]:
    sim = Simulator(CONFIG, seed)
    view = _view_at_fair(sim)
    out: list[Command] = []
    for i in range(steps):
        out.extend(sim.step(start + 250 * i, view))
    return out


def test_simulator_same_seed_same_commands() -> None:
    first, second = _run(7, 600), _run(7, 600)
    assert len(first) > 300
    assert msgspec.json.encode(first) == msgspec.json.encode(second)


def test_simulator_different_seed_different_commands() -> None:
    assert msgspec.json.encode(_run(7, 200)) != msgspec.json.encode(_run(8, 200))


def test_simulator_global_random_state_does_not_change_commands() -> None:
    random.seed(1)
    first = _run(3, 200)
    random.seed(2)
    random.random()
    assert msgspec.json.encode(first) == msgspec.json.encode(_run(3, 200))


def test_simulator_default_instruments_cover_the_demo_config() -> None:
    sim = Simulator(CONFIG)
    assert set(sim.instruments) == set(CONFIG.instruments)
    assert sim.makers == ("sim-mm-1", "sim-mm-2") and sim.takers == ("sim-taker-1", "sim-taker-2")


def test_simulator_start_prices_match_reference_prices() -> None:
    sim = Simulator(CONFIG)
    expected = {
        "BTCUSDT": 42650,
        "ETHUSDT": 2500,
        "AAPL": 150,
        "MSFT": 420,
        "GOOGL": 170,
        "TSLA": 250,
        "LUXURY001-XRP-XRPL": 1000,
        "LUXURY001-XRP-FLARE": 1000,
    }
    for iid, price in expected.items():
        inst = CONFIG.instruments[iid]
        assert sim.fair_price(iid) == pytest.approx(float(price / inst.tick_size))


def test_simulator_orders_are_integer_ticks_and_lots_at_least_min_lots() -> None:
    commands = _run(11, 1500)
    orders = place_ops(commands)
    assert {o.type for o in orders} >= {
        OrderType.LIMIT,
        OrderType.MARKET,
        OrderType.STOP,
        OrderType.STOP_LIMIT,
    }
    for o in orders:
        inst = CONFIG.instruments[o.instrument]
        assert isinstance(o.qty, int) and o.qty >= inst.min_lots
        for price in (o.price, o.stop_price):
            assert price is None or (isinstance(price, int) and price >= 1)
        assert o.user.startswith("sim-")


def test_simulator_maker_batch_bids_below_asks() -> None:
    batches = [c for c in _run(5, 800) if isinstance(c, Batch) and c.user.startswith("sim-mm")]
    assert batches
    for batch in batches:
        by_inst: dict[str, tuple[list[int], list[int]]] = {}
        for op in batch.ops:
            if isinstance(op, PlaceOrder):
                assert op.price is not None
                bids, asks = by_inst.setdefault(op.instrument, ([], []))
                (bids if op.side is Side.BUY else asks).append(op.price)
        for bids, asks in by_inst.values():
            if bids and asks:
                assert max(bids) < min(asks)
            assert len(set(bids)) == len(bids) and len(set(asks)) == len(asks)


def test_simulator_closed_session_no_equity_orders() -> None:
    orders = place_ops(_run(2, 800, start=T_SATURDAY))
    assert orders
    assert not {o.instrument for o in orders} & EQUITIES


def test_simulator_open_session_trades_equities() -> None:
    orders = place_ops(_run(2, 800, start=T_OPEN))
    assert {o.instrument for o in orders} >= EQUITIES


def test_simulator_setup_commands_fund_every_account_in_every_asset() -> None:
    sim = Simulator(CONFIG)
    deposits = sim.setup_commands()
    assert all(isinstance(d, Deposit) and d.units > 0 for d in deposits)
    funded = {(d.user, d.asset) for d in deposits if isinstance(d, Deposit)}
    assets = {a for i in CONFIG.instruments.values() for a in (i.base.symbol, i.quote.symbol)}
    assert funded == {(u, a) for u in sim.users for a in assets}


def test_simulator_short_of_funds_deposits_before_ordering() -> None:
    sim = Simulator(CONFIG, 4)
    view = _view_at_fair(sim)
    view.balance = 0
    commands = sim.step(T_OPEN, view)
    assert isinstance(commands[0], Deposit)
    assert isinstance(commands[-1], Batch | PlaceOrder)


def test_simulator_large_surplus_is_withdrawn() -> None:
    sim = Simulator(CONFIG, 4)
    view = _view_at_fair(sim)
    view.balance = 10**30
    kinds = {type(c).__name__ for i in range(50) for c in sim.step(T_OPEN + i, view)}
    assert "Withdraw" in kinds


def test_simulator_empty_side_is_requoted_first() -> None:
    sim = Simulator(CONFIG, 9)
    view = _view_at_fair(sim)
    del view.asks["ETHUSDT"]
    commands = sim.step(T_OPEN, view)
    batch = commands[-1]
    assert isinstance(batch, Batch) and batch.user.startswith("sim-mm")
    assert {op.instrument for op in batch.ops if isinstance(op, PlaceOrder)} == {"ETHUSDT"}


def test_simulator_instrument_selection_by_settings() -> None:
    settings = SimSettings(instruments=("BTCUSDT", "ETHUSDT"), exclude=("ETHUSDT",))
    assert Simulator(CONFIG, 1, settings).instruments == ("BTCUSDT",)


def test_simulator_unknown_instrument_in_settings_is_config_error() -> None:
    with pytest.raises(ConfigError, match=r"simulator\.exclude: unknown instrument 'NOPE'"):
        Simulator(CONFIG, 1, SimSettings(exclude=("NOPE",)))


# -- settings ---------------------------------------------------------------------------


def test_settings_unknown_key_error_names_the_key() -> None:
    with pytest.raises(ConfigError, match=r"simulator\.speed: unknown key"):
        SimSettings.from_mapping({"speed": 3})


def test_settings_wrong_type_error_names_the_key() -> None:
    with pytest.raises(ConfigError, match=r"simulator\.levels: expected an integer"):
        SimSettings.from_mapping({"levels": "five"})


def test_settings_out_of_range_error_names_the_key() -> None:
    with pytest.raises(ConfigError, match=r"simulator\.rate: out of range"):
        SimSettings.from_mapping({"rate": 0})


def test_settings_from_config_section_are_applied() -> None:
    data = {
        "simulator": {
            "rate": "5",
            "seed": 9,
            "levels": 3,
            "prices": {"BTCUSDT": "50000"},
            "exclude": ["AAPL"],
        }
    }
    config = parse_config({**_raw_demo(), **data}, "test.toml")
    sim = Simulator.from_config(config)
    assert sim.settings.rate == 5.0 and sim.seed == 9 and sim.settings.levels == 3
    assert "AAPL" not in sim.instruments
    assert sim.fair_price("BTCUSDT") == pytest.approx(5_000_000)


def test_settings_from_config_unknown_key_names_file_and_key() -> None:
    config = parse_config({**_raw_demo(), "simulator": {"bogus": 1}}, "test.toml")
    with pytest.raises(ConfigError, match=r"test\.toml: simulator\.bogus: unknown key"):
        Simulator.from_config(config)


def _raw_demo() -> dict[str, object]:
    import tomllib
    from importlib import resources

    text = resources.files("openpit.config").joinpath("demo.toml").read_text(encoding="utf-8")
    return tomllib.loads(text)


# -- fair values ------------------------------------------------------------------------


def test_fair_value_long_run_stays_within_max_deviation() -> None:
    settings = SimSettings()
    fair = FairValues([["A"], ["B", "C"]], {"A": 1000.0, "B": 500.0, "C": 500.0}, settings, _rng())
    worst = 0.0
    for _ in range(100_000):  # ~28 hours in 1 s steps
        fair.advance(1000)
        worst = max(worst, abs(fair.deviation("A")), abs(fair.deviation("B")))
    assert worst <= settings.max_deviation
    assert worst > 0.01  # it does move


def test_fair_value_listings_share_walk_and_drift_apart_temporarily() -> None:
    settings = SimSettings()
    fair = FairValues([["B", "C"]], {"B": 500.0, "C": 500.0}, settings, _rng())
    gaps = []
    for _ in range(36_000):  # 10 hours
        fair.advance(1000)
        assert fair.deviation("B") == fair.deviation("C")
        gaps.append(abs(fair.ticks("B") / fair.ticks("C") - 1))
    assert max(gaps) >= settings.divergence_min
    assert max(gaps) <= 2 * settings.divergence_max
    assert sorted(gaps)[len(gaps) // 2] < settings.divergence_min  # mostly together


def _rng() -> random.Random:
    return random.Random(1234)


def test_simulator_first_step_resumes_from_last_prices() -> None:
    sim = Simulator(CONFIG, 1)
    view = _view_at_fair(sim)
    view.last["BTCUSDT"] = 4_400_000  # 44000: the venue traded there before a restart
    view.last["LUXURY001-XRP-XRPL"] = 102_000
    sim.step(T_OPEN, view)
    assert sim.fair_price("BTCUSDT") == pytest.approx(4_400_000)
    assert sim.fair_price("LUXURY001-XRP-FLARE") == pytest.approx(102_000)
    assert sim.fair_price("ETHUSDT") == pytest.approx(250_000)


def test_simulator_resume_is_bounded_by_max_deviation() -> None:
    sim = Simulator(CONFIG, 1)
    view = _view_at_fair(sim)
    view.last["BTCUSDT"] = 100  # 1.00: a silly print
    sim.step(T_OPEN, view)
    assert sim.fair_price("BTCUSDT") == pytest.approx(4_265_000 * math.exp(-0.10))
