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


class Channel(StrEnum):
    TICKER = "ticker"
    BOOK = "book"
    TRADES = "trades"
    ORDERS = "orders"
    POSITIONS = "positions"
    SYSTEM = "system"

    @property
    def private(self) -> bool:
        return self in (Channel.ORDERS, Channel.POSITIONS)


ALL_INSTRUMENTS = "*"  # instrument key of a private subscription without symbols


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


REASON_KIND: dict[Reason, ErrorKind] = {
    Reason.UNKNOWN_INSTRUMENT: ErrorKind.NOT_FOUND,
    Reason.UNKNOWN_ORDER: ErrorKind.NOT_FOUND,
    Reason.UNKNOWN_USER: ErrorKind.NOT_FOUND,
}
"""Venue reason codes that are not a plain rejection; everything else is REJECTED."""


def reason_kind(reason: Reason) -> ErrorKind:
    return REASON_KIND.get(reason, ErrorKind.REJECTED)


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


Request = (
    BadRequest
    | KeyLogin
    | TokenLogin
    | Subscribe
    | Unsubscribe
    | Pong
    | Ping
    | PlaceRequest
    | CancelRequest
    | ModifyRequest
)


def category(request: Request) -> str:
    """The rate-limit category of a request."""
    if isinstance(request, KeyLogin | TokenLogin):
        return "auth"
    if isinstance(request, Subscribe | Unsubscribe):
        return "subscribe"
    if isinstance(request, PlaceRequest | CancelRequest | ModifyRequest):
        return "order"
    return "other"


# -- market data views (what the gateway reads from the market data facade) ------------


@dataclass(frozen=True, slots=True)
class BookView:
    """Top of an L2 book: (price_ticks, qty_lots), bids descending, asks ascending."""

    bids: tuple[tuple[int, int], ...] = ()
    asks: tuple[tuple[int, int], ...] = ()
    ts: int = 0


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
