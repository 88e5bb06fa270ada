"""The one reason table: every venue ``Reason`` -> a neutral ``ReasonClass``.

Invariants:
- ``REASON_CLASS`` is total over ``Reason`` (a test keeps it so); nothing else maps a
  reason to a wire status by hand. The gateway's ``ErrorKind`` (``gateway.model
  .reason_kind``) and REST's HTTP status (``api.errors.reason_status``) are derived
  from the class; each dialect's own wire codes are a table in its package, total
  over ``Reason`` too (tested), because the specs name their codes differently.
- Classes: ``INVALID`` the request is malformed for the venue (price, quantity,
  parameters); ``NOT_FOUND`` it names something the venue does not know;
  ``CONFLICT`` it collides with the state of an order; ``REJECTED`` well-formed, and
  refused by the state of the market or the account; ``ENDED`` not a rejection of a
  request at all: why an order ended (cancelled, expired, liquidated), or ``OK``.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Final

from openpit.core.enums import Reason


class ReasonClass(StrEnum):
    INVALID = "invalid"
    NOT_FOUND = "not_found"
    CONFLICT = "conflict"
    REJECTED = "rejected"
    ENDED = "ended"


REASON_CLASS: Final[dict[Reason, ReasonClass]] = {
    Reason.OK: ReasonClass.ENDED,
    Reason.UNKNOWN_INSTRUMENT: ReasonClass.NOT_FOUND,
    Reason.INVALID_PRICE: ReasonClass.INVALID,
    Reason.INVALID_QUANTITY: ReasonClass.INVALID,
    Reason.BELOW_MIN_QUANTITY: ReasonClass.INVALID,
    Reason.INVALID_PARAMETER: ReasonClass.INVALID,
    Reason.UNKNOWN_ORDER: ReasonClass.NOT_FOUND,
    Reason.DUPLICATE_CLIENT_ORDER_ID: ReasonClass.CONFLICT,
    Reason.INSUFFICIENT_FUNDS: ReasonClass.REJECTED,
    Reason.MARKET_CLOSED: ReasonClass.REJECTED,
    Reason.TRADING_HALTED: ReasonClass.REJECTED,
    Reason.POST_ONLY_WOULD_TAKE: ReasonClass.REJECTED,
    Reason.FOK_NOT_FILLABLE: ReasonClass.REJECTED,
    Reason.IOC_REMAINDER: ReasonClass.ENDED,
    Reason.NO_LIQUIDITY: ReasonClass.REJECTED,
    Reason.PRICE_BAND: ReasonClass.REJECTED,
    Reason.SELF_TRADE: ReasonClass.REJECTED,
    Reason.REDUCE_ONLY: ReasonClass.REJECTED,
    Reason.LEVERAGE_NOT_ALLOWED: ReasonClass.INVALID,
    Reason.USER_CANCELLED: ReasonClass.ENDED,
    Reason.OCO_SIBLING: ReasonClass.ENDED,
    Reason.DAY_EXPIRED: ReasonClass.ENDED,
    Reason.DEADLINE_PASSED: ReasonClass.REJECTED,
    Reason.LIQUIDATION: ReasonClass.ENDED,
    Reason.UNKNOWN_USER: ReasonClass.NOT_FOUND,
    Reason.ORDER_NOT_MODIFIABLE: ReasonClass.CONFLICT,
}


def reason_class(reason: Reason) -> ReasonClass:
    return REASON_CLASS[reason]
