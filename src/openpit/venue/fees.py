"""Fees charged per order, folded into the venue's own order updates.

Every ``OrderUpdate`` the venue publishes carries ``fee`` (quote units) and
``fee_rate_ppm``: the fees of exactly the fills that update reports, cumulated over the
order's life, so a taker across two levels reads new (fee 0) → partially filled (the
first fill's fee) → filled (both).

Invariants:
- The ledger's fills of a command come after the engine's order updates of that command;
  fills are matched to updates by cumulative filled lots: an update with ``filled == F``
  reports the order's fills up to ``F`` lots, in order.
- Only orders that had a fill and are still live are kept (one small entry each); the
  entry goes with the order's final update. The state is part of the venue, so it is in
  snapshots and in ``state_hash``, and replaying the journal rebuilds it exactly: a
  restart does not reset an order's fee total.
- Pure and synchronous; the cost per command is one pass over its events.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterator

from openpit.core.events import Event, Fill, OrderUpdate


class OrderFees:
    __slots__ = ("_live",)

    def __init__(self) -> None:
        # order_id -> [fee units, lots the fee covers, rate of the latest fill]
        self._live: dict[int, list[int]] = {}

    def apply(self, events: list[Event]) -> None:
        """Set ``fee``/``fee_rate_ppm`` on every order update in ``events``."""
        live = self._live
        fills: dict[int, deque[Fill]] | None = None
        for ev in events:
            if type(ev) is Fill:
                assert isinstance(ev, Fill)
                if fills is None:
                    fills = {}
                queued = fills.get(ev.order_id)
                if queued is None:
                    fills[ev.order_id] = deque((ev,))
                else:
                    queued.append(ev)
        if fills is None and not live:
            return
        for ev in events:
            if type(ev) is not OrderUpdate:
                continue
            assert isinstance(ev, OrderUpdate)
            oid = ev.order_id
            state = live.get(oid)
            queued = None if fills is None else fills.get(oid)
            if queued:
                if state is None:
                    state = live[oid] = [0, 0, 0]
                while queued and state[1] + queued[0].qty <= ev.filled:
                    fill = queued.popleft()
                    state[0] += fill.fee
                    state[1] += fill.qty
                    state[2] = fill.fee_rate_ppm
            if state is not None:
                ev.fee = state[0]
                ev.fee_rate_ppm = state[2]
                if ev.status.is_final:
                    del live[oid]
        if fills is None:
            return
        for oid, rest in fills.items():  # fills no update reported (none expected): kept
            state = live.get(oid)
            while rest and state is not None:
                fill = rest.popleft()
                state[0] += fill.fee
                state[1] += fill.qty
                state[2] = fill.fee_rate_ppm

    def fee(self, order_id: int) -> tuple[int, int]:
        """(fee units, rate ppm) charged so far on a live order."""
        state = self._live.get(order_id)
        return (0, 0) if state is None else (state[0], state[2])

    def state_items(self) -> Iterator[tuple[object, ...]]:
        yield ("fees", tuple(sorted((k, tuple(v)) for k, v in self._live.items())))
