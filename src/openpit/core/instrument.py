"""Assets and instruments, and the only place where decimals become integers.

Invariants:
- A price is an integer number of ticks, a quantity an integer number of lots.
- An asset amount is an integer number of units (10**-decimals of the asset).
- ``lot_units`` (base units per lot) and ``notional_units`` (quote units per tick x lot)
  are positive integers; the config loader rejects instruments where they are not,
  so every notional and every fee is an exact integer of quote units.
- Conversions from Decimal reject values that are not an exact multiple (never round).
- Bounds (docs/reliability.md, "Bounds"): every integer the venue stores (SQLite
  INTEGER, int64) or derives from one order fits in int64. An asset amount is at most
  ``INT64_MAX`` units. Per instrument, ``max_ticks`` and ``max_lots`` split int64 evenly
  (both ``isqrt(INT64_MAX // notional_units)``), so the largest multiplication of the
  ledger, ``notional = ticks * lots * notional_units`` (and an order's ``filled_value``,
  fills at most ``max_ticks`` each over at most ``max_lots``), fits; fees, margin and
  reservations are at most that notional. Transient numerators of exact divisions
  (``notional * fee_ppm`` before ``// 1e6``) are Python integers and never stored.
- A value out of range, or one ``Decimal`` cannot divide (``1e400``, NaN, infinity),
  raises ``OutOfRange`` (a ``ValueError``) carrying the largest value in its unit;
  it is checked before the multiple.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, fields
from decimal import Decimal, InvalidOperation
from math import isqrt
from typing import Final

from openpit.core.enums import InstrumentKind
from openpit.core.errors import OpenpitError
from openpit.core.session import ALWAYS_OPEN, TradingSession

PPM = 1_000_000
INT64_MAX: Final = 2**63 - 1  # SQLite INTEGER, msgpack and every stored integer


class NotAMultiple(OpenpitError, ValueError):
    """A decimal value is not an exact multiple of its increment."""


class OutOfRange(OpenpitError, ValueError):
    """A decimal value is beyond what the venue can hold as an integer.

    ``largest`` is the largest accepted magnitude in the value's own unit (``unit``:
    an asset symbol, or "" for a plain number), for the caller's message.
    """

    def __init__(self, value: Decimal, largest: Decimal, unit: str = "") -> None:
        shown = f"{largest} {unit}".rstrip()
        super().__init__(f"{value} is out of range: the largest is {shown}")
        self.value = value
        self.largest = largest
        self.unit = unit


def exponent_of(step: Decimal) -> int:
    """Number of decimal places needed to show multiples of ``step``."""
    exp = step.normalize().as_tuple().exponent
    assert isinstance(exp, int)
    return max(0, -exp)


def to_steps(value: Decimal, step: Decimal, limit: int = INT64_MAX, unit: str = "") -> int:
    """``value / step`` as an exact integer of magnitude at most ``limit``.

    Raises ``OutOfRange`` (beyond ``limit``, not finite, or too large for ``Decimal`` to
    divide) before ``NotAMultiple`` (a remainder).
    """
    try:
        if not value.is_finite():
            raise InvalidOperation
        steps, rest = divmod(value, step)
    except InvalidOperation:
        raise OutOfRange(value, _largest(limit, step), unit) from None
    if abs(steps) > limit:
        raise OutOfRange(value, _largest(limit, step), unit)
    if rest != 0:
        raise NotAMultiple(f"{value} is not a multiple of {step}")
    return int(steps)


def _largest(limit: int, step: Decimal) -> Decimal:
    return limit * step


_BOUNDS: dict[int, tuple[int, int]] = {}  # notional_units * 2**64 + lot_units -> bounds


def order_bounds(notional_units: int, lot_units: int) -> tuple[int, int]:
    """(max_ticks, max_lots): int64 split evenly between price and quantity.

    ``max_ticks * max_lots * notional_units <= INT64_MAX`` and
    ``max_lots * lot_units <= INT64_MAX``; one more of each would not fit.
    """
    key = (notional_units << 64) | lot_units
    found = _BOUNDS.get(key)
    if found is None:
        even = isqrt(INT64_MAX // notional_units)
        found = _BOUNDS[key] = (even, min(even, INT64_MAX // lot_units))
    return found


def rate_to_ppm(rate: Decimal) -> int:
    return to_steps(rate * PPM, Decimal(1))


@dataclass(frozen=True, slots=True)
class Asset:
    symbol: str
    decimals: int
    circulating_supply: Decimal | None = None  # tokens: for market cap

    @property
    def unit(self) -> Decimal:
        return Decimal(1).scaleb(-self.decimals)

    def to_units(self, amount: Decimal) -> int:
        return to_steps(amount, self.unit, INT64_MAX, self.symbol)

    def from_units(self, units: int) -> Decimal:
        return Decimal(units).scaleb(-self.decimals)


@dataclass(frozen=True, slots=True)
class Instrument:
    id: str
    venue: str
    symbol: str
    base: Asset
    quote: Asset
    kind: InstrumentKind
    tick_size: Decimal
    lot_size: Decimal
    min_qty: Decimal
    max_leverage: int = 1
    maker_fee: Decimal = Decimal(0)
    taker_fee: Decimal = Decimal(0)
    price_band: Decimal = Decimal("0.05")  # market orders never trade beyond ref ± band
    session: TradingSession = ALWAYS_OPEN
    aliases: tuple[str, ...] = ()
    # derived integers, filled by __post_init__
    lot_units: int = field(init=False)
    notional_units: int = field(init=False)
    min_lots: int = field(init=False)
    maker_fee_ppm: int = field(init=False)
    taker_fee_ppm: int = field(init=False)
    price_band_ppm: int = field(init=False)
    price_decimals: int = field(init=False)
    qty_decimals: int = field(init=False)
    # bounds (see the module docstring); last, so older pickles still load (__setstate__)
    max_ticks: int = field(init=False, compare=False, repr=False)
    max_lots: int = field(init=False, compare=False, repr=False)

    def __post_init__(self) -> None:
        def put(name: str, value: int) -> None:
            object.__setattr__(self, name, value)

        if self.tick_size <= 0 or self.lot_size <= 0:
            raise ValueError(f"{self.id}: tick_size and lot_size must be positive")
        put("lot_units", to_steps(self.lot_size, self.base.unit))
        put("notional_units", to_steps(self.tick_size * self.lot_size, self.quote.unit))
        put("min_lots", max(1, to_steps(self.min_qty, self.lot_size)))
        put("maker_fee_ppm", rate_to_ppm(self.maker_fee))
        put("taker_fee_ppm", rate_to_ppm(self.taker_fee))
        put("price_band_ppm", rate_to_ppm(self.price_band))
        put("price_decimals", exponent_of(self.tick_size))
        put("qty_decimals", exponent_of(self.lot_size))
        if not 0 <= self.maker_fee_ppm < PPM or not 0 <= self.taker_fee_ppm < PPM:
            raise ValueError(f"{self.id}: fees must be in [0, 1)")
        if self.max_leverage < 1:
            raise ValueError(f"{self.id}: max_leverage must be >= 1")
        self._put_bounds()

    def _put_bounds(self) -> None:
        ticks, lots = order_bounds(self.notional_units, self.lot_units)
        object.__setattr__(self, "max_ticks", ticks)
        object.__setattr__(self, "max_lots", lots)

    def __setstate__(self, state: Sequence[object]) -> None:
        """Unpickle (a snapshot); one pickled before the bounds existed gets them here."""
        for f, value in zip(fields(self), state, strict=False):
            object.__setattr__(self, f.name, value)
        self._put_bounds()

    # -- conversions (edges only) ------------------------------------------------
    def price_to_ticks(self, price: Decimal) -> int:
        return to_steps(price, self.tick_size, self.max_ticks, self.quote.symbol)

    def qty_to_lots(self, qty: Decimal) -> int:
        return to_steps(qty, self.lot_size, self.max_lots, self.base.symbol)

    def ticks_to_price(self, ticks: int) -> Decimal:
        return (ticks * self.tick_size).quantize(Decimal(1).scaleb(-self.price_decimals))

    def lots_to_qty(self, lots: int) -> Decimal:
        return (lots * self.lot_size).quantize(Decimal(1).scaleb(-self.qty_decimals))

    # -- integer money -----------------------------------------------------------
    def notional(self, price_ticks: int, qty_lots: int) -> int:
        """Quote units for ``qty_lots`` at ``price_ticks``."""
        return price_ticks * qty_lots * self.notional_units

    def base_units(self, qty_lots: int) -> int:
        return qty_lots * self.lot_units

    @property
    def margin_allowed(self) -> bool:
        return self.kind is InstrumentKind.MARGIN

    @property
    def names(self) -> tuple[str, ...]:
        return (self.id, self.symbol, *self.aliases)
