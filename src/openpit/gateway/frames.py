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


_FIN_PING = 0x89
_RSV1 = 0x40


def ping_frame(payload: bytes = b"") -> bytes:
    """A server ping control frame (payload at most 125 bytes)."""
    return _header(_FIN_PING, len(payload[:125])) + payload[:125]


def _split(block: bytes) -> list[tuple[int, bytes]]:
    """(first byte, payload) of each unmasked frame in ``block`` (built by this module)."""
    out = []
    pos, n = 0, len(block)
    while pos < n:
        first, length = block[pos], block[pos + 1] & 0x7F
        if length == 126:
            (length,) = struct.unpack_from("!H", block, pos + 2)
            start = pos + 4
        elif length == 127:
            (length,) = struct.unpack_from("!Q", block, pos + 2)
            start = pos + 10
        else:
            start = pos + 2
        out.append((first, block[start : start + length]))
        pos = start + length
    return out


class Deflater:
    """permessage-deflate (RFC 7692) for one connection: its own compressor.

    Compressed frames depend on the connection's LZ77 window (context takeover), so
    they cannot be shared between connections: each data frame of a block is
    re-framed here, per connection. Control frames pass through untouched. With
    ``no_context_takeover`` (the client asked for ``server_no_context_takeover``)
    every message starts from an empty window.
    """

    __slots__ = ("_wbits", "_z", "no_context_takeover")

    def __init__(self, window_bits: int = 15, no_context_takeover: bool = False) -> None:
        import zlib

        self._wbits = -max(9, min(15, window_bits))
        self.no_context_takeover = no_context_takeover
        self._z = zlib.compressobj(zlib.Z_DEFAULT_COMPRESSION, zlib.DEFLATED, self._wbits)

    def compress(self, payload: bytes) -> bytes:
        import zlib

        if self.no_context_takeover:
            self._z = zlib.compressobj(zlib.Z_DEFAULT_COMPRESSION, zlib.DEFLATED, self._wbits)
        data = self._z.compress(payload) + self._z.flush(zlib.Z_SYNC_FLUSH)
        return data[:-4] if data.endswith(b"\x00\x00\xff\xff") else data

    def reframe(self, block: bytes) -> bytes:
        """``block`` (one or more uncompressed frames) with every data frame compressed."""
        parts = []
        for first, payload in _split(block):
            if first & 0x08:  # control frame (close, ping, pong): never compressed
                parts.append(_header(first, len(payload)) + payload)
            else:
                body = self.compress(payload)
                parts.append(_header(first | _RSV1, len(body)) + body)
        return parts[0] if len(parts) == 1 else b"".join(parts)
