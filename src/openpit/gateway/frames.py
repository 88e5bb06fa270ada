"""WebSocket frames built by hand, once per message, for every subscriber.

Invariants:
- Server frames are never masked (RFC 6455 §5.1); we only ever send FIN text frames
  for data and a close frame, with RSV bits clear (no per-message compression).
- ``text_frame`` is pure: the same payload gives the same bytes, so one frame can be
  appended to thousands of outboxes.
"""

from __future__ import annotations

import struct

_FIN_TEXT = 0x81
_FIN_CLOSE = 0x88


def _header(first: int, length: int) -> bytes:
    if length < 126:
        return bytes((first, length))
    if length < 65536:
        return struct.pack("!BBH", first, 126, length)
    return struct.pack("!BBQ", first, 127, length)


def text_frame(payload: bytes) -> bytes:
    """A complete unmasked FIN text frame carrying ``payload`` (UTF-8 JSON)."""
    return _header(_FIN_TEXT, len(payload)) + payload


def close_frame(code: int, reason: str = "") -> bytes:
    """A close frame; the reason is cut to fit the 123-byte control-frame limit."""
    body = struct.pack("!H", code) + reason.encode()[:123]
    return _header(_FIN_CLOSE, len(body)) + body
