"""Commands: the only inputs that change venue state, and the unit of the journal.

Invariants:
- A command holds integers only (ticks, lots, asset units); dialects convert decimals
  at the edge before building one, so a command is valid or rejected as a whole.
- Commands carry no time and no sequence: the sequencer stamps both when it
  journals the command, so replaying the journal reproduces every event.
- Every command is a tagged msgspec Struct; ``encode_command``/``decode_command``
  are the journal's wire form.
"""

from __future__ import annotations

import msgspec

from openpit.core.enums import OrderType, Side, STPMode, TimeInForce


class PlaceOrder(msgspec.Struct, tag="place", tag_field="cmd", kw_only=True, omit_defaults=True):
    """A new order. ``price`` is the limit price (limit, stop_limit, OCO limit leg).

    ``stop_price`` triggers stop, stop_limit, take_profit(_limit) and the OCO stop leg;
    ``stop_limit_price`` is the OCO stop leg's limit (None: the stop leg is market).
    Trailing stops set exactly one of ``trail_ticks`` or ``trail_ppm``.
    ``leverage`` > 1 or ``margin`` makes it a margin order (margin instruments only).
    """

    user: str
    instrument: str
    side: Side
    type: OrderType
    qty: int
    price: int | None = None
    stop_price: int | None = None
    stop_limit_price: int | None = None
    trail_ticks: int | None = None
    trail_ppm: int | None = None
    tif: TimeInForce = TimeInForce.GTC
    client_order_id: str | None = None
    post_only: bool = False
    reduce_only: bool = False
    stp: STPMode | None = None
    margin: bool = False
    leverage: int = 1
    deadline: int | None = None  # ms; reject instead of executing a stale order


class CancelOrder(msgspec.Struct, tag="cancel", tag_field="cmd", kw_only=True, omit_defaults=True):
    user: str
    order_id: int | None = None
    client_order_id: str | None = None


class ModifyOrder(msgspec.Struct, tag="modify", tag_field="cmd", kw_only=True, omit_defaults=True):
    """Change quantity and/or price. Quantity down keeps queue priority; anything else loses it."""

    user: str
    order_id: int | None = None
    client_order_id: str | None = None
    qty: int | None = None
    price: int | None = None
    stop_price: int | None = None


class CancelAll(
    msgspec.Struct, tag="cancel_all", tag_field="cmd", kw_only=True, omit_defaults=True
):
    user: str
    instrument: str | None = None


class Batch(msgspec.Struct, tag="batch", tag_field="cmd", kw_only=True):
    """Several order operations of one user; each is validated and answered on its own."""

    user: str
    ops: list[PlaceOrder | CancelOrder | ModifyOrder]


class Deposit(msgspec.Struct, tag="deposit", tag_field="cmd", kw_only=True):
    user: str
    asset: str
    units: int


class Withdraw(msgspec.Struct, tag="withdraw", tag_field="cmd", kw_only=True):
    user: str
    asset: str
    units: int


class SetHalt(msgspec.Struct, tag="halt", tag_field="cmd", kw_only=True, omit_defaults=True):
    """Halt (or resume) trading on an instrument; ``until`` (ms) resumes automatically."""

    instrument: str
    halted: bool
    reason: str = ""
    until: int | None = None


class Clock(msgspec.Struct, tag="clock", tag_field="cmd", kw_only=True):
    """Advance venue time: expires day orders and ends halts whose time has come."""


Command = (
    PlaceOrder
    | CancelOrder
    | ModifyOrder
    | CancelAll
    | Batch
    | Deposit
    | Withdraw
    | SetHalt
    | Clock
)

_encoder = msgspec.json.Encoder()
_decoder: msgspec.json.Decoder[Command] = msgspec.json.Decoder(Command)


def encode_command(command: Command) -> bytes:
    return _encoder.encode(command)


def decode_command(data: bytes) -> Command:
    return _decoder.decode(data)
