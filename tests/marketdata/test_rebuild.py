"""``MarketData.restore_history``: the rebuilt state equals the live state (pure)."""

from __future__ import annotations

import random
from collections.abc import Sequence

import msgspec

from openpit.core.enums import Side
from openpit.core.events import Trade
from openpit.marketdata import INTERVALS, MarketData, MinuteBar
from openpit.marketdata.ticker import DAY_MS
from tests.marketdata._helpers import CONFIG

T0 = 1_795_446_000_000  # a Tuesday
INSTS = ("BTCUSDT", "ETHUSDT")


def _trades(n: int, span_ms: int, seed: int) -> list[Trade]:
    """``n`` trades over ``span_ms``, in sequence order, several per command at times."""
    rng = random.Random(seed)
    out: list[Trade] = []
    ts = T0
    seq = 0
    for i in range(1, n + 1):
        if rng.random() < 0.7:  # a new command (else another trade of the same one)
            seq += 1
            ts += rng.randint(1, 2 * span_ms // n)
        out.append(
            Trade(
                instrument=rng.choice(INSTS),
                trade_id=i,
                price=3_000_000 + rng.randint(-5000, 5000),
                qty=rng.randint(1, 500),
                taker_side=rng.choice((Side.BUY, Side.SELL)),
                maker_order_id=1,
                taker_order_id=2,
                maker_user="m",
                taker_user="t",
                seq=seq,
                ts=ts,
                iseq=i,
            )
        )
    return out


def _live(trades: Sequence[Trade], now: int) -> MarketData:
    md = MarketData(CONFIG, tape_size=50)
    i = 0
    while i < len(trades):  # one batch per command, as the venue publishes them
        j = i
        while j < len(trades) and trades[j].seq == trades[i].seq:
            j += 1
        md.apply(trades[i:j])
        i = j
    md.advance(now)
    return md


def _minutes(trades: Sequence[Trade]) -> dict[str, list[MinuteBar]]:
    """The reference aggregation (what the store computes in SQL)."""
    out: dict[str, list[MinuteBar]] = {}
    for t in trades:
        inst = CONFIG.instruments[t.instrument]
        bars = out.setdefault(t.instrument, [])
        start = t.ts // 60_000 * 60_000
        n = inst.notional(t.price, t.qty)
        if bars and bars[-1].start == start:
            b = bars[-1]
            bars[-1] = MinuteBar(
                start=start,
                open=b.open,
                high=max(b.high, t.price),
                low=min(b.low, t.price),
                close=t.price,
                qty=b.qty + t.qty,
                notional=b.notional + n,
                count=b.count + 1,
            )
        else:
            bars.append(MinuteBar(start=start, open=t.price, high=t.price, low=t.price,
                                  close=t.price, qty=t.qty, notional=n, count=1))  # fmt: skip
    return out


def _rebuilt(trades: Sequence[Trade], now: int) -> MarketData:
    md = MarketData(CONFIG, tape_size=50)
    cutoff = now - DAY_MS
    old = [t for t in trades if t.ts <= cutoff]
    older = {i: [t for t in old if t.instrument == i][-md.tape_size :] for i in INSTS}
    md.restore_history(
        minutes=_minutes(old),
        older=older,
        trades=[t for t in trades if t.ts > cutoff],
        now=now,
    )
    return md


def _view(md: MarketData) -> dict[str, object]:
    out: dict[str, object] = {"clock": md.clock}
    for iid in INSTS:
        out[iid] = (
            md.ticker(iid),
            md.recent_trades(iid),
            md.price(iid),
            {iv: md.history(iid, iv) for iv in INTERVALS},
        )
    return out


def _check(trades: list[Trade], now: int) -> None:
    live, rebuilt = _live(trades, now), _rebuilt(trades, now)
    assert _view(rebuilt) == _view(live)
    # and they go on identically
    more = [
        msgspec.structs.replace(t, ts=now + k + 1, seq=10**6 + k, trade_id=10**6 + k)
        for k, t in enumerate(trades[-30:])
    ]
    for md in (live, rebuilt):
        for t in more:
            md.apply([t])
        md.advance(now + 3 * DAY_MS)
    assert _view(rebuilt) == _view(live)


def test_restore_history_three_days_equals_live_state():
    trades = _trades(4000, 3 * DAY_MS, seed=1)
    _check(trades, trades[-1].ts + 30_000)


def test_restore_history_only_recent_trades_equals_live_state():
    trades = _trades(800, DAY_MS // 2, seed=2)
    _check(trades, trades[-1].ts + 1)


def test_restore_history_only_old_trades_keeps_last_price_tape_and_candles():
    trades = _trades(600, 2 * DAY_MS, seed=3)
    now = trades[-1].ts + 2 * DAY_MS  # quiet for two days: an empty window
    live, rebuilt = _live(trades, now), _rebuilt(trades, now)
    assert rebuilt.ticker("BTCUSDT").last_price is not None
    assert rebuilt.ticker("BTCUSDT").open is None
    assert _view(rebuilt) == _view(live)


def test_restore_history_nothing_traded_is_a_fresh_state():
    md = MarketData(CONFIG)
    assert md.restore_history(minutes={}, older={}, trades=[], now=T0) == 0
    assert _view(md) == _view(_live([], T0))
