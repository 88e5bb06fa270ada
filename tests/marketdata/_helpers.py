"""Shared builders for market-data tests: events and an independent reference."""

from __future__ import annotations

import binascii
from decimal import Decimal

from openpit.config.loader import VenueConfig, load_demo_config
from openpit.core.enums import Side
from openpit.core.events import BookLevel, Trade
from openpit.core.instrument import Instrument

CONFIG: VenueConfig = load_demo_config()
BTC: Instrument = CONFIG.instruments["BTCUSDT"]


def level(side: Side, price: int, qty: int, ts: int = 0, instrument: str = "BTCUSDT") -> BookLevel:
    return BookLevel(instrument=instrument, side=side, price=price, qty=qty, ts=ts)


def trade(
    trade_id: int,
    price: int,
    qty: int,
    ts: int,
    side: Side = Side.BUY,
    instrument: str = "BTCUSDT",
) -> Trade:
    return Trade(
        instrument=instrument,
        trade_id=trade_id,
        price=price,
        qty=qty,
        taker_side=side,
        maker_order_id=1,
        taker_order_id=2,
        maker_user="m",
        taker_user="t",
        ts=ts,
        iseq=trade_id,
    )


def _fmt(value: Decimal, places: int) -> str:
    return f"{value:.{places}f}".replace(".", "").lstrip("0")


def reference_checksum(
    inst: Instrument, asks: list[tuple[int, int]], bids: list[tuple[int, int]]
) -> int:
    """Written from the docs, independently of the implementation: Decimal strings."""
    text = ""
    for rows in (sorted(asks)[:10], sorted(bids, reverse=True)[:10]):
        for p, q in rows:
            text += _fmt(p * inst.tick_size, inst.price_decimals)
            text += _fmt(q * inst.lot_size, inst.qty_decimals)
    return binascii.crc32(text.encode())


def top(levels: dict[int, int], n: int, best_high: bool) -> list[tuple[int, int]]:
    rows = sorted(levels.items(), reverse=best_high)
    return rows[:n] if n else rows
