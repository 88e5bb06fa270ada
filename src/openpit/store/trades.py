"""Read-only queries on the store's ``trades`` table for the market-data rebuild.

Invariants:
- Reads only: one private connection opened ``mode=ro`` on the store's file, so it
  never takes the writer's lock and never changes a row.
- Every query takes ``through_seq``: only trades of commands up to that seq are
  returned, so a history writer still catching up (it writes replayed results after a
  restart) cannot add rows to an answer while it is read.
- Trade ids follow execution order, so ``ORDER BY trade_id`` is time order.
"""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from openpit.core.enums import Side
from openpit.core.events import Trade
from openpit.store.sqlite import TRADE_COLUMNS

# (minute start ms, open, high, low, close, lots, sum of price x lots, trade count)
MinuteRow = tuple[int, int, int, int, int, int, int, int]

_NAMES = ", ".join(f'"{c}"' for c in TRADE_COLUMNS)
_SIDE = TRADE_COLUMNS.index("taker_side")
_SIDES = {s.value: s for s in Side}


class TradeReader:
    """``trades`` of the SQLite store at ``path`` (``<data_dir>/openpit.sqlite3``)."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        uri = Path(path).resolve().as_uri() + "?mode=ro"
        self._db = sqlite3.connect(uri, uri=True, check_same_thread=False)

    def close(self) -> None:
        self._db.close()

    def __enter__(self) -> TradeReader:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def minutes(
        self, instrument: str, *, until_ts: int, through_seq: int, since_ts: int = 0
    ) -> list[MinuteRow]:
        """Per UTC minute, oldest first, the trades with ``since_ts <= ts <= until_ts``:
        (start, open, high, low, close, lots, Σ price × lots, count). Open and close are
        the prices of the minute's first and last trade. Aggregated inside SQLite."""
        sql = (
            "SELECT m.b * 60000, o.price, m.hi, m.lo, c.price, m.vol, m.pq, m.n FROM ("
            "SELECT ts / 60000 AS b, min(trade_id) AS first, max(trade_id) AS last,"
            " max(price) AS hi, min(price) AS lo, sum(qty) AS vol, sum(price * qty) AS pq,"
            " count(*) AS n FROM trades WHERE instrument = ? AND ts >= ? AND ts <= ?"
            " AND seq <= ? GROUP BY b) AS m"
            " JOIN trades AS o ON o.instrument = ? AND o.trade_id = m.first"
            " JOIN trades AS c ON c.instrument = ? AND c.trade_id = m.last ORDER BY m.b"
        )
        args = (instrument, since_ts, until_ts, through_seq, instrument, instrument)
        try:
            return [tuple(r) for r in self._db.execute(sql, args)]
        except sqlite3.OperationalError as exc:  # a sum beyond int64: add up in Python
            if "overflow" not in str(exc):
                raise
        out: list[MinuteRow] = []
        rows = self._db.execute(
            "SELECT ts, price, qty FROM trades WHERE instrument = ? AND ts >= ? AND ts <= ?"
            " AND seq <= ? ORDER BY trade_id",
            (instrument, since_ts, until_ts, through_seq),
        )
        for ts, price, qty in rows:
            start = ts // 60000 * 60000
            if out and out[-1][0] == start:
                b = out[-1]
                out[-1] = (
                    start, b[1], max(b[2], price), min(b[3], price), price,
                    b[5] + qty, b[6] + price * qty, b[7] + 1,
                )  # fmt: skip
            else:
                out.append((start, price, price, price, price, qty, price * qty, 1))
        return out

    def after(self, instrument: str, *, after_ts: int, through_seq: int) -> list[Trade]:
        """Trades with ``ts > after_ts``, in execution order."""
        return self._trades(
            "instrument = ? AND ts > ? AND seq <= ? ORDER BY trade_id",
            (instrument, after_ts, through_seq),
        )

    def last(self, instrument: str, *, until_ts: int, through_seq: int, limit: int) -> list[Trade]:
        """The newest ``limit`` trades with ``ts <= until_ts``, oldest first."""
        found = self._trades(
            "instrument = ? AND ts <= ? AND seq <= ? ORDER BY trade_id DESC LIMIT ?",
            (instrument, until_ts, through_seq, max(0, limit)),
        )
        found.reverse()
        return found

    def _trades(self, where: str, args: Sequence[Any]) -> list[Trade]:
        out = []
        for row in self._db.execute(f"SELECT {_NAMES} FROM trades WHERE {where}", args):
            values = list(row)
            values[_SIDE] = _SIDES[values[_SIDE]]
            out.append(Trade(**dict(zip(TRADE_COLUMNS, values, strict=True))))
        return out
