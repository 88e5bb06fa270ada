"""``RiskServices``: the one object the server wires to the venue's results.

Invariants:
- Call ``on_result`` with every command result's events, in sequence order, *after*
  ``MarketData.apply`` has folded them (the services read tickers and books from it).
  Call ``on_tick`` when the market-data clock advances without events (with the
  instruments of ``MarketData.advance``'s updates) so 24 h change/volume alerts,
  arbitrage refreshes and circuit-breaker resumes happen on time.
- Both return ``(alert events, commands)``: the events to publish (private ones carry
  ``user`` and go to that user only), and the commands (``SetHalt`` / ``Clock``) for the
  server to submit to the venue like any other command. Their results come back
  through ``on_result``.
- Pure and synchronous; time is ``ts``; the only I/O is the injected ``Store`` (custom
  alert records).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from decimal import Decimal

from openpit.alerts.arbitrage import ArbitrageService, BookLevels
from openpit.alerts.custom import AlertService, LiveAlert
from openpit.alerts.events import (
    AnyAlertEvent,
    ArbitrageOpportunity,
    ExchangeConnectionStatus,
    NotificationLevel,
    SystemNotification,
)
from openpit.alerts.margin import MarginCallService
from openpit.alerts.notify import NotificationService
from openpit.alerts.risk import RiskMonitor
from openpit.alerts.settings import Settings, parse_settings
from openpit.alerts.system import ConnectionTracker
from openpit.config.loader import VenueConfig
from openpit.core.commands import Command
from openpit.core.events import (
    BookLevel,
    CommandRejected,
    Event,
    InstrumentStatus,
    MarginCall,
    Trade,
)
from openpit.marketdata import MarketData
from openpit.store import Store

Output = tuple[list[AnyAlertEvent], list[Command]]


class RiskServices:
    def __init__(
        self,
        config: VenueConfig,
        store: Store | None = None,
        *,
        first_id: int = 1,
        settings: Settings | None = None,
    ) -> None:
        """``first_id`` seeds notification / risk alert / arbitrage ids (e.g. boot ms)."""
        self.config = config
        self.settings = s = settings or parse_settings(config)
        insts = config.instruments
        self.notifications = NotificationService(link_base=s.alerts.link_base, first_id=first_id)
        if store is not None:
            self.alerts = AlertService.load(store, insts, max_per_user=s.alerts.max_per_user)
        else:
            self.alerts = AlertService(insts, max_per_user=s.alerts.max_per_user)
        self.margin = MarginCallService(insts, s.alerts, self.notifications)
        self.risk = RiskMonitor(insts, s.circuit_breaker, s.alerts, first_id=first_id)
        self.connections = ConnectionTracker(config)
        self.arbitrage = ArbitrageService(insts, s.arbitrage, first_id=first_id)

    # -- startup -----------------------------------------------------------------------
    def start(self, marketdata: MarketData, ts: int) -> list[AnyAlertEvent]:
        """After recovery: venues connected, loaded alerts armed against current values,
        arbitrage checked on the current books."""
        out: list[AnyAlertEvent] = list(self.connections.startup(ts))
        for iid in self.config.instruments:
            if self.alerts.watched(iid):
                self._evaluate(iid, marketdata, ts, out)
        for symbol in self.arbitrage.listings:
            out.extend(self._arbitrage(symbol, marketdata, ts))
        return out

    # -- the two entry points ------------------------------------------------------------
    def on_result(self, events: Sequence[Event], marketdata: MarketData, ts: int) -> Output:
        out: list[AnyAlertEvent] = []
        commands: list[Command] = []
        traded: dict[str, None] = {}
        books: set[str] = set()
        for ev in events:
            if isinstance(ev, Trade):
                traded[ev.instrument] = None
                self.margin.on_trade(ev.instrument, ev.ts or ts, ev.price)
                halt, alert = self.risk.on_trade(ev.instrument, ev.ts or ts, ev.price)
                if halt is not None:
                    commands.append(halt)
                if alert is not None:
                    out.append(alert)
            elif isinstance(ev, BookLevel):
                books.add(ev.instrument)
            elif isinstance(ev, InstrumentStatus):
                ra = self.risk.on_status(ev, ts)
                if ra is not None:
                    out.append(ra)
            elif isinstance(ev, MarginCall):
                out.extend(self.margin.on_margin_call(ev, ts))
            elif isinstance(ev, CommandRejected):
                out.extend(self.notifications.rejections((ev,), ts))
        out.extend(self.connections.on_events(events, ts))
        out.extend(self.risk.on_events(events, ts))
        for iid in traded:
            if self.alerts.watched(iid):
                self._evaluate(iid, marketdata, ts, out)
        for symbol in sorted(self.arbitrage.symbols_for(books)):
            out.extend(self._arbitrage(symbol, marketdata, ts))
        commands.extend(self.risk.due(ts))
        return out, commands

    def on_tick(self, marketdata: MarketData, ts: int, instruments: Iterable[str] = ()) -> Output:
        """Time passed: ``instruments`` whose ticker changed (24 h window eviction)."""
        out: list[AnyAlertEvent] = []
        for iid in instruments:
            if self.alerts.watched(iid):
                self._evaluate(iid, marketdata, ts, out)
        for symbol in sorted(self.arbitrage.due(ts)):
            out.extend(self._arbitrage(symbol, marketdata, ts))
        return out, self.risk.due(ts)

    def next_deadline(self) -> int | None:
        """Earliest ts at which ``on_tick`` has scheduled work (breaker resume)."""
        return self.risk.next_deadline()

    # -- operator and user operations -----------------------------------------------------
    def system_notification(
        self, level: NotificationLevel | str, title: str, message: str, link: str | None, ts: int
    ) -> SystemNotification:
        return self.notifications.system(level, title, message, link, ts)

    def create_alert(
        self,
        marketdata: MarketData,
        user: str,
        name: str,
        condition: str,
        instrument: str,
        threshold: Decimal | str,
        ts: int,
        *,
        repeat: bool = False,
        cooldown_ms: int = 0,
    ) -> tuple[LiveAlert, list[AnyAlertEvent]]:
        """Create a custom alert (``AlertError`` on bad input). The alert is placed
        against the instrument's current values; the events are other alerts that the
        refresh of those values fired (normally none)."""
        out: list[AnyAlertEvent] = []
        inst = self.config.resolve(instrument)
        if inst is not None:
            self._evaluate(inst.id, marketdata, ts, out)
        alert = self.alerts.create(
            user,
            name,
            condition,
            inst.id if inst is not None else instrument,
            threshold,
            ts,
            repeat=repeat,
            cooldown_ms=cooldown_ms,
        )
        return alert, out

    def connection_snapshot(self) -> list[ExchangeConnectionStatus]:
        return self.connections.snapshot()

    def arbitrage_snapshot(self) -> list[ArbitrageOpportunity]:
        return self.arbitrage.live()

    # -- internals ------------------------------------------------------------------------
    def _evaluate(
        self, iid: str, marketdata: MarketData, ts: int, out: list[AnyAlertEvent]
    ) -> None:
        t = marketdata.ticker(iid)
        fired = self.alerts.evaluate(
            iid, ts, price=t.last_price, change_ppm=t.change_ppm, volume=t.volume
        )
        inst = self.config.instruments[iid]
        for ev in fired:
            out.append(ev)
            out.append(self.notifications.alert_triggered(ev, inst))

    def _arbitrage(self, symbol: str, marketdata: MarketData, ts: int) -> list[AnyAlertEvent]:
        depth = self.settings.arbitrage.depth
        books: dict[str, BookLevels] = {}
        for inst in self.arbitrage.listings[symbol]:
            snap = marketdata.book_snapshot(inst.id, depth)
            books[inst.id] = (snap.bids, snap.asks)
        return list(self.arbitrage.evaluate(symbol, books, ts))
