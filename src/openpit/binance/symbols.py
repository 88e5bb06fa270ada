"""Binance-style symbols for openpit's instruments, and decimal text at Binance's precision.

Invariants:
- Every instrument has exactly one Binance symbol and every symbol names exactly one
  instrument. The default is base + quote in upper case (``BTCUSDT``, ``AAPLUSD``); when
  two listings share a pair (``LUXURY001/XRP`` on ``xrpl`` and ``flare``), the
  first-declared listing keeps ``BASEQUOTE`` and each later one gets
  ``BASEQUOTE_VENUE`` (``LUXURY001XRP_FLARE``). ``[binance] symbols`` in the config maps
  an instrument id to the symbol of its choice and wins over the default; a clash, or a
  symbol outside Binance's ``^[A-Z0-9-_.]{1,20}$``, is refused when the map is built.
- Numbers leave as fixed-point text: prices with ``price_places`` decimals (the quote
  asset's precision, more if the tick is finer), quantities with ``qty_places`` (the base
  asset's, more if the lot is finer), asset amounts with the asset's own decimals.
- Decimals come in through the instrument's own bounded conversions (never rounded);
  what does not fit is a ``BinanceError`` (``-1013`` filter failure or ``-1100``).
Pure: no I/O. The WebSocket streams reuse this map and these renderers.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from openpit.binance.errors import BinanceError, bad_symbol, filter_failure, illegal_chars
from openpit.core.instrument import Asset, Instrument, NotAMultiple, OutOfRange

SYMBOL_RE = re.compile(r"^[A-Z0-9\-_.]{1,20}$")
_DECIMAL_RE = re.compile(r"^[0-9]{1,20}(\.[0-9]{1,20})?$")


class SymbolClash(BinanceError):
    """The configured symbol map is not one-to-one (raised at start-up)."""

    def __init__(self, message: str) -> None:
        super().__init__(-1121, message, 500)


def fixed(value: Decimal, places: int) -> str:
    """``value`` with exactly ``places`` decimals (``"4.00000200"``)."""
    return format(value.quantize(Decimal(1).scaleb(-places)), "f")


@dataclass(frozen=True, slots=True)
class Listing:
    """One instrument as Binance clients see it."""

    symbol: str
    inst: Instrument

    @property
    def base(self) -> Asset:
        return self.inst.base

    @property
    def quote(self) -> Asset:
        return self.inst.quote

    @property
    def price_places(self) -> int:
        return max(self.inst.quote.decimals, self.inst.price_decimals)

    @property
    def qty_places(self) -> int:
        return max(self.inst.base.decimals, self.inst.qty_decimals)

    # -- out -------------------------------------------------------------------------
    def price(self, ticks: int | None) -> str:
        return fixed(
            Decimal(0) if ticks is None else self.inst.ticks_to_price(ticks), self.price_places
        )

    def qty(self, lots: int) -> str:
        return fixed(self.inst.lots_to_qty(lots), self.qty_places)

    def quote_amount(self, units: int) -> str:
        return fixed(self.inst.quote.from_units(units), self.inst.quote.decimals)

    def notional(self, filled_value: int) -> str:
        """An order's ``filled_value`` (sum of ticks x lots) as quote text."""
        return self.quote_amount(filled_value * self.inst.notional_units)

    def step_price(self) -> str:
        return fixed(self.inst.tick_size, self.price_places)

    def step_qty(self) -> str:
        return fixed(self.inst.lot_size, self.qty_places)

    # -- in --------------------------------------------------------------------------
    def parse_price(self, name: str, text: str) -> int:
        value = parse_decimal(name, text)
        try:
            ticks = self.inst.price_to_ticks(value)
        except (OutOfRange, NotAMultiple):
            raise filter_failure("PRICE_FILTER") from None
        if ticks <= 0:
            raise filter_failure("PRICE_FILTER")
        return ticks

    def parse_qty(self, name: str, text: str) -> int:
        value = parse_decimal(name, text)
        try:
            lots = self.inst.qty_to_lots(value)
        except (OutOfRange, NotAMultiple):
            raise filter_failure("LOT_SIZE") from None
        if lots < self.inst.min_lots:
            raise filter_failure("LOT_SIZE")
        return lots


def parse_decimal(name: str, text: str) -> Decimal:
    """A plain non-negative decimal as Binance takes them (``"0.001"``, ``"25000"``)."""
    if not _DECIMAL_RE.match(text):
        raise illegal_chars(name)
    try:
        return Decimal(text)
    except InvalidOperation:  # pragma: no cover - the pattern admits only valid text
        raise illegal_chars(name) from None


class SymbolMap:
    """Binance symbol <-> instrument, built once from the config."""

    def __init__(
        self, instruments: Iterable[Instrument], overrides: Mapping[str, str] | None = None
    ) -> None:
        overrides = dict(overrides or {})
        insts = list(instruments)
        known = {i.id for i in insts}
        for iid in overrides:
            if iid not in known:
                raise SymbolClash(f"[binance] symbols names unknown instrument {iid!r}")
        self.by_symbol: dict[str, Listing] = {}
        self.by_instrument: dict[str, Listing] = {}
        taken = set(overrides.values())
        for inst in insts:
            symbol = overrides.get(inst.id)
            if symbol is None:
                symbol = (inst.base.symbol + inst.quote.symbol).upper()
                if symbol in self.by_symbol or symbol in taken:
                    symbol = f"{symbol}_{inst.venue.upper()}"
            if not SYMBOL_RE.match(symbol):
                raise SymbolClash(
                    f"Binance symbol {symbol!r} for {inst.id} is not [A-Z0-9-_.]{{1,20}}"
                )
            if symbol in self.by_symbol:
                raise SymbolClash(f"Binance symbol {symbol!r} is given to two instruments")
            listing = Listing(symbol, inst)
            self.by_symbol[symbol] = listing
            self.by_instrument[inst.id] = listing

    def __iter__(self) -> Iterator[Listing]:
        return iter(self.by_symbol.values())

    def get(self, symbol: str) -> Listing:
        """The listing of ``symbol`` or ``-1121 Invalid symbol.``."""
        found = self.by_symbol.get(symbol)
        if found is None:
            raise bad_symbol()
        return found

    def of(self, instrument_id: str) -> Listing:
        return self.by_instrument[instrument_id]
