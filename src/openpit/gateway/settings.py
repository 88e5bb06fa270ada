"""Gateway settings: every limit, interval and budget in one frozen dataclass.

Invariants:
- Defaults are the documented production values (docs/gateway.md); tests shrink the
  intervals instead of sleeping for real minutes.
- ``from_mapping`` accepts the ``[gateway]`` table of ``openpit.toml`` and rejects
  unknown keys, like the config loader does.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from typing import Any

MiB = 1024 * 1024


@dataclass(frozen=True, slots=True)
class RateLimit:
    """A token bucket: ``burst`` tokens, refilled at ``per_second``."""

    burst: float
    per_second: float


def _default_rates() -> dict[str, RateLimit]:
    return {
        "auth": RateLimit(burst=10, per_second=10 / 60),
        "subscribe": RateLimit(burst=50, per_second=50 / 60),
        "order": RateLimit(burst=100, per_second=50),
        "other": RateLimit(burst=200, per_second=20),
    }


@dataclass(frozen=True, slots=True)
class GatewaySettings:
    host: str = "127.0.0.1"
    port: int = 8080
    # authentication
    signature_window_ms: int = 30_000
    # limits
    max_connections_per_key: int = 5
    max_subscriptions: int = 50
    max_frame_bytes: int = 1 * MiB
    send_budget_bytes: int = 4 * MiB
    rates: Mapping[str, RateLimit] = field(default_factory=_default_rates)
    # heartbeats (seconds)
    ping_interval: float = 30.0
    pong_timeout: float = 10.0
    # closing (seconds): how long to wait for the client's close frame
    close_timeout: float = 5.0
    # market data throttling (seconds between snapshot messages per instrument)
    book_interval: float = 0.1
    ticker_interval: float = 0.1
    default_depth: int = 10
    max_depth: int = 100
    compress: bool = False

    def with_(self, **changes: Any) -> GatewaySettings:
        return replace(self, **changes)

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any]) -> GatewaySettings:
        """Settings from a ``[gateway]`` table; ``rates``: ``{category: [burst, per_s]}``."""
        known = {f.name for f in fields(cls)}
        changes: dict[str, Any] = {}
        for key, value in data.items():
            if key not in known:
                raise ValueError(
                    f"gateway.{key}: unknown key (allowed: {', '.join(sorted(known))})"
                )
            if key == "rates":
                rates = dict(_default_rates())
                for name, pair in dict(value).items():
                    burst, per_s = pair
                    rates[name] = RateLimit(float(burst), float(per_s))
                changes[key] = rates
            else:
                changes[key] = value
        return replace(cls(), **changes)
