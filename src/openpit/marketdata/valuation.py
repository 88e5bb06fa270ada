"""Valuation paths: how many units of a valuation asset V one unit of an asset is worth.

The assets are the nodes of a graph whose edges are the instruments (``base/quote``:
one edge usable both ways) and the configured reference prices (``[valuation]
reference_prices = { "XRP/USDT" = "0.50" }``: a fixed price of one whole XRP in USDT).
An asset is valued through a *route*: a path of edges from the asset to V.

Invariants:
- Exact: a rate is a ``Fraction`` of integers (V units per asset unit), multiplied
  along the route; a value is ``floor(units × rate)``, rounded once at the end. An
  instrument edge at last price ``p`` ticks converts base → quote at
  ``p × notional_units / lot_units`` and quote → base at the inverse; a reference price
  ``x`` converts at ``x × base.unit / quote.unit``. No float anywhere.
- Usable edges: a reference price always; an instrument once it has a last trade with
  a positive price (a last price never goes away, so the usable set only grows).
- Deterministic choice: the fewest edges first; among routes of that length, the
  lexicographically smallest sequence of edge keys, read from the asset towards V.
  An edge key is (0 for base → quote, 1 for quote → base; declaration index), with
  the reference prices ranked after every instrument. With one edge this is the old
  rule: the first-declared ``asset/V`` instrument with a price, else the first
  ``V/asset`` one.
- Cost independent of the number of users: routes are computed per (asset, V) on
  first use and again only when the usable set grew (an instrument's first trade);
  a route's rate is recomputed only when a price on it changed (its edges' prices are
  compared with the ones the cached rate was computed from: one comparison per edge).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from decimal import Decimal, InvalidOperation
from fractions import Fraction
from typing import Any

import msgspec

from openpit.config.loader import ConfigError, VenueConfig
from openpit.core.instrument import Asset, Instrument

# (last price, 24 h open price) of an instrument, in ticks
PriceLookup = Callable[[str], tuple[int | None, int | None]]


class ReferencePrice(msgspec.Struct, frozen=True):
    """A configured price: one whole ``base`` is worth ``price`` whole ``quote``."""

    base: str
    quote: str
    price: Decimal

    def rate(self, assets: Mapping[str, Asset]) -> Fraction:
        """Quote units per base unit."""
        b, q = assets[self.base], assets[self.quote]
        return Fraction(self.price) * Fraction(b.unit) / Fraction(q.unit)


class ValuationSettings(msgspec.Struct, frozen=True):
    """The ``[valuation]`` table: ``asset`` (default valuation asset, default: the quote
    of the first-declared instrument) and ``reference_prices``."""

    asset: str | None = None
    reference_prices: tuple[ReferencePrice, ...] = ()

    @classmethod
    def from_config(cls, config: VenueConfig) -> ValuationSettings:
        table: Mapping[str, Any] = config.extra.get("valuation", {})
        unknown = set(table) - {"asset", "reference_prices"}
        if unknown:
            raise ConfigError(f"valuation: unknown keys {sorted(unknown)}")
        asset = table.get("asset")
        if asset is not None and asset not in config.assets:
            raise ConfigError(f"valuation.asset: unknown asset {asset!r}")
        refs = []
        prices = table.get("reference_prices", {})
        if not isinstance(prices, Mapping):
            raise ConfigError(
                'valuation.reference_prices: expected a table {"BASE/QUOTE" = "price"}'
            )
        for pair, text in prices.items():
            where = f"valuation.reference_prices.{pair!r}"
            base, sep, quote = str(pair).partition("/")
            if not sep or base not in config.assets or quote not in config.assets or base == quote:
                raise ConfigError(f"{where}: expected BASE/QUOTE of two configured assets")
            if not isinstance(text, str):
                raise ConfigError(f'{where}: give the price as a string, e.g. "0.50"')
            try:
                price = Decimal(text)
            except InvalidOperation:
                raise ConfigError(f"{where}: {text!r} is not a decimal number") from None
            if not price.is_finite() or price <= 0:
                raise ConfigError(f"{where}: the price must be positive")
            refs.append(ReferencePrice(base, quote, price))
        return cls(asset=asset, reference_prices=tuple(refs))


# one edge of a route: (instrument id or None for a reference, forward?, reference index)
_Edge = tuple[str | None, bool, int]
_Key = tuple[int, int]


class Route(msgspec.Struct, frozen=True):
    """The edges from an asset to the valuation asset (empty: the asset is V)."""

    edges: tuple[_Edge, ...]
    labels: tuple[str, ...]  # instrument ids / "BASE/QUOTE (reference)", asset → V

    @property
    def via(self) -> str | None:
        return ",".join(self.labels) if self.labels else None


class Valuer:
    """Routes and rates for every (asset, valuation asset); see the module docstring."""

    def __init__(
        self,
        instruments: Mapping[str, Instrument],
        references: tuple[ReferencePrice, ...] = (),
        assets: Mapping[str, Asset] | None = None,
    ) -> None:
        self.instruments = dict(instruments)
        self.references = references
        known: dict[str, Asset] = dict(assets or {})
        for inst in self.instruments.values():
            known.setdefault(inst.base.symbol, inst.base)
            known.setdefault(inst.quote.symbol, inst.quote)
        self._ref_rates = [r.rate(known) for r in references]
        # asset -> [(edge key, neighbour, edge)], in key order
        adj: dict[str, list[tuple[_Key, str, _Edge]]] = {}
        for idx, inst in enumerate(self.instruments.values()):
            b, q = inst.base.symbol, inst.quote.symbol
            adj.setdefault(b, []).append(((0, idx), q, (inst.id, True, -1)))
            adj.setdefault(q, []).append(((1, idx), b, (inst.id, False, -1)))
        n = len(self.instruments)
        for j, r in enumerate(references):
            adj.setdefault(r.base, []).append(((0, n + j), r.quote, (None, True, j)))
            adj.setdefault(r.quote, []).append(((1, n + j), r.base, (None, False, j)))
        for edges in adj.values():
            edges.sort(key=lambda e: e[0])
        self._adj = adj
        self._usable: set[str] = set()  # instruments with a positive last price
        self._routes: dict[tuple[str, str], Route | None] = {}
        # (asset, V) -> (prices the rates were computed from, rate now, rate at open)
        self._rates: dict[tuple[str, str], tuple[tuple[object, ...], Fraction, Fraction]] = {}
        self.route_computations = 0  # how many times routes were searched (tests)

    # -- routes -------------------------------------------------------------------------
    def refresh(self, prices: PriceLookup) -> None:
        """Learn which instruments got their first price (call once per valuation)."""
        if len(self._usable) == len(self.instruments):
            return
        grew = False
        for iid in self.instruments:
            if iid not in self._usable:
                last = prices(iid)[0]
                if last is not None and last > 0:
                    self._usable.add(iid)
                    grew = True
        if grew:
            self._routes.clear()
            self._rates.clear()

    def route(self, asset: str, v: str) -> Route | None:
        """The route from ``asset`` to ``v`` over usable edges (None: no price path).

        Usable as of the last ``refresh``."""
        key = (asset, v)
        if key in self._routes:
            return self._routes[key]
        found = self._search(asset, v)
        self._routes[key] = found
        return found

    def _search(self, asset: str, v: str) -> Route | None:
        """Breadth-first from ``asset``; per node the lexicographically smallest path."""
        self.route_computations += 1
        if asset == v:
            return Route(edges=(), labels=())
        usable = self._usable
        best: dict[str, tuple[list[_Key], list[_Edge]]] = {asset: ([], [])}
        layer = [asset]
        while layer and v not in best:
            nxt: dict[str, tuple[list[_Key], list[_Edge]]] = {}
            for node in layer:
                keys, edges = best[node]
                for k, other, edge in self._adj.get(node, ()):
                    if other in best or (edge[0] is not None and edge[0] not in usable):
                        continue
                    cand = [*keys, k]
                    have = nxt.get(other)
                    if have is None or cand < have[0]:
                        nxt[other] = (cand, [*edges, edge])
            best.update(nxt)
            layer = sorted(nxt)
        if v not in best:
            return None
        path = tuple(best[v][1])
        return Route(edges=path, labels=tuple(self._label(e) for e in path))

    def _label(self, edge: _Edge) -> str:
        iid, _, j = edge
        if iid is not None:
            return iid
        r = self.references[j]
        return f"{r.base}/{r.quote} (reference)"

    # -- rates ----------------------------------------------------------------------------
    def rates(
        self, asset: str, v: str, prices: PriceLookup
    ) -> tuple[Fraction, Fraction, Route] | None:
        """(V units per asset unit at the last prices, the same at the 24 h open prices,
        the route); None when no route exists."""
        route = self.route(asset, v)
        if route is None:
            return None
        seen = tuple(prices(e[0]) if e[0] is not None else None for e in route.edges)
        cached = self._rates.get((asset, v))
        if cached is not None and cached[0] == seen:
            return cached[1], cached[2], route
        now = then = Fraction(1)
        for edge, p in zip(route.edges, seen, strict=True):
            iid, forward, j = edge
            if iid is None:
                r = self._ref_rates[j]
                now *= r if forward else 1 / r
                then *= r if forward else 1 / r
                continue
            assert p is not None
            last, open_ = p
            assert last is not None
            o = open_ if open_ else last
            inst = self.instruments[iid]
            k, lot = inst.notional_units, inst.lot_units
            if forward:
                now *= Fraction(last * k, lot)
                then *= Fraction(o * k, lot)
            else:
                now *= Fraction(lot, last * k)
                then *= Fraction(lot, o * k)
        self._rates[(asset, v)] = (seen, now, then)
        return now, then, route

    def convert(
        self, asset: str, units: int, v: str, prices: PriceLookup
    ) -> tuple[int | None, int | None, str | None]:
        """(value now, value at the 24 h open, route label) of ``units`` of ``asset`` in
        ``v`` units, floored; (None, None, None) when no route exists."""
        if asset == v:
            return units, units, None
        found = self.rates(asset, v, prices)
        if found is None:
            return None, None, None
        now, then, route = found
        return _floor(units * now), _floor(units * then), route.via


def _floor(x: Fraction) -> int:
    return x.numerator // x.denominator
