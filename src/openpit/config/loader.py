"""Load and validate ``openpit.toml``.

Invariants:
- Every key is known: an unknown key is a ``ConfigError`` naming the file and the
  dotted key path, never silently ignored.
- Decimal values may be written as TOML strings (preferred, exact) or numbers.
- Instruments are validated against their assets so that every price x quantity is
  an exact integer of quote units (see ``openpit.core.instrument``).
- Instrument names (id, symbol, aliases) resolve uniquely within a venue; across
  venues the first-declared instrument wins for a bare name.
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import time
from decimal import Decimal, InvalidOperation
from importlib import resources
from pathlib import Path
from typing import Any

from openpit.core.enums import InstrumentKind, STPMode
from openpit.core.errors import OpenpitError
from openpit.core.instrument import Asset, Instrument, rate_to_ppm
from openpit.core.session import ALWAYS_OPEN, TradingSession

_WEEKDAYS = {"mon": 0, "tue": 1, "wed": 2, "thu": 3, "fri": 4, "sat": 5, "sun": 6}


class ConfigError(OpenpitError, ValueError):
    """A configuration file is invalid; the message names the file and the key."""


@dataclass(frozen=True, slots=True)
class Venue:
    id: str
    name: str


@dataclass(frozen=True, slots=True)
class RiskSettings:
    """Margin thresholds as ratios of equity to position value, in parts per million."""

    maintenance_ppm: int = 50_000
    warning_ppm: int = 100_000
    critical_ppm: int = 75_000
    stp_default: STPMode = STPMode.CANCEL_NEWEST
    lending_pool: Mapping[str, int] = field(default_factory=dict)  # asset -> units


@dataclass(frozen=True, slots=True)
class DemoAccount:
    user: str
    balances: Mapping[str, int]  # asset -> units


@dataclass(frozen=True, slots=True)
class VenueConfig:
    source: str
    venues: Mapping[str, Venue]
    assets: Mapping[str, Asset]
    instruments: Mapping[str, Instrument]
    risk: RiskSettings
    demo_accounts: tuple[DemoAccount, ...]
    # sections owned by other packages (simulator, ...); not in repr: [server] may hold
    # jwt_secret
    extra: Mapping[str, Mapping[str, Any]] = field(repr=False)

    def resolve(self, name: str, venue: str | None = None) -> Instrument | None:
        """Find an instrument by id, symbol or alias, optionally within one venue."""
        for inst in self.instruments.values():
            if venue is not None and inst.venue != venue:
                continue
            if name in inst.names:
                return inst
        return None

    def listings(self, symbol: str) -> list[Instrument]:
        """Every instrument (across venues) whose symbol or alias is ``symbol``."""
        return [i for i in self.instruments.values() if symbol in i.names]


# Sections other packages own; the loader checks they are tables and hands them over.
EXTRA_SECTIONS = (
    "simulator",
    "gateway",
    "alerts",
    "circuit_breaker",
    "arbitrage",
    "server",
    "valuation",
    "binance",
)


class _Reader:
    def __init__(self, source: str) -> None:
        self.source = source

    def fail(self, key: str, problem: str) -> ConfigError:
        return ConfigError(f"{self.source}: {key}: {problem}")

    def table(self, data: Any, key: str, allowed: set[str]) -> dict[str, Any]:
        if not isinstance(data, dict):
            raise self.fail(key, "expected a table")
        for k in data:
            if k not in allowed:
                where = f"{key}.{k}" if key else k
                raise self.fail(where, f"unknown key (allowed: {', '.join(sorted(allowed))})")
        return data

    def decimal(self, value: Any, key: str) -> Decimal:
        if isinstance(value, bool) or not isinstance(value, str | int | float):
            raise self.fail(key, 'expected a decimal number (a string such as "0.01")')
        try:
            return Decimal(str(value))
        except InvalidOperation as exc:
            raise self.fail(key, f"not a decimal number: {value!r}") from exc

    def string(self, value: Any, key: str) -> str:
        if not isinstance(value, str) or not value:
            raise self.fail(key, "expected a non-empty string")
        return value

    def integer(self, value: Any, key: str) -> int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise self.fail(key, "expected an integer")
        return value

    def ppm(self, value: Any, key: str) -> int:
        try:
            return rate_to_ppm(self.decimal(value, key))
        except ValueError as exc:
            raise self.fail(key, "at most 6 decimal places") from exc


def _session(r: _Reader, data: Any, key: str) -> TradingSession:
    if data == "24x7":
        return ALWAYS_OPEN
    t = r.table(data, key, {"open", "close", "timezone", "days"})
    try:
        opens = time.fromisoformat(r.string(t["open"], f"{key}.open"))
        closes = time.fromisoformat(r.string(t["close"], f"{key}.close"))
    except KeyError as exc:
        raise r.fail(key, f"missing {exc.args[0]}") from exc
    except ValueError as exc:
        raise r.fail(key, "times are HH:MM") from exc
    zone = r.string(t.get("timezone", "UTC"), f"{key}.timezone")
    days_raw = t.get("days", ["mon", "tue", "wed", "thu", "fri"])
    if not isinstance(days_raw, list) or any(d not in _WEEKDAYS for d in days_raw):
        raise r.fail(f"{key}.days", f"expected a list of {', '.join(_WEEKDAYS)}")
    try:
        from zoneinfo import ZoneInfo

        ZoneInfo(zone)
    except Exception as exc:
        raise r.fail(f"{key}.timezone", f"unknown time zone {zone!r}") from exc
    if not opens < closes:
        raise r.fail(key, "open must be before close")
    return TradingSession(
        always_open=False,
        open=opens,
        close=closes,
        timezone=zone,
        weekdays=frozenset(_WEEKDAYS[d] for d in days_raw),
    )


_INSTRUMENT_KEYS = {
    "id",
    "venue",
    "symbol",
    "aliases",
    "base",
    "quote",
    "kind",
    "tick_size",
    "lot_size",
    "min_qty",
    "max_leverage",
    "maker_fee",
    "taker_fee",
    "price_band",
    "session",
}


def _instrument(
    r: _Reader, data: Any, key: str, venues: Mapping[str, Venue], assets: Mapping[str, Asset]
) -> Instrument:
    t = r.table(data, key, _INSTRUMENT_KEYS)
    for required in ("id", "venue", "base", "quote", "tick_size", "lot_size"):
        if required not in t:
            raise r.fail(f"{key}.{required}", "missing")
    iid = r.string(t["id"], f"{key}.id")
    venue = r.string(t["venue"], f"{key}.venue")
    if venue not in venues:
        raise r.fail(f"{key}.venue", f"unknown venue {venue!r}")
    base, quote = t["base"], t["quote"]
    for k, a in (("base", base), ("quote", quote)):
        if a not in assets:
            raise r.fail(f"{key}.{k}", f"unknown asset {a!r}")
    aliases = t.get("aliases", [])
    if not isinstance(aliases, list) or not all(isinstance(a, str) for a in aliases):
        raise r.fail(f"{key}.aliases", "expected a list of strings")
    kind_raw = t.get("kind", "spot")
    try:
        kind = InstrumentKind(kind_raw)
    except ValueError as exc:
        raise r.fail(f"{key}.kind", "expected 'spot' or 'margin'") from exc
    lot = r.decimal(t["lot_size"], f"{key}.lot_size")
    try:
        return Instrument(
            id=iid,
            venue=venue,
            symbol=r.string(t.get("symbol", iid), f"{key}.symbol"),
            base=assets[base],
            quote=assets[quote],
            kind=kind,
            tick_size=r.decimal(t["tick_size"], f"{key}.tick_size"),
            lot_size=lot,
            min_qty=r.decimal(t.get("min_qty", str(lot)), f"{key}.min_qty"),
            max_leverage=r.integer(t.get("max_leverage", 1), f"{key}.max_leverage"),
            maker_fee=r.decimal(t.get("maker_fee", 0), f"{key}.maker_fee"),
            taker_fee=r.decimal(t.get("taker_fee", 0), f"{key}.taker_fee"),
            price_band=r.decimal(t.get("price_band", "0.05"), f"{key}.price_band"),
            session=_session(r, t.get("session", "24x7"), f"{key}.session"),
            aliases=tuple(aliases),
        )
    except ConfigError:
        raise
    except ValueError as exc:
        raise r.fail(key, str(exc)) from exc


def _units(r: _Reader, data: Any, key: str, assets: Mapping[str, Asset]) -> dict[str, int]:
    t = r.table(data, key, set(assets))
    out: dict[str, int] = {}
    for asset, amount in t.items():
        try:
            out[asset] = assets[asset].to_units(r.decimal(amount, f"{key}.{asset}"))
        except ValueError as exc:
            raise r.fail(f"{key}.{asset}", f"more decimals than {asset} has") from exc
    return out


def parse_config(data: Mapping[str, Any], source: str) -> VenueConfig:
    r = _Reader(source)
    top = r.table(
        dict(data), "", {"venues", "assets", "instruments", "risk", "demo", *EXTRA_SECTIONS}
    )
    venues: dict[str, Venue] = {}
    for i, v in enumerate(top.get("venues", [])):
        t = r.table(v, f"venues[{i}]", {"id", "name"})
        vid = r.string(t.get("id"), f"venues[{i}].id")
        venues[vid] = Venue(vid, str(t.get("name", vid)))
    assets: dict[str, Asset] = {}
    for i, a in enumerate(top.get("assets", [])):
        t = r.table(a, f"assets[{i}]", {"symbol", "decimals", "circulating_supply"})
        sym = r.string(t.get("symbol"), f"assets[{i}].symbol")
        supply = t.get("circulating_supply")
        assets[sym] = Asset(
            symbol=sym,
            decimals=r.integer(t.get("decimals", 8), f"assets[{i}].decimals"),
            circulating_supply=None
            if supply is None
            else r.decimal(supply, f"assets[{i}].circulating_supply"),
        )
    instruments: dict[str, Instrument] = {}
    for i, d in enumerate(top.get("instruments", [])):
        inst = _instrument(r, d, f"instruments[{i}]", venues, assets)
        if inst.id in instruments:
            raise r.fail(f"instruments[{i}].id", f"duplicate instrument id {inst.id!r}")
        for other in instruments.values():
            if other.venue == inst.venue and set(other.names) & set(inst.names):
                raise r.fail(f"instruments[{i}]", f"name clash with {other.id} on {inst.venue}")
        instruments[inst.id] = inst
    risk_t = r.table(
        top.get("risk", {}),
        "risk",
        {
            "maintenance_margin",
            "margin_call_warning",
            "margin_call_critical",
            "stp_default",
            "lending_pool",
        },
    )
    try:
        stp = STPMode(risk_t.get("stp_default", "cancel_newest"))
    except ValueError as exc:
        raise r.fail("risk.stp_default", f"one of {', '.join(m.value for m in STPMode)}") from exc
    risk = RiskSettings(
        maintenance_ppm=r.ppm(risk_t.get("maintenance_margin", "0.05"), "risk.maintenance_margin"),
        warning_ppm=r.ppm(risk_t.get("margin_call_warning", "0.10"), "risk.margin_call_warning"),
        critical_ppm=r.ppm(
            risk_t.get("margin_call_critical", "0.075"), "risk.margin_call_critical"
        ),
        stp_default=stp,
        lending_pool=_units(r, risk_t.get("lending_pool", {}), "risk.lending_pool", assets),
    )
    demo_t = r.table(top.get("demo", {}), "demo", {"accounts"})
    accounts = []
    for i, acc in enumerate(demo_t.get("accounts", [])):
        t = r.table(acc, f"demo.accounts[{i}]", {"user", "balances"})
        accounts.append(
            DemoAccount(
                user=r.string(t.get("user"), f"demo.accounts[{i}].user"),
                balances=_units(r, t.get("balances", {}), f"demo.accounts[{i}].balances", assets),
            )
        )
    extra = {}
    for name in EXTRA_SECTIONS:
        if name in top:
            extra[name] = r.table(
                top[name], name, set(top[name]) if isinstance(top[name], dict) else set()
            )
    return VenueConfig(
        source=source,
        venues=venues,
        assets=assets,
        instruments=instruments,
        risk=risk,
        demo_accounts=tuple(accounts),
        extra=extra,
    )


def load_config(path: str | Path) -> VenueConfig:
    p = Path(path)
    try:
        data = tomllib.loads(p.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ConfigError(f"{p}: cannot read: {exc.strerror}") from exc
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{p}: invalid TOML: {exc}") from exc
    return parse_config(data, str(p))


def load_demo_config() -> VenueConfig:
    text = resources.files("openpit.config").joinpath("demo.toml").read_text(encoding="utf-8")
    return parse_config(tomllib.loads(text), "<built-in demo config>")
