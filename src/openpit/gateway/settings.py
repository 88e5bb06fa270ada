"""Gateway settings: every limit, interval and budget in one frozen dataclass.

Invariants:
- Defaults are the documented production values (docs/gateway.md); tests shrink the
  intervals instead of sleeping for real minutes.
- ``from_mapping`` accepts the ``[gateway]`` table of ``openpit.toml`` and rejects
  unknown keys, like the config loader does.
"""

from __future__ import annotations

import ipaddress
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


def _default_rest_rates() -> dict[str, RateLimit]:
    # REST /api/v1: "public" per remote IP, "signed" per API key (docs/rest.md)
    return {
        "public": RateLimit(burst=40, per_second=20),
        "signed": RateLimit(burst=100, per_second=50),
    }


def _default_dialect_rates() -> dict[str, dict[str, RateLimit]]:
    # spec 001 states per-minute budgets: a full minute's budget, refilled over a minute
    per_min = {"auth": 10, "subscribe": 50, "order": 100, "other": 200}
    return {
        "envelope": {k: RateLimit(burst=n, per_second=n / 60) for k, n in per_min.items()},
        # spec 004: 50 messages/s overall ("*"), 100 order commands per minute
        "typed": {"*": RateLimit(burst=50, per_second=50), "order": RateLimit(100, 100 / 60)},
    }


@dataclass(frozen=True, slots=True)
class GatewaySettings:
    host: str = "127.0.0.1"
    port: int = 8080
    # authentication
    signature_window_ms: int = 30_000
    # browser origins allowed to open a WebSocket besides the defaults (same origin as
    # the Host, localhost/127.0.0.1 on any port, no Origin header): exact
    # "scheme://host[:port]" values, or "*" for any (docs/gateway.md "Origins")
    allowed_origins: tuple[str, ...] = ()
    # limits
    max_connections_per_key: int = 5
    # per remote address (``gateway/ip_limits.py``): unauthenticated connections, and one
    # bucket for their frames; X-Forwarded-For only from these addresses/CIDR networks
    max_anonymous_per_address: int = 50
    anonymous_rate: RateLimit = RateLimit(burst=300, per_second=100)
    trusted_proxies: tuple[str, ...] = ()
    max_subscriptions: int = 50
    max_frame_bytes: int = 1 * MiB
    send_budget_bytes: int = 4 * MiB
    rates: Mapping[str, RateLimit] = field(default_factory=_default_rates)
    # per-dialect overrides of ``rates`` (category -> bucket)
    dialect_rates: Mapping[str, Mapping[str, RateLimit]] = field(
        default_factory=_default_dialect_rates
    )
    # REST API buckets: "public" (per remote IP) and "signed" (per API key)
    rest_rates: Mapping[str, RateLimit] = field(default_factory=_default_rest_rates)
    # heartbeats (seconds)
    ping_interval: float = 30.0
    pong_timeout: float = 10.0
    # "periodic" heartbeat dialects (envelope): close after this long without a message
    idle_timeout: float = 90.0
    # closing (seconds): how long to wait for the client's close frame
    close_timeout: float = 5.0
    # market data throttling (seconds between snapshot messages per instrument)
    book_interval: float = 0.1
    ticker_interval: float = 0.1
    default_depth: int = 10
    max_depth: int = 100
    compress: bool = False
    # typed dialect (spec 004): permessage-deflate when the client offers it on ``/`` and
    # ``/ws`` (a flat client there simply never gets a compressed frame)
    compress_typed: bool = True
    frame_ping_interval: float = 15.0  # WebSocket ping frames ("frames" heartbeat dialects)
    portfolio_interval: float = 10.0  # typed portfolio_update also without changes
    price_interval: float = 1.0  # typed price_update: at most one per pricing instrument

    def with_(self, **changes: Any) -> GatewaySettings:
        return replace(self, **changes)

    def rates_for(self, dialect: str) -> dict[str, RateLimit]:
        """The buckets of one dialect: ``rates`` with its ``dialect_rates`` on top."""
        return {**self.rates, **self.dialect_rates.get(dialect, {})}

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any]) -> GatewaySettings:
        """Settings from a ``[gateway]`` table; ``rates``: ``{category: [burst, per_s]}``.

        ``rest_rates``: ``{public|signed: [burst, per_s]}`` (REST API, docs/rest.md).
        """
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
            elif key == "dialect_rates":
                per: dict[str, dict[str, RateLimit]] = {
                    k: dict(v) for k, v in _default_dialect_rates().items()
                }
                for dialect, table in dict(value).items():
                    for name, (burst, per_s) in dict(table).items():
                        per.setdefault(dialect, {})[name] = RateLimit(float(burst), float(per_s))
                changes[key] = per
            elif key == "allowed_origins":
                origins = [value] if isinstance(value, str) else list(value)
                if not all(isinstance(o, str) for o in origins):
                    raise ValueError("gateway.allowed_origins: a list of origin strings")
                changes[key] = tuple(origins)
            elif key == "anonymous_rate":
                burst, per_s = value
                changes[key] = RateLimit(float(burst), float(per_s))
            elif key == "trusted_proxies":
                changes[key] = _trusted_proxies(value)
            elif key == "rest_rates":
                rest = _default_rest_rates()
                for name, (burst, per_s) in dict(value).items():
                    if name not in rest:
                        raise ValueError(
                            f"gateway.rest_rates.{name}: unknown key (allowed: public, signed)"
                        )
                    rest[name] = RateLimit(float(burst), float(per_s))
                changes[key] = rest
            else:
                changes[key] = value
        return replace(cls(), **changes)


def _trusted_proxies(value: Any) -> tuple[str, ...]:
    entries = [value] if isinstance(value, str) else list(value)
    for entry in entries:
        try:
            ipaddress.ip_network(str(entry).strip(), strict=False)
        except ValueError:
            raise ValueError(
                f"gateway.trusted_proxies: {entry!r} is not an address or CIDR network"
            ) from None
    return tuple(str(e).strip() for e in entries)
