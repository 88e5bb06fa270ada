"""Settings of the ``[alerts]``, ``[circuit_breaker]`` and ``[arbitrage]`` config tables.

Invariants:
- The config loader hands these tables over raw (``VenueConfig.extra``); every key is
  checked here and an unknown key is a ``ConfigError`` naming ``<table>.<key>``.
- Fractions are written as decimals (``"0.10"`` = 10 %) and stored as ppm; amounts
  per asset are decimals of that asset and stored as asset units; durations are ms.
- Defaults make every table optional.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from openpit.config.loader import ConfigError, VenueConfig
from openpit.core.instrument import rate_to_ppm

MINUTE_MS = 60_000


@dataclass(frozen=True, slots=True)
class AlertSettings:
    max_per_user: int = 100
    link_base: str | None = None  # e.g. "https://venue.example.com": links in notifications
    velocity_window_ms: int = 5 * MINUTE_MS  # price velocity for time-to-liquidation
    default_time_to_liquidation_s: int = 3600  # when the price is not moving toward it
    large_liquidation: Mapping[str, int] = field(default_factory=dict)  # quote asset -> units


@dataclass(frozen=True, slots=True)
class CircuitBreakerSettings:
    enabled: bool = True
    band_ppm: int = 100_000  # halt when the last price moves more than this within window
    window_ms: int = 5 * MINUTE_MS
    halt_ms: int = 5 * MINUTE_MS
    volatility_band_ppm: int = 30_000  # volatility_spike alert above this move ...
    volatility_window_ms: int = MINUTE_MS  # ... within this window
    instruments: frozenset[str] | None = None  # None: every instrument


@dataclass(frozen=True, slots=True)
class ArbitrageSettings:
    enabled: bool = True
    min_spread_ppm: int = 1_000  # net spread after both taker fees must exceed this
    min_amount: Decimal | None = None  # base asset; None: the instruments' min qty
    ttl_ms: int = 10 * MINUTE_MS  # expires_at = last change + ttl
    depth: int = 50  # book levels walked per side
    high_depth_ratio: int = 10  # max_amount >= ratio x min_amount counts toward "high"
    persistence_ms: int = 5_000  # open for this long counts toward "high"


@dataclass(frozen=True, slots=True)
class Settings:
    alerts: AlertSettings = AlertSettings()
    circuit_breaker: CircuitBreakerSettings = CircuitBreakerSettings()
    arbitrage: ArbitrageSettings = ArbitrageSettings()


class _R:
    def __init__(self, source: str, table: str, data: Mapping[str, Any], keys: set[str]):
        self.source, self.table, self.data = source, table, data
        for k in data:
            if k not in keys:
                raise self.fail(k, f"unknown key (allowed: {', '.join(sorted(keys))})")

    def fail(self, key: str, problem: str) -> ConfigError:
        return ConfigError(f"{self.source}: {self.table}.{key}: {problem}")

    def has(self, key: str) -> bool:
        return key in self.data

    def integer(self, key: str, default: int, minimum: int = 0) -> int:
        v = self.data.get(key, default)
        if isinstance(v, bool) or not isinstance(v, int) or v < minimum:
            raise self.fail(key, f"expected an integer >= {minimum}")
        return v

    def boolean(self, key: str, default: bool) -> bool:
        v = self.data.get(key, default)
        if not isinstance(v, bool):
            raise self.fail(key, "expected true or false")
        return v

    def decimal(self, key: str, value: Any) -> Decimal:
        if isinstance(value, bool) or not isinstance(value, str | int | float):
            raise self.fail(key, 'expected a decimal number (a string such as "0.05")')
        try:
            d = Decimal(str(value))
        except InvalidOperation as exc:
            raise self.fail(key, f"not a decimal number: {value!r}") from exc
        if not d.is_finite() or d < 0:
            raise self.fail(key, "expected a non-negative decimal")
        return d

    def ppm(self, key: str, default: int) -> int:
        if key not in self.data:
            return default
        try:
            return rate_to_ppm(self.decimal(key, self.data[key]))
        except ValueError as exc:
            if isinstance(exc, ConfigError):
                raise
            raise self.fail(key, "at most 6 decimal places") from exc

    def string(self, key: str) -> str | None:
        v = self.data.get(key)
        if v is None:
            return None
        if not isinstance(v, str) or not v:
            raise self.fail(key, "expected a non-empty string")
        return v


def _alerts(config: VenueConfig, data: Mapping[str, Any]) -> AlertSettings:
    r = _R(
        config.source,
        "alerts",
        data,
        {
            "max_per_user",
            "link_base",
            "velocity_window_ms",
            "default_time_to_liquidation_s",
            "large_liquidation",
        },
    )
    large: dict[str, int] = {}
    raw = data.get("large_liquidation", {})
    if not isinstance(raw, dict):
        raise r.fail("large_liquidation", "expected a table of asset = amount")
    for asset, amount in raw.items():
        a = config.assets.get(asset)
        key = f"large_liquidation.{asset}"
        if a is None:
            raise r.fail(key, f"unknown asset {asset!r}")
        try:
            large[asset] = a.to_units(r.decimal(key, amount))
        except ValueError as exc:
            if isinstance(exc, ConfigError):
                raise
            raise r.fail(key, f"more decimals than {asset} has") from exc
    link = r.string("link_base")
    return AlertSettings(
        max_per_user=r.integer("max_per_user", 100, 1),
        link_base=None if link is None else link.rstrip("/"),
        velocity_window_ms=r.integer("velocity_window_ms", 5 * MINUTE_MS, 1),
        default_time_to_liquidation_s=r.integer("default_time_to_liquidation_s", 3600),
        large_liquidation=large,
    )


def _breaker(config: VenueConfig, data: Mapping[str, Any]) -> CircuitBreakerSettings:
    r = _R(
        config.source,
        "circuit_breaker",
        data,
        {
            "enabled",
            "band",
            "window_ms",
            "halt_ms",
            "volatility_band",
            "volatility_window_ms",
            "instruments",
        },
    )
    instruments: frozenset[str] | None = None
    if r.has("instruments"):
        raw = data["instruments"]
        if not isinstance(raw, list) or not all(isinstance(x, str) for x in raw):
            raise r.fail("instruments", "expected a list of instrument ids")
        ids = set()
        for name in raw:
            inst = config.resolve(name)
            if inst is None:
                raise r.fail("instruments", f"unknown instrument {name!r}")
            ids.add(inst.id)
        instruments = frozenset(ids)
    s = CircuitBreakerSettings(
        enabled=r.boolean("enabled", True),
        band_ppm=r.ppm("band", 100_000),
        window_ms=r.integer("window_ms", 5 * MINUTE_MS, 1),
        halt_ms=r.integer("halt_ms", 5 * MINUTE_MS, 1),
        volatility_band_ppm=r.ppm("volatility_band", 30_000),
        volatility_window_ms=r.integer("volatility_window_ms", MINUTE_MS, 1),
        instruments=instruments,
    )
    if s.band_ppm <= 0:
        raise r.fail("band", "must be positive")
    if s.volatility_band_ppm <= 0:
        raise r.fail("volatility_band", "must be positive")
    return s


def _arbitrage(config: VenueConfig, data: Mapping[str, Any]) -> ArbitrageSettings:
    r = _R(
        config.source,
        "arbitrage",
        data,
        {
            "enabled",
            "min_spread",
            "min_amount",
            "ttl_ms",
            "depth",
            "high_depth_ratio",
            "persistence_ms",
        },
    )
    return ArbitrageSettings(
        enabled=r.boolean("enabled", True),
        min_spread_ppm=r.ppm("min_spread", 1_000),
        min_amount=r.decimal("min_amount", data["min_amount"]) if r.has("min_amount") else None,
        ttl_ms=r.integer("ttl_ms", 10 * MINUTE_MS, 1),
        depth=r.integer("depth", 50, 1),
        high_depth_ratio=r.integer("high_depth_ratio", 10, 1),
        persistence_ms=r.integer("persistence_ms", 5_000),
    )


def parse_settings(config: VenueConfig) -> Settings:
    """Validate the three tables of ``config.extra``; ``ConfigError`` names a bad key."""
    extra = config.extra
    return Settings(
        alerts=_alerts(config, extra.get("alerts", {})),
        circuit_breaker=_breaker(config, extra.get("circuit_breaker", {})),
        arbitrage=_arbitrage(config, extra.get("arbitrage", {})),
    )
