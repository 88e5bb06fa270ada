"""Rate limits and connection limits.

Invariants:
- A token bucket never holds more than ``burst`` tokens and refills continuously;
  time comes in as an argument (seconds, monotonic), so buckets are pure.
- ``KeyConnections`` counts live authenticated connections per API key; a slot is
  taken on authentication and released exactly once when the connection ends.
"""

from __future__ import annotations

from collections.abc import Mapping

from openpit.gateway.settings import RateLimit


class TokenBucket:
    __slots__ = ("burst", "rate", "stamp", "tokens")

    def __init__(self, limit: RateLimit, now: float) -> None:
        self.burst = limit.burst
        self.rate = limit.per_second
        self.tokens = limit.burst
        self.stamp = now

    def take(self, now: float, cost: float = 1.0) -> bool:
        elapsed = now - self.stamp
        if elapsed > 0:
            self.tokens = min(self.burst, self.tokens + elapsed * self.rate)
            self.stamp = now
        if self.tokens >= cost:
            self.tokens -= cost
            return True
        return False

    def retry_after(self) -> float:
        """Seconds until one token is available."""
        if self.tokens >= 1 or self.rate <= 0:
            return 0.0
        return (1 - self.tokens) / self.rate


class RateLimiter:
    """One token bucket per message category for one connection."""

    def __init__(self, limits: Mapping[str, RateLimit], now: float) -> None:
        self.limits = limits
        self.buckets = {name: TokenBucket(limit, now) for name, limit in limits.items()}

    def allow(self, category: str, now: float) -> bool:
        every = self.buckets.get("*")  # optional bucket shared by every message
        if every is not None and not every.take(now):
            return False
        bucket = self.buckets.get(category) or self.buckets.get("other")
        return True if bucket is None else bucket.take(now)

    def describe(self, category: str) -> str:
        limit = self.limits.get(category) or self.limits.get("other")
        if limit is None:
            return category
        per_min = limit.per_second * 60
        return f"{category} messages: burst {limit.burst:g}, then {per_min:g} per minute"


class KeyConnections:
    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.counts: dict[str, int] = {}

    def acquire(self, key_id: str) -> bool:
        n = self.counts.get(key_id, 0)
        if n >= self.limit:
            return False
        self.counts[key_id] = n + 1
        return True

    def release(self, key_id: str) -> None:
        n = self.counts.get(key_id, 0) - 1
        if n <= 0:
            self.counts.pop(key_id, None)
        else:
            self.counts[key_id] = n
