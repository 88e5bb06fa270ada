"""Wiring of ``openpit.alerts.RiskServices`` into the running server.

Invariants:
- ``on_result`` is a venue-service listener: the service has applied the result to
  market data (once, before any listener) when the services read it.
- Every alert event goes out through ``Hub.publish_alert`` (private ones to their owner
  only); every command the services return (``SetHalt``, ``Clock``) is submitted to the
  venue like any other command, from a task (never re-entering a listener). Its
  result comes back through ``on_result``.
- A timer calls ``Hub.advance`` (candle closes, 24 h window) and ``on_tick`` every
  ``tick_s`` seconds, and earlier when the services have a deadline (breaker resume).
- The same object is the gateway's ``AlertManager`` (create / list / delete custom
  alerts for the envelope dialect's ``/ws/custom``).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Iterable, Sequence
from decimal import Decimal, InvalidOperation

from openpit.alerts import AlertError, AnyAlertEvent, LiveAlert, RiskServices, render_value
from openpit.core.commands import Command
from openpit.gateway.hub import Hub
from openpit.gateway.model import AlertInfo
from openpit.marketdata import MarketData
from openpit.venue import CommandResult
from openpit.venue.service import VenueService
from openpit.venue.views import Publication

log = logging.getLogger("openpit.risk")


class RiskWiring:
    def __init__(
        self,
        services: RiskServices,
        service: VenueService,
        marketdata: MarketData,
        hub: Hub,
        *,
        tick_s: float = 1.0,
    ) -> None:
        self.services = services
        self.service = service
        self.marketdata = marketdata
        self.hub = hub
        self.tick_s = tick_s
        self._task: asyncio.Task[None] | None = None
        self._submits: set[asyncio.Task[CommandResult]] = set()
        service.add_listener(self.on_result)
        hub.alert_manager = self

    # -- events in, events and commands out ---------------------------------------------
    def publish(self, events: Iterable[AnyAlertEvent]) -> None:
        for event in events:
            self.hub.publish_alert(event)

    def submit(self, commands: Sequence[Command]) -> None:
        loop = asyncio.get_running_loop()
        for command in commands:
            task = loop.create_task(self.service.submit(command))
            self._submits.add(task)
            task.add_done_callback(self._submits.discard)

    def on_result(self, result: Publication) -> None:
        if not result.events:
            return
        try:
            events, commands = self.services.on_result(result.events, self.marketdata, result.ts)
        except Exception:  # pragma: no cover - never let alerts break the venue's listeners
            log.exception("risk services failed on result %d", result.seq)
            return
        if events:
            self.publish(events)
        if commands:
            self.submit(commands)

    def tick(self) -> None:
        ts = self.service.clock()
        updates = self.service.advance(ts)
        changed = () if updates is None else updates.instruments.keys()
        events, commands = self.services.on_tick(self.marketdata, ts, changed)
        self.publish(events)
        self.submit(commands)

    # -- lifecycle ----------------------------------------------------------------------
    def start(self) -> None:
        """Announce the venues, arm loaded alerts, start the timer."""
        self.publish(self.services.start(self.marketdata, self.service.clock()))
        self._task = asyncio.get_running_loop().create_task(self._run())

    async def _run(self) -> None:
        while True:
            delay = self.tick_s
            deadline = self.services.next_deadline()
            if deadline is not None:
                delay = min(delay, max(0.0, (deadline - self.service.clock()) / 1000))
            await asyncio.sleep(delay)
            try:
                self.tick()
            except Exception:  # pragma: no cover - keep the timer alive
                log.exception("risk services tick failed")

    @property
    def running(self) -> bool:
        """The timer task runs (started and not ended)."""
        return self._task is not None and not self._task.done()

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        if self._submits:
            await asyncio.gather(*self._submits, return_exceptions=True)
        self.service.remove_listener(self.on_result)

    # -- AlertManager (gateway) ----------------------------------------------------------
    def _info(self, a: LiveAlert) -> AlertInfo:
        inst = self.services.config.instruments[a.instrument]
        return AlertInfo(
            alert_id=a.id,
            name=a.name,
            condition=a.condition.value,
            instrument=inst.id,
            symbol=inst.symbol,
            threshold=render_value(a.condition, inst, a.threshold),
            repeat=a.repeat,
            cooldown_ms=a.cooldown_ms,
            created=a.created,
            state=a.state.value,
            last_triggered=a.last_triggered,
        )

    def create(
        self,
        user: str,
        name: str,
        condition: str,
        symbol: str,
        threshold: object,
        *,
        repeat: bool = False,
        cooldown_ms: int = 0,
    ) -> tuple[AlertInfo, list[AnyAlertEvent]]:
        try:
            value = threshold if isinstance(threshold, Decimal) else Decimal(str(threshold))
        except InvalidOperation:
            raise AlertError(
                "invalid_parameter", f"threshold {threshold!r} is not a number"
            ) from None
        if cooldown_ms < 0:
            raise AlertError("invalid_parameter", "cooldown_ms must not be negative")
        alert, fired = self.services.create_alert(
            self.marketdata,
            user,
            name or f"{symbol} {condition} {threshold}",
            condition,
            symbol,
            value,
            self.service.clock(),
            repeat=repeat,
            cooldown_ms=cooldown_ms,
        )
        return self._info(alert), fired

    def list(self, user: str) -> list[AlertInfo]:
        return [self._info(a) for a in self.services.alerts.list_alerts(user)]

    def delete(self, user: str, alert_id: int) -> AlertInfo | None:
        alert = self.services.alerts.get(user, alert_id)
        if alert is None or not self.services.alerts.delete(user, alert_id):
            return None
        return self._info(alert)


def wire_risk(
    services: RiskServices,
    service: VenueService,
    marketdata: MarketData,
    hub: Hub,
    *,
    tick_s: float = 1.0,
) -> RiskWiring:
    """Create the wiring (listener + alert manager); call ``start()`` on the loop."""
    return RiskWiring(services, service, marketdata, hub, tick_s=tick_s)
