"""Per-address limits for anonymous WebSocket traffic (spec 004: "IP-based rate limiting").

Per remote address (``client_address``):
- at most ``[gateway] max_anonymous_per_address`` (default 50) connections that have not
  authenticated; the next upgrade from that address gets HTTP 429 ``too many
  unauthenticated connections from this address`` before any WebSocket is made (and
  ``openpit_ws_closes_total{reason="address_limit"}``);
- one shared ``[gateway] anonymous_rate`` bucket (default burst 300, 100/s) for frames on
  its unauthenticated connections, taken before each connection's own buckets. A refused
  frame is answered like any rate-limited frame: the dialect's rate-limit error, a strike,
  and past the dialect's strikes its rate-limit close code (docs/reliability.md "Flood
  policy").

Invariants:
- An authenticated connection counts for its key (``max_connections_per_key``) and not
  for its address: it leaves the address's set the next time that set is looked at (on
  the next upgrade from that address), so no hook in the login path is needed, and its
  frames no longer take from the address bucket.
- ``X-Forwarded-For`` is read only when the peer is in ``[gateway] trusted_proxies``
  (addresses or CIDR networks); the client is then the right-most entry that is not a
  trusted proxy. From any other peer the header is ignored.
- State is per address with a live connection: the last connection from an address
  takes its set and bucket with it, so memory follows live connections only.
"""

from __future__ import annotations

import ipaddress
import time
from collections.abc import Awaitable, Callable, Iterable
from typing import TYPE_CHECKING

from aiohttp import hdrs, web

from openpit.gateway.limits import RateLimiter, TokenBucket, _describe
from openpit.gateway.settings import GatewaySettings, RateLimit

if TYPE_CHECKING:
    from openpit.gateway.connection import Connection

Network = ipaddress.IPv4Network | ipaddress.IPv6Network
ADDRESS_BUCKET = "address"  # ``refused_by`` of a refusal by the address bucket
LIMIT_REASON = "address_limit"


def networks(values: Iterable[str]) -> tuple[Network, ...]:
    """``trusted_proxies`` entries as networks (a bare address is a /32 or /128)."""
    return tuple(ipaddress.ip_network(v.strip(), strict=False) for v in values)


def _parse(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    text = text.strip()
    if text.startswith("[") and "]" in text:  # "[::1]:443"
        text = text[1 : text.index("]")]
    elif text.count(":") == 1:  # "1.2.3.4:5678"
        text = text.split(":", 1)[0]
    try:
        return ipaddress.ip_address(text)
    except ValueError:
        return None


def client_address(peer: str | None, forwarded: str | None, trusted: tuple[Network, ...]) -> str:
    """The address limits apply to (module docstring): pure, headers in, a string out."""
    address = _parse(peer or "")
    if address is None:
        return peer or "unknown"
    if not trusted or forwarded is None:
        return str(address)

    def is_trusted(a: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
        return any(a in net for net in trusted)

    if not is_trusted(address):
        return str(address)
    for hop in reversed(forwarded.split(",")):
        parsed = _parse(hop)
        if parsed is None:
            break  # garbage: the last address we could trust is the answer
        address = parsed
        if not is_trusted(parsed):
            break
    return str(address)


class Slot:
    """One anonymous connection's place in its address's set."""

    __slots__ = ("address", "conn", "owner")

    def __init__(self, owner: AddressLimits, address: str) -> None:
        self.owner = owner
        self.address = address
        self.conn: Connection | None = None

    @property
    def authenticated(self) -> bool:
        return self.conn is not None and self.conn.principal is not None

    def release(self) -> None:
        self.owner.release(self)


class AddressLimits:
    """The per-address connection sets and frame buckets of one gateway."""

    def __init__(self, limit: int, rate: RateLimit, trusted: tuple[Network, ...]) -> None:
        self.limit = limit
        self.rate = rate
        self.trusted = trusted
        self.slots: dict[str, set[Slot]] = {}
        self.buckets: dict[str, TokenBucket] = {}
        self.by_request: dict[int, Slot] = {}  # id(request) -> slot, while it is handled

    @classmethod
    def from_settings(cls, s: GatewaySettings) -> AddressLimits:
        return cls(s.max_anonymous_per_address, s.anonymous_rate, networks(s.trusted_proxies))

    def admit(self, address: str, now: float) -> Slot | None:
        """A slot for a new connection from ``address``, or None at the cap."""
        slots = self.slots.get(address)
        if slots is None:
            slots = self.slots[address] = set()
            self.buckets[address] = TokenBucket(self.rate, now)
        elif len(slots) >= self.limit:
            slots.difference_update([s for s in slots if s.authenticated])
            if len(slots) >= self.limit:
                return None
        slot = Slot(self, address)
        slots.add(slot)
        return slot

    def release(self, slot: Slot) -> None:
        slots = self.slots.get(slot.address)
        if slots is None:
            return
        slots.discard(slot)
        if not slots:  # authenticated connections no longer use the bucket
            del self.slots[slot.address]
            self.buckets.pop(slot.address, None)

    def attach(self, slot: Slot, conn: Connection) -> None:
        """Link the connection to its slot; its frames take from the address bucket
        while it is unauthenticated."""
        slot.conn = conn
        bucket = self.buckets.get(slot.address)
        if bucket is not None:
            conn.limiter = AnonymousLimiter(conn.limiter, bucket, self.rate, conn)


class AnonymousLimiter(RateLimiter):
    """A connection's limiter with its address's bucket in front until it logs in."""

    __slots__ = ("address_bucket", "address_rate", "conn")

    def __init__(
        self, inner: RateLimiter, bucket: TokenBucket, rate: RateLimit, conn: Connection
    ) -> None:
        self.limits = {**inner.limits, ADDRESS_BUCKET: rate}
        self.buckets = {**inner.buckets, ADDRESS_BUCKET: bucket}  # shared with the address
        self.refused_by = ""
        self.address_bucket = bucket
        self.address_rate = rate
        self.conn = conn

    def allow(self, category: str, now: float) -> bool:
        if self.conn.principal is None and not self.address_bucket.take(now):
            self.refused_by = ADDRESS_BUCKET
            return False
        return super().allow(category, now)

    def refusal(self) -> tuple[str, float]:
        if self.refused_by != ADDRESS_BUCKET:
            return super().refusal()
        what = _describe("unauthenticated", self.address_rate)
        return (
            f"Rate limit exceeded for {what} from this address",
            self.address_bucket.retry_after(),
        )


# -- aiohttp wiring ----------------------------------------------------------------------

LIMITS = web.AppKey("openpit.gateway.address_limits", AddressLimits)
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def install(
    app: web.Application, settings: GatewaySettings, on_refused: Callable[[], None]
) -> None:
    """Per-address limits on every WebSocket upgrade of ``app`` (a middleware)."""
    limits = app[LIMITS] = AddressLimits.from_settings(settings)

    @web.middleware
    async def address_limit(request: web.Request, handler: Handler) -> web.StreamResponse:
        upgrade = request.headers.get(hdrs.UPGRADE, "").lower() == "websocket"
        if not upgrade or request.method != "GET":
            return await handler(request)
        address = client_address(
            request.remote, request.headers.get(hdrs.X_FORWARDED_FOR), limits.trusted
        )
        slot = limits.admit(address, time.monotonic())  # the clock ``session`` uses
        if slot is None:
            on_refused()
            return web.Response(
                status=429,
                text="too many unauthenticated connections from this address: "
                "authenticate the ones you have or close some\n",
            )
        limits.by_request[id(request)] = slot
        try:
            return await handler(request)
        finally:
            del limits.by_request[id(request)]
            slot.release()

    app.middlewares.append(address_limit)


def attach(request: web.Request, conn: Connection) -> None:
    """Called once the connection exists (``app._run``): its frames share the bucket."""
    limits = request.app.get(LIMITS)
    slot = None if limits is None else limits.by_request.get(id(request))
    if limits is not None and slot is not None:
        limits.attach(slot, conn)
