"""Per-user mark-to-market valuation from balances, positions and last prices.

Valuation rule (one valuation asset V per request, integers in V's units, floored):
- an asset equal to V is worth its amount;
- else it is valued along its route to V (``openpit.marketdata.valuation``): the
  shortest chain of priced instruments and configured reference prices connecting it
  to V, chosen deterministically, converted with exact fractions and floored once;
  with one hop, the first-declared ``asset/V`` instrument with a last price
  (``units * last * notional_units / lot_units``), else the first ``V/asset`` one;
- else (no route) the asset is *unpriced*: listed with ``value=None`` and left out of
  totals. An asset with a route is never shown as 0 or unpriced.
``change`` uses the same route with the prices at the start of the 24 h window
(``open``): the value change of holding today's amounts over the last 24 h.

Positions: unrealized PnL = mark value of the open quantity minus its cost (longs) or
cost minus mark value (shorts), in the instrument's quote asset, where mark is the
position's ``mark_price`` if the ledger set one, else the instrument's last price.
Margin positions add their unrealized PnL (converted to V by the same rule) to
``total_value``; spot positions do not, since the holding already sits in balances.

Invariants: balances and positions are the latest ``Balance``/``Position`` events
(total = available + reserved); an asset at zero and a position at qty 0 are dropped.
"""

from __future__ import annotations

from collections.abc import Mapping

import msgspec

from openpit.core.events import Balance, Position
from openpit.core.instrument import Asset, Instrument
from openpit.marketdata.valuation import PriceLookup, ReferencePrice, Valuer


class AssetValue(msgspec.Struct, frozen=True, kw_only=True):
    asset: str
    units: int  # total = available + reserved, in the asset's units
    value: int | None  # in valuation-asset units; None: unpriced
    change: int | None  # 24 h value change in valuation-asset units
    via: str | None  # instruments on the route, comma-separated (None: face value/unpriced)


class PositionValue(msgspec.Struct, frozen=True, kw_only=True):
    instrument: str
    margin_mode: bool
    qty: int  # signed lots
    cost: int  # quote units
    mark_price: int | None  # ticks
    unrealized_pnl: int | None  # quote units of the instrument
    unrealized_pnl_value: int | None  # converted to the valuation asset


class Portfolio(msgspec.Struct, frozen=True, kw_only=True):
    user: str
    valuation_asset: str
    total_value: int
    change: int
    change_ppm: int | None  # change / (total_value - change), parts per million
    assets: list[AssetValue]
    positions: list[PositionValue]
    unpriced: list[str]


class PortfolioBook:
    def __init__(
        self,
        instruments: Mapping[str, Instrument],
        references: tuple[ReferencePrice, ...] = (),
        assets: Mapping[str, Asset] | None = None,
    ) -> None:
        self.instruments = dict(instruments)
        self.valuer = Valuer(instruments, references, assets)
        self.balances: dict[str, dict[str, int]] = {}
        self.positions: dict[str, dict[str, Position]] = {}

    def on_balance(self, ev: Balance) -> None:
        user = self.balances.setdefault(ev.user, {})
        total = ev.available + ev.reserved
        if total:
            user[ev.asset] = total
        else:
            user.pop(ev.asset, None)

    def on_position(self, ev: Position) -> None:
        user = self.positions.setdefault(ev.user, {})
        if ev.qty:
            user[ev.instrument] = ev
        else:
            user.pop(ev.instrument, None)

    def _convert(
        self, asset: str, units: int, v: str, prices: PriceLookup
    ) -> tuple[int | None, int | None, str | None]:
        """(value now, value at the 24 h open, route) of ``units`` of ``asset``."""
        return self.valuer.convert(asset, units, v, prices)

    def value(self, user: str, v: str, prices: PriceLookup) -> Portfolio:
        self.valuer.refresh(prices)
        assets: list[AssetValue] = []
        unpriced: list[str] = []
        total = 0
        then_total = 0
        for asset, units in sorted(self.balances.get(user, {}).items()):
            now, then, via = self._convert(asset, units, v, prices)
            if now is None or then is None:
                unpriced.append(asset)
                assets.append(
                    AssetValue(asset=asset, units=units, value=None, change=None, via=None)
                )
                continue
            total += now
            then_total += then
            assets.append(
                AssetValue(asset=asset, units=units, value=now, change=now - then, via=via)
            )
        positions: list[PositionValue] = []
        for iid, pos in sorted(self.positions.get(user, {}).items()):
            inst = self.instruments.get(iid)
            if inst is None:
                continue
            mark = pos.mark_price if pos.mark_price is not None else prices(iid)[0]
            pnl: int | None = None
            pnl_v: int | None = None
            if mark is not None:
                mark_value = inst.notional(mark, abs(pos.qty))
                pnl = mark_value - pos.cost if pos.qty > 0 else pos.cost - mark_value
                if pnl >= 0:
                    pnl_v = self._convert(inst.quote.symbol, pnl, v, prices)[0]
                else:
                    conv = self._convert(inst.quote.symbol, -pnl, v, prices)[0]
                    pnl_v = None if conv is None else -conv
                if pos.margin_mode and pnl_v is not None:
                    total += pnl_v
                    then_total += pnl_v
            positions.append(
                PositionValue(
                    instrument=iid,
                    margin_mode=pos.margin_mode,
                    qty=pos.qty,
                    cost=pos.cost,
                    mark_price=mark,
                    unrealized_pnl=pnl,
                    unrealized_pnl_value=pnl_v,
                )
            )
        change = total - then_total
        base = then_total
        change_ppm = None
        if base:
            q = abs(change) * 1_000_000 // abs(base)
            change_ppm = q if (change >= 0) == (base > 0) else -q
        return Portfolio(
            user=user,
            valuation_asset=v,
            total_value=total,
            change=change,
            change_ppm=change_ppm,
            assets=assets,
            positions=positions,
            unpriced=unpriced,
        )
