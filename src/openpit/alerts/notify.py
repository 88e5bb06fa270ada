"""System and user notifications (spec 001 ``system_notifications`` / ``user_notifications``).

Invariants:
- Notification ids are consecutive integers from ``first_id`` (one sequence for system
  and user notifications); seed ``first_id`` (e.g. from the store or the boot time) so
  ids stay unique across restarts. Dialects render them (e.g. ``"n-<id>"``).
- A user notification is built only from that user's own events (``UserEvent.user``)
  and is addressed to that user only.
- Order rejections notify only for risk reasons (``RISK_REASONS``); plain client
  mistakes (bad price, unknown order) are answered on the order channel, not here.
- Links are ``<alerts.link_base><path>`` when ``link_base`` is configured, else None.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from openpit.alerts.events import (
    CustomAlertTriggered,
    NotificationLevel,
    SystemNotification,
    UserNotification,
    render_value,
)
from openpit.core.enums import Reason
from openpit.core.events import CommandRejected, Event
from openpit.core.instrument import Instrument

RISK_REASONS: Mapping[Reason, str] = {
    Reason.INSUFFICIENT_FUNDS: "Insufficient funds",
    Reason.LEVERAGE_NOT_ALLOWED: "Leverage not allowed",
    Reason.REDUCE_ONLY: "Reduce-only order would increase the position",
    Reason.TRADING_HALTED: "Trading halted",
    Reason.PRICE_BAND: "Price outside the protection band",
}

_CONDITION_TEXT = {
    "price_above": "price rose above",
    "price_below": "price fell below",
    "percent_change_above": "24h change rose above",
    "percent_change_below": "24h change fell below",
    "volume_above": "24h volume rose above",
}


class NotificationService:
    def __init__(self, *, link_base: str | None = None, first_id: int = 1) -> None:
        self.link_base = link_base
        self.next_id = first_id

    def link(self, path: str) -> str | None:
        return None if self.link_base is None else f"{self.link_base}{path}"

    def _id(self) -> int:
        n = self.next_id
        self.next_id = n + 1
        return n

    def system(
        self,
        level: NotificationLevel | str,
        title: str,
        message: str,
        link: str | None,
        ts: int,
    ) -> SystemNotification:
        """An operator notice to every subscriber of ``system_notifications``."""
        if not title or not message:
            raise ValueError("title and message must not be empty")
        return SystemNotification(
            ts=ts,
            id=self._id(),
            level=NotificationLevel(level),
            title=title,
            message=message,
            link=link,
        )

    def user(
        self,
        user: str,
        level: NotificationLevel,
        title: str,
        message: str,
        ts: int,
        *,
        link: str | None = None,
        kind: str = "",
        instrument: str | None = None,
    ) -> UserNotification:
        return UserNotification(
            ts=ts,
            id=self._id(),
            user=user,
            level=level,
            title=title,
            message=message,
            link=link,
            kind=kind,
            instrument=instrument,
        )

    def rejections(self, events: Iterable[Event], ts: int) -> list[UserNotification]:
        """A warning for each order the risk checks rejected."""
        out = []
        for ev in events:
            if isinstance(ev, CommandRejected) and ev.reason in RISK_REASONS:
                ref = ev.client_order_id or (None if ev.order_id is None else str(ev.order_id))
                what = f"Order {ref} rejected" if ref else "Order rejected"
                out.append(
                    self.user(
                        ev.user,
                        NotificationLevel.WARNING,
                        "Order Rejected",
                        f"{what}: {RISK_REASONS[ev.reason]}. {ev.message}".rstrip(". ") + ".",
                        ts,
                        link=self.link("/orders"),
                        kind="order_rejected",
                    )
                )
        return out

    def alert_triggered(self, ev: CustomAlertTriggered, inst: Instrument) -> UserNotification:
        cond = ev.condition
        unit = "%" if cond.startswith("percent") else ""
        threshold = render_value(cond, inst, ev.threshold)
        current = render_value(cond, inst, ev.current_value)
        return self.user(
            ev.user,
            NotificationLevel.INFO,
            f"Alert: {ev.name}",
            f"{inst.symbol} {_CONDITION_TEXT[cond.value]} {threshold}{unit} (now {current}{unit}).",
            ev.ts,
            link=self.link(f"/alerts/{ev.alert_id}"),
            kind="alert",
            instrument=inst.id,
        )
