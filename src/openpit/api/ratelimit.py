"""Per-client rate limits of the REST API: one token bucket per API key or remote IP.

Invariants:
- A request that authenticated with an API key is charged to that key's bucket
  (``signed`` limit, admin keys included); every other request (public routes, and
  failed authentication on private routes) to the bucket of its remote IP
  (``public`` limit, ``request.remote``; ``X-Forwarded-For`` is never trusted).
- A refused request executes nothing: ``routing.wrap`` checks before any input is
  decoded or any handler runs. The refusal is ``429 rate_limited`` with the usual
  error body and ``Retry-After`` in whole seconds, at least 1.
- Memory is bounded: buckets are kept in least-recently-used order. A bucket unused
  for ``max(idle_seconds, burst / per_second)`` has refilled to full, so dropping it
  changes nothing (a new one starts full); past ``max_buckets`` the least recently
  used bucket is dropped even if not full (only under a flood of distinct clients).
- Time comes only from the injected ``clock`` (seconds, monotonic by default); the
  buckets themselves are ``gateway.limits.TokenBucket``.
"""

from __future__ import annotations

import math
import time
from collections import OrderedDict
from collections.abc import Callable

from openpit.api.errors import RATE_LIMITED, ApiError
from openpit.gateway.limits import TokenBucket
from openpit.gateway.settings import RateLimit

IDLE_SECONDS = 60.0
MAX_BUCKETS = 100_000


class ClientBuckets:
    """Token buckets for one class of clients, all with the same limit, keyed by client."""

    def __init__(
        self, limit: RateLimit, idle_seconds: float = IDLE_SECONDS, max_buckets: int = MAX_BUCKETS
    ) -> None:
        if limit.burst < 1 or limit.per_second <= 0:
            raise ValueError(f"a rate limit needs burst >= 1 and per_second > 0, got {limit}")
        if max_buckets < 1:
            raise ValueError("max_buckets must be at least 1")
        self.limit = limit
        self.idle_after = max(idle_seconds, limit.burst / limit.per_second)
        self.max_buckets = max_buckets
        self.buckets: OrderedDict[str, TokenBucket] = OrderedDict()

    def __len__(self) -> int:
        return len(self.buckets)

    def take(self, client: str, now: float) -> float:
        """Charge one request: 0.0 if allowed, else the seconds until it would be."""
        self.evict_idle(now)
        bucket = self.buckets.get(client)
        if bucket is None:
            bucket = self.buckets[client] = TokenBucket(self.limit, now)
            if len(self.buckets) > self.max_buckets:
                self.buckets.popitem(last=False)
        else:
            self.buckets.move_to_end(client)
        if bucket.take(now):
            return 0.0
        return bucket.retry_after()

    def evict_idle(self, now: float) -> None:
        """Drop buckets unused for ``idle_after`` seconds (they are full again)."""
        cutoff = now - self.idle_after
        buckets = self.buckets
        while buckets:
            oldest = next(iter(buckets.values()))
            if oldest.stamp > cutoff:
                return
            buckets.popitem(last=False)


def describe(limit: RateLimit) -> str:
    return f"burst {limit.burst:g}, then {limit.per_second:g} per second"


class RestRateLimiter:
    """The REST API's buckets: ``public`` per remote IP, ``signed`` per API key."""

    def __init__(
        self,
        public: RateLimit,
        signed: RateLimit,
        clock: Callable[[], float] = time.monotonic,
        *,
        idle_seconds: float = IDLE_SECONDS,
        max_buckets: int = MAX_BUCKETS,
    ) -> None:
        self.clock = clock
        self.by_ip = ClientBuckets(public, idle_seconds, max_buckets)
        self.by_key = ClientBuckets(signed, idle_seconds, max_buckets)

    def check_ip(self, remote: str | None) -> None:
        """Charge the remote IP; raise the 429 ``ApiError`` when its bucket is empty."""
        wait = self.by_ip.take(remote or "", self.clock())
        if wait:
            raise _refused(
                wait, f"too many requests from this address ({describe(self.by_ip.limit)})"
            )

    def check_key(self, key_id: str) -> None:
        """Charge an authenticated API key; raise the 429 ``ApiError`` when it is empty."""
        wait = self.by_key.take(key_id, self.clock())
        if wait:
            raise _refused(
                wait, f"too many requests for this API key ({describe(self.by_key.limit)})"
            )


def _refused(wait: float, what: str) -> ApiError:
    seconds = max(1, math.ceil(wait))
    return ApiError(
        429,
        RATE_LIMITED,
        f"rate limit exceeded: {what}; retry after {seconds} s",
        headers={"Retry-After": str(seconds)},
    )
