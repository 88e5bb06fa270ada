"""Replay recorded trades and quotes from CSV into one instrument, as real orders.

CSV format (UTF-8, comma separated, one header line, ``#`` lines are comments)::

    ts_ms,kind,price,qty,side
    1795446000000,quote,42649.50,0.42000,buy     # best bid 42649.50 x 0.42
    1795446000000,quote,42650.50,0.31000,sell    # best ask
    1795446000250,trade,42650.50,0.01500,buy     # a buyer took 0.015 at 42650.50

- ``ts_ms``: integer milliseconds since the epoch, never decreasing.
- ``kind``: ``quote`` (the replayed top of book on one side) or ``trade``.
- ``price``, ``qty``: decimals in the instrument's units; exact multiples of its tick
  and lot size. A quote with ``qty`` 0 removes that side's quote.
- ``side``: for a quote, ``buy`` (bid) or ``sell`` (ask), required; for a trade the
  taker's side, optional (inferred from the current quotes, default ``buy``). The
  column may be left out entirely when every row is a trade.

Invariants:
- Pure core: ``ReplayPlan.from_csv(path, instrument)`` parses and plans everything up
  front into ``(ts_ms, Command)`` pairs; the async driver only paces and submits.
- Everything goes through ordinary commands from two replay accounts (``replay-maker``
  and ``replay-taker``, funded by ``Deposit`` commands at the start): a quote is a
  resting GTC limit order of the maker that replaces its previous quote on that side
  (one ``Batch``: cancel, place); a trade is a resting maker order at the trade price
  followed by an IOC limit order of the taker for the same quantity at the same
  price, so exactly that trade prints.
- Before a trade the maker cancels its own quotes that the taker would hit first or
  that would cross the maker's order; a new quote that crosses the maker's opposite
  quote cancels that one. So, in a book the replay owns, every CSV trade prints at its
  price and quantity. Orders of other users on the same instrument can trade with the
  replay's orders (replay into an instrument the simulator does not run).
"""

from __future__ import annotations

import asyncio
import csv
import math
import random
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path

from openpit.core.commands import Batch, CancelOrder, Command, Deposit, ModifyOrder, PlaceOrder
from openpit.core.enums import OrderType, Side, TimeInForce
from openpit.core.errors import OpenpitError
from openpit.core.instrument import PPM, Instrument, NotAMultiple, OutOfRange
from openpit.feeds.simulator.driver import FeedStats
from openpit.venue.service import VenueService

SAMPLE_CSV = Path(__file__).parent / "data" / "sample_btcusdt.csv"
COLUMNS = ("ts_ms", "kind", "price", "qty", "side")


class ReplayError(OpenpitError, ValueError):
    """A replay file is invalid; the message names the file and the line."""


@dataclass(frozen=True, slots=True)
class ReplayRow:
    ts: int
    kind: str  # "trade" | "quote"
    price: int  # ticks
    qty: int  # lots
    side: Side | None


@dataclass(frozen=True, slots=True)
class ReplayPlan:
    """Every command of a replay, in order, with the CSV time it belongs to."""

    instrument: str
    maker: str
    taker: str
    rows: tuple[ReplayRow, ...]
    steps: tuple[tuple[int, Command], ...] = field(repr=False)

    def __iter__(self) -> Iterator[tuple[int, Command]]:
        return iter(self.steps)

    def __len__(self) -> int:
        return len(self.steps)

    @property
    def trades(self) -> list[tuple[int, int]]:
        """``(price_ticks, qty_lots)`` of every trade the replay prints, in order."""
        return [(r.price, r.qty) for r in self.rows if r.kind == "trade"]

    @classmethod
    def from_csv(
        cls,
        path: str | Path,
        instrument: Instrument,
        *,
        maker: str = "replay-maker",
        taker: str = "replay-taker",
    ) -> ReplayPlan:
        """Parse ``path`` (see the module doc) and plan the commands for ``instrument``."""
        rows = read_rows(path, instrument)
        return cls.from_rows(rows, instrument, maker=maker, taker=taker)

    @classmethod
    def from_rows(
        cls,
        rows: Sequence[ReplayRow],
        instrument: Instrument,
        *,
        maker: str = "replay-maker",
        taker: str = "replay-taker",
    ) -> ReplayPlan:
        planner = _Planner(instrument, maker, taker)
        steps = planner.funding(rows)
        for row in rows:
            steps.extend((row.ts, cmd) for cmd in planner.row(row))
        return cls(instrument.id, maker, taker, tuple(rows), tuple(steps))


def read_rows(path: str | Path, instrument: Instrument) -> list[ReplayRow]:
    """Parse a replay CSV into integer rows; ``ReplayError`` names file and line."""
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except OSError as exc:
        raise ReplayError(f"{p}: cannot read: {exc.strerror}") from exc
    lines = [(n, line) for n, line in enumerate(text.splitlines(), 1)]
    lines = [(n, line) for n, line in lines if line.strip() and not line.lstrip().startswith("#")]
    if not lines:
        raise ReplayError(f"{p}: empty file (expected a header {','.join(COLUMNS)})")
    header = [h.strip() for h in lines[0][1].split(",")]
    if header not in (list(COLUMNS), list(COLUMNS[:4])):
        raise ReplayError(
            f"{p}:{lines[0][0]}: header must be {','.join(COLUMNS)} (side optional), "
            f"got {','.join(header)}"
        )
    rows: list[ReplayRow] = []
    reader = csv.reader(line for _, line in lines[1:])
    for (n, _), fields in zip(lines[1:], reader, strict=True):
        rows.append(_row(p, n, [f.split("#")[0].strip() for f in fields], header, instrument))
        if len(rows) > 1 and rows[-1].ts < rows[-2].ts:
            raise ReplayError(f"{p}:{n}: ts_ms goes backwards ({rows[-1].ts} < {rows[-2].ts})")
    return rows


def _row(p: Path, n: int, fields: list[str], header: list[str], inst: Instrument) -> ReplayRow:
    def fail(problem: str) -> ReplayError:
        return ReplayError(f"{p}:{n}: {problem}")

    while len(fields) > len(header) and fields[-1] == "":
        fields.pop()
    if len(fields) < 4 or len(fields) > len(header):
        raise fail(f"expected {len(header)} fields ({','.join(header)}), got {len(fields)}")
    try:
        ts = int(fields[0])
    except ValueError as exc:
        raise fail(f"ts_ms: not an integer: {fields[0]!r}") from exc
    kind = fields[1].lower()
    if kind not in ("trade", "quote"):
        raise fail(f"kind: expected trade or quote, got {fields[1]!r}")
    try:
        price = inst.price_to_ticks(Decimal(fields[2]))
        qty = inst.qty_to_lots(Decimal(fields[3]))
    except InvalidOperation as exc:
        raise fail(f"price/qty: not a decimal number: {fields[2]!r}, {fields[3]!r}") from exc
    except (NotAMultiple, OutOfRange) as exc:
        raise fail(
            f"price/qty: {exc} (tick {inst.tick_size}, lot {inst.lot_size} on {inst.id})"
        ) from exc
    raw_side = fields[4].lower() if len(fields) > 4 else ""
    side: Side | None = None
    if raw_side:
        try:
            side = Side(raw_side)
        except ValueError as exc:
            raise fail(f"side: expected buy or sell, got {fields[4]!r}") from exc
    if price <= 0:
        raise fail("price: must be positive")
    if kind == "quote" and side is None:
        raise fail("side: a quote needs buy (bid) or sell (ask)")
    if qty < 0 or (kind == "trade" and qty < inst.min_lots):
        raise fail(f"qty: a trade needs at least {inst.lots_to_qty(inst.min_lots)}")
    if kind == "quote" and 0 < qty < inst.min_lots:
        raise fail(f"qty: a quote is 0 or at least {inst.lots_to_qty(inst.min_lots)}")
    return ReplayRow(ts, kind, price, qty, side)


class _Planner:
    """Turns rows into commands, tracking the maker's live quotes (pure)."""

    def __init__(self, inst: Instrument, maker: str, taker: str) -> None:
        self.inst, self.maker, self.taker = inst, maker, taker
        self.quotes: dict[Side, tuple[int, int, str]] = {}  # side -> (price, qty, client id)
        self.counter = 0

    def funding(self, rows: Sequence[ReplayRow]) -> list[tuple[int, Command]]:
        """Deposits covering every order of the replay, fees included."""
        if not rows:
            return []
        inst = self.inst
        lots = sum(r.qty for r in rows)
        quote = sum(inst.notional(r.price, r.qty) for r in rows)
        fee_ppm = max(inst.maker_fee_ppm, inst.taker_fee_ppm)
        quote += -(-quote * fee_ppm // PPM) + 1
        ts = rows[0].ts
        return [
            (ts, Deposit(user=user, asset=asset, units=units))
            for user in (self.maker, self.taker)
            for asset, units in (
                (inst.base.symbol, inst.base_units(lots)),
                (inst.quote.symbol, quote),
            )
        ]

    def row(self, row: ReplayRow) -> list[Command]:
        return self._quote(row) if row.kind == "quote" else self._trade(row)

    def _cid(self) -> str:
        self.counter += 1
        return f"rp-{self.counter}"

    def _cancel(self, side: Side) -> CancelOrder:
        _, _, cid = self.quotes.pop(side)
        return CancelOrder(user=self.maker, client_order_id=cid)

    def _limit(
        self, user: str, side: Side, price: int, qty: int, tif: TimeInForce, cid: str | None
    ) -> PlaceOrder:
        return PlaceOrder(
            user=user,
            instrument=self.inst.id,
            side=side,
            type=OrderType.LIMIT,
            qty=qty,
            price=price,
            tif=tif,
            client_order_id=cid,
        )

    def _quote(self, row: ReplayRow) -> list[Command]:
        assert row.side is not None
        side, opposite = row.side, row.side.opposite
        current = self.quotes.get(side)
        if current is not None and current[:2] == (row.price, row.qty):
            return []
        ops: list[PlaceOrder | CancelOrder | ModifyOrder] = []
        if current is not None:
            ops.append(self._cancel(side))
        other = self.quotes.get(opposite)
        if row.qty > 0 and other is not None and _crosses(side, row.price, other[0]):
            ops.append(self._cancel(opposite))
        if row.qty > 0:
            cid = self._cid()
            ops.append(self._limit(self.maker, side, row.price, row.qty, TimeInForce.GTC, cid))
            self.quotes[side] = (row.price, row.qty, cid)
        return [Batch(user=self.maker, ops=ops)] if ops else []

    def _trade(self, row: ReplayRow) -> list[Command]:
        taker_side = row.side or self._infer(row.price)
        maker_side = taker_side.opposite
        take = self._limit(self.taker, taker_side, row.price, row.qty, TimeInForce.IOC, None)
        resting = self.quotes.get(maker_side)
        if resting is not None and resting[0] == row.price and resting[1] >= row.qty:
            # the trade takes (part of) the replayed quote, as it did on the recorded venue
            left = resting[1] - row.qty
            if left:
                self.quotes[maker_side] = (resting[0], left, resting[2])
            else:
                del self.quotes[maker_side]
            return [take]
        ops: list[PlaceOrder | CancelOrder | ModifyOrder] = []
        if resting is not None and not _crosses(maker_side, resting[0], row.price, strict=True):
            # a maker quote at or through the trade price would be hit first
            ops.append(self._cancel(maker_side))
        same = self.quotes.get(taker_side)
        if same is not None and _crosses(taker_side, same[0], row.price):
            ops.append(self._cancel(taker_side))  # would cross the maker's own order
        ops.append(self._limit(self.maker, maker_side, row.price, row.qty, TimeInForce.GTC, None))
        return [Batch(user=self.maker, ops=ops), take]

    def _infer(self, price: int) -> Side:
        bid, ask = self.quotes.get(Side.BUY), self.quotes.get(Side.SELL)
        if ask is not None and price >= ask[0]:
            return Side.BUY
        if bid is not None and price <= bid[0]:
            return Side.SELL
        if bid is not None and ask is not None:
            return Side.BUY if 2 * price >= bid[0] + ask[0] else Side.SELL
        return Side.BUY


def _crosses(side: Side, price: int, other: int, *, strict: bool = False) -> bool:
    """Whether an order on ``side`` at ``price`` would trade with one at ``other``.

    With ``strict``, whether it is strictly worse for a taker than ``other`` (for a
    maker ask: above the trade price; for a maker bid: below it).
    """
    if strict:
        return price > other if side is Side.SELL else price < other
    return price >= other if side is Side.BUY else price <= other


# -- driver ----------------------------------------------------------------------------


def parse_speed(text: str) -> float | None:
    """``"1x"``, ``"10"``, ``"0.5x"`` -> that factor; ``"max"`` -> None (no waiting)."""
    t = text.strip().lower()
    if t == "max":
        return None
    try:
        value = float(t.removesuffix("x"))
    except ValueError as exc:
        raise ValueError(f"replay speed: expected 1x, 10x, ... or max, got {text!r}") from exc
    if not math.isfinite(value) or value <= 0:
        raise ValueError(f"replay speed must be positive, got {text!r}")
    return value


async def run_replay(
    service: VenueService,
    plan: ReplayPlan,
    speed: float | None = 1.0,
    *,
    stats: FeedStats | None = None,
) -> FeedStats:
    """Submit the plan's commands through ``service``, spaced like the CSV's timestamps.

    ``speed`` 1.0 is real time, 10.0 ten times faster, None as fast as possible
    (still yielding to the loop between commands). Returns when the plan is done.
    """
    stats = FeedStats() if stats is None else stats
    loop = asyncio.get_running_loop()
    start_loop = loop.time()
    start_ts = plan.steps[0][0] if plan.steps else 0
    for ts, command in plan.steps:
        if speed is not None:
            due = start_loop + (ts - start_ts) / 1000.0 / speed
            delay = due - loop.time()
            if delay > 0:
                await asyncio.sleep(delay)
        else:
            await asyncio.sleep(0)
        stats.record(command, await service.submit(command))
        stats.steps += 1
    return stats


# -- the sample file -------------------------------------------------------------------


def sample_csv_text(seed: int = 42, rows: int = 400) -> str:
    """The shipped ``data/sample_btcusdt.csv``: a seeded BTCUSDT walk around 42650."""
    rng = random.Random(seed)
    ts = 1_795_446_000_000  # 2026-11-23 15:00 UTC
    mid = 4_265_000  # ticks of 0.01
    out = [
        "# openpit replay sample: BTCUSDT quotes and trades (synthetic, seed 42)",
        ",".join(COLUMNS),
    ]

    def px(ticks: int) -> str:
        return f"{ticks // 100}.{ticks % 100:02d}"

    def qty(lots: int) -> str:
        return f"{lots // 100_000}.{lots % 100_000:05d}"

    while len(out) - 2 < rows:
        ts += rng.randint(40, 1500)
        mid += round(rng.gauss(0, 120) - (mid - 4_265_000) * 0.01)
        half = rng.randint(25, 150)
        bid, ask = mid - half, mid + half
        out.append(f"{ts},quote,{px(bid)},{qty(rng.randint(5_000, 150_000))},buy")
        out.append(f"{ts},quote,{px(ask)},{qty(rng.randint(5_000, 150_000))},sell")
        for _ in range(rng.choice((0, 1, 1, 2, 3))):
            ts += rng.randint(0, 300)
            side = "buy" if rng.random() < 0.5 else "sell"
            price = ask if side == "buy" else bid
            out.append(f"{ts},trade,{px(price)},{qty(rng.randint(100, 20_000))},{side}")
    return "\n".join(out[: rows + 2]) + "\n"
