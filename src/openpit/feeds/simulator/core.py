"""The simulator's decision core: pure, seeded, one ``step(ts, view)`` at a time.

Invariants:
- Pure and deterministic: all randomness comes from one ``random.Random(seed)``, time
  only from the ``ts`` handed to ``step``, and the market only from the ``MarketView``.
  The same seed, the same timestamps and the same views give the same commands.
- It only emits ordinary commands (``Deposit``, ``Withdraw``, ``PlaceOrder``,
  ``CancelOrder``, ``Batch``) for its own accounts (``sim-mm-<n>``, ``sim-taker-<n>``);
  the venue validates them like any client's.
- Every price is a positive integer of ticks and every quantity an integer of lots no
  smaller than the instrument's ``min_lots``; bids are strictly below asks in one
  maker's quote, so a maker never trades with itself.
- An instrument whose session is closed at ``ts`` gets no commands.
- The fair values start at their anchors, or, when the view already has a last price
  (a restarted server), at that price (within ``max_deviation`` of the anchor).
- Before an order that needs funds the core tops the account up (a ``Deposit`` first
  in the same step) when the view says it is short, and hands back large surpluses
  (``Withdraw``), so the accounts never starve and never grow without bound.

Agents:
- market makers quote ``levels`` levels on each side around the fair value, sizes
  growing with distance; a side is re-quoted (one ``Batch``: cancels then places) when
  its top drifted from the target, levels are missing or most of it was taken.
- takers send market orders and marketable IOC limit orders, leaning towards the
  fair value (they buy more when the book is below it); now and then a sweep through
  several levels; and stop / stop-limit orders a little away from the last price,
  which trigger in chains when the price runs.
"""

from __future__ import annotations

import math
import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Protocol, TypeVar

from openpit.config.loader import ConfigError, VenueConfig
from openpit.core.commands import (
    Batch,
    CancelOrder,
    Command,
    Deposit,
    ModifyOrder,
    PlaceOrder,
    Withdraw,
)
from openpit.core.enums import OrderType, Side, TimeInForce
from openpit.core.instrument import PPM, Instrument
from openpit.feeds.simulator.fair import FairValues
from openpit.feeds.simulator.settings import (
    DEFAULT_LEVEL_NOTIONAL,
    DEFAULT_LEVEL_QTY,
    DEFAULT_PRICES,
    SimSettings,
)

T = TypeVar("T")

STOP_TYPES = frozenset({OrderType.STOP, OrderType.STOP_LIMIT})


@dataclass(frozen=True, slots=True)
class OpenOrder:
    """What the simulator needs to know about one of its live orders."""

    order_id: int
    side: Side
    type: OrderType
    price: int | None
    stop_price: int | None
    remaining: int


class MarketView(Protocol):
    """The read-only market state the simulator decides on (prices in ticks)."""

    def best_bid(self, instrument: str) -> int | None: ...

    def best_ask(self, instrument: str) -> int | None: ...

    def last_price(self, instrument: str) -> int | None: ...

    def open_orders(self, user: str, instrument: str) -> Sequence[OpenOrder]:
        """Live orders of ``user`` on ``instrument`` (resting and pending stops)."""
        ...

    def available(self, user: str, asset: str) -> int:
        """Units of ``asset`` that ``user`` can still commit to new orders."""
        ...


@dataclass(frozen=True, slots=True)
class _Market:
    inst: Instrument
    level_lots: int
    side_lots_max: int  # the most lots one maker ever shows on one side


def _lookup(table: Mapping[str, T], inst: Instrument) -> T | None:
    for name in (inst.id, inst.symbol):
        if name in table:
            return table[name]
    return None


class Simulator:
    """Market makers and takers around a random-walk fair value; see the module doc."""

    def __init__(
        self, config: VenueConfig, seed: int | None = None, settings: SimSettings | None = None
    ) -> None:
        self.settings = s = settings if settings is not None else SimSettings()
        self.seed = s.seed if seed is None else seed
        self._rng = random.Random(self.seed)
        self.makers = tuple(f"sim-mm-{n}" for n in range(1, s.market_makers + 1))
        self.takers = tuple(f"sim-taker-{n}" for n in range(1, s.takers + 1))
        self._markets = self._select(config, s)
        self.instruments = tuple(m.inst.id for m in self._markets)
        groups: dict[str, list[str]] = {}
        anchors: dict[str, float] = {}
        for m in self._markets:
            groups.setdefault(m.inst.symbol, []).append(m.inst.id)
            anchors[m.inst.id] = float(self._start_price(m.inst, s) / m.inst.tick_size)
        self.fair = FairValues(list(groups.values()), anchors, s, self._rng)
        self._refill = self._refill_sizes()
        self._last_ts: int | None = None
        self._cursor = 0
        self.steps = 0

    @classmethod
    def from_config(cls, config: VenueConfig, seed: int | None = None) -> Simulator:
        """A simulator configured by the ``[simulator]`` table of ``config`` (if any)."""
        settings = SimSettings.from_mapping(config.extra.get("simulator", {}), config.source)
        return cls(config, seed, settings)

    # -- construction -------------------------------------------------------------
    @staticmethod
    def _start_price(inst: Instrument, s: SimSettings) -> Decimal:
        price = _lookup(s.prices, inst) or _lookup(DEFAULT_PRICES, inst)
        assert price is not None
        return price

    @staticmethod
    def _select(config: VenueConfig, s: SimSettings) -> list[_Market]:
        for key, names in (
            ("instruments", s.instruments or ()),
            ("exclude", s.exclude),
            ("prices", tuple(s.prices)),
        ):
            for name in names:
                known = name in config.instruments or (
                    key == "prices" and any(name == i.symbol for i in config.instruments.values())
                )
                if not known:
                    raise ConfigError(f"simulator.{key}: unknown instrument {name!r}")
        out: list[_Market] = []
        for inst in config.instruments.values():
            if s.instruments is not None and inst.id not in s.instruments:
                continue
            if inst.id in s.exclude:
                continue
            price = _lookup(s.prices, inst) or _lookup(DEFAULT_PRICES, inst)
            if price is None:
                if s.instruments is not None:
                    raise ConfigError(
                        f"simulator.prices: no start price for {inst.id!r} (add it to prices)"
                    )
                continue
            qty = _lookup(DEFAULT_LEVEL_QTY, inst)
            if qty is None:
                qty = DEFAULT_LEVEL_NOTIONAL / price
            level = max(inst.min_lots, int(qty / inst.lot_size))
            side_max = sum(math.ceil(level * (1 + 0.5 * k) * 1.4) for k in range(s.levels))
            out.append(_Market(inst, level, side_max))
        return out

    def _refill_sizes(self) -> dict[str, int]:
        """Units of each asset an account is topped up with (enough for many orders)."""
        out: dict[str, int] = {}
        cap = math.exp(self.settings.max_deviation + self.settings.divergence_max) * 1.1
        for m in self._markets:
            inst = m.inst
            anchor = self.fair.ticks(inst.id)
            quote = inst.notional(math.ceil(anchor * cap), m.side_lots_max)
            base = inst.base_units(m.side_lots_max)
            out[inst.quote.symbol] = out.get(inst.quote.symbol, 0) + 4 * quote
            out[inst.base.symbol] = out.get(inst.base.symbol, 0) + 4 * base
        return out

    # -- public -------------------------------------------------------------------
    @property
    def users(self) -> tuple[str, ...]:
        return self.makers + self.takers

    def setup_commands(self) -> list[Command]:
        """Deposits that fund every simulator account; submit them before the first step."""
        return [
            Deposit(user=user, asset=asset, units=units)
            for user in self.users
            for asset, units in sorted(self._refill.items())
        ]

    def fair_price(self, instrument: str) -> float:
        """The fair value of ``instrument`` right now, in ticks."""
        return self.fair.ticks(instrument)

    def step(self, ts: int, view: MarketView) -> list[Command]:
        """Advance simulated time to ``ts`` and decide the next commands (often one)."""
        if self._last_ts is not None:
            self.fair.advance(ts - self._last_ts)
        else:  # first step: continue from the venue's last prices (a restarted server)
            for m in self._markets:
                last = view.last_price(m.inst.id)
                if last is not None and m.inst.id == self.fair.leader(m.inst.id):
                    self.fair.resume_from(m.inst.id, last)
        self._last_ts = ts if self._last_ts is None else max(ts, self._last_ts)
        self.steps += 1
        active = [m for m in self._markets if m.inst.session.is_open(ts)]
        if not active:
            return []
        rng, s = self._rng, self.settings
        n = len(active)
        first = self.steps % n
        for k in range(n):  # a book with an empty side is fixed first
            m = active[(first + k) % n]
            if view.best_bid(m.inst.id) is None or view.best_ask(m.inst.id) is None:
                for j in range(len(self.makers)):
                    maker = self.makers[(self.steps + j) % len(self.makers)]
                    out = self._requote(m, maker, view)
                    if out:
                        return out
        r = rng.random()
        if r < s.quote_share or not self.takers:
            pairs = [(m, mk) for m in active for mk in self.makers]
            for _ in range(min(4, len(pairs))):
                m, maker = pairs[self._cursor % len(pairs)]
                self._cursor += 1
                out = self._requote(m, maker, view)
                if out:
                    return out
            return []
        m = active[rng.randrange(n)]
        taker = self.takers[rng.randrange(len(self.takers))]
        r -= s.quote_share
        if r < s.stop_share:
            return self._stop(m, taker, view)
        if r < s.stop_share + s.sweep_share:
            return self._take(m, taker, view, sweep=True)
        return self._take(m, taker, view, sweep=False)

    # -- agents -------------------------------------------------------------------
    def _requote(self, m: _Market, maker: str, view: MarketView) -> list[Command]:
        """Bring one maker's quote on one instrument back to its target levels.

        Level ``k`` sits ``half * (1 + k) ** 1.5`` away from the fair value; a resting
        order within ``half * (0.5 + 0.25 k)`` of its level (less than the level's
        distance, so bids stay below asks) and not mostly taken is kept, the rest is
        cancelled and replaced in one ``Batch``.
        """
        inst, rng, s = m.inst, self._rng, self.settings
        fair = self.fair.ticks(inst.id)
        half = s.spread_bps / 2e4 * (1 + 0.2 * self.makers.index(maker))
        mine = [o for o in view.open_orders(maker, inst.id) if o.type is OrderType.LIMIT]
        cancels: list[PlaceOrder | CancelOrder | ModifyOrder] = []
        places: list[PlaceOrder | CancelOrder | ModifyOrder] = []
        need_quote = need_base = 0
        for side in (Side.BUY, Side.SELL):
            sign = -1 if side is Side.BUY else 1
            spare = [o for o in mine if o.side is side and o.price is not None]
            prev: int | None = None
            for k in range(s.levels):
                exact = fair * (1 + sign * half * (1 + k) ** 1.5)
                price = math.floor(exact) if side is Side.BUY else math.ceil(exact)
                if prev is not None and (price - prev) * sign <= 0:
                    price = prev + sign
                if price < 1:
                    break
                prev = price
                size = m.level_lots * (1 + 0.5 * k)
                tol = fair * half * (0.5 + 0.25 * k)
                keep = next(
                    (
                        o
                        for o in spare
                        if abs((o.price or 0) - exact) <= tol and o.remaining * 3 >= size
                    ),
                    None,
                )
                if keep is not None:
                    spare.remove(keep)
                    continue
                qty = max(inst.min_lots, round(size * rng.uniform(0.6, 1.4)))
                places.append(
                    PlaceOrder(
                        user=maker,
                        instrument=inst.id,
                        side=side,
                        type=OrderType.LIMIT,
                        qty=qty,
                        price=price,
                    )
                )
                if side is Side.BUY:
                    need_quote += self._cost(inst, price, qty, inst.maker_fee_ppm)
                else:
                    need_base += inst.base_units(qty)
            cancels.extend(CancelOrder(user=maker, order_id=o.order_id) for o in spare)
        if not places and not cancels:
            return []
        out = self._fund(maker, inst, need_quote, need_base, view)
        out.append(Batch(user=maker, ops=cancels + places))
        return out

    def _take(self, m: _Market, taker: str, view: MarketView, *, sweep: bool) -> list[Command]:
        inst, rng, s = m.inst, self._rng, self.settings
        bid, ask = view.best_bid(inst.id), view.best_ask(inst.id)
        fair = self.fair.ticks(inst.id)
        lean = 0.0
        if bid is not None and ask is not None:
            mid = (bid + ask) / 2
            lean = max(-0.4, min(0.4, (fair - mid) / mid / (s.spread_bps / 1e4)))
        side = Side.BUY if rng.random() < 0.5 + lean else Side.SELL
        opposite = ask if side is Side.BUY else bid
        if opposite is None:
            return []
        sign = 1 if side is Side.BUY else -1
        kind = rng.random()
        price: int | None
        if sweep:
            qty = round(m.level_lots * rng.uniform(2.5, 6.0))
            price = opposite + sign * math.ceil(opposite * rng.uniform(0.002, 0.006))
            otype = OrderType.LIMIT
        elif kind < 0.5:
            qty = round(m.level_lots * rng.uniform(0.1, 1.2))
            price, otype = None, OrderType.MARKET
        else:
            qty = round(m.level_lots * rng.uniform(0.1, 1.2))
            slack = math.ceil(fair * s.spread_bps / 1e4 * rng.uniform(0.0, 1.5))
            price, otype = opposite + sign * slack, OrderType.LIMIT
        if price is not None and price < 1:
            return []
        qty = max(inst.min_lots, qty)
        if side is Side.BUY:
            worst = price if price is not None else self._banded(inst, opposite)
            out = self._fund(taker, inst, self._cost(inst, worst, qty, inst.taker_fee_ppm), 0, view)
        else:
            out = self._fund(taker, inst, 0, inst.base_units(qty), view)
        out.append(
            PlaceOrder(
                user=taker,
                instrument=inst.id,
                side=side,
                type=otype,
                qty=qty,
                price=price,
                tif=TimeInForce.GTC if otype is OrderType.MARKET else TimeInForce.IOC,
            )
        )
        return out

    def _stop(self, m: _Market, taker: str, view: MarketView) -> list[Command]:
        inst, rng, s = m.inst, self._rng, self.settings
        last = view.last_price(inst.id)
        if last is None or s.max_stops == 0:
            return self._take(m, taker, view, sweep=False)
        ops: list[PlaceOrder | CancelOrder | ModifyOrder] = []
        pending = sorted(
            (o for o in view.open_orders(taker, inst.id) if o.type in STOP_TYPES),
            key=lambda o: o.order_id,
        )
        if len(pending) >= s.max_stops:
            ops.append(CancelOrder(user=taker, order_id=pending[0].order_id))
        side = Side.BUY if rng.random() < 0.5 else Side.SELL
        sign = 1 if side is Side.BUY else -1
        distance = max(1, math.ceil(last * rng.uniform(0.002, 0.012)))
        stop = last + sign * distance
        if stop < 2:
            return []
        qty = max(inst.min_lots, round(m.level_lots * rng.uniform(0.2, 0.8)))
        price: int | None = None
        otype = OrderType.STOP
        if rng.random() < 0.3:
            otype = OrderType.STOP_LIMIT
            price = max(1, stop + sign * max(1, math.ceil(stop * 0.003)))
        ops.append(
            PlaceOrder(
                user=taker,
                instrument=inst.id,
                side=side,
                type=otype,
                qty=qty,
                price=price,
                stop_price=stop,
            )
        )
        if side is Side.BUY:
            worst = price if price is not None else self._banded(inst, stop)
            out = self._fund(taker, inst, self._cost(inst, worst, qty, inst.taker_fee_ppm), 0, view)
        else:
            out = self._fund(taker, inst, 0, inst.base_units(qty), view)
        out.append(Batch(user=taker, ops=ops) if len(ops) > 1 else ops[0])
        return out

    # -- funds --------------------------------------------------------------------
    @staticmethod
    def _banded(inst: Instrument, price: int) -> int:
        """The highest price a market buy referenced at ``price`` could pay."""
        return price + math.ceil(price * inst.price_band_ppm / PPM) + 1

    @staticmethod
    def _cost(inst: Instrument, price: int, qty: int, fee_ppm: int) -> int:
        notional = inst.notional(price, qty)
        return notional + -(-notional * fee_ppm // PPM) + 1

    def _fund(
        self, user: str, inst: Instrument, quote: int, base: int, view: MarketView
    ) -> list[Command]:
        """Deposits (or withdrawals of a surplus) so that ``user`` can pay for an order."""
        out: list[Command] = []
        for asset, need in ((inst.quote.symbol, quote), (inst.base.symbol, base)):
            refill = self._refill[asset]
            have = view.available(user, asset)
            if have < need + refill // 8:
                out.append(Deposit(user=user, asset=asset, units=refill + need))
            elif have > 12 * refill:
                out.append(Withdraw(user=user, asset=asset, units=have - 4 * refill))
        return out
