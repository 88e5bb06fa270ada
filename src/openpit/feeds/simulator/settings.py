"""The ``[simulator]`` section of the configuration, validated.

Invariants:
- Every key is known; an unknown key is a ``ConfigError`` naming ``simulator.<key>``.
- Settings are plain numbers (floats for the random process, ints for counts); prices
  in ``prices`` are decimals converted to ticks only when the simulator is built.
- ``SimSettings()`` with no arguments is the demo's default behaviour.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from openpit.config.loader import ConfigError

# Starting (and anchor) prices, by instrument id or symbol.
DEFAULT_PRICES: Mapping[str, Decimal] = {
    "BTCUSDT": Decimal("42650"),
    "ETHUSDT": Decimal("2500"),
    "AAPL": Decimal("150"),
    "MSFT": Decimal("420"),
    "GOOGL": Decimal("170"),
    "TSLA": Decimal("250"),
    "LUXURY001/XRP": Decimal("1000"),
}

# Base quantity a market maker shows per level (before randomisation), by id or symbol.
DEFAULT_LEVEL_QTY: Mapping[str, Decimal] = {
    "BTCUSDT": Decimal("0.12"),
    "ETHUSDT": Decimal("2"),
    "AAPL": Decimal("100"),
    "MSFT": Decimal("40"),
    "GOOGL": Decimal("100"),
    "TSLA": Decimal("60"),
    "LUXURY001/XRP": Decimal("5"),
}

# Fallback level size for instruments not listed above: this many quote-asset units.
DEFAULT_LEVEL_NOTIONAL = Decimal(10_000)


@dataclass(frozen=True, slots=True)
class SimSettings:
    """Tunable behaviour of the simulator. See ``docs/feeds.md`` for each key."""

    enabled: bool = True
    seed: int = 1
    rate: float = 20.0  # commands per second (driver pacing)
    instruments: tuple[str, ...] | None = None  # None: every instrument with a start price
    exclude: tuple[str, ...] = ()
    prices: Mapping[str, Decimal] = field(default_factory=dict)  # id/symbol -> start price
    market_makers: int = 2
    takers: int = 2
    levels: int = 5
    spread_bps: float = 6.0  # full top-of-book spread quoted by a maker, basis points
    volatility: float = 0.02  # stationary std of log(fair / anchor)
    half_life_s: float = 1800.0  # mean-reversion half-life of the fair value
    max_deviation: float = 0.10  # hard bound on |log(fair / anchor)|
    divergence_per_hour: float = 6.0  # cross-venue drift episodes per hour per listing group
    divergence_min: float = 0.005
    divergence_max: float = 0.03
    divergence_half_life_s: float = 90.0
    quote_share: float = 0.45  # share of steps that are maker requotes
    stop_share: float = 0.10  # share of steps that place a stop order
    sweep_share: float = 0.04  # share of steps that sweep several levels
    max_stops: int = 6  # pending stops per taker and instrument

    def __post_init__(self) -> None:
        checks: list[tuple[str, bool]] = [
            ("rate", self.rate > 0),
            ("market_makers", self.market_makers >= 1),
            ("takers", self.takers >= 0),
            ("levels", 1 <= self.levels <= 50),
            ("spread_bps", 0 < self.spread_bps < 1000),
            ("volatility", 0 <= self.volatility < 1),
            ("half_life_s", self.half_life_s > 0),
            ("max_deviation", 0 < self.max_deviation < 1),
            ("divergence_per_hour", self.divergence_per_hour >= 0),
            ("divergence_min", 0 <= self.divergence_min <= self.divergence_max),
            ("divergence_max", 0 <= self.divergence_max < 0.5),
            ("divergence_half_life_s", self.divergence_half_life_s > 0),
            ("quote_share", 0 < self.quote_share <= 1),
            ("stop_share", 0 <= self.stop_share < 1),
            ("sweep_share", 0 <= self.sweep_share < 1),
            ("max_stops", self.max_stops >= 0),
        ]
        for key, ok in checks:
            if not ok:
                raise ConfigError(f"simulator.{key}: out of range ({getattr(self, key)!r})")
        if self.quote_share + self.stop_share + self.sweep_share > 1:
            raise ConfigError("simulator: quote_share + stop_share + sweep_share must be <= 1")

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any], source: str = "simulator") -> SimSettings:
        """Build settings from the raw ``[simulator]`` table (``VenueConfig.extra``)."""

        def fail(key: str, problem: str) -> ConfigError:
            return ConfigError(f"{source}: simulator.{key}: {problem}")

        kwargs: dict[str, Any] = {}
        for key, value in data.items():
            if key not in _KINDS:
                allowed = ", ".join(sorted(_KINDS))
                raise fail(key, f"unknown key (allowed: {allowed})")
            kind = _KINDS[key]
            if kind == "bool":
                if not isinstance(value, bool):
                    raise fail(key, "expected true or false")
                kwargs[key] = value
            elif kind == "int":
                if isinstance(value, bool) or not isinstance(value, int):
                    raise fail(key, "expected an integer")
                kwargs[key] = value
            elif kind == "float":
                kwargs[key] = float(_decimal(value, _at(fail, key)))
            elif kind == "names":
                if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
                    raise fail(key, "expected a list of instrument ids")
                kwargs[key] = tuple(value)
            else:  # prices
                if not isinstance(value, dict):
                    raise fail(key, "expected a table of instrument = price")
                prices: dict[str, Decimal] = {}
                for name, raw in value.items():
                    price = _decimal(raw, _at(fail, f"{key}.{name}"))
                    if price <= 0:
                        raise fail(f"{key}.{name}", "must be positive")
                    prices[str(name)] = price
                kwargs[key] = prices
        try:
            return cls(**kwargs)
        except ConfigError as exc:
            raise ConfigError(f"{source}: {exc}") from exc


_KINDS: Mapping[str, str] = {
    "enabled": "bool",
    "seed": "int",
    "rate": "float",
    "instruments": "names",
    "exclude": "names",
    "prices": "prices",
    "market_makers": "int",
    "takers": "int",
    "levels": "int",
    "spread_bps": "float",
    "volatility": "float",
    "half_life_s": "float",
    "max_deviation": "float",
    "divergence_per_hour": "float",
    "divergence_min": "float",
    "divergence_max": "float",
    "divergence_half_life_s": "float",
    "quote_share": "float",
    "stop_share": "float",
    "sweep_share": "float",
    "max_stops": "int",
}


def _decimal(value: Any, fail: Callable[[str], ConfigError]) -> Decimal:
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise fail('expected a number (or a decimal string such as "0.02")')
    try:
        out = Decimal(str(value))
    except InvalidOperation as exc:
        raise fail(f"not a number: {value!r}") from exc
    if not out.is_finite():
        raise fail(f"not a finite number: {value!r}")
    return out


def _at(fail: Callable[[str, str], ConfigError], key: str) -> Callable[[str], ConfigError]:
    return lambda problem: fail(key, problem)
