"""Cross-venue arbitrage (spec 004 ``arbitrage``): buy on one venue's asks, sell into
another venue's bids, for a symbol listed on several venues.

Invariants (``detect``, pure over two books):
- Both instruments trade the same base and quote assets. Quantities are compared in
  base-asset units, money in quote units; with ``a`` = buy (ask) instrument and
  ``b`` = sell (bid) instrument, one base unit costs ``pa * nu_a / lot_a * (1 + fee_a)``
  and sells for ``pb * nu_b / lot_b * (1 - fee_b)`` (taker fees, ppm). All comparisons
  cross-multiply, so they are exact integers.
- Walk asks best→worse and bids best→worse together; each step trades
  ``min(rest of ask level, rest of bid level)``. ``max_amount`` is where the marginal
  profit of the next base unit stops being positive (or a book runs out), rounded down
  to a multiple of both lot sizes; ``estimated_profit`` is the exact profit of
  ``max_amount`` after both fees, rounded down (actual fees round down too, so the real
  profit is never less).
- ``min_amount`` is the larger of the instruments' minimum quantities and
  ``arbitrage.min_amount``, rounded up to a multiple of both lot sizes. An opportunity
  exists iff the best-level net spread (after both fees) is above ``min_spread`` and
  ``max_amount >= min_amount``.

Invariants (``ArbitrageService``):
- One live opportunity per (symbol, buy instrument, sell instrument), with a stable id
  while it lasts. It is (re)published when its content changes and refreshed when
  ``expires_at`` (last publication + ``ttl_ms``) is reached while it still holds; it is
  withdrawn (``ArbitrageWithdrawn``, reason ``closed``) as soon as the books no longer
  allow it.
- Confidence: one point for depth (``max_amount >= high_depth_ratio * min_amount``),
  one for persistence (open for ``persistence_ms``): 2 high, 1 medium, 0 low.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import ROUND_CEILING

from openpit.alerts.events import ArbitrageOpportunity, ArbitrageWithdrawn, Confidence
from openpit.alerts.settings import ArbitrageSettings
from openpit.core.instrument import Instrument
from openpit.ledger.money import ceil_div

PPM = 1_000_000
Level = tuple[int, int]  # (price ticks, qty lots)
BookLevels = tuple[Sequence[Level], Sequence[Level]]  # (bids best first, asks best first)
BookSource = Callable[[str, int], BookLevels]  # (instrument id, depth) -> levels


@dataclass(frozen=True, slots=True)
class Quote:
    buy_price: int  # best ask of the buy instrument (ticks)
    sell_price: int  # best bid of the sell instrument (ticks)
    spread_ppm: int
    net_spread_ppm: int
    min_amount: int  # base units
    max_amount: int
    estimated_profit: int  # quote units, after fees, for max_amount


def min_amount_units(buy: Instrument, sell: Instrument, configured: int = 0) -> int:
    step = math.lcm(buy.lot_units, sell.lot_units)
    floor = max(buy.min_lots * buy.lot_units, sell.min_lots * sell.lot_units, configured, 1)
    return ceil_div(floor, step) * step


def detect(
    buy: Instrument,
    asks: Sequence[Level],
    sell: Instrument,
    bids: Sequence[Level],
    *,
    min_spread_ppm: int,
    min_amount: int,
) -> Quote | None:
    """The opportunity of buying ``buy`` at ``asks`` and selling ``sell`` into ``bids``."""
    if not asks or not bids or buy.base.symbol != sell.base.symbol:
        return None
    if buy.quote.symbol != sell.quote.symbol:
        return None
    la, lb = buy.lot_units, sell.lot_units
    # per base unit, scaled by la * lb (and by PPM where fees are applied)
    ka = buy.notional_units * lb
    kb = sell.notional_units * la
    fa, fb = PPM + buy.taker_fee_ppm, PPM - sell.taker_fee_ppm
    pa0, pb0 = asks[0][0], bids[0][0]
    gross_cost = pa0 * ka
    net_cost = gross_cost * fa
    net_gain = pb0 * kb * fb - net_cost
    net_spread = net_gain * PPM // net_cost
    if net_spread <= min_spread_ppm:
        return None
    spread = (pb0 * kb - gross_cost) * PPM // gross_cost
    segments: list[tuple[int, int]] = []  # (base units, margin per base unit, scaled)
    i = j = 0
    rest_a, rest_b = asks[0][1] * la, bids[0][1] * lb
    while True:
        margin = bids[j][0] * kb * fb - asks[i][0] * ka * fa
        if margin <= 0:
            break
        q = min(rest_a, rest_b)
        segments.append((q, margin))
        rest_a -= q
        rest_b -= q
        if rest_a == 0:
            i += 1
            if i == len(asks):
                break
            rest_a = asks[i][1] * la
        if rest_b == 0:
            j += 1
            if j == len(bids):
                break
            rest_b = bids[j][1] * lb
    step = math.lcm(la, lb)
    total = sum(q for q, _ in segments)
    max_amount = total - total % step
    if max_amount < min_amount or max_amount <= 0:
        return None
    left, scaled = max_amount, 0
    for q, margin in segments:
        take = min(q, left)
        scaled += take * margin
        left -= take
        if left == 0:
            break
    return Quote(
        buy_price=pa0,
        sell_price=pb0,
        spread_ppm=spread,
        net_spread_ppm=net_spread,
        min_amount=min_amount,
        max_amount=max_amount,
        estimated_profit=scaled // (la * lb * PPM),
    )


@dataclass(slots=True)
class _Live:
    opp: ArbitrageOpportunity
    quote: Quote


class ArbitrageService:
    def __init__(
        self,
        instruments: Mapping[str, Instrument],
        settings: ArbitrageSettings,
        *,
        first_id: int = 1,
    ) -> None:
        self.settings = settings
        self.next_id = first_id
        groups: dict[str, list[Instrument]] = {}
        for inst in instruments.values():
            groups.setdefault(inst.symbol, []).append(inst)
        # symbol -> instruments on different venues (first listing per venue)
        self.listings: dict[str, list[Instrument]] = {}
        for symbol, insts in groups.items():
            per_venue: dict[str, Instrument] = {}
            for inst in insts:
                per_venue.setdefault(inst.venue, inst)
            if len(per_venue) > 1:
                self.listings[symbol] = list(per_venue.values())
        self._symbol_of = {i.id: s for s, insts in self.listings.items() for i in insts}
        self._live: dict[tuple[str, str, str], _Live] = {}

    def symbols_for(self, instruments: Iterable[str]) -> set[str]:
        return {self._symbol_of[i] for i in instruments if i in self._symbol_of}

    def _min_amount(self, buy: Instrument, sell: Instrument) -> int:
        m = self.settings.min_amount
        configured = 0 if m is None else int((m / buy.base.unit).to_integral_value(ROUND_CEILING))
        return min_amount_units(buy, sell, configured)

    def evaluate(
        self, symbol: str, books: Mapping[str, BookLevels], ts: int
    ) -> list[ArbitrageOpportunity | ArbitrageWithdrawn]:
        """Re-check every venue pair of ``symbol`` against ``books`` (instrument ->
        (bids, asks)); instruments missing from ``books`` count as empty."""
        out: list[ArbitrageOpportunity | ArbitrageWithdrawn] = []
        if not self.settings.enabled:
            return out
        insts = self.listings.get(symbol, [])
        empty: BookLevels = ([], [])
        for buy in insts:
            for sell in insts:
                if buy is sell:
                    continue
                key = (symbol, buy.id, sell.id)
                quote = detect(
                    buy,
                    books.get(buy.id, empty)[1],
                    sell,
                    books.get(sell.id, empty)[0],
                    min_spread_ppm=self.settings.min_spread_ppm,
                    min_amount=self._min_amount(buy, sell),
                )
                live = self._live.get(key)
                if quote is None:
                    if live is not None:
                        del self._live[key]
                        out.append(
                            ArbitrageWithdrawn(
                                ts=ts, id=live.opp.id, symbol=symbol, reason="closed"
                            )
                        )
                    continue
                if live is None:
                    opp_id, first_seen = self.next_id, ts
                    self.next_id += 1
                else:
                    opp_id, first_seen = live.opp.id, live.opp.first_seen
                confidence = self._confidence(quote, ts - first_seen)
                if (
                    live is not None
                    and live.quote == quote
                    and live.opp.confidence is confidence
                    and ts < live.opp.expires_at
                ):
                    continue
                opp = ArbitrageOpportunity(
                    ts=ts,
                    id=opp_id,
                    symbol=symbol,
                    base=buy.base.symbol,
                    quote=buy.quote.symbol,
                    buy_venue=buy.venue,
                    buy_instrument=buy.id,
                    buy_price=quote.buy_price,
                    sell_venue=sell.venue,
                    sell_instrument=sell.id,
                    sell_price=quote.sell_price,
                    spread_ppm=quote.spread_ppm,
                    net_spread_ppm=quote.net_spread_ppm,
                    estimated_profit=quote.estimated_profit,
                    min_amount=quote.min_amount,
                    max_amount=quote.max_amount,
                    expires_at=ts + self.settings.ttl_ms,
                    confidence=confidence,
                    first_seen=first_seen,
                )
                self._live[key] = _Live(opp, quote)
                out.append(opp)
        return out

    def _confidence(self, quote: Quote, age_ms: int) -> Confidence:
        s = self.settings
        score = int(quote.max_amount >= s.high_depth_ratio * quote.min_amount) + int(
            age_ms >= s.persistence_ms
        )
        return (Confidence.LOW, Confidence.MEDIUM, Confidence.HIGH)[score]

    def live_symbols(self) -> set[str]:
        return {k[0] for k in self._live}

    def live(self) -> list[ArbitrageOpportunity]:
        """Open opportunities (for a new subscriber's snapshot)."""
        return [v.opp for v in self._live.values()]

    def due(self, ts: int) -> set[str]:
        """Symbols with an opportunity to refresh (expiry reached or confidence due)."""
        s = self.settings
        return {
            k[0]
            for k, v in self._live.items()
            if ts >= v.opp.expires_at
            or (
                v.opp.confidence is not Confidence.HIGH
                and ts - v.opp.first_seen >= s.persistence_ms
            )
        }
