"""Persistent state outside the journal: users, API keys, alerts, order/trade history.

``Store`` is the interface; ``SqliteStore`` the embedded default (one SQLite file in
the data directory, WAL mode); ``HistoryWriter`` projects venue events into the
history tables off the event loop.
"""

from openpit.core.access import ApiKey, Permission
from openpit.store.base import (
    Alert,
    AlertState,
    AlreadyExists,
    HistoryCounts,
    NotFound,
    Page,
    Store,
    StoreError,
    User,
)
from openpit.store.history import HistoryWriter
from openpit.store.sqlite import DB_NAME, SqliteStore

__all__ = [
    "DB_NAME",
    "Alert",
    "AlertState",
    "AlreadyExists",
    "ApiKey",
    "HistoryCounts",
    "HistoryWriter",
    "NotFound",
    "Page",
    "Permission",
    "SqliteStore",
    "Store",
    "StoreError",
    "User",
]
