"""The REST API's wire shapes: one msgspec Struct per request body, query string and reply.

Invariants:
- These Structs are the only definition of the API: handlers decode and validate with
  them and ``openapi.build_document`` derives the OpenAPI schemas from them with
  ``msgspec.json.schema_components``; the document cannot drift from the code.
- Prices, quantities and money are decimal strings on the wire (``"42650.50"``):
  requests may also send JSON numbers, which are read exactly from their text.
- Times are integer milliseconds since the epoch; order ids are decimal strings.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Literal

import msgspec

from openpit.alerts.events import AlertCondition, NotificationLevel
from openpit.core.enums import (
    InstrumentKind,
    Liquidity,
    OrderStatus,
    OrderType,
    Side,
    TimeInForce,
)
from openpit.store import Permission

Name = Annotated[str, msgspec.Meta(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.\-]+$")]
Symbol = Annotated[str, msgspec.Meta(min_length=1, max_length=64)]
ClientOrderId = Annotated[str, msgspec.Meta(min_length=1, max_length=64)]
Limit = Annotated[int, msgspec.Meta(ge=1, le=1000)]
Millis = Annotated[int, msgspec.Meta(ge=0, le=2**53)]
Cursor = Annotated[int, msgspec.Meta(ge=1, le=2**53)]
Dec = Annotated[str, msgspec.Meta(extra_json_schema={"format": "decimal"}, examples=["42650.50"])]
"""A decimal in replies: fixed-point text with the asset's or instrument's places."""
Text = Annotated[str, msgspec.Meta(min_length=1, max_length=500)]


class _In(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """Base of request bodies: unknown fields are an error, not silently ignored."""


class _Query(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """Base of query strings (values arrive as text and are converted)."""


class _Out(msgspec.Struct, kw_only=True):
    """Base of replies."""


# -- errors --------------------------------------------------------------------------------


class Error(_Out):
    """Every error reply. ``code`` is machine-readable: the venue's reason code for
    order and funds rejections (``insufficient_funds``, ``unknown_order``, ...), or
    one of ``invalid_parameter``, ``unauthorized``, ``forbidden``, ``not_found``,
    ``already_exists``, ``limit_exceeded``, ``not_enabled``, ``internal_error``."""

    code: str
    message: str
    status: int


# -- public --------------------------------------------------------------------------------


class ServerTime(_Out):
    server_time: int
    iso: str


class VenueStatus(_Out):
    id: str
    name: str
    status: str


class InstrumentState(_Out):
    symbol: str
    exchange: str
    halted: bool


class Status(_Out):
    status: Literal["ok", "shutting_down"]
    server_time: int
    sequence: int
    connections: int
    dialects: list[str]
    venues: list[VenueStatus]
    instruments: list[InstrumentState]


class InstrumentInfo(_Out):
    id: str
    exchange: str
    symbol: str
    aliases: list[str]
    base: str
    quote: str
    kind: InstrumentKind
    tick_size: Dec
    lot_size: Dec
    min_qty: Dec
    max_leverage: int
    maker_fee: Dec
    taker_fee: Dec
    halted: bool


class SymbolQuery(_Query):
    symbol: Symbol
    exchange: Symbol | None = None


class BookQuery(_Query):
    symbol: Symbol
    exchange: Symbol | None = None
    depth: Annotated[int, msgspec.Meta(ge=1, le=1000)] = 20


class OrderBook(_Out):
    symbol: str
    exchange: str
    sequence: int
    checksum: int
    bids: list[tuple[Dec, Dec]]
    asks: list[tuple[Dec, Dec]]
    timestamp: int


class TradesQuery(_Query):
    symbol: Symbol
    exchange: Symbol | None = None
    limit: Limit = 100


class PublicTrade(_Out):
    id: str
    price: Dec
    amount: Dec
    side: Side
    timestamp: int


class TickerReply(_Out):
    symbol: str
    exchange: str
    last: Dec | None
    bid: Dec | None
    ask: Dec | None
    open: Dec | None
    high: Dec | None
    low: Dec | None
    volume: Dec
    quote_volume: Dec
    trades: int
    change: Dec | None
    change_percent: Dec | None
    timestamp: int


Interval = Literal["1m", "5m", "15m", "1h", "4h", "1d", "1w"]


class CandlesQuery(_Query):
    symbol: Symbol
    exchange: Symbol | None = None
    interval: Interval = "1m"
    start: Millis | None = None
    end: Millis | None = None
    limit: Limit | None = None


class CandleReply(_Out):
    start: int
    end: int
    open: Dec
    high: Dec
    low: Dec
    close: Dec
    volume: Dec
    quote_volume: Dec
    trades: int
    closed: bool


# -- account ---------------------------------------------------------------------------------


class BalanceReply(_Out):
    asset: str
    available: Dec
    reserved: Dec
    total: Dec


class PositionReply(_Out):
    symbol: str
    exchange: str
    type: Literal["spot", "margin"]
    side: Literal["long", "short", "flat"]
    amount: Dec
    entry_price: Dec | None
    mark_price: Dec | None
    unrealized_pnl: Dec | None
    realized_pnl: Dec
    leverage: int
    liquidation_price: Dec | None


# -- orders --------------------------------------------------------------------------------


class OrderRequest(_In):
    """A new order. ``amount`` in base units, ``price`` the limit price."""

    symbol: Symbol
    side: Side
    amount: Decimal
    exchange: Symbol | None = None
    type: OrderType = OrderType.LIMIT
    price: Decimal | None = None
    stop_price: Decimal | None = None
    stop_limit_price: Decimal | None = None
    trail_percent: Decimal | None = None
    time_in_force: TimeInForce = TimeInForce.GTC
    client_order_id: ClientOrderId | None = None
    post_only: bool = False
    reduce_only: bool = False
    leverage: Annotated[int, msgspec.Meta(ge=1, le=1000)] = 1
    deadline: Millis | None = None


class ModifyRequest(_In):
    """Change amount and/or price: a smaller amount keeps queue priority."""

    amount: Decimal | None = None
    price: Decimal | None = None
    stop_price: Decimal | None = None


class OrderReply(_Out):
    id: str
    client_order_id: str | None
    symbol: str
    exchange: str
    side: Side
    type: OrderType
    time_in_force: TimeInForce
    status: OrderStatus
    price: Dec | None
    stop_price: Dec | None
    amount: Dec
    filled: Dec
    remaining: Dec
    cancelled: Dec
    average: Dec | None
    reason: str
    post_only: bool
    reduce_only: bool
    leverage: int
    created: int
    updated: int


class OrdersQuery(_Query):
    symbol: Symbol | None = None
    exchange: Symbol | None = None


class HistoryQuery(_Query):
    symbol: Symbol | None = None
    exchange: Symbol | None = None
    before: Cursor | None = None
    limit: Limit = 100


class OrderPage(_Out):
    items: list[OrderReply]
    next_cursor: int | None


class FillReply(_Out):
    order_id: str
    client_order_id: str | None
    trade_id: str
    symbol: str
    exchange: str
    side: Side
    price: Dec
    amount: Dec
    liquidity: Liquidity
    fee: Dec
    fee_asset: str
    timestamp: int


class FillPage(_Out):
    items: list[FillReply]
    next_cursor: int | None


class CancelAllReply(_Out):
    cancelled: list[OrderReply]


# -- alerts ----------------------------------------------------------------------------------


class AlertRequest(_In):
    name: Text
    condition: AlertCondition
    symbol: Symbol
    threshold: Decimal
    repeat: bool = False
    cooldown_ms: Annotated[int, msgspec.Meta(ge=0, le=30 * 86_400_000)] = 0


class AlertReply(_Out):
    id: int
    name: str
    condition: AlertCondition
    symbol: str
    exchange: str
    threshold: Dec
    repeat: bool
    cooldown_ms: int
    created: int
    last_triggered: int | None


class Deleted(_Out):
    deleted: bool


# -- tokens ----------------------------------------------------------------------------------


class TokenRequest(_In):
    ttl_seconds: Annotated[int, msgspec.Meta(ge=60, le=30 * 86_400)] = 3600


class TokenReply(_Out):
    token: str
    token_type: Literal["Bearer"]
    user: str
    expires_at: int


# -- admin -----------------------------------------------------------------------------------


class UserRequest(_In):
    user: Name


class UserReply(_Out):
    id: str
    created: int


class KeyRequest(_In):
    user: Name
    permissions: Annotated[list[Permission], msgspec.Meta(min_length=1, max_length=3)] = (
        msgspec.field(default_factory=lambda: [Permission.READ, Permission.TRADE])
    )
    create_user: bool = False  # create ``user`` first if it does not exist


class KeyReply(_Out):
    api_key: str
    user: str
    permissions: list[Permission]
    created: int
    revoked: int | None


class KeyCreated(_Out):
    api_key: str
    api_secret: str
    user: str
    permissions: list[Permission]
    created: int


class KeysQuery(_Query):
    user: Name | None = None


class RevokeReply(_Out):
    api_key: str
    revoked: bool
    connections_closed: int


class FundsRequest(_In):
    user: Name
    asset: Symbol
    amount: Decimal


class FundsReply(_Out):
    user: str
    asset: str
    balance: BalanceReply


class NotificationRequest(_In):
    title: Text
    message: Text
    level: NotificationLevel = NotificationLevel.INFO
    link: Annotated[str, msgspec.Meta(max_length=500)] | None = None


class NotificationReply(_Out):
    id: int
    level: NotificationLevel
    title: str
    message: str
    link: str | None
    timestamp: int
    delivered: bool


class HaltRequest(_In):
    reason: Annotated[str, msgspec.Meta(max_length=200)] = ""
    until: Millis | None = None


class HaltReply(_Out):
    symbol: str
    exchange: str
    halted: bool
    reason: str
