"""Envelope dialect wire values: JSON encoding, exact numbers, ids and channel names.

Invariants:
- Numbers are exact JSON number literals from ticks/lots/units through ``Decimal``:
  prices at the instrument's tick precision (``150.00``), averages at tick precision
  or more if needed, everything else without trailing zeros (``100``, ``0.15``);
  never float arithmetic.
- Order ids are rendered ``"o-<n>"``; symbol channels ``"<kind>:<instrument>[:<x>]"``.
- Stream messages (``_stream``) are ``{"type","data","channel","timestamp"}`` and never
  carry an ``id``.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import msgspec

from openpit.core.instrument import Instrument

_encode = msgspec.json.Encoder().encode


def num(value: Decimal | None) -> msgspec.Raw | None:
    """An exact JSON number without trailing zeros: 100, 0.15, -2.75."""
    if value is None:
        return None
    text = format(value.normalize(), "f") if value else "0"
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    if text in ("-0", ""):
        text = "0"
    return msgspec.Raw(text.encode())


def _price(inst: Instrument, ticks: int | None) -> msgspec.Raw | None:
    """A price at the instrument's tick precision: 150.00."""
    if ticks is None:
        return None
    return msgspec.Raw(format(inst.ticks_to_price(ticks), f".{inst.price_decimals}f").encode())


def _exact(inst: Instrument, value: Decimal | None) -> msgspec.Raw | None:
    """A price that need not be on the tick (averages): tick precision, or more if needed."""
    if value is None:
        return None
    text = format(value, "f")
    whole, _, frac = text.partition(".")
    frac = frac.rstrip("0").ljust(inst.price_decimals, "0")
    return msgspec.Raw((whole + ("." + frac if frac else "")).encode())


def _qty(inst: Instrument, lots: int) -> msgspec.Raw | None:
    return num(inst.lots_to_qty(lots))


def _oid(order_id: int | None) -> str | None:
    return None if order_id is None else f"o-{order_id}"


def _channel(kind: str, inst: Instrument, suffix: object = None) -> str:
    return f"{kind}:{inst.id}" + ("" if suffix is None else f":{suffix}")


def _stream(kind: str, channel: str, data: dict[str, Any], ts: int) -> bytes:
    return _encode({"type": kind, "data": data, "channel": channel, "timestamp": ts})
