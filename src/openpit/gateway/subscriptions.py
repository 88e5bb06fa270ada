"""The subscription registry: (channel, instrument, variant) → dialect → subscribers.

Invariants:
- A ``Key`` is a ``NamedTuple`` (channel, instrument, variant): typed fields, and the
  hash and equality of a plain 3-tuple (C speed on the per-message fan-out path).
- ``variant`` is the depth for book channels, the interval for candles, the owning
  user for private channels (so a private key can only ever reach that user's
  connections) and None otherwise.
- Subscribers are grouped by dialect so that each event is rendered once per dialect
  and variant, whatever the number of subscribers.
- ``add``/``remove`` keep ``Connection.subscriptions`` and the per-(channel,
  instrument) counters in step; an emptied key disappears (no unbounded growth).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from typing import NamedTuple

from openpit.gateway.connection import Connection
from openpit.gateway.model import Channel


class Key(NamedTuple):
    """One subscription stream: who gets the same rendered bytes."""

    channel: str  # a ``Channel`` value
    instrument: str  # instrument id, or ``ALL_INSTRUMENTS`` / ``MARGIN_ONLY``
    variant: int | str | None  # depth, candle interval or owning user; None otherwise


class Registry:
    def __init__(
        self,
        on_open: Callable[[Key], None] | None = None,
        on_close: Callable[[Key], None] | None = None,
    ) -> None:
        """``on_open``/``on_close``: called when a key gets its first subscriber / loses
        its last one (e.g. to register a market-data depth view)."""
        self.subs: dict[Key, dict[str, dict[Connection, None]]] = {}
        self._per_instrument: Counter[tuple[str, str]] = Counter()
        self._on_open = on_open
        self._on_close = on_close

    def add(self, key: Key, conn: Connection) -> bool:
        groups = self.subs.get(key)
        if groups is None:
            if self._on_open is not None:
                self._on_open(key)
            groups = self.subs[key] = {}
            self._per_instrument[(key.channel, key.instrument)] += 1
        conns = groups.setdefault(conn.dialect.name, {})
        if conn in conns:
            return False
        conns[conn] = None
        conn.subscriptions.add(key)
        return True

    def remove(self, key: Key, conn: Connection) -> bool:
        groups = self.subs.get(key)
        if groups is None:
            return False
        conns = groups.get(conn.dialect.name)
        if conns is None or conn not in conns:
            return False
        del conns[conn]
        conn.subscriptions.discard(key)
        if not conns:
            del groups[conn.dialect.name]
        if not groups:
            del self.subs[key]
            self._per_instrument[(key.channel, key.instrument)] -= 1
            if self._per_instrument[(key.channel, key.instrument)] <= 0:
                del self._per_instrument[(key.channel, key.instrument)]
            if self._on_close is not None:
                self._on_close(key)
        return True

    def remove_all(self, conn: Connection) -> None:
        for key in list(conn.subscriptions):
            self.remove(key, conn)

    def get(self, key: Key) -> dict[str, dict[Connection, None]] | None:
        return self.subs.get(key)

    def watched(self, channel: Channel, instrument: str) -> bool:
        """Is anyone subscribed to ``channel`` for ``instrument`` (any variant)?"""
        return (channel.value, instrument) in self._per_instrument

    def variants(self, channel: Channel, instrument: str) -> list[int | str | None]:
        c = channel.value
        return [k.variant for k in self.subs if k.channel == c and k.instrument == instrument]

    def subscriber_count(self) -> int:
        return sum(len(c) for groups in self.subs.values() for c in groups.values())
