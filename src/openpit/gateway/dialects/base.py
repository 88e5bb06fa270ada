"""The dialect plug-in interface: one pure module per wire dialect, all the same shape.

Invariants:
- A dialect is pure and synchronous: ``head`` reads only what the rate limiter needs
  of a frame (its category, and what a refusal echoes) with the cheapest decode, and
  never raises; ``parse`` turns one text frame into one neutral ``Request``; every
  ``render_*`` turns neutral data into the JSON payload bytes of one message. No I/O,
  no clock reads (timestamps come in as ``ts``), no state.
- Market and private renderers are called once per event per variant; the gateway
  frames the bytes once and fans them out, so a renderer must not depend on who
  receives the message.
- ``close_codes`` maps each neutral ``CloseReason`` to the dialect's close code.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Protocol

from openpit.core.access import Principal
from openpit.core.events import InstrumentStatus, OrderUpdate, Position, Trade
from openpit.core.instrument import Instrument
from openpit.gateway.model import (
    BookView,
    CloseReason,
    ErrorKind,
    Head,
    OrderAck,
    OrderFee,
    Request,
    Subscribe,
    TickerView,
    Unsubscribe,
)


class Dialect(Protocol):
    @property
    def name(self) -> str: ...

    @property
    def close_codes(self) -> Mapping[CloseReason, int]: ...

    @property
    def field_names(self) -> Mapping[str, str]:
        """Neutral field name ("qty", "price", ...) -> the dialect's wire name."""
        ...

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
        reason: str | None = None,
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


# -- optional renderers --------------------------------------------------------------------
# A dialect implements only the streams its spec has; the gateway looks these up with
# ``extension(dialect, name)`` and skips a dialect that lacks one (or returns None):
#
#   render_alert(event: AnyAlertEvent, inst: Instrument | None) -> bytes | None
#       non-venue events published with ``Hub.publish_alert`` (notifications, custom
#       alerts, risk alerts, arbitrage, margin calls, exchange connection status)
#   render_book_delta(inst: Instrument, delta: BookDelta) -> bytes
#   render_candle(inst: Instrument, candle: Candle, ts: int) -> bytes
#   render_fill(inst: Instrument, fill: Fill) -> bytes
#   render_account(account: AccountView, ts: int) -> bytes
#   render_batch(items: Sequence[tuple[BatchItem, Instrument | None]], ts: int,
#       request: Request) -> bytes
#   render_alert_reply(op: str, alerts: Sequence[AlertInfo], ts: int, request: Request)
#       -> bytes
#   screen(endpoint: str, request: Request, authenticated: bool) -> Request
#       re-check a parsed request against the URL path it arrived on
#   strikes: Mapping[CloseReason, int]  close after that many failures of one kind
#       (every dialect declares RATE_LIMITED: its flood policy, docs/reliability.md)
#   heartbeat: str  "idle" (default: ping after ping_interval of silence, close after
#       pong_timeout) or "periodic" (ping every ping_interval, close after idle_timeout
#       without any inbound message)


def extension(dialect: Dialect, name: str) -> Callable[..., bytes | None] | None:
    """An optional renderer of ``dialect`` (see above), or None."""
    fn = getattr(dialect, name, None)
    return fn if callable(fn) else None
