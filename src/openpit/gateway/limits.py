"""Rate limits and connection limits.

Invariants:
- A token bucket never holds more than ``burst`` tokens and refills continuously;
  time comes in as an argument (seconds, monotonic), so buckets are pure.
- ``RateLimiter.allow`` takes from the shared ``*`` bucket (when configured) and then
  from the category's bucket (``other`` when the category has none); a refusal names
  the bucket that refused (``refusal``), its text built once per bucket.
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

    __slots__ = ("buckets", "limits", "refused_by")

    def __init__(self, limits: Mapping[str, RateLimit], now: float) -> None:
        self.limits = limits
        self.buckets = {name: TokenBucket(limit, now) for name, limit in limits.items()}
        self.refused_by = ""  # the bucket behind the last refusal

    def allow(self, category: str, now: float) -> bool:
        every = self.buckets.get("*")  # optional bucket shared by every message
        if every is not None and not every.take(now):
            self.refused_by = "*"
            return False
        name = category if category in self.buckets else "other"
        bucket = self.buckets.get(name)
        if bucket is None or bucket.take(now):
            return True
        self.refused_by = name
        return False

    def refusal(self) -> tuple[str, float]:
        """The last refusal: its message and the seconds until a retry can pass."""
        bucket = self.buckets.get(self.refused_by)
        retry = bucket.retry_after() if bucket is not None else 1.0
        return _refusal_text(self.refused_by, self.limits.get(self.refused_by)), retry

    def describe(self, category: str) -> str:
        name = category if category in self.limits else "other"
        return _describe(name, self.limits.get(name))


_TEXTS: dict[tuple[str, RateLimit | None], str] = {}


def _describe(name: str, limit: RateLimit | None) -> str:
    what = "all" if name == "*" else name
    if limit is None:
        return f"{what} messages"
    per_min = limit.per_second * 60
    return f"{what} messages: burst {limit.burst:g}, then {per_min:g} per minute"


def _refusal_text(name: str, limit: RateLimit | None) -> str:
    """``Rate limit exceeded for ...`` (memoised: a flood refuses the same bucket)."""
    text = _TEXTS.get((name, limit))
    if text is None:
        text = _TEXTS.setdefault((name, limit), f"Rate limit exceeded for {_describe(name, limit)}")
    return text


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
