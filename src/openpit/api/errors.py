"""Errors of the REST API: one exception type, one table from venue reasons to HTTP statuses.

Invariants:
- Every error reply is ``{"code", "message", "status"}`` (``schemas.Error``) with the
  HTTP status in ``status`` too; nothing else escapes a handler (unexpected
  exceptions become ``internal_error`` / 500 and are logged, never shown).
- A request refused by the rate limits (``ratelimit.py``) is ``429 rate_limited`` and
  carries ``Retry-After``; ``ApiError.headers`` are the only extra headers an error has.
- Venue rejections keep the venue's reason code (``core.enums.Reason`` values, the
  same codes the sockets send); ``REASON_STATUS``, derived from the one reason table
  (``core.reasons``), says which HTTP status each gets.
"""

from __future__ import annotations

from collections.abc import Mapping

from openpit.core.enums import Reason
from openpit.core.errors import OpenpitError
from openpit.core.reasons import REASON_CLASS, ReasonClass

INVALID = "invalid_parameter"
UNAUTHORIZED = "unauthorized"
FORBIDDEN = "forbidden"
NOT_FOUND = "not_found"
ALREADY_EXISTS = "already_exists"
NOT_ENABLED = "not_enabled"
RATE_LIMITED = "rate_limited"
INTERNAL = "internal_error"

CLASS_STATUS: dict[ReasonClass, int] = {
    ReasonClass.INVALID: 400,
    ReasonClass.NOT_FOUND: 404,
    ReasonClass.CONFLICT: 409,
    ReasonClass.REJECTED: 422,
    ReasonClass.ENDED: 422,
}
"""HTTP status of each neutral reason class (``core.reasons``): a well-formed request
the venue refused (insufficient funds, halted, post-only would take, ...) is 422."""

REASON_STATUS: dict[Reason, int] = {r: CLASS_STATUS[c] for r, c in REASON_CLASS.items()}


def reason_status(reason: Reason) -> int:
    return REASON_STATUS[reason]


class ApiError(OpenpitError):
    def __init__(
        self, status: int, code: str, message: str, *, headers: Mapping[str, str] | None = None
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.headers: Mapping[str, str] = headers or {}

    @classmethod
    def rejected(cls, reason: Reason, message: str) -> ApiError:
        return cls(reason_status(reason), reason.value, message)
