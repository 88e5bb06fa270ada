"""The ledger: balances, reservations, fees, spot and isolated margin positions.

Pure, synchronous and deterministic: no clock, no I/O, integers only. The venue's
sequencer drives it, for a new order: ``engine.check_place`` → ``reserve`` →
``engine.place`` → ``apply(engine events)``; it appends the events returned.

Invariants:
- Conservation: for every asset, ``totals()`` (all balances incl. ``LENDER`` and
  ``FEES`` plus the assets held inside margin positions) changes only by
  ``deposit`` and ``withdraw``.
- Every open order has a record whose reservation equals ``need(remaining)`` (see
  ``openpit.ledger.orders``); a final ``OrderUpdate`` releases it all and drops it.
- ``reserved`` is never negative; ``available`` is never negative except the
  lending pool's, which absorbs bad debt on shorts.
- Rejections are ``(Reason, message)`` results and change nothing. Accounts are
  created on first deposit; an unknown user simply has no funds.
- ``apply`` reads only ``Trade`` and final-status ``OrderUpdate`` events. It settles
  every trade of the batch first, then releases final orders, so the engine's event
  order within one command does not matter.
- Events out: ``Fill`` (two per trade), then one ``Balance`` per changed
  (account, asset) — including ``LENDER``/``FEES`` — then one ``Position`` per
  changed position. Iteration is always in sorted or first-touch order.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import replace

from openpit.config.loader import RiskSettings
from openpit.core.amounts import render_amount, render_lots
from openpit.core.commands import PlaceOrder
from openpit.core.enums import FINAL_STATUSES, Reason, Side
from openpit.core.events import BookLevel, Event, MarginCall, OrderUpdate, Position, Trade
from openpit.core.instrument import Asset, Instrument
from openpit.ledger import risk as rk
from openpit.ledger.accounts import INTERNAL_ACCOUNTS, LENDER, Accounts, LedgerError
from openpit.ledger.margin import MarginPosition
from openpit.ledger.orders import (
    OrderRecord,
    lend_asset,
    rec_lend,
    rec_need,
    reserve_asset,
)
from openpit.ledger.settle import PosKey, settle_trade, validate
from openpit.ledger.spot import SpotPosition

Rejection = tuple[Reason, str]


def _reject(reason: Reason, message: str) -> Rejection:
    return (reason, message)


class Ledger:
    """Accounts and positions of one venue. Picklable (snapshots pickle it)."""

    def __init__(
        self,
        instruments: Mapping[str, Instrument],
        assets: Mapping[str, Asset],
        risk: RiskSettings,
    ) -> None:
        self._instruments = dict(instruments)
        self._assets = dict(assets)
        self._risk = risk
        self._acc = Accounts()
        self._orders: dict[int, OrderRecord] = {}
        self._spot: dict[tuple[str, str], SpotPosition] = {}
        self._margin: dict[tuple[str, str], MarginPosition] = {}
        self._marks: dict[str, int] = {}

    # -- funds -------------------------------------------------------------------
    def deposit(self, user: str, asset: str, units: int) -> list[Event] | Rejection:
        bad = self._check_amount(asset, units)
        if bad is not None:
            return bad
        self._acc.credit(user, asset, units)
        return list(self._acc.drain())

    def withdraw(self, user: str, asset: str, units: int) -> list[Event] | Rejection:
        bad = self._check_amount(asset, units)
        if bad is not None:
            return bad
        available = self._acc.available(user, asset)
        if available < units:
            return _reject(
                Reason.INSUFFICIENT_FUNDS,
                f"withdraw {self._amount(asset, units)}: "
                f"only {self._amount(asset, max(0, available))} available",
            )
        self._acc.debit(user, asset, units)
        return list(self._acc.drain())

    def _amount(self, asset: str, units: int) -> str:
        """``units`` of ``asset`` in the asset's own units, for messages."""
        known = self._assets.get(asset)
        return f"{units} {asset}" if known is None else render_amount(known, units)

    def _check_amount(self, asset: str, units: int) -> Rejection | None:
        if asset not in self._assets:
            return _reject(Reason.INVALID_PARAMETER, f"unknown asset {asset!r}")
        if units <= 0:
            return _reject(Reason.INVALID_PARAMETER, "amount must be positive")
        return None

    def balance(self, user: str, asset: str) -> tuple[int, int]:
        """``(available, reserved)`` units; ``(0, 0)`` for anything unknown."""
        return self._acc.get(user, asset)

    def balances(self, user: str) -> dict[str, tuple[int, int]]:
        return self._acc.of(user)

    # -- orders ------------------------------------------------------------------
    def reserve(self, order_id: int, cmd: PlaceOrder, price_cap: int) -> list[Event] | Rejection:
        """Hold back what a new order may spend; ``price_cap`` is its worst price (ticks)."""
        inst = self._instruments.get(cmd.instrument)
        if inst is None:
            return _reject(Reason.UNKNOWN_INSTRUMENT, f"unknown instrument {cmd.instrument!r}")
        if order_id in self._orders:
            return _reject(Reason.INVALID_PARAMETER, f"order {order_id} already reserved")
        if cmd.user in INTERNAL_ACCOUNTS:
            return _reject(Reason.INVALID_PARAMETER, f"{cmd.user} cannot trade")
        if cmd.qty <= 0:
            return _reject(Reason.INVALID_PARAMETER, "quantity must be positive")
        bad = self._check_margin(inst, cmd)
        if bad is not None:
            return bad
        margin = cmd.margin or cmd.leverage > 1 or cmd.reduce_only
        if price_cap <= 0 and (cmd.side is Side.BUY or margin) and not cmd.reduce_only:
            return _reject(Reason.INVALID_PARAMETER, "price cap must be positive")
        rec = OrderRecord(
            order_id=order_id,
            user=cmd.user,
            instrument=inst.id,
            side=cmd.side,
            client_order_id=cmd.client_order_id,
            margin=margin,
            reduce_only=cmd.reduce_only,
            leverage=cmd.leverage,
            price_cap=price_cap,
            remaining=cmd.qty,
            asset=reserve_asset(inst, cmd.side, margin),
            reserved=0,
            lend_asset=lend_asset(inst, cmd.side),
            lent=0,
        )
        units = rec_need(inst, rec, cmd.qty, price_cap)
        loan = rec_lend(inst, rec, cmd.qty, price_cap)
        bad = self._check_funds(rec, units, loan)
        if bad is not None:
            return bad
        self._acc.reserve(rec.user, rec.asset, units)
        self._acc.reserve(LENDER, rec.lend_asset, loan)
        rec.reserved, rec.lent = units, loan
        self._orders[order_id] = rec
        return list(self._acc.drain())

    def _check_margin(self, inst: Instrument, cmd: PlaceOrder) -> Rejection | None:
        if cmd.leverage < 1 or cmd.leverage > inst.max_leverage:
            return _reject(
                Reason.LEVERAGE_NOT_ALLOWED,
                f"leverage {cmd.leverage} outside 1..{inst.max_leverage} on {inst.id}",
            )
        if (cmd.margin or cmd.leverage > 1) and not inst.margin_allowed:
            return _reject(Reason.LEVERAGE_NOT_ALLOWED, f"{inst.id} is not a margin instrument")
        if cmd.reduce_only:
            return self._check_reduce(cmd.user, inst, cmd.side, cmd.qty)
        return None

    def _check_reduce(self, user: str, inst: Instrument, side: Side, qty: int) -> Rejection | None:
        pos = self._margin.get((user, inst.id))
        held = 0 if pos is None else pos.qty
        opposite = held < 0 if side is Side.BUY else held > 0
        if not opposite:
            return _reject(Reason.REDUCE_ONLY, f"no opposite margin position on {inst.id}")
        if qty > abs(held):
            return _reject(
                Reason.REDUCE_ONLY,
                f"quantity {render_lots(qty, inst.lot_size)} exceeds the position "
                f"{render_lots(abs(held), inst.lot_size)} {inst.base.symbol}",
            )
        return None

    def _check_funds(self, rec: OrderRecord, units: int, loan: int) -> Rejection | None:
        have = self._acc.available(rec.user, rec.asset)
        if have < units:
            return _reject(
                Reason.INSUFFICIENT_FUNDS,
                f"needs {self._amount(rec.asset, units)}, "
                f"{self._amount(rec.asset, max(0, have))} available",
            )
        pool = self._acc.available(LENDER, rec.lend_asset)
        if pool < loan:
            return _reject(
                Reason.INSUFFICIENT_FUNDS,
                f"lending pool cannot lend {self._amount(rec.lend_asset, loan)} "
                f"({self._amount(rec.lend_asset, max(0, pool))} available)",
            )
        return None

    def check_modify(
        self, order_id: int, new_remaining: int, new_price_cap: int
    ) -> Rejection | None:
        rec = self._orders.get(order_id)
        if rec is None:
            return _reject(Reason.UNKNOWN_ORDER, f"no open order {order_id}")
        if new_remaining <= 0:
            return _reject(Reason.INVALID_PARAMETER, "quantity must be positive")
        inst = self._instruments[rec.instrument]
        if new_price_cap <= 0 and (rec.side is Side.BUY or rec.margin) and not rec.reduce_only:
            return _reject(Reason.INVALID_PARAMETER, "price cap must be positive")
        if rec.reduce_only:
            return self._check_reduce(rec.user, inst, rec.side, new_remaining)
        units = rec_need(inst, rec, new_remaining, new_price_cap)
        loan = rec_lend(inst, rec, new_remaining, new_price_cap)
        return self._check_funds(rec, units - rec.reserved, loan - rec.lent)

    def modify(self, order_id: int, new_remaining: int, new_price_cap: int) -> list[Event]:
        """Re-size an open order's reservation; call ``check_modify`` first."""
        bad = self.check_modify(order_id, new_remaining, new_price_cap)
        if bad is not None:
            raise LedgerError(f"modify {order_id}: {bad[1]}")
        return self._apply_modify(order_id, new_remaining, new_price_cap)

    def try_modify(
        self, order_id: int, new_remaining: int, new_price_cap: int
    ) -> list[Event] | Rejection:
        """``check_modify`` then ``modify`` in one pass (the sequencer's hot path)."""
        bad = self.check_modify(order_id, new_remaining, new_price_cap)
        if bad is not None:
            return bad
        return self._apply_modify(order_id, new_remaining, new_price_cap)

    def _apply_modify(self, order_id: int, new_remaining: int, new_price_cap: int) -> list[Event]:
        rec = self._orders[order_id]
        inst = self._instruments[rec.instrument]
        units = rec_need(inst, rec, new_remaining, new_price_cap)
        loan = rec_lend(inst, rec, new_remaining, new_price_cap)
        self._resize(rec.user, rec.asset, rec.reserved, units)
        self._resize(LENDER, rec.lend_asset, rec.lent, loan)
        rec.reserved, rec.lent = units, loan
        rec.remaining, rec.price_cap = new_remaining, new_price_cap
        return list(self._acc.drain())

    def _resize(self, user: str, asset: str, old: int, new: int) -> None:
        if new > old:
            self._acc.reserve(user, asset, new - old)
        else:
            self._acc.release(user, asset, old - new)

    def reservation(self, order_id: int) -> OrderRecord | None:
        """A copy of the record held for an open order (None once final)."""
        rec = self._orders.get(order_id)
        return None if rec is None else replace(rec)

    # -- settlement --------------------------------------------------------------
    def apply(self, events: Sequence[Event]) -> list[Event]:
        """Settle trades, then release orders that reached a final status."""
        for ev in events:  # fast path: most commands neither trade nor end an order
            cls = type(ev)
            if cls is Trade or (cls is OrderUpdate and ev.status in FINAL_STATUSES):  # type: ignore[attr-defined]
                break
            if cls is not OrderUpdate and cls is not BookLevel:
                break  # anything unusual takes the full path
        else:
            return []
        validate(events, self._orders, self._instruments)
        out: list[Event] = []
        changed: dict[PosKey, None] = {}
        for ev in events:
            if isinstance(ev, Trade):
                inst = self._instruments[ev.instrument]
                self._marks.setdefault(inst.id, ev.price)
                out += settle_trade(
                    ev, inst, self._acc, self._orders, self._spot, self._margin, changed
                )
        for ev in events:
            if isinstance(ev, OrderUpdate) and ev.status.is_final:
                rec = self._orders.pop(ev.order_id, None)
                if rec is not None:
                    self._acc.release(rec.user, rec.asset, rec.reserved)
                    self._acc.release(LENDER, rec.lend_asset, rec.lent)
        out += self._acc.drain()
        for margin_mode, user, iid in changed:
            out.append(self._position(margin_mode, user, iid))
        return out

    # -- positions and risk ------------------------------------------------------
    def positions(self, user: str) -> list[Position]:
        """Current spot then margin positions of ``user`` (incl. closed ones with PnL)."""
        keys = [(False, u, i) for u, i in sorted(self._spot) if u == user]
        keys += [(True, u, i) for u, i in sorted(self._margin) if u == user]
        return [self._position(m, u, i) for m, u, i in keys]

    def _position(self, margin_mode: bool, user: str, iid: str) -> Position:
        mark = self._marks.get(iid)
        if not margin_mode:
            s = self._spot[(user, iid)]
            return Position(
                user=user,
                instrument=iid,
                margin_mode=False,
                qty=s.qty,
                cost=s.cost,
                realized_pnl=s.realized_pnl,
                mark_price=mark,
            )
        p = self._margin[(user, iid)]
        return Position(
            user=user,
            instrument=iid,
            margin_mode=True,
            qty=p.qty,
            cost=p.cost,
            realized_pnl=p.realized_pnl,
            mark_price=mark,
            margin=p.margin,
            debt=p.debt,
            leverage=p.leverage,
            liquidation_price=rk.liquidation_price(p, self._instruments[iid], self._risk),
        )

    def mark_price(self, instrument: str) -> int | None:
        return self._marks.get(instrument)

    def mark(self, instrument: str, price: int) -> list[Event]:
        """New mark price → a ``MarginCall`` per position that crossed a threshold downward."""
        inst = self._instruments.get(instrument)
        if inst is None or price <= 0:
            return []
        self._marks[instrument] = price
        out: list[Event] = []
        for (user, iid), pos in sorted(self._margin.items()):
            if iid != instrument or pos.qty == 0:
                continue
            lvl = rk.level(pos, inst, price, self._risk)
            if lvl > pos.level:
                out.append(self._margin_call(user, inst, pos, price, lvl))
            pos.level = lvl
        return out

    def _margin_call(
        self, user: str, inst: Instrument, pos: MarginPosition, mark: int, lvl: int
    ) -> MarginCall:
        return MarginCall(
            user=user,
            instrument=inst.id,
            severity=rk.SEVERITY[lvl],
            margin_ratio_ppm=rk.ratio_ppm(pos, inst, mark) or 0,
            required_ratio_ppm=self._risk.warning_ppm,
            required_deposit=rk.required_deposit(pos, inst, mark, self._risk),
            mark_price=mark,
            liquidation_price=rk.liquidation_price(pos, inst, self._risk),
        )

    def due_liquidations(self) -> list[tuple[str, str, Side, int]]:
        """(user, instrument, closing side, lots) of margin positions below maintenance."""
        due = []
        for (user, iid), pos in sorted(self._margin.items()):
            mark = self._marks.get(iid)
            if pos.qty == 0 or mark is None:
                continue
            if rk.level(pos, self._instruments[iid], mark, self._risk) == 3:
                side = Side.SELL if pos.qty > 0 else Side.BUY
                due.append((user, iid, side, abs(pos.qty)))
        return due

    def add_margin(self, user: str, instrument: str, units: int) -> list[Event] | Rejection:
        """Post more quote into an open margin position (a long repays debt first)."""
        inst = self._instruments.get(instrument)
        pos = self._margin.get((user, instrument))
        if inst is None or pos is None or pos.qty == 0:
            return _reject(Reason.INVALID_PARAMETER, f"no open margin position on {instrument}")
        quote = inst.quote.symbol
        bad = self._check_amount(quote, units)
        if bad is not None:
            return bad
        if self._acc.available(user, quote) < units:
            have = max(0, self._acc.available(user, quote))
            return _reject(
                Reason.INSUFFICIENT_FUNDS,
                f"needs {self._amount(quote, units)}, {self._amount(quote, have)} available",
            )
        self._acc.debit(user, quote, units)
        repaid = min(units, pos.debt) if pos.qty > 0 else 0
        self._acc.credit(LENDER, quote, repaid)
        pos.debt -= repaid
        pos.quote += units - repaid
        pos.margin += units
        mark = self._marks.get(instrument)
        if mark is not None:
            pos.level = min(pos.level, rk.level(pos, inst, mark, self._risk))
        out: list[Event] = list(self._acc.drain())
        out.append(self._position(True, user, instrument))
        return out

    # -- audit -------------------------------------------------------------------
    def totals(self) -> dict[str, int]:
        """Per asset: every balance (incl. LENDER, FEES) plus assets held in positions."""
        out = dict.fromkeys(sorted(self._assets), 0)
        self._acc.totals(out)
        for (_, iid), pos in self._margin.items():
            inst = self._instruments[iid]
            out[inst.base.symbol] += pos.base
            out[inst.quote.symbol] += pos.quote
        return out

    def state_items(self) -> Iterator[tuple[object, ...]]:
        """Canonical, deterministic content (for the venue's state hash)."""
        for user, asset, available, reserved in self._acc.items():
            yield ("balance", user, asset, available, reserved)
        for order_id in sorted(self._orders):
            yield ("order", *self._orders[order_id].key())
        for (user, iid), s in sorted(self._spot.items()):
            yield ("spot", user, iid, *s.key())
        for (user, iid), m in sorted(self._margin.items()):
            yield ("margin", user, iid, *m.key())
        for iid, price in sorted(self._marks.items()):
            yield ("mark", iid, price)
