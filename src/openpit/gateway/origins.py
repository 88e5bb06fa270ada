"""Which browser origins may open a WebSocket on the gateway.

Invariants:
- Pure: header values in, a yes/no out.
- Allowed without configuration: no ``Origin`` header (not a browser: bots, SDKs,
  curl); the same origin as the request's ``Host`` (scheme default ports folded:
  ``https://venue.example`` matches ``Host: venue.example`` and ``venue.example:443``);
  ``localhost``, ``*.localhost``, ``127.0.0.1`` and ``[::1]`` on any port (local
  development and the dashboard's tests).
- ``allowed`` adds exact origins (``scheme://host[:port]``, compared case-insensitively,
  default ports folded) or ``"*"`` for any. Everything else, ``Origin: null``
  included, is refused.
"""

from __future__ import annotations

from collections.abc import Collection
from typing import Final
from urllib.parse import urlsplit

_DEFAULT_PORTS: Final = {"http": 80, "ws": 80, "https": 443, "wss": 443}
_LOOPBACK: Final = frozenset({"localhost", "127.0.0.1", "::1"})


def _origin(text: str) -> tuple[str, str, int | None] | None:
    """(scheme, host, port or None for the scheme's default), or None if unparsable."""
    try:
        parts = urlsplit(text.strip())
        port = parts.port
    except ValueError:
        return None
    scheme = parts.scheme.lower()
    host = (parts.hostname or "").lower()
    if not scheme or not host:
        return None
    if port == _DEFAULT_PORTS.get(scheme):
        port = None
    return scheme, host, port


def _host(text: str, scheme: str) -> tuple[str, int | None] | None:
    """A ``Host`` header as (host, port or None for ``scheme``'s default port)."""
    parsed = _origin(f"{scheme}://{text}")
    return None if parsed is None else (parsed[1], parsed[2])


def origin_allowed(origin: str | None, host: str | None, allowed: Collection[str] = ()) -> bool:
    """May a WebSocket upgrade with this ``Origin`` to this ``Host`` go ahead?

    >>> origin_allowed(None, "venue.example")
    True
    >>> origin_allowed("https://venue.example", "venue.example")
    True
    >>> origin_allowed("http://localhost:5173", "venue.example")
    True
    >>> origin_allowed("https://evil.example", "venue.example")
    False
    >>> origin_allowed("https://app.example", "venue.example", ["https://app.example"])
    True
    """
    if origin is None:
        return True
    if "*" in allowed:
        return True
    parsed = _origin(origin)
    if parsed is None:
        return False
    scheme, name, port = parsed
    if name in _LOOPBACK or name.endswith(".localhost"):
        return True
    if host is not None and _host(host, scheme) == (name, port):
        return True
    return any(_origin(entry) == parsed for entry in allowed)
