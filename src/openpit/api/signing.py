"""Request signing for the REST API: the same API keys as the sockets, one HMAC per request.

A signed request carries three headers::

    X-OPENPIT-APIKEY     the API key id
    X-OPENPIT-TIMESTAMP  milliseconds since the epoch (integer, decimal text)
    X-OPENPIT-SIGNATURE  hex HMAC-SHA256(api_secret, timestamp + METHOD + path + body)

``path`` is the request target exactly as sent (path plus ``?query`` if any, e.g.
``/api/v1/orders?symbol=BTCUSDT``); ``METHOD`` is upper case; ``body`` the raw body
bytes (empty for GET/DELETE without a body). Example: timestamp ``1700000000000``,
``GET /api/v1/account/balances`` signs ``"1700000000000GET/api/v1/account/balances"``.

Invariants:
- A timestamp outside ``now ± window`` (default 30 s) is refused, and so is a
  signature already seen inside the window (replay); signatures are compared in
  constant time; secrets never appear in errors.
- A revoked key is refused on its next request.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable

from openpit.core.access import ApiKey, Principal
from openpit.core.errors import OpenpitError
from openpit.gateway.auth import ReplayGuard
from openpit.store import Store

HEADER_KEY = "X-OPENPIT-APIKEY"
HEADER_TIMESTAMP = "X-OPENPIT-TIMESTAMP"
HEADER_SIGNATURE = "X-OPENPIT-SIGNATURE"


def sign_request(secret: str, timestamp: int, method: str, path: str, body: bytes = b"") -> str:
    """hex HMAC-SHA256(secret, str(timestamp) + METHOD + path + body)."""
    message = f"{timestamp}{method.upper()}{path}".encode() + body
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def signed_headers(
    api_key: str, secret: str, timestamp: int, method: str, path: str, body: bytes = b""
) -> dict[str, str]:
    return {
        HEADER_KEY: api_key,
        HEADER_TIMESTAMP: str(timestamp),
        HEADER_SIGNATURE: sign_request(secret, timestamp, method, path, body),
    }


class SignatureError(OpenpitError):
    """Authentication failed; ``str(exc)`` is safe to show."""


class RequestVerifier:
    def __init__(self, store: Store, clock_ms: Callable[[], int], window_ms: int = 30_000):
        self.store = store
        self.clock_ms = clock_ms
        self.window_ms = window_ms
        self.replays = ReplayGuard(window_ms)

    def verify(
        self,
        api_key: str | None,
        timestamp: str | None,
        signature: str | None,
        method: str,
        path: str,
        body: bytes,
    ) -> Principal:
        if not api_key or not timestamp or not signature:
            raise SignatureError(
                f"missing authentication headers: send {HEADER_KEY}, {HEADER_TIMESTAMP} and "
                f"{HEADER_SIGNATURE} (see /api/v1/docs)"
            )
        if not timestamp.isdigit() or len(timestamp) > 16:
            raise SignatureError(f"{HEADER_TIMESTAMP} must be integer milliseconds")
        ts = int(timestamp)
        key: ApiKey | None = self.store.get_api_key(api_key)
        if key is None:
            raise SignatureError("unknown API key")
        if not key.active:
            raise SignatureError("API key revoked")
        now = self.clock_ms()
        if abs(now - ts) > self.window_ms:
            raise SignatureError(
                f"timestamp {ts} is outside the allowed window of ±{self.window_ms} ms "
                f"around server time {now}"
            )
        expected = sign_request(key.secret, ts, method, path, body)
        if not hmac.compare_digest(expected.encode(), signature.lower().encode()):
            raise SignatureError(
                "invalid signature: expected hex HMAC-SHA256(secret, timestamp + METHOD + "
                "path + body)"
            )
        if not self.replays.check_and_remember(f"{api_key}:{expected}", ts, now):
            raise SignatureError("signature already used (replayed request)")
        return Principal.of_key(key)
