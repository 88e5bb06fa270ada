"""Venue connection status (spec 000 ``system_events``: ``exchange_connection_status``).

Invariants:
- One status per configured venue: ``connecting`` / ``connected`` / ``disconnected``
  from the feed lifecycle calls, ``halted`` when every instrument of the venue is
  halted, ``resumed`` when a halted venue gets at least one instrument back.
- An event is emitted only when a venue's status changes; ``snapshot`` gives the
  current status of every venue for a new subscriber.
- Halts are taken from the venue's ``InstrumentStatus`` events only.
"""

from __future__ import annotations

from collections.abc import Iterable

from openpit.alerts.events import ConnectionState, ExchangeConnectionStatus
from openpit.config.loader import VenueConfig
from openpit.core.events import Event, InstrumentStatus


class ConnectionTracker:
    def __init__(self, config: VenueConfig) -> None:
        self._instruments: dict[str, set[str]] = {v: set() for v in config.venues}
        self._venue_of: dict[str, str] = {}
        for inst in config.instruments.values():
            self._instruments.setdefault(inst.venue, set()).add(inst.id)
            self._venue_of[inst.id] = inst.venue
        self._halted: set[str] = set()
        self._status: dict[str, ConnectionState] = {}
        self._ts: dict[str, int] = {}

    def _set(self, venue: str, status: ConnectionState, ts: int) -> list[ExchangeConnectionStatus]:
        if venue not in self._instruments:
            raise KeyError(f"unknown venue {venue!r}")
        if self._status.get(venue) is status:
            return []
        self._status[venue] = status
        self._ts[venue] = ts
        return [ExchangeConnectionStatus(ts=ts, exchange=venue, status=status)]

    # -- lifecycle ---------------------------------------------------------------------
    def startup(self, ts: int) -> list[ExchangeConnectionStatus]:
        """Every venue is connected once the server runs (the engine is in-process)."""
        out = []
        for venue in self._instruments:
            out += self._set(venue, ConnectionState.CONNECTED, ts)
        return out

    def feed_starting(self, venue: str, ts: int) -> list[ExchangeConnectionStatus]:
        return self._set(venue, ConnectionState.CONNECTING, ts)

    def feed_started(self, venue: str, ts: int) -> list[ExchangeConnectionStatus]:
        return self._set(venue, ConnectionState.CONNECTED, ts)

    def feed_stopped(self, venue: str, ts: int) -> list[ExchangeConnectionStatus]:
        return self._set(venue, ConnectionState.DISCONNECTED, ts)

    # -- halts ---------------------------------------------------------------------------
    def on_events(self, events: Iterable[Event], ts: int) -> list[ExchangeConnectionStatus]:
        out: list[ExchangeConnectionStatus] = []
        for ev in events:
            if not isinstance(ev, InstrumentStatus):
                continue
            venue = self._venue_of.get(ev.instrument)
            if venue is None:
                continue
            if ev.halted:
                self._halted.add(ev.instrument)
            else:
                self._halted.discard(ev.instrument)
            all_halted = self._instruments[venue] <= self._halted
            current = self._status.get(venue)
            if all_halted and current is not ConnectionState.HALTED:
                out += self._set(venue, ConnectionState.HALTED, ts)
            elif not all_halted and current is ConnectionState.HALTED:
                out += self._set(venue, ConnectionState.RESUMED, ts)
        return out

    def snapshot(self) -> list[ExchangeConnectionStatus]:
        return [
            ExchangeConnectionStatus(ts=self._ts[v], exchange=v, status=s)
            for v, s in self._status.items()
        ]
