"""Static conformance: mypy checks this package against the dialect contract.

One line per protocol the spec declares (``spec.groups``); ``bind`` checks the same
at load time. Imported by nothing at run time."""

from __future__ import annotations

from openpit.gateway.dialects import envelope
from openpit.gateway.dialects.base import (
    Account,
    AlertReplies,
    Batch,
    BookDeltas,
    Candles,
    Dialect,
    Fills,
    Screen,
)

_core: Dialect = envelope
_account: Account = envelope
_alert_replies: AlertReplies = envelope
_batch: Batch = envelope
_book_deltas: BookDeltas = envelope
_candles: Candles = envelope
_fills: Fills = envelope
_screen: Screen = envelope
