"""Binance-style request weight per IP per minute and order counts per account.

Invariants:
- Weight is counted per remote IP in fixed UTC-minute windows, as Binance reports it in
  ``X-MBX-USED-WEIGHT-1M``: a request whose weight would take the minute past the limit
  is refused (``-1003``, HTTP 429, ``Retry-After`` = seconds to the next minute, at
  least 1) and its weight is not added.
- New orders are counted per user in fixed 10-second and UTC-day windows
  (``X-MBX-ORDER-COUNT-10S`` / ``-1D``, ``GET rateLimit/order``); past either limit a new
  order is ``-1015`` (HTTP 429). Every order placed counts (openpit does not credit
  filled orders back as Binance's unfilled-order count does).
- Memory is bounded by the clients active in the current window: a window that has
  passed is dropped whole when the next one starts.
Pure: time comes in as an argument (ms).
"""

from __future__ import annotations

from openpit.binance.errors import too_many_orders, too_many_requests

MINUTE_MS = 60_000
TEN_S_MS = 10_000
DAY_MS = 86_400_000


class Window:
    """Counts per client in one fixed window of ``span_ms``; older windows are forgotten."""

    def __init__(self, span_ms: int) -> None:
        self.span_ms = span_ms
        self.start = -1
        self.counts: dict[str, int] = {}

    def _roll(self, now: int) -> None:
        start = now - now % self.span_ms
        if start != self.start:
            self.start = start
            self.counts = {}

    def used(self, client: str, now: int) -> int:
        self._roll(now)
        return self.counts.get(client, 0)

    def add(self, client: str, amount: int, now: int) -> int:
        self._roll(now)
        total = self.counts.get(client, 0) + amount
        self.counts[client] = total
        return total

    def retry_after_s(self, now: int) -> int:
        return max(1, -(-(self.start + self.span_ms - now) // 1000))


class WeightLimiter:
    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.window = Window(MINUTE_MS)

    def charge(self, ip: str, weight: int, now: int) -> int:
        """Add ``weight`` for ``ip``; the minute's total, or the ``-1003`` refusal."""
        used = self.window.used(ip, now)
        if used + weight > self.limit:
            raise too_many_requests(self.limit, self.window.retry_after_s(now))
        return self.window.add(ip, weight, now)

    def used(self, ip: str, now: int) -> int:
        return self.window.used(ip, now)


class OrderCounter:
    def __init__(self, per_10s: int, per_day: int) -> None:
        self.short = Window(TEN_S_MS)
        self.day = Window(DAY_MS)
        self.per_10s = per_10s
        self.per_day = per_day

    def check(self, user: str, now: int) -> None:
        if self.short.used(user, now) >= self.per_10s:
            raise too_many_orders(self.per_10s, "10 SECOND", self.short.retry_after_s(now))
        if self.day.used(user, now) >= self.per_day:
            raise too_many_orders(self.per_day, "1 DAY", self.day.retry_after_s(now))

    def add(self, user: str, now: int) -> tuple[int, int]:
        return self.short.add(user, 1, now), self.day.add(user, 1, now)

    def counts(self, user: str, now: int) -> tuple[int, int]:
        return self.short.used(user, now), self.day.used(user, now)
