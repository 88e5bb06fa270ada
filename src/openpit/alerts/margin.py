"""Margin calls: core ``MarginCall`` events as spec 004 ``margin_call`` data plus a user
notification (spec 001 title "Margin Call Warning").

Invariants:
- One ``MarginCallAlert`` and one ``UserNotification`` per core ``MarginCall``, both
  addressed to the position's owner only.
- ``position_id`` is ``"pos_<instrument id>"``: margin positions are isolated, one per
  (user, instrument), and the margin_calls channel is private, so it is unique per user.
- ``time_to_liquidation_s`` is estimated from the instrument's price velocity over the
  last ``velocity_window_ms`` of trades: ``distance / velocity`` when the price has been
  moving toward the liquidation price, otherwise ``default_time_to_liquidation_s``;
  0 when the mark is already at or beyond it (severity ``liquidation``); None when the
  position has no liquidation price. Integer arithmetic, rounded down.
- The side of the position follows from the prices: liquidation below the mark is a
  long (hurt by a falling price), above the mark a short.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Mapping

from openpit.alerts.events import MarginCallAlert, NotificationLevel, UserNotification
from openpit.alerts.notify import NotificationService
from openpit.alerts.settings import AlertSettings
from openpit.core.events import MarginCall
from openpit.core.instrument import Instrument

_MESSAGES = {
    "warning": "Margin call: Please deposit additional funds or reduce position size",
    "critical": "Margin call (critical): deposit funds or reduce the position now "
    "to avoid liquidation",
    "liquidation": "Position below maintenance margin: it is being liquidated",
}


class PriceVelocity:
    """Recent (ts, price) per instrument over a sliding window of event time."""

    def __init__(self, window_ms: int) -> None:
        self.window_ms = window_ms
        self._points: dict[str, deque[tuple[int, int]]] = {}

    def add(self, instrument: str, ts: int, price: int) -> None:
        pts = self._points.get(instrument)
        if pts is None:
            pts = self._points[instrument] = deque()
        if pts and pts[-1][1] == price:
            return  # only changes matter for the velocity
        pts.append((ts, price))
        cutoff = ts - self.window_ms
        while len(pts) > 1 and pts[0][0] < cutoff:
            pts.popleft()

    def oldest(self, instrument: str, now: int) -> tuple[int, int] | None:
        """The oldest (ts, price) still within the window at ``now``."""
        pts = self._points.get(instrument)
        if not pts:
            return None
        cutoff = now - self.window_ms
        for t, p in pts:
            if t >= cutoff:
                return t, p
        return None


def time_to_liquidation_s(
    mark: int, liquidation: int | None, oldest: tuple[int, int] | None, now: int, default_s: int
) -> int | None:
    if liquidation is None:
        return None
    long = liquidation < mark
    distance = mark - liquidation if long else liquidation - mark
    if distance <= 0:
        return 0
    if oldest is None:
        return default_s
    t0, p0 = oldest
    toward = p0 - mark if long else mark - p0
    elapsed = now - t0
    if toward <= 0 or elapsed <= 0:
        return default_s
    return distance * elapsed // toward // 1000


class MarginCallService:
    def __init__(
        self,
        instruments: Mapping[str, Instrument],
        settings: AlertSettings,
        notifications: NotificationService,
    ) -> None:
        self.instruments = instruments
        self.settings = settings
        self.notifications = notifications
        self.velocity = PriceVelocity(settings.velocity_window_ms)

    def on_trade(self, instrument: str, ts: int, price: int) -> None:
        self.velocity.add(instrument, ts, price)

    def on_margin_call(self, ev: MarginCall, ts: int) -> tuple[MarginCallAlert, UserNotification]:
        inst = self.instruments[ev.instrument]
        ttl = time_to_liquidation_s(
            ev.mark_price,
            ev.liquidation_price,
            self.velocity.oldest(ev.instrument, ts),
            ts,
            self.settings.default_time_to_liquidation_s,
        )
        if ev.severity == "liquidation":
            ttl = None if ev.liquidation_price is None else 0
        alert = MarginCallAlert(
            ts=ts,
            user=ev.user,
            position_id=f"pos_{ev.instrument}",
            instrument=ev.instrument,
            severity=ev.severity,
            current_margin_ratio_ppm=ev.margin_ratio_ppm,
            required_margin_ratio_ppm=ev.required_ratio_ppm,
            required_deposit=ev.required_deposit,
            mark_price=ev.mark_price,
            liquidation_price=ev.liquidation_price,
            time_to_liquidation_s=ttl,
            message=_MESSAGES.get(ev.severity, _MESSAGES["warning"]),
        )
        n = self.notifications
        if ev.severity == "liquidation":
            note = n.user(
                ev.user,
                NotificationLevel.CRITICAL,
                "Position Liquidation",
                f"Your {inst.symbol} margin position fell below the maintenance margin "
                "and is being liquidated.",
                ts,
                link=n.link("/account/margin"),
                kind="liquidation",
                instrument=inst.id,
            )
        else:
            deposit = inst.quote.from_units(ev.required_deposit)
            note = n.user(
                ev.user,
                NotificationLevel.CRITICAL
                if ev.severity == "critical"
                else NotificationLevel.WARNING,
                "Margin Call Warning",
                "Your account is approaching margin call levels. Please deposit additional "
                f"funds or reduce positions ({inst.symbol}: deposit {deposit} "
                f"{inst.quote.symbol} to restore the required margin).",
                ts,
                link=n.link("/account/margin"),
                kind="margin_call",
                instrument=inst.id,
            )
        return alert, note
