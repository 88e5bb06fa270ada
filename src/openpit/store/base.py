"""The store interface: accounts, API keys, alerts, and order/trade history.

Invariants:
- The journal is the source of truth for orders and trades; the history tables are a
  query-friendly projection of the venue's events and can be rebuilt by replay, so
  history writes are idempotent: orders are keyed by ``order_id`` and keep the latest
  update (by ``(seq, useq)``), fills by ``(order_id, trade_id)``, trades by
  ``(instrument, trade_id)``. Writing the same events twice changes nothing.
- Users, API keys and alerts are not in the journal: the store is their only home.
- Paging is by cursor, newest first: ``before`` is the id of the last item of the
  previous page (``Page.next_cursor``), ``None`` for the first page.
- Timestamps are integer milliseconds, like everywhere in the venue.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from dataclasses import dataclass
from enum import StrEnum
from typing import Generic, Protocol, TypeVar

from openpit.core.access import ApiKey
from openpit.core.enums import OrderStatus
from openpit.core.errors import OpenpitError
from openpit.core.events import Event, Fill, OrderUpdate, Trade

ItemT = TypeVar("ItemT")

DEFAULT_PAGE = 100
MAX_PAGE = 1000


class StoreError(OpenpitError):
    """Base of store errors."""


class AlreadyExists(StoreError):
    """A create with an id that is taken."""


class NotFound(StoreError):
    """An operation on a row that does not exist (e.g. an API key for an unknown user)."""


class AlertState(StrEnum):
    ACTIVE = "active"
    TRIGGERED = "triggered"  # fired and not repeating
    DISABLED = "disabled"


@dataclass(frozen=True, slots=True)
class User:
    id: str
    created: int


@dataclass(frozen=True, slots=True)
class Alert:
    id: int
    user: str
    name: str
    condition: str  # e.g. "price_above", owned by openpit.alerts
    symbol: str
    threshold: str  # exact decimal as text
    repeat: bool
    cooldown_ms: int
    state: AlertState
    created: int
    last_triggered: int | None = None


@dataclass(frozen=True, slots=True)
class Page(Generic[ItemT]):
    items: list[ItemT]
    next_cursor: int | None  # pass as ``before`` for the next page; None: no more


@dataclass(frozen=True, slots=True)
class HistoryCounts:
    orders: int = 0  # order rows inserted or updated
    fills: int = 0  # new fill rows
    trades: int = 0  # new trade rows


class Store(Protocol):
    # -- users --------------------------------------------------------------------------
    def create_user(self, user_id: str, created: int) -> User: ...

    def get_user(self, user_id: str) -> User | None: ...

    def list_users(self) -> list[User]: ...

    # -- API keys -----------------------------------------------------------------------
    def create_api_key(self, key: ApiKey) -> None: ...

    def get_api_key(self, key_id: str) -> ApiKey | None: ...

    def list_api_keys(self, user: str) -> list[ApiKey]: ...

    def revoke_api_key(self, key_id: str, ts: int) -> bool: ...

    # -- alerts -------------------------------------------------------------------------
    def create_alert(
        self,
        *,
        user: str,
        name: str,
        condition: str,
        symbol: str,
        threshold: str,
        created: int,
        repeat: bool = False,
        cooldown_ms: int = 0,
        state: AlertState = AlertState.ACTIVE,
    ) -> Alert: ...

    def get_alert(self, alert_id: int) -> Alert | None: ...

    def list_alerts(
        self, user: str | None = None, state: AlertState | None = None
    ) -> list[Alert]: ...

    def update_alert(
        self,
        alert_id: int,
        *,
        state: AlertState | None = None,
        last_triggered: int | None = None,
    ) -> Alert | None: ...

    def delete_alert(self, alert_id: int) -> bool: ...

    # -- history ------------------------------------------------------------------------
    def write_history(self, events: Iterable[Event]) -> HistoryCounts: ...

    def history_seq(self) -> int: ...

    def get_order(self, order_id: int) -> OrderUpdate | None: ...

    def get_order_by_client_id(self, user: str, client_order_id: str) -> OrderUpdate | None: ...

    def list_orders(
        self,
        user: str,
        *,
        statuses: Collection[OrderStatus] | None = None,
        instrument: str | None = None,
        before: int | None = None,
        limit: int = DEFAULT_PAGE,
    ) -> Page[OrderUpdate]: ...

    def list_fills(
        self,
        user: str,
        *,
        instrument: str | None = None,
        before: int | None = None,
        limit: int = DEFAULT_PAGE,
    ) -> Page[Fill]: ...

    def list_trades(
        self, instrument: str, *, before: int | None = None, limit: int = DEFAULT_PAGE
    ) -> Page[Trade]: ...

    def close(self) -> None: ...
