"""One client connection: its lifecycle state, its outbox and its byte budget.

Invariants:
- The lifecycle is explicit: CONNECTING → OPEN → AUTHENTICATED / SUBSCRIBED →
  CLOSING → CLOSED, and only the transitions in ``_ALLOWED`` happen (``transition``
  raises otherwise). Authentication is orthogonal to subscriptions: ``principal`` is
  set once, and a connection that subscribed to public data first stays SUBSCRIBED
  when it authenticates.
- Every message to the client is a pre-built frame appended to ``outbox``; the hub
  flushes each outbox with one ``transport.write`` per loop tick, so frames reach
  the socket in the order they were pushed, replies and streams alike.
- Unsent bytes (``pending`` in the outbox + the transport's write buffer at the last
  flush) never exceed ``budget``: the push that would cross it closes the
  connection with the dialect's policy-violation close instead; nothing is
  silently dropped and memory stays bounded.
- Replies leave in request order: an order's reply waits for its journal commit
  (``hold``/``fill``) while the connection goes on reading, and every reply sent
  meanwhile queues behind it (stream messages do not: they are never replies).
- After CLOSING nothing more is queued.
- ``abandon`` (a flooder's close) sends the close frame right behind the notice and
  closes the transport: nothing more is read from that client and its close reply is
  not awaited, so a flood costs no CPU once the decision is made.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Callable
from enum import StrEnum
from typing import TYPE_CHECKING, Protocol

from openpit.core.access import Principal
from openpit.core.errors import OpenpitError
from openpit.gateway.frames import Deflater, close_frame, text_frame
from openpit.gateway.limits import RateLimiter

if TYPE_CHECKING:
    from openpit.gateway.dialects.base import Bound
    from openpit.gateway.subscriptions import Key


class ConnState(StrEnum):
    CONNECTING = "connecting"
    OPEN = "open"
    AUTHENTICATED = "authenticated"
    SUBSCRIBED = "subscribed"
    CLOSING = "closing"
    CLOSED = "closed"


_ALLOWED: dict[ConnState, frozenset[ConnState]] = {
    ConnState.CONNECTING: frozenset({ConnState.OPEN, ConnState.CLOSING, ConnState.CLOSED}),
    ConnState.OPEN: frozenset(
        {ConnState.AUTHENTICATED, ConnState.SUBSCRIBED, ConnState.CLOSING, ConnState.CLOSED}
    ),
    ConnState.AUTHENTICATED: frozenset({ConnState.SUBSCRIBED, ConnState.CLOSING, ConnState.CLOSED}),
    ConnState.SUBSCRIBED: frozenset(
        {ConnState.OPEN, ConnState.AUTHENTICATED, ConnState.CLOSING, ConnState.CLOSED}
    ),
    ConnState.CLOSING: frozenset({ConnState.CLOSED}),
    ConnState.CLOSED: frozenset(),
}


class InvalidTransition(OpenpitError, RuntimeError):
    pass


class Transport(Protocol):
    def write(self, data: bytes) -> None: ...

    def get_write_buffer_size(self) -> int: ...

    def is_closing(self) -> bool: ...


class Hub(Protocol):
    """What a connection needs from the gateway: flush scheduling and closing."""

    def mark_dirty(self, conn: Connection) -> None: ...

    def over_budget(self, conn: Connection) -> None: ...


class Connection:
    __slots__ = (
        "budget",
        "buffered",
        "bytes_out",
        "close_code",
        "close_reason",
        "closed",
        "closer",
        "connected",
        "deflater",
        "dialect",
        "endpoint",
        "held",
        "hub",
        "id",
        "last_beat",
        "last_rx",
        "latency_ms",
        "limiter",
        "messages_in",
        "messages_out",
        "outbox",
        "pending",
        "ping_sent",
        "principal",
        "state",
        "strikes",
        "subscriptions",
        "transport",
    )

    def __init__(
        self,
        conn_id: int,
        dialect: Bound,
        transport: Transport,
        hub: Hub,
        limiter: RateLimiter,
        budget: int,
        now: float,
    ) -> None:
        self.id = conn_id
        self.dialect = dialect
        self.transport = transport
        self.hub = hub
        self.limiter = limiter
        self.budget = budget
        self.state = ConnState.CONNECTING
        self.principal: Principal | None = None
        self.outbox: list[bytes] = []
        self.pending = 0
        self.buffered = 0
        self.bytes_out = 0
        self.messages_out = 0
        self.subscriptions: set[Key] = set()
        self.last_rx = now
        self.ping_sent: float | None = None
        self.close_code: int | None = None
        self.close_reason = ""
        self.closed: asyncio.Event = asyncio.Event()
        self.closer: Callable[[int, str], None] | None = None
        self.endpoint = ""  # the URL path it connected to (envelope has four)
        self.connected = now
        self.last_beat = now  # last periodic heartbeat sent ("periodic" dialects)
        self.strikes: dict[str, int] = {}  # failures per kind, for dialect ``strikes``
        self.deflater: Deflater | None = None  # permessage-deflate negotiated (typed)
        self.messages_in = 0
        # replies in request order: a slot per reply still waiting for the journal
        # commit (``hold``), and the replies queued behind the first such slot
        self.held: deque[list[bytes | None]] = deque()
        self.latency_ms: int | None = None  # last WebSocket ping/pong round trip

    def __repr__(self) -> str:
        user = self.principal.user if self.principal else None
        return f"<Connection {self.id} {self.dialect.name} {self.state} user={user}>"

    @property
    def user(self) -> str | None:
        return None if self.principal is None else self.principal.user

    @property
    def active(self) -> bool:
        return self.state not in (ConnState.CLOSING, ConnState.CLOSED)

    def transition(self, new: ConnState) -> None:
        if new is self.state:
            return
        if new not in _ALLOWED[self.state]:
            raise InvalidTransition(f"{self.state} -> {new}")
        self.state = new

    def settle(self) -> None:
        """Back to OPEN/AUTHENTICATED/SUBSCRIBED after subscriptions or login changed."""
        if not self.active:
            return
        if self.subscriptions:
            self.transition(ConnState.SUBSCRIBED)
        elif self.principal is not None:
            self.transition(ConnState.AUTHENTICATED)
        else:
            self.transition(ConnState.OPEN)

    # -- output ------------------------------------------------------------------
    def push_frame(self, frame: bytes) -> bool:
        """Queue a pre-built frame; False (and the connection closes) if over budget."""
        if self.state is ConnState.CLOSING or self.state is ConnState.CLOSED:
            return False
        if self.deflater is not None:  # own compression context: re-frame per connection
            frame = self.deflater.reframe(frame)
        size = len(frame)
        if self.pending + self.buffered + size > self.budget:
            self.buffered = self.transport.get_write_buffer_size()
            if self.pending + self.buffered + size > self.budget:
                self.hub.over_budget(self)
                return False
        if not self.outbox:
            self.hub.mark_dirty(self)
        self.outbox.append(frame)
        self.pending += size
        return True

    def send(self, payload: bytes) -> bool:
        """Frame and queue one message (replies: framed per connection), after every
        reply this connection is still waiting for (``hold``)."""
        if self.held:
            self.held.append([payload])
            return True
        return self.push_frame(text_frame(payload))

    def hold(self) -> list[bytes | None]:
        """Keep the place of a reply that is not ready yet (an order waiting for its
        journal commit): later replies queue behind it. Release it with ``fill``."""
        slot: list[bytes | None] = [None]
        self.held.append(slot)
        return slot

    def fill(self, slot: list[bytes | None], payload: bytes) -> None:
        """The held reply is ready (``b""``: none); send it and every ready one after it."""
        slot[0] = payload
        held = self.held
        while held and held[0][0] is not None:
            ready = held.popleft()[0]
            if ready:
                self.push_frame(text_frame(ready))

    def flush(self) -> int:
        """Write the whole outbox with one ``transport.write``; returns bytes written."""
        if not self.outbox:
            return 0
        data = self.outbox[0] if len(self.outbox) == 1 else b"".join(self.outbox)
        count = len(self.outbox)
        self.outbox.clear()
        self.pending = 0
        if self.transport.is_closing():
            return 0
        self.transport.write(data)
        self.buffered = self.transport.get_write_buffer_size()
        self.bytes_out += len(data)
        self.messages_out += count
        return len(data)

    def abandon(self) -> None:
        """After ``Hub.close``: the close frame now, then close the transport (asyncio
        still sends what is buffered, notice and close frame included)."""
        if self.close_code is None or self.transport.is_closing():
            return
        self.flush()
        self.transport.write(close_frame(self.close_code, self.close_reason[:120]))
        close = getattr(self.transport, "close", None)
        if callable(close):
            close()

    def refresh_buffered(self) -> None:
        self.buffered = self.transport.get_write_buffer_size()
