"""The dialect contract: a frozen spec, the core renderers, optional renderer groups.

Invariants:
- A dialect is pure and synchronous: ``head`` reads only what the rate limiter needs
  of a frame (its category, and what a refusal echoes) with the cheapest decode, and
  never raises; ``parse`` turns one text frame into one neutral ``Request``; every
  ``render_*`` turns neutral data into the JSON payload bytes of one message. No I/O,
  no clock reads (timestamps come in as ``ts``), no state.
- Market and private renderers are called once per event per variant; the gateway
  frames the bytes once and fans them out, so a renderer must not depend on who
  receives the message.
- Every dialect declares one ``DialectSpec`` (``spec``): data only, frozen. What the
  gateway needs to know about a dialect beyond its functions is in the spec and
  nowhere else (no attribute probing).
- ``spec.groups`` names exactly the optional renderer groups the dialect implements;
  ``bind`` (called by ``load_dialects`` at start-up) refuses a dialect that lacks a
  declared group, has functions of an undeclared one, or whose spec does not match
  its registered name. The gateway reaches optional renderers only through the
  ``Bound`` fields, which are None for an undeclared group.
- ``close_codes`` maps each neutral ``CloseReason`` to the dialect's close code;
  every reason the gateway closes with must be present (checked by ``bind``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from types import MappingProxyType
from typing import Protocol, cast

from openpit.alerts.events import AnyAlertEvent
from openpit.core.access import Principal
from openpit.core.errors import OpenpitError
from openpit.core.events import Fill, InstrumentStatus, OrderUpdate, Position, Trade
from openpit.core.instrument import Asset, Instrument
from openpit.gateway.model import (
    AccountView,
    AlertInfo,
    BatchItem,
    BookView,
    CloseReason,
    ConnStats,
    ErrorKind,
    ErrorReason,
    Head,
    OrderAck,
    OrderFee,
    Request,
    Subscribe,
    TickerView,
    Unsubscribe,
)
from openpit.marketdata.book import BookDelta
from openpit.marketdata.candles import Candle
from openpit.marketdata.portfolio import Portfolio
from openpit.marketdata.prices import PriceUpdate


class Heartbeat(StrEnum):
    """How the gateway keeps a connection of this dialect alive."""

    IDLE = "idle"  # ping after ping_interval of silence, close after pong_timeout
    PERIODIC = "periodic"  # ping every ping_interval, close after idle_timeout silent
    FRAMES = "frames"  # WebSocket ping frames every frame_ping_interval


class Group(StrEnum):
    """An optional renderer group; the value is the ``Bound`` field that carries it."""

    FILLS = "fills"  # render_fill
    ACCOUNT = "account"  # render_account
    CANDLES = "candles"  # render_candle
    BOOK_DELTAS = "book_deltas"  # render_book_delta
    BATCH = "batch"  # render_batch
    ALERT_REPLIES = "alert_replies"  # render_alert_reply
    STATS = "stats"  # render_stats
    PRICES = "prices"  # render_price
    PORTFOLIO = "portfolio"  # render_portfolio
    SCREEN = "screen"  # screen


_CLOSES_USED = frozenset(
    {
        CloseReason.NORMAL,
        CloseReason.GOING_AWAY,
        CloseReason.POLICY,
        CloseReason.TOO_BIG,
        CloseReason.HEARTBEAT,
        CloseReason.INTERNAL,
        CloseReason.UNSUPPORTED,
        CloseReason.RATE_LIMITED,
    }
)


def _frozen(m: Mapping[object, object]) -> Mapping[object, object]:
    return MappingProxyType(dict(m))


@dataclass(frozen=True, slots=True)
class DialectSpec:
    """What a dialect is, as data: the gateway reads nothing else about it.

    ``endpoints``: URL paths this dialect is served on (documentation and checks; the
    routing table is in ``gateway/app.py``). ``strikes``: close after that many
    failures of one kind (every dialect declares RATE_LIMITED: its flood policy,
    docs/reliability.md). ``max_subscriptions``: a per-connection cap of the spec
    (None: the gateway setting). ``compress``: permessage-deflate when offered.
    ``field_names``: neutral field name ("qty", "price", ...) -> the wire name.
    """

    name: str
    endpoints: tuple[str, ...]
    close_codes: Mapping[CloseReason, int]
    field_names: Mapping[str, str]
    strikes: Mapping[CloseReason, int]
    heartbeat: Heartbeat = Heartbeat.IDLE
    compress: bool = False
    max_subscriptions: int | None = None
    groups: frozenset[Group] = field(default_factory=frozenset)

    def __post_init__(self) -> None:
        for name in ("close_codes", "field_names", "strikes"):
            object.__setattr__(self, name, _frozen(getattr(self, name)))


class Dialect(Protocol):
    """The core every dialect implements."""

    @property
    def spec(self) -> DialectSpec: ...

    def head(self, frame: str | bytes) -> Head: ...

    def parse(self, frame: str | bytes) -> Request: ...

    # -- replies -----------------------------------------------------------------
    def render_error(
        self,
        kind: ErrorKind,
        message: str,
        ts: int,
        request: Request | None = None,
        *,
        reason: ErrorReason | None = None,
        retry_after: float | None = None,
    ) -> bytes: ...

    def render_authenticated(self, principal: Principal, ts: int, request: Request) -> bytes: ...

    def render_subscribed(self, request: Subscribe, ts: int) -> bytes: ...

    def render_unsubscribed(self, request: Unsubscribe, ts: int) -> bytes: ...

    def render_ping(self, ts: int) -> bytes: ...

    def render_pong(self, ts: int, request: Request) -> bytes: ...

    def render_close(self, code: int, message: str, ts: int) -> bytes: ...

    def render_order_ack(
        self, ack: OrderAck, inst: Instrument | None, ts: int, request: Request
    ) -> bytes: ...

    # -- streams (rendered once, fanned out) -------------------------------------
    def render_trade(self, inst: Instrument, trade: Trade) -> bytes: ...

    def render_book(self, inst: Instrument, book: BookView, ts: int) -> bytes: ...

    def render_ticker(self, inst: Instrument, ticker: TickerView, ts: int) -> bytes: ...

    def render_order(self, inst: Instrument, order: OrderUpdate, fee: OrderFee) -> bytes: ...

    def render_position(self, inst: Instrument, position: Position) -> bytes: ...

    def render_venue_status(self, venue: str, status: str, ts: int) -> bytes: ...

    def render_instrument_status(self, inst: Instrument, status: InstrumentStatus) -> bytes: ...

    def render_alert(self, event: AnyAlertEvent, inst: Instrument | None) -> bytes | None:
        """Non-venue events (``Hub.publish_alert``); None: not in this dialect's spec."""
        ...


# -- optional renderer groups (declared in ``DialectSpec.groups``) -------------------------


class Fills(Protocol):
    def render_fill(self, inst: Instrument, fill: Fill) -> bytes: ...


class Account(Protocol):
    def render_account(self, account: AccountView, ts: int) -> bytes: ...


class Candles(Protocol):
    def render_candle(self, inst: Instrument, candle: Candle, ts: int) -> bytes: ...


class BookDeltas(Protocol):
    def render_book_delta(self, inst: Instrument, delta: BookDelta) -> bytes: ...


class Batch(Protocol):
    def render_batch(
        self, items: Sequence[tuple[BatchItem, Instrument | None]], ts: int, request: Request
    ) -> bytes: ...


class AlertReplies(Protocol):
    def render_alert_reply(
        self, op: str, alerts: Sequence[AlertInfo], ts: int, request: Request
    ) -> bytes: ...


class Stats(Protocol):
    def render_stats(self, stats: ConnStats, ts: int) -> bytes: ...


class Prices(Protocol):
    def render_price(self, inst: Instrument, update: PriceUpdate, ts: int) -> bytes: ...


class Portfolios(Protocol):
    def render_portfolio(
        self, portfolio: Portfolio, assets: Mapping[str, Asset], places: int, ts: int
    ) -> bytes: ...


class Screen(Protocol):
    def screen(self, endpoint: str, request: Request, authenticated: bool) -> Request:
        """Re-check a parsed request against the URL path it arrived on."""
        ...


_CORE = (
    "head",
    "parse",
    "render_error",
    "render_authenticated",
    "render_subscribed",
    "render_unsubscribed",
    "render_ping",
    "render_pong",
    "render_close",
    "render_order_ack",
    "render_trade",
    "render_book",
    "render_ticker",
    "render_order",
    "render_position",
    "render_venue_status",
    "render_instrument_status",
    "render_alert",
)

MEMBERS: Mapping[Group, str] = {
    Group.FILLS: "render_fill",
    Group.ACCOUNT: "render_account",
    Group.CANDLES: "render_candle",
    Group.BOOK_DELTAS: "render_book_delta",
    Group.BATCH: "render_batch",
    Group.ALERT_REPLIES: "render_alert_reply",
    Group.STATS: "render_stats",
    Group.PRICES: "render_price",
    Group.PORTFOLIO: "render_portfolio",
    Group.SCREEN: "screen",
}


class ContractError(OpenpitError, TypeError):
    """A dialect does not implement what its spec declares (raised at start-up)."""


@dataclass(frozen=True, slots=True, eq=False)
class Bound:
    """A dialect as the gateway holds it: the spec, the core, each declared group."""

    spec: DialectSpec
    core: Dialect
    fills: Fills | None = None
    account: Account | None = None
    candles: Candles | None = None
    book_deltas: BookDeltas | None = None
    batch: Batch | None = None
    alert_replies: AlertReplies | None = None
    stats: Stats | None = None
    prices: Prices | None = None
    portfolio: Portfolios | None = None
    screen: Screen | None = None

    @property
    def name(self) -> str:
        return self.spec.name


def bind(name: str, module: object) -> Bound:
    """Check ``module`` against the contract and bind it; ``ContractError`` otherwise."""
    spec = getattr(module, "spec", None)
    if not isinstance(spec, DialectSpec):
        raise ContractError(f"dialect {name!r}: no DialectSpec named 'spec'")
    if spec.name != name:
        raise ContractError(f"dialect {name!r}: its spec is named {spec.name!r}")
    problems: list[str] = []
    missing = [f for f in _CORE if not callable(getattr(module, f, None))]
    if missing:
        problems.append(f"missing core functions {', '.join(missing)}")
    for group, member in MEMBERS.items():
        has = callable(getattr(module, member, None))
        if group in spec.groups and not has:
            problems.append(f"declares {group.value} but has no {member}")
        elif group not in spec.groups and has:
            problems.append(f"has {member} but does not declare {group.value}")
    closes = _CLOSES_USED - spec.close_codes.keys()
    if closes:
        problems.append(f"no close code for {', '.join(sorted(c.value for c in closes))}")
    if CloseReason.RATE_LIMITED not in spec.strikes:
        problems.append("no strikes limit for rate_limited (its flood policy)")
    unknown = spec.strikes.keys() - spec.close_codes.keys()
    if unknown:
        problems.append(f"strikes without a close code: {sorted(c.value for c in unknown)}")
    if not spec.endpoints:
        problems.append("no endpoints")
    if problems:
        raise ContractError(f"dialect {name!r}: " + "; ".join(problems))
    groups = {g.value: module for g in spec.groups}
    return Bound(spec, cast(Dialect, module), **groups)  # type: ignore[arg-type]
