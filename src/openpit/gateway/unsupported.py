"""Answers for dialects that are not built yet: their spec's error shape, then close.

Invariant: a client of an unbuilt dialect gets one error message it can parse (per
its spec: envelope ``{"type":"error","data":{...}}``, typed
``{"type":"error","error":{...}}``) and a 1011 close; it never hangs.
"""

from __future__ import annotations

import msgspec

CLOSE_CODE = 1011


def error_payload(dialect: str, ts: int) -> bytes:
    message = f"the {dialect} dialect is not available on this server yet"
    if dialect == "envelope":
        return msgspec.json.encode(
            {
                "type": "error",
                "data": {"code": "internal_error", "message": message},
                "timestamp": ts,
            }
        )
    return msgspec.json.encode(
        {
            "type": "error",
            "error": {"code": "INTERNAL_ERROR", "message": message},
            "timestamp": ts,
        }
    )
