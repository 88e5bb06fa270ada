"""CSV replay: parsing, planning, and printing the recorded trades through the real Venue."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from openpit.core.commands import Batch, Command, Deposit, PlaceOrder
from openpit.core.enums import Side, TimeInForce
from openpit.core.events import Trade
from openpit.feeds.replay import (
    SAMPLE_CSV,
    ReplayError,
    ReplayPlan,
    parse_speed,
    read_rows,
    sample_csv_text,
)
from openpit.venue import Venue
from tests.feeds.helpers import CONFIG, operations

BTC = CONFIG.instruments["BTCUSDT"]
HEADER = "ts_ms,kind,price,qty,side\n"


def _csv(tmp_path: Path, body: str, header: str = HEADER) -> Path:
    path = tmp_path / "feed.csv"
    path.write_text(header + body)
    return path


def _play(plan: ReplayPlan, venue: Venue | None = None) -> tuple[Venue, list[Trade], Counter[str]]:
    venue = Venue(CONFIG) if venue is None else venue
    trades: list[Trade] = []
    rejected: Counter[str] = Counter()
    for ts, cmd in plan:
        result = venue.execute(cmd, ts)
        rejected.update(str(op.reason) for op in operations(cmd, result) if not op.ok)
        trades.extend(e for e in result.events if isinstance(e, Trade))
    return venue, trades, rejected


def test_replay_sample_file_is_the_seeded_generator_output() -> None:
    assert SAMPLE_CSV.read_text(encoding="utf-8") == sample_csv_text()


def test_replay_sample_file_has_hundreds_of_rows_of_both_kinds() -> None:
    rows = read_rows(SAMPLE_CSV, BTC)
    kinds = Counter(r.kind for r in rows)
    assert len(rows) == 400 and kinds["trade"] > 100 and kinds["quote"] > 100


def test_replay_sample_prints_csv_trades_at_csv_prices_through_venue() -> None:
    plan = ReplayPlan.from_csv(SAMPLE_CSV, BTC)
    venue, trades, rejected = _play(plan)
    assert not rejected
    assert [(t.price, t.qty) for t in trades] == plan.trades
    assert len(trades) == len(plan.trades) > 100
    assert all(t.instrument == "BTCUSDT" for t in trades)
    takers = {t.taker_user for t in trades} | {t.maker_user for t in trades}
    assert takers == {"replay-maker", "replay-taker"}
    assert venue.engine.best_bid("BTCUSDT") is not None


def test_replay_sample_taker_sides_match_csv() -> None:
    plan = ReplayPlan.from_csv(SAMPLE_CSV, BTC)
    _, trades, _ = _play(plan)
    expected = [r.side for r in plan.rows if r.kind == "trade"]
    assert [t.taker_side for t in trades] == expected


def test_replay_quotes_rest_as_top_of_book(tmp_path: Path) -> None:
    body = "1000,quote,42000.00,0.5,buy\n1000,quote,42001.00,0.25,sell\n"
    venue, trades, rejected = _play(ReplayPlan.from_csv(_csv(tmp_path, body), BTC))
    assert not trades and not rejected
    assert venue.engine.depth("BTCUSDT", 5) == ([(4_200_000, 50_000)], [(4_200_100, 25_000)])


def test_replay_new_quote_replaces_previous_quote(tmp_path: Path) -> None:
    body = (
        "1000,quote,42000.00,0.5,buy\n"
        "1001,quote,42001.00,0.25,sell\n"
        "1002,quote,42000.50,0.1,buy\n"
        "1003,quote,42001.00,0,sell\n"
    )
    venue, _, rejected = _play(ReplayPlan.from_csv(_csv(tmp_path, body), BTC))
    assert not rejected
    assert venue.engine.depth("BTCUSDT", 5) == ([(4_200_050, 10_000)], [])


def test_replay_crossing_quote_cancels_stale_opposite_quote(tmp_path: Path) -> None:
    body = "1000,quote,42000.00,0.5,buy\n1000,quote,42001.00,0.25,sell\n1001,quote,42002.00,1,buy\n"
    venue, trades, rejected = _play(ReplayPlan.from_csv(_csv(tmp_path, body), BTC))
    assert not trades and not rejected
    assert venue.engine.depth("BTCUSDT", 5) == ([(4_200_200, 100_000)], [])


def test_replay_trade_inside_spread_prints_at_its_price(tmp_path: Path) -> None:
    body = (
        "1000,quote,42000.00,0.5,buy\n"
        "1000,quote,42010.00,0.5,sell\n"
        "1001,trade,42005.00,0.2,sell\n"
        "1002,trade,42012.00,0.1\n"
    )
    plan = ReplayPlan.from_csv(_csv(tmp_path, body), BTC)
    _, trades, rejected = _play(plan)
    assert not rejected
    assert [(t.price, t.qty, t.taker_side) for t in trades] == [
        (4_200_500, 20_000, Side.SELL),
        (4_201_200, 10_000, Side.BUY),  # side inferred: at or above the ask
    ]


def test_replay_trade_at_quote_takes_from_the_quote(tmp_path: Path) -> None:
    body = "1000,quote,42000.00,0.5,buy\n1000,quote,42010.00,0.5,sell\n1001,trade,42010,0.2,buy\n"
    plan = ReplayPlan.from_csv(_csv(tmp_path, body), BTC)
    venue, trades, _ = _play(plan)
    assert [(t.price, t.qty) for t in trades] == [(4_201_000, 20_000)]
    assert venue.engine.depth("BTCUSDT", 5)[1] == [(4_201_000, 30_000)]
    last = plan.steps[-1][1]
    assert isinstance(last, PlaceOrder) and last.tif is TimeInForce.IOC


def test_replay_trades_only_file_without_side_column(tmp_path: Path) -> None:
    body = "1000,trade,42000.00,0.01\n1500,trade,42001.00,0.02\n"
    plan = ReplayPlan.from_csv(_csv(tmp_path, body, "ts_ms,kind,price,qty\n"), BTC)
    _, trades, rejected = _play(plan)
    assert not rejected and [(t.price, t.qty) for t in trades] == plan.trades


def test_replay_plan_starts_with_deposits_for_both_accounts() -> None:
    plan = ReplayPlan.from_csv(SAMPLE_CSV, BTC)
    first: list[Command] = [c for _, c in plan.steps[:4]]
    assert all(isinstance(c, Deposit) for c in first)
    assert {(c.user, c.asset) for c in first if isinstance(c, Deposit)} == {
        (u, a) for u in ("replay-maker", "replay-taker") for a in ("BTC", "USDT")
    }
    assert all(isinstance(c, Batch | PlaceOrder) for _, c in plan.steps[4:])


def test_replay_plan_is_deterministic() -> None:
    assert ReplayPlan.from_csv(SAMPLE_CSV, BTC) == ReplayPlan.from_csv(SAMPLE_CSV, BTC)


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("1000,quote,42000.001,0.5,buy\n", r"feed\.csv:2: price/qty: .*not a multiple"),
        ("1000,quote,42000,0.5\n", r"feed\.csv:2: side: a quote needs"),
        ("1000,book,42000,0.5,buy\n", r"feed\.csv:2: kind: expected trade or quote"),
        ("x,trade,42000,0.5,buy\n", r"feed\.csv:2: ts_ms: not an integer"),
        ("1000,trade,42000,0.5,up\n", r"feed\.csv:2: side: expected buy or sell"),
        ("1000,trade,42000,0,buy\n", r"feed\.csv:2: qty: a trade needs"),
        ("2000,trade,1,0.5\n1000,trade,1,0.5\n", r"feed\.csv:3: ts_ms goes backwards"),
        ("1000,trade\n", r"feed\.csv:2: expected 5 fields"),
    ],
)
def test_replay_bad_row_error_names_file_line_and_problem(
    tmp_path: Path, body: str, message: str
) -> None:
    with pytest.raises(ReplayError, match=message):
        ReplayPlan.from_csv(_csv(tmp_path, body), BTC)


def test_replay_bad_header_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(ReplayError, match=r"feed\.csv:1: header must be"):
        ReplayPlan.from_csv(_csv(tmp_path, "1,trade,1,1\n", "time,kind,price,size\n"), BTC)


def test_replay_comments_and_blank_lines_are_skipped(tmp_path: Path) -> None:
    body = "# recorded somewhere\n\n1000,trade,42000.00,0.01,buy  # a comment\n"
    assert len(read_rows(_csv(tmp_path, body), BTC)) == 1


@pytest.mark.parametrize(
    ("text", "speed"), [("1x", 1.0), ("10x", 10.0), ("0.5", 0.5), ("max", None), ("MAX", None)]
)
def test_replay_parse_speed_accepts_factors_and_max(text: str, speed: float | None) -> None:
    assert parse_speed(text) == speed


@pytest.mark.parametrize("text", ["fast", "0x", "-1x", "inf"])
def test_replay_parse_speed_rejects_nonsense(text: str) -> None:
    with pytest.raises(ValueError, match="replay speed"):
        parse_speed(text)
