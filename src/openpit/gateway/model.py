"""The dialect-neutral vocabulary between the gateway and its dialects.

Invariants:
- A dialect parses a frame into exactly one ``Request`` (or a ``BadRequest`` saying
  what was wrong) and never raises on client input.
- Requests hold wire values already typed (Decimal for prices and quantities, exact
  from the JSON text); the gateway converts them to ticks/lots per instrument.
- ``ref`` carries whatever the dialect needs to render its reply (ids, echoes); the
  gateway passes it back untouched.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from enum import StrEnum

from openpit.core.enums import Reason
from openpit.core.events import OrderUpdate, Position
from openpit.core.instrument import Asset, Instrument
from openpit.core.reasons import REASON_CLASS, ReasonClass


class Channel(StrEnum):
    TICKER = "ticker"
    BOOK = "book"
    TRADES = "trades"
    ORDERS = "orders"
    POSITIONS = "positions"
    SYSTEM = "system"
    # delta-style order book (snapshot, then changed levels with consecutive sequences)
    BOOK_DELTA = "book_delta"
    CANDLES = "candles"  # variant: the interval ("1m" ... "1w")
    FILLS = "fills"  # the user's own trades
    ACCOUNT = "account"  # balances + positions after each change
    # non-venue events published through ``Hub.publish_alert``
    SYSTEM_NOTIFICATIONS = "system_notifications"
    USER_NOTIFICATIONS = "user_notifications"
    CUSTOM_ALERTS = "custom_alerts"
    MARGIN_CALLS = "margin_calls"
    RISK_ALERTS = "risk_alerts"
    ARBITRAGE = "arbitrage"
    # typed dialect (spec 004)
    PRICE = "price"  # instrument slot: the pricing instrument of a symbol
    PORTFOLIO = "portfolio"  # private; instrument slot: valuation asset or "*"

    @property
    def private(self) -> bool:
        return self in _PRIVATE_CHANNELS

    @property
    def instrumentless(self) -> bool:
        """Public channels that are not about one instrument (one key for everyone)."""
        return self in _GLOBAL_CHANNELS


_PRIVATE_CHANNELS = frozenset(
    {
        Channel.ORDERS,
        Channel.POSITIONS,
        Channel.FILLS,
        Channel.ACCOUNT,
        Channel.USER_NOTIFICATIONS,
        Channel.CUSTOM_ALERTS,
        Channel.MARGIN_CALLS,
        Channel.PORTFOLIO,
    }
)
_GLOBAL_CHANNELS = frozenset(
    {Channel.SYSTEM, Channel.SYSTEM_NOTIFICATIONS, Channel.RISK_ALERTS, Channel.ARBITRAGE}
)


ALL_INSTRUMENTS = "*"  # instrument key of a private subscription without symbols
MARGIN_ONLY = "*margin"  # positions key slot: margin positions of every instrument (typed)


class ErrorKind(StrEnum):
    """Dialect-neutral error classes; each dialect maps them to its own codes."""

    BAD_REQUEST = "bad_request"
    UNAUTHORIZED = "unauthorized"
    FORBIDDEN = "forbidden"
    NOT_FOUND = "not_found"
    RATE_LIMITED = "rate_limited"
    LIMIT_EXCEEDED = "limit_exceeded"  # connection / subscription caps
    REJECTED = "rejected"  # business rejection from the venue (see ``reason``)
    INTERNAL = "internal"


class CloseReason(StrEnum):
    NORMAL = "normal"
    GOING_AWAY = "going_away"  # shutdown
    POLICY = "policy"  # limits, slow consumer
    TOO_BIG = "too_big"
    HEARTBEAT = "heartbeat"  # no pong in time
    INTERNAL = "internal"
    UNSUPPORTED = "unsupported"  # dialect not built
    # finer reasons; a dialect without its own code for one closes with its POLICY code
    AUTH_FAILED = "auth_failed"  # repeated authentication failures
    RATE_LIMITED = "rate_limited"  # kept sending past its rate limits
    INVALID_SUBSCRIPTION = "invalid_subscription"  # repeated invalid subscriptions
    DUPLICATE = "duplicate_connection"  # too many connections for one API key


CLASS_KIND: dict[ReasonClass, ErrorKind] = {
    ReasonClass.INVALID: ErrorKind.REJECTED,
    ReasonClass.NOT_FOUND: ErrorKind.NOT_FOUND,
    ReasonClass.CONFLICT: ErrorKind.REJECTED,
    ReasonClass.REJECTED: ErrorKind.REJECTED,
    ReasonClass.ENDED: ErrorKind.REJECTED,
}
"""The gateway's error kind of each neutral reason class (``core.reasons``): a venue
rejection is REJECTED (each dialect refines it by ``Reason``), unless it names
something the venue does not know."""

REASON_KIND: dict[Reason, ErrorKind] = {r: CLASS_KIND[c] for r, c in REASON_CLASS.items()}


def reason_kind(reason: Reason) -> ErrorKind:
    return REASON_KIND[reason]


class SessionReason(StrEnum):
    """Why the gateway itself ends a session (not a venue ``Reason``)."""

    AUTH_FAILED = "auth_failed"  # the token expired or its key was revoked


ErrorReason = Reason | SessionReason
"""What ``render_error`` may be told beyond the error kind."""


# -- requests ------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class BadRequest:
    message: str
    kind: ErrorKind = ErrorKind.BAD_REQUEST
    action: str | None = None
    ref: object = None


@dataclass(frozen=True, slots=True)
class KeyLogin:
    api_key: str
    timestamp: int
    signature: str
    ref: object = None


@dataclass(frozen=True, slots=True)
class TokenLogin:
    token: str
    ref: object = None


@dataclass(frozen=True, slots=True)
class Topic:
    """One channel of a subscription; ``symbols`` empty means every instrument."""

    channel: Channel
    exchange: str | None = None
    symbols: tuple[str, ...] = ()
    depth: int | None = None
    wire: str = ""  # the channel's name as the client wrote it (for error messages)
    valuation_asset: str | None = None  # portfolio: value in this asset (None: default)
    margin_only: bool = False  # positions: margin positions only (typed)
    interval: str | None = None  # candles


@dataclass(frozen=True, slots=True)
class Subscribe:
    topics: tuple[Topic, ...]
    ref: object = None


@dataclass(frozen=True, slots=True)
class Unsubscribe:
    topics: tuple[Topic, ...]
    ref: object = None


@dataclass(frozen=True, slots=True)
class Pong:
    ref: object = None


@dataclass(frozen=True, slots=True)
class Ping:
    ref: object = None


@dataclass(frozen=True, slots=True)
class StatsRequest:
    """Ask for this connection's statistics (typed ``connection_stats``)."""

    ref: object = None


@dataclass(frozen=True, slots=True)
class PlaceRequest:
    exchange: str | None
    symbol: str
    side: str
    type: str
    amount: Decimal
    price: Decimal | None = None
    stop_price: Decimal | None = None
    time_in_force: str = "gtc"
    client_order_id: str | None = None
    post_only: bool = False
    reduce_only: bool = False
    leverage: int = 1
    ref: object = None
    stop_limit_price: Decimal | None = None  # OCO stop leg's limit (None: stop-market leg)
    # used as client_order_id when none is given and no live order of the user has it
    default_client_order_id: str | None = None


@dataclass(frozen=True, slots=True)
class CancelRequest:
    order_id: int | None
    client_order_id: str | None
    ref: object = None


@dataclass(frozen=True, slots=True)
class ModifyRequest:
    order_id: int | None
    client_order_id: str | None
    amount: Decimal | None = None
    price: Decimal | None = None
    stop_price: Decimal | None = None
    ref: object = None


@dataclass(frozen=True, slots=True)
class BatchRequest:
    """Several order operations answered one by one; a bad one spoils no other."""

    ops: tuple[PlaceRequest | CancelRequest | ModifyRequest | BadRequest, ...]
    ref: object = None


@dataclass(frozen=True, slots=True)
class AlertRequest:
    """Custom alert management: ``op`` is ``create``, ``list`` or ``delete``."""

    op: str
    name: str = ""
    condition: str = ""
    symbol: str = ""
    threshold: Decimal | None = None
    alert_id: int | None = None
    repeat: bool = False
    cooldown_ms: int = 0
    ref: object = None


Request = (
    BadRequest
    | KeyLogin
    | TokenLogin
    | Subscribe
    | Unsubscribe
    | Pong
    | Ping
    | StatsRequest
    | PlaceRequest
    | CancelRequest
    | ModifyRequest
    | BatchRequest
    | AlertRequest
)


@dataclass(frozen=True, slots=True)
class Head:
    """What the gateway needs of a frame before it reads the rest (``Dialect.head``):
    its rate-limit category, and the action and ``ref`` a refusal echoes."""

    category: str  # "auth", "subscribe", "order" or "other" (each dialect's CATEGORIES)
    action: str | None = None
    ref: object = None


# -- market data views (what the gateway reads from the market data facade) ------------


@dataclass(frozen=True, slots=True)
class BookView:
    """Top of an L2 book: (price_ticks, qty_lots), bids descending, asks ascending."""

    bids: tuple[tuple[int, int], ...] = ()
    asks: tuple[tuple[int, int], ...] = ()
    ts: int = 0
    sequence: int | None = None  # of the depth view (delta-style streams)
    checksum: int | None = None
    depth: int | None = None


@dataclass(frozen=True, slots=True)
class TickerView:
    """Rolling 24 h ticker in ticks/lots; None where nothing traded or the side is empty."""

    last: int | None = None
    volume: int = 0  # lots traded over 24 h
    bid: int | None = None
    ask: int | None = None
    high: int | None = None
    low: int | None = None
    ts: int = 0
    last_qty: int | None = None
    open: int | None = None
    change: int | None = None  # ticks, last - open
    change_ppm: int | None = None


@dataclass(frozen=True, slots=True)
class OrderFee:
    """Fees charged so far on one order (quote units)."""

    units: int = 0
    asset: str = ""
    rate_ppm: int = 0


@dataclass(slots=True)
class OrderAck:
    """What the venue said about an order request, for the dialect's reply."""

    ok: bool
    action: str  # "submit" | "cancel" | "modify"
    order_id: int | None
    client_order_id: str | None
    instrument: str | None
    reason: Reason = Reason.OK
    message: str = ""
    status: str | None = None
    extra: dict[str, object] = field(default_factory=dict)
    order: OrderUpdate | None = None  # the order's state after the operation


@dataclass(frozen=True, slots=True)
class BatchFailure:
    """One batch operation that failed (its error, as ``render_error`` would say it)."""

    kind: ErrorKind
    message: str
    reason: Reason | None = None


BatchItem = OrderAck | BatchFailure


@dataclass(frozen=True, slots=True)
class AlertInfo:
    """A custom alert as shown to its owner (threshold in the client's units)."""

    alert_id: int
    name: str
    condition: str
    instrument: str
    symbol: str
    threshold: Decimal
    repeat: bool
    cooldown_ms: int
    created: int
    state: str
    last_triggered: int | None = None


@dataclass(frozen=True, slots=True)
class ConnStats:
    """One connection's counters, for the typed ``connection_stats`` reply."""

    connected_at: int  # ms
    messages_received: int
    messages_sent: int
    subscriptions: int
    latency_ms: int | None  # last WebSocket ping/pong round trip


@dataclass(frozen=True, slots=True)
class AccountView:
    """A user's balances (asset, available units, reserved units) and positions, now."""

    user: str
    balances: tuple[tuple[Asset, int, int], ...]
    positions: tuple[tuple[Instrument, Position], ...]
