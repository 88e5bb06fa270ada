"""Conflation for snapshot-style subscribers, by event time.

Invariants:
- ``mark(ts)`` records that the state changed; ``poll(ts)`` answers True at most once
  per ``interval_ms`` of event time, and only if something changed since the last
  True. The caller then sends the *latest* state (conflated), never a stale one.
- The first change after a quiet period is emitted at once (leading edge); changes
  inside the interval are emitted when the clock reaches ``last + interval``
  (trailing edge) — via a later event or an explicit ``advance``. Nothing is lost:
  after the final trailing edge the subscriber holds the final state.
- Delta-style subscribers never go through a throttle: they get every delta.
"""

from __future__ import annotations


class Conflator:
    __slots__ = ("dirty", "interval_ms", "last_emit")

    def __init__(self, interval_ms: int) -> None:
        if interval_ms < 0:
            raise ValueError("interval_ms must be >= 0")
        self.interval_ms = interval_ms
        self.last_emit: int | None = None
        self.dirty = False

    def mark(self) -> None:
        self.dirty = True

    def poll(self, now: int) -> bool:
        if not self.dirty:
            return False
        last = self.last_emit
        if last is not None and now < last + self.interval_ms:
            return False
        self.last_emit = now
        self.dirty = False
        return True

    def deadline(self) -> int | None:
        """When a pending (dirty) state becomes due, or None if nothing is pending."""
        if not self.dirty:
            return None
        return 0 if self.last_emit is None else self.last_emit + self.interval_ms
