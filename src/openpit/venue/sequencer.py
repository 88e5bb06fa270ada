"""The venue sequencer: the single writer in front of engine and ledger.

Invariants:
- Every command gets the next global sequence number (``seq``, from 1, no gaps) and a
  timestamp that never goes backwards (an earlier clock reading is raised to the last).
- A command is validated completely before any state changes: instrument, halt,
  session, deadline, then the engine's book checks, then the ledger's funds check.
  A rejected command changes nothing but the sequence number and the user's
  ``useq`` (the rejection itself is an event the user sees).
- Every event is stamped with the command's ``seq`` and ``ts``; market events get
  consecutive per-instrument ``iseq``, user events consecutive per-user ``useq``.
- The same commands with the same timestamps produce the same events and the same
  ``state_hash()`` — replaying the journal reproduces the venue exactly.
- Bounds hold whatever built the command (``openpit.engine.validate`` for orders;
  here for funds: no deposit or withdrawal beyond ``INT64_MAX`` units and no balance
  above it), so a journal record written before the edges were bounded replays as a
  rejection instead of an order no store can hold.
- Pure and synchronous: no clock reads, no I/O.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator, Sequence
from typing import Final

import msgspec

from openpit.config.loader import VenueConfig
from openpit.core.amounts import render_amount
from openpit.core.commands import (
    Batch,
    CancelAll,
    CancelOrder,
    Clock,
    Command,
    Deposit,
    ModifyOrder,
    PlaceOrder,
    SetHalt,
    Withdraw,
)
from openpit.core.enums import OrderType, Reason
from openpit.core.events import (
    Balance,
    BookLevel,
    CommandRejected,
    Event,
    Fill,
    InstrumentStatus,
    MarginCall,
    MarketEvent,
    OrderUpdate,
    Position,
    Trade,
    UserEvent,
)
from openpit.core.instrument import INT64_MAX
from openpit.engine import Engine
from openpit.engine.order import Order
from openpit.ledger import LENDER, Ledger
from openpit.venue.fees import OrderFees

MAX_LIQUIDATION_ROUNDS: Final = 16
_MARKET_TYPES: Final = frozenset({Trade, BookLevel, InstrumentStatus})
_USER_TYPES: Final = frozenset({OrderUpdate, Fill, Balance, Position, MarginCall, CommandRejected})


class CommandResult(msgspec.Struct, kw_only=True):
    """The outcome of one command: accepted or rejected, plus every event it produced.

    For a ``Batch`` the per-operation outcomes are in ``results`` (same seq and ts);
    their events are also part of the top-level ``events``.
    """

    seq: int
    ts: int
    ok: bool = True
    reason: Reason = Reason.OK
    message: str = ""
    order_id: int | None = None
    events: list[Event] = msgspec.field(default_factory=list)
    results: list[CommandResult] = msgspec.field(default_factory=list)


class _Halt(msgspec.Struct, array_like=True):
    reason: str
    until: int | None


class Venue:
    """Engine + ledger behind one deterministic ``execute(command, ts)``."""

    def __init__(self, config: VenueConfig) -> None:
        self.config = config
        self.engine = Engine(config.instruments, config.risk.stp_default)
        self.ledger = Ledger(config.instruments, config.assets, config.risk)
        self.seq = 0
        self.ts = 0
        self.next_order_id = 1
        self._iseq: dict[str, int] = {}
        self._useq: dict[str, int] = {}
        self._halts: dict[str, _Halt] = {}
        self._marked_trade_seq = 0  # engine.trade_seq when marks were last updated
        self.fees = OrderFees()

    def __setstate__(self, state: dict[str, object]) -> None:
        state.setdefault("fees", OrderFees())  # snapshots from before fees were kept
        self.__dict__.update(state)

    # -- public -------------------------------------------------------------------------
    def execute(self, command: Command, ts: int) -> CommandResult:
        self.seq += 1
        self.ts = ts = max(ts, self.ts)
        events: list[Event] = []
        self._expire(ts, events)
        result = self._dispatch(command, ts, events)
        self._after_trades(ts, events)
        self.fees.apply(events)
        self._stamp(events)
        result.events = events
        return result

    def genesis_commands(self) -> list[Command]:
        """Commands that fund the lending pool and the demo accounts from the config."""
        out: list[Command] = []
        for asset, units in sorted(self.config.risk.lending_pool.items()):
            out.append(Deposit(user=LENDER, asset=asset, units=units))
        for acc in self.config.demo_accounts:
            for asset, units in sorted(acc.balances.items()):
                out.append(Deposit(user=acc.user, asset=asset, units=units))
        return out

    def useq(self, user: str) -> int:
        """The latest private stream sequence stamped for ``user`` (0: none yet)."""
        return self._useq.get(user, 0)

    def is_halted(self, instrument: str) -> bool:
        return instrument in self._halts

    def state_hash(self) -> str:
        h = hashlib.sha256()
        for item in self._state_items():
            h.update(repr(item).encode())
            h.update(b"\n")
        return h.hexdigest()

    # -- dispatch -----------------------------------------------------------------------
    def _dispatch(self, command: Command, ts: int, events: list[Event]) -> CommandResult:
        if isinstance(command, PlaceOrder):
            return self._place(command, ts, events)
        if isinstance(command, CancelOrder):
            return self._cancel(command, ts, events)
        if isinstance(command, ModifyOrder):
            return self._modify(command, ts, events)
        if isinstance(command, Batch):
            return self._batch(command, ts, events)
        if isinstance(command, CancelAll):
            return self._cancel_all(command, ts, events)
        if isinstance(command, Deposit | Withdraw):
            return self._funds(command, ts, events)
        if isinstance(command, SetHalt):
            return self._set_halt(command, ts, events)
        if isinstance(command, Clock):
            return CommandResult(seq=self.seq, ts=ts)
        raise TypeError(f"not a command: {command!r}")

    def _reject(
        self,
        user: str,
        ts: int,
        events: list[Event],
        reason: Reason,
        message: str,
        order_id: int | None = None,
        client_order_id: str | None = None,
    ) -> CommandResult:
        events.append(
            CommandRejected(
                user=user,
                reason=reason,
                message=message,
                order_id=order_id,
                client_order_id=client_order_id,
            )
        )
        return CommandResult(seq=self.seq, ts=ts, ok=False, reason=reason, message=message)

    def _place(self, cmd: PlaceOrder, ts: int, events: list[Event]) -> CommandResult:
        inst = self.config.instruments.get(cmd.instrument)
        cid = cmd.client_order_id
        if inst is None:
            return self._reject(
                cmd.user,
                ts,
                events,
                Reason.UNKNOWN_INSTRUMENT,
                f"unknown instrument {cmd.instrument!r}",
                client_order_id=cid,
            )
        if cmd.instrument in self._halts:
            halt = self._halts[cmd.instrument]
            return self._reject(
                cmd.user,
                ts,
                events,
                Reason.TRADING_HALTED,
                f"trading in {inst.symbol} is halted" + (f": {halt.reason}" if halt.reason else ""),
                client_order_id=cid,
            )
        if not inst.session.is_open(ts):
            return self._reject(
                cmd.user,
                ts,
                events,
                Reason.MARKET_CLOSED,
                f"{inst.symbol} is closed (session {inst.session.describe()})",
                client_order_id=cid,
            )
        if cmd.deadline is not None and cmd.deadline < ts:
            return self._reject(
                cmd.user,
                ts,
                events,
                Reason.DEADLINE_PASSED,
                f"order deadline {cmd.deadline} passed at {ts}",
                client_order_id=cid,
            )
        problem = self.engine.check_place(cmd)
        if problem is not None:
            return self._reject(cmd.user, ts, events, *problem, client_order_id=cid)
        order_id = self.next_order_id
        reserved = self.ledger.reserve(order_id, cmd, self.engine.price_cap(cmd))
        if isinstance(reserved, tuple):
            return self._reject(cmd.user, ts, events, *reserved, client_order_id=cid)
        self.next_order_id += 1
        events.extend(reserved)
        placed = self.engine.place(cmd, order_id, ts)
        events.extend(placed)
        events.extend(self.ledger.apply(placed))
        return CommandResult(seq=self.seq, ts=ts, order_id=order_id)

    def _cancel(self, cmd: CancelOrder, ts: int, events: list[Event]) -> CommandResult:
        problem = self.engine.check_cancel(cmd)
        if problem is not None:
            return self._reject(
                cmd.user,
                ts,
                events,
                *problem,
                order_id=cmd.order_id,
                client_order_id=cmd.client_order_id,
            )
        order = self._find(cmd.user, cmd.order_id, cmd.client_order_id)
        cancelled = self.engine.cancel(cmd, ts)
        events.extend(cancelled)
        events.extend(self.ledger.apply(cancelled))
        return CommandResult(
            seq=self.seq, ts=ts, order_id=None if order is None else order.order_id
        )

    def _modify(self, cmd: ModifyOrder, ts: int, events: list[Event]) -> CommandResult:
        problem = self.engine.check_modify(cmd)
        order = self._find(cmd.user, cmd.order_id, cmd.client_order_id)
        if problem is not None or order is None:
            reason, message = problem or (Reason.UNKNOWN_ORDER, "order not found")
            return self._reject(
                cmd.user,
                ts,
                events,
                reason,
                message,
                order_id=cmd.order_id,
                client_order_id=cmd.client_order_id,
            )
        new_qty = order.qty if cmd.qty is None else cmd.qty
        new_remaining = new_qty - order.filled
        new_cap = self.engine.modify_price_cap(cmd)
        assert new_cap is not None  # the order exists: check_modify passed
        resized = self.ledger.try_modify(order.order_id, new_remaining, new_cap)
        if isinstance(resized, tuple):
            return self._reject(
                cmd.user,
                ts,
                events,
                *resized,
                order_id=order.order_id,
                client_order_id=order.client_order_id,
            )
        events.extend(resized)
        modified = self.engine.modify(cmd, ts)
        events.extend(modified)
        events.extend(self.ledger.apply(modified))
        return CommandResult(seq=self.seq, ts=ts, order_id=order.order_id)

    def _batch(self, cmd: Batch, ts: int, events: list[Event]) -> CommandResult:
        results: list[CommandResult] = []
        for op in cmd.ops:
            if op.user != cmd.user:
                op = msgspec.structs.replace(op, user=cmd.user)
            own: list[Event] = []
            if isinstance(op, PlaceOrder):
                sub = self._place(op, ts, own)
            elif isinstance(op, CancelOrder):
                sub = self._cancel(op, ts, own)
            else:
                sub = self._modify(op, ts, own)
            self._after_trades(ts, own)
            sub.events = own
            events.extend(own)
            results.append(sub)
        return CommandResult(seq=self.seq, ts=ts, ok=True, results=results)

    def _cancel_all(self, cmd: CancelAll, ts: int, events: list[Event]) -> CommandResult:
        if cmd.instrument is not None and cmd.instrument not in self.config.instruments:
            return self._reject(
                cmd.user,
                ts,
                events,
                Reason.UNKNOWN_INSTRUMENT,
                f"unknown instrument {cmd.instrument!r}",
            )
        cancelled = self.engine.cancel_all(cmd.user, cmd.instrument, ts)
        events.extend(cancelled)
        events.extend(self.ledger.apply(cancelled))
        return CommandResult(seq=self.seq, ts=ts)

    def _funds(self, cmd: Deposit | Withdraw, ts: int, events: list[Event]) -> CommandResult:
        out_of_range = self._funds_out_of_range(cmd)
        if out_of_range is not None:
            return self._reject(cmd.user, ts, events, Reason.INVALID_PARAMETER, out_of_range)
        if isinstance(cmd, Deposit):
            out = self.ledger.deposit(cmd.user, cmd.asset, cmd.units)
        else:
            out = self.ledger.withdraw(cmd.user, cmd.asset, cmd.units)
        if isinstance(out, tuple):
            return self._reject(cmd.user, ts, events, *out)
        events.extend(out)
        return CommandResult(seq=self.seq, ts=ts)

    def _funds_out_of_range(self, cmd: Deposit | Withdraw) -> str | None:
        """Why ``cmd`` would leave a balance beyond ``INT64_MAX`` units, or None."""
        asset = self.config.assets.get(cmd.asset)
        if asset is None:
            return None  # the ledger names the unknown asset
        available, reserved = self.ledger.balance(cmd.user, cmd.asset)
        after = available + reserved + (cmd.units if isinstance(cmd, Deposit) else 0)
        if cmd.units <= INT64_MAX and after <= INT64_MAX:
            return None
        largest = render_amount(asset, INT64_MAX)
        amount = render_amount(asset, cmd.units)
        return f"amount {amount} is out of range: a balance holds at most {largest}"

    def _set_halt(self, cmd: SetHalt, ts: int, events: list[Event]) -> CommandResult:
        if cmd.instrument not in self.config.instruments:
            return CommandResult(
                seq=self.seq,
                ts=ts,
                ok=False,
                reason=Reason.UNKNOWN_INSTRUMENT,
                message=f"unknown instrument {cmd.instrument!r}",
            )
        if cmd.halted:
            self._halts[cmd.instrument] = _Halt(cmd.reason, cmd.until)
        else:
            self._halts.pop(cmd.instrument, None)
        events.append(
            InstrumentStatus(
                instrument=cmd.instrument, halted=cmd.halted, reason=cmd.reason, until=cmd.until
            )
        )
        return CommandResult(seq=self.seq, ts=ts)

    def find_order(
        self, user: str, order_id: int | None, client_order_id: str | None
    ) -> Order | None:
        """A live order of ``user`` by id or client order id (the engine's indexes)."""
        return self._find(user, order_id, client_order_id)

    # -- housekeeping -------------------------------------------------------------------
    def _find(self, user: str, order_id: int | None, client_order_id: str | None) -> Order | None:
        if order_id is not None:
            order = self.engine.order(order_id)
            return order if order is not None and order.user == user else None
        if client_order_id is not None:
            return self.engine.order_by_client_id(user, client_order_id)
        return None

    def _expire(self, ts: int, events: list[Event]) -> None:
        for instrument, halt in list(self._halts.items()):
            if halt.until is not None and halt.until <= ts:
                del self._halts[instrument]
                events.append(
                    InstrumentStatus(instrument=instrument, halted=False, reason="halt ended")
                )
        expired = self.engine.expire(ts)
        if expired:
            events.extend(expired)
            events.extend(self.ledger.apply(expired))

    def _after_trades(self, ts: int, events: list[Event]) -> None:
        """Mark margin positions to the new last prices; liquidate what fell below maintenance."""
        if self.engine.trade_seq == self._marked_trade_seq:
            return  # no trade since the last marking: no mark moved, nothing became due
        try:
            self._mark_and_liquidate(ts, events)
        finally:
            self._marked_trade_seq = self.engine.trade_seq

    def _mark_and_liquidate(self, ts: int, events: list[Event]) -> None:
        for _ in range(MAX_LIQUIDATION_ROUNDS):
            traded = sorted({e.instrument for e in events if type(e) is Trade})
            marks: list[Event] = []
            for instrument in traded:
                last = self.engine.last_price(instrument)
                if last is not None:
                    marks.extend(self.ledger.mark(instrument, last))
            events.extend(marks)
            due = self.ledger.due_liquidations()
            if not due:
                return
            placed_any = False
            for user, instrument, side, qty in due:
                cmd = PlaceOrder(
                    user=user,
                    instrument=instrument,
                    side=side,
                    type=OrderType.MARKET,
                    qty=qty,
                    margin=True,
                    reduce_only=True,
                )
                if self.engine.check_place(cmd) is not None:
                    continue  # no liquidity: retried on the next trade
                order_id = self.next_order_id
                reserved = self.ledger.reserve(order_id, cmd, self.engine.price_cap(cmd))
                if isinstance(reserved, tuple):
                    continue
                self.next_order_id += 1
                placed_any = True
                placed = self.engine.place(cmd, order_id, ts)
                events.extend(reserved)
                events.extend(placed)
                events.extend(self.ledger.apply(placed))
            if not placed_any:
                return

    def _stamp(self, events: Sequence[Event]) -> None:
        seq, ts, iseq, useq = self.seq, self.ts, self._iseq, self._useq
        market, private = _MARKET_TYPES, _USER_TYPES
        for event in events:
            event.seq = seq
            event.ts = ts
            cls = type(event)
            if cls in market or (cls not in private and isinstance(event, MarketEvent)):
                key = event.instrument  # type: ignore[attr-defined]
                n = iseq.get(key, 0) + 1
                iseq[key] = n
                event.iseq = n  # type: ignore[attr-defined]
            elif cls in private or isinstance(event, UserEvent):
                key = event.user  # type: ignore[attr-defined]
                n = useq.get(key, 0) + 1
                useq[key] = n
                event.useq = n  # type: ignore[attr-defined]

    def _state_items(self) -> Iterator[tuple[object, ...]]:
        yield ("venue", self.seq, self.ts, self.next_order_id)
        yield ("iseq", tuple(sorted(self._iseq.items())))
        yield ("useq", tuple(sorted(self._useq.items())))
        yield ("halts", tuple(sorted((k, v.reason, v.until) for k, v in self._halts.items())))
        yield from self.engine.state_items()
        yield from self.ledger.state_items()
        yield from self.fees.state_items()
