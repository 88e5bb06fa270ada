"""Platform risk: circuit breaker halts, volatility spikes, large liquidations
(spec 004 ``risk_alerts``).

Invariants:
- Prices are last-trade prices in ticks, fed in sequence order (``on_trade``); windows
  are sliding windows of event time, never a clock.
- Move test (exact integers): with ``hi``/``lo`` the highest/lowest trade price of the
  window including the new price ``p``, the move exceeds ``band`` iff
  ``(hi - p) * 1e6 > band * hi`` (fall from the high) or ``(p - lo) * 1e6 > band * lo``
  (rise from the low).
- Circuit breaker: the first trade whose move exceeds ``circuit_breaker.band`` within
  ``window_ms`` yields one ``SetHalt(halted=True, until=ts + halt_ms)`` for the server
  to submit; no second halt is requested until the instrument has resumed. The venue
  lifts the halt itself at ``until`` on the next command; ``due(ts)`` returns a
  ``Clock`` command once a breaker halt is due so the resume happens on schedule.
  Windows restart empty after a halt and after a resume.
- Risk alerts are published from the venue's ``InstrumentStatus`` events (the halt as
  it actually happened): halts with a ``circuit breaker`` reason are type
  ``circuit_breaker``, others ``trading_halt``; every resume is reported too.
- Volatility spike: a move above ``volatility_band`` within ``volatility_window_ms``
  raises one ``volatility_spike`` alert; the next one needs the window's move back
  within the band first (crossing semantics, like custom alerts).
- Large liquidation: fills of liquidation orders (reduce-only market margin orders of a
  position that received a ``liquidation`` margin call), summed per order and command,
  at or above ``alerts.large_liquidation[<quote asset>]`` raise one alert per order.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable, Mapping

from openpit.alerts.events import NotificationLevel, RiskAlert, RiskAlertType
from openpit.alerts.settings import AlertSettings, CircuitBreakerSettings
from openpit.core.commands import Clock, Command, SetHalt
from openpit.core.enums import OrderType
from openpit.core.events import Event, Fill, InstrumentStatus, MarginCall, OrderUpdate, Position
from openpit.core.instrument import Instrument

PPM = 1_000_000
BREAKER_REASON = "circuit breaker"


class PriceWindow:
    """Trade prices over the last ``span_ms``; O(1) amortised high and low."""

    __slots__ = ("_hi", "_lo", "_n", "_pts", "span_ms")

    def __init__(self, span_ms: int) -> None:
        self.span_ms = span_ms
        self._pts: deque[tuple[int, int]] = deque()  # (index, ts)
        self._hi: deque[tuple[int, int]] = deque()  # (index, price), decreasing
        self._lo: deque[tuple[int, int]] = deque()  # (index, price), increasing
        self._n = 0

    def add(self, ts: int, price: int) -> None:
        i = self._n
        self._n += 1
        cutoff = ts - self.span_ms
        pts, hi, lo = self._pts, self._hi, self._lo
        while pts and pts[0][1] <= cutoff:
            j, _ = pts.popleft()
            if hi and hi[0][0] == j:
                hi.popleft()
            if lo and lo[0][0] == j:
                lo.popleft()
        pts.append((i, ts))
        while hi and hi[-1][1] <= price:
            hi.pop()
        hi.append((i, price))
        while lo and lo[-1][1] >= price:
            lo.pop()
        lo.append((i, price))

    @property
    def high(self) -> int:
        return self._hi[0][1]

    @property
    def low(self) -> int:
        return self._lo[0][1]

    def clear(self) -> None:
        self._pts.clear()
        self._hi.clear()
        self._lo.clear()


def exceeds(price: int, high: int, low: int, band_ppm: int) -> tuple[bool, int]:
    """(move above band?, reference price it moved from)."""
    if (high - price) * PPM > band_ppm * high:
        return True, high
    if (price - low) * PPM > band_ppm * low:
        return True, low
    return False, high if high - price >= price - low else low


def move_ppm(price: int, ref: int) -> int:
    return (price - ref) * PPM // ref if price >= ref else -((ref - price) * PPM // ref)


class RiskMonitor:
    """Circuit breaker, volatility spikes and large liquidations for one venue config."""

    def __init__(
        self,
        instruments: Mapping[str, Instrument],
        breaker: CircuitBreakerSettings,
        alerts: AlertSettings,
        *,
        first_id: int = 1,
    ) -> None:
        self.instruments = instruments
        self.breaker = breaker
        self.large = alerts.large_liquidation
        self.next_id = first_id
        self._windows: dict[str, PriceWindow] = {}
        self._vol: dict[str, PriceWindow] = {}
        self._vol_armed: dict[str, bool] = {}
        self._halted: set[str] = set()  # halted on the venue (any reason)
        self._requested: dict[str, int] = {}  # breaker halts asked for / in force: until
        self._clock_sent: set[str] = set()
        self._trip: dict[str, dict[str, int | str | None]] = {}  # details of a breaker trip
        self._liquidating: set[tuple[str, str]] = set()  # (user, instrument)
        self._liq_orders: set[int] = set()

    def _id(self) -> int:
        n = self.next_id
        self.next_id = n + 1
        return n

    def _watched(self, instrument: str) -> bool:
        only = self.breaker.instruments
        return self.breaker.enabled and (only is None or instrument in only)

    # -- trades ----------------------------------------------------------------------------
    def on_trade(
        self, instrument: str, ts: int, price: int
    ) -> tuple[SetHalt | None, RiskAlert | None]:
        """One trade, in sequence order: a halt to submit and/or a volatility alert."""
        if not self._watched(instrument) or instrument in self._requested:
            return None, None
        if instrument in self._halted:
            return None, None
        s = self.breaker
        w = self._windows.get(instrument)
        if w is None:
            w = self._windows[instrument] = PriceWindow(s.window_ms)
            self._vol[instrument] = PriceWindow(s.volatility_window_ms)
            self._vol_armed[instrument] = True
        w.add(ts, price)
        tripped, ref = exceeds(price, w.high, w.low, s.band_ppm)
        if tripped:
            until = ts + s.halt_ms
            self._requested[instrument] = until
            self._trip[instrument] = {
                "reference_price": ref,
                "last_price": price,
                "move_ppm": move_ppm(price, ref),
                "band_ppm": s.band_ppm,
                "window_ms": s.window_ms,
            }
            symbol = self.instruments[instrument].symbol
            return (
                SetHalt(
                    instrument=instrument,
                    halted=True,
                    reason=f"{BREAKER_REASON}: {symbol} moved more than "
                    f"{_pct(s.band_ppm)} in {s.window_ms // 1000}s",
                    until=until,
                ),
                None,
            )
        v = self._vol[instrument]
        v.add(ts, price)
        spiking, vref = exceeds(price, v.high, v.low, s.volatility_band_ppm)
        if not spiking:
            self._vol_armed[instrument] = True
            return None, None
        if not self._vol_armed[instrument]:
            return None, None
        self._vol_armed[instrument] = False
        inst = self.instruments[instrument]
        mv = move_ppm(price, vref)
        return None, RiskAlert(
            ts=ts,
            id=self._id(),
            severity=NotificationLevel.WARNING,
            type=RiskAlertType.VOLATILITY_SPIKE,
            instrument=instrument,
            message=f"{inst.symbol} moved {_pct(mv)} within "
            f"{s.volatility_window_ms // 1000}s (from {inst.ticks_to_price(vref)} "
            f"to {inst.ticks_to_price(price)})",
            details={
                "reference_price": vref,
                "last_price": price,
                "move_ppm": mv,
                "band_ppm": s.volatility_band_ppm,
                "window_ms": s.volatility_window_ms,
            },
        )

    # -- halts -------------------------------------------------------------------------------
    def on_status(self, ev: InstrumentStatus, ts: int) -> RiskAlert | None:
        iid = ev.instrument
        inst = self.instruments.get(iid)
        if inst is None:
            return None
        for w in (self._windows.get(iid), self._vol.get(iid)):
            if w is not None:
                w.clear()
        if ev.halted:
            self._halted.add(iid)
            ours = ev.reason.startswith(BREAKER_REASON)
            if ours:
                self._requested[iid] = ev.until if ev.until is not None else ts
            details: dict[str, int | str | None] = dict(self._trip.get(iid, {})) if ours else {}
            details["until"] = ev.until
            details["reason"] = ev.reason
            until = f" until {ev.until}" if ev.until is not None else ""
            return RiskAlert(
                ts=ts,
                id=self._id(),
                severity=NotificationLevel.CRITICAL if ours else NotificationLevel.WARNING,
                type=RiskAlertType.CIRCUIT_BREAKER if ours else RiskAlertType.TRADING_HALT,
                instrument=iid,
                message=f"Trading in {inst.symbol} halted{until}: {ev.reason}",
                details=details,
            )
        self._halted.discard(iid)
        ours = self._requested.pop(iid, None) is not None
        self._clock_sent.discard(iid)
        self._trip.pop(iid, None)
        self._vol_armed[iid] = True
        return RiskAlert(
            ts=ts,
            id=self._id(),
            severity=NotificationLevel.INFO,
            type=RiskAlertType.CIRCUIT_BREAKER if ours else RiskAlertType.TRADING_HALT,
            instrument=iid,
            message=f"Trading in {inst.symbol} resumed",
            details={"reason": ev.reason},
        )

    def due(self, ts: int) -> list[Command]:
        """A ``Clock`` command when a breaker halt's time is up (once per halt)."""
        for iid, until in self._requested.items():
            if until <= ts and iid in self._halted and iid not in self._clock_sent:
                self._clock_sent.update(
                    i for i, u in self._requested.items() if u <= ts and i in self._halted
                )
                return [Clock()]
        return []

    def next_deadline(self) -> int | None:
        """The earliest breaker resume time still pending (for the server's timer)."""
        pending = [u for i, u in self._requested.items() if i not in self._clock_sent]
        return min(pending) if pending else None

    # -- liquidations ------------------------------------------------------------------------
    def on_events(self, events: Iterable[Event], ts: int) -> list[RiskAlert]:
        """Large-liquidation alerts for one command's events."""
        sums: dict[int, tuple[str, int, int]] = {}  # order -> (instrument, lots, notional)
        done: list[int] = []
        for ev in events:
            if isinstance(ev, MarginCall):
                if ev.severity == "liquidation":
                    self._liquidating.add((ev.user, ev.instrument))
            elif isinstance(ev, OrderUpdate):
                if (
                    ev.margin
                    and ev.reduce_only
                    and ev.type is OrderType.MARKET
                    and (ev.user, ev.instrument) in self._liquidating
                ):
                    self._liq_orders.add(ev.order_id)
                    if ev.status.is_final:
                        done.append(ev.order_id)
            elif isinstance(ev, Fill):
                if ev.order_id in self._liq_orders:
                    inst = self.instruments[ev.instrument]
                    _, lots, notional = sums.get(ev.order_id, (ev.instrument, 0, 0))
                    sums[ev.order_id] = (
                        ev.instrument,
                        lots + ev.qty,
                        notional + inst.notional(ev.price, ev.qty),
                    )
            elif isinstance(ev, Position) and ev.qty == 0:
                self._liquidating.discard((ev.user, ev.instrument))
        self._liq_orders.difference_update(done)
        out = []
        for order_id, (iid, lots, notional) in sums.items():
            inst = self.instruments[iid]
            limit = self.large.get(inst.quote.symbol)
            if limit is None or notional < limit:
                continue
            out.append(
                RiskAlert(
                    ts=ts,
                    id=self._id(),
                    severity=NotificationLevel.WARNING,
                    type=RiskAlertType.LARGE_LIQUIDATION,
                    instrument=iid,
                    message=f"Large liquidation on {inst.symbol}: "
                    f"{inst.lots_to_qty(lots)} {inst.base.symbol} "
                    f"({inst.quote.from_units(notional)} {inst.quote.symbol})",
                    details={
                        "order_id": order_id,
                        "qty": lots,
                        "notional": notional,
                        "threshold": limit,
                    },
                )
            )
        return out


def _pct(ppm: int) -> str:
    whole, frac = divmod(abs(ppm), 10_000)
    sign = "-" if ppm < 0 else ""
    return f"{sign}{whole}.{frac:04d}".rstrip("0").rstrip(".") + "%"
