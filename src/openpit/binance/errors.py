"""Binance's error replies: HTTP status plus ``{"code": -NNNN, "msg": "..."}``.

Invariants:
- Every refusal of the ``/binance`` surface is a ``BinanceError`` carrying the code,
  the message Binance documents for it (errors.md; ``%s`` filled in) and the HTTP
  status: 400 for bad requests and engine rejections, 401 for API-key refusals, 429
  (with ``Retry-After``) for rate limits.
- ``rejection(reason, ...)`` is the one table from openpit's internal ``Reason`` to
  Binance's codes: a new order refused by the venue is ``-2010`` with the matching
  engine message of errors.md ("Account has insufficient balance for requested
  action.", "Duplicate order sent.", ...), a filter violation ``-1013``, an unknown
  order ``-2013`` on queries and ``-2011 Unknown order sent.`` on cancels.
Pure: no I/O.
"""

from __future__ import annotations

from collections.abc import Mapping

from openpit.core.enums import Reason
from openpit.core.errors import OpenpitError

TOO_MANY_REQUESTS = -1003
TOO_MANY_ORDERS = -1015
INVALID_TIMESTAMP = -1021
INVALID_SIGNATURE = -1022
INVALID_MESSAGE = -1013
ILLEGAL_CHARS = -1100
TOO_MANY_PARAMETERS = -1101
MANDATORY_PARAM = -1102
PARAM_NOT_REQUIRED = -1106
INVALID_TIF = -1115
INVALID_ORDER_TYPE = -1116
INVALID_SIDE = -1117
BAD_INTERVAL = -1120
BAD_SYMBOL = -1121
NEW_ORDER_REJECTED = -2010
CANCEL_REJECTED = -2011
NO_SUCH_ORDER = -2013
BAD_API_KEY_FMT = -2014
REJECTED_MBX_KEY = -2015


class BinanceError(OpenpitError):
    """A refusal in Binance's shape; ``msg`` is safe to show (never a secret)."""

    def __init__(
        self, code: int, msg: str, status: int = 400, headers: Mapping[str, str] | None = None
    ) -> None:
        super().__init__(f"{code} {msg}")
        self.code = code
        self.msg = msg
        self.status = status
        self.headers = dict(headers or {})

    def body(self) -> dict[str, object]:
        return {"code": self.code, "msg": self.msg}


def too_many_requests(limit: int, retry_after_s: int) -> BinanceError:
    return BinanceError(
        TOO_MANY_REQUESTS,
        f"Too much request weight used; current limit is {limit} request weight per 1 "
        "MINUTE. Please use WebSocket Streams for live updates to avoid polling the API.",
        429,
        {"Retry-After": str(retry_after_s)},
    )


def too_many_orders(limit: int, interval: str, retry_after_s: int) -> BinanceError:
    return BinanceError(
        TOO_MANY_ORDERS,
        f"Too many new orders; current limit is {limit} orders per {interval}.",
        429,
        {"Retry-After": str(retry_after_s)},
    )


def outside_recv_window() -> BinanceError:
    return BinanceError(
        INVALID_TIMESTAMP, "Timestamp for this request is outside of the recvWindow."
    )


def ahead_of_server() -> BinanceError:
    return BinanceError(
        INVALID_TIMESTAMP, "Timestamp for this request was 1000ms ahead of the server's time."
    )


def invalid_signature() -> BinanceError:
    return BinanceError(INVALID_SIGNATURE, "Signature for this request is not valid.")


def bad_api_key_format() -> BinanceError:
    return BinanceError(BAD_API_KEY_FMT, "API-key format invalid.", 401)


def rejected_key() -> BinanceError:
    return BinanceError(REJECTED_MBX_KEY, "Invalid API-key, IP, or permissions for action.", 401)


def illegal_chars(param: str) -> BinanceError:
    return BinanceError(
        ILLEGAL_CHARS,
        f"Illegal characters found in parameter '{param}'; "
        "legal range is '^[0-9]{1,20}(\\.[0-9]{1,20})?$'.",
    )


def mandatory(param: str) -> BinanceError:
    return BinanceError(
        MANDATORY_PARAM,
        f"Mandatory parameter '{param}' was not sent, was empty/null, or malformed.",
    )


def either(first: str, second: str) -> BinanceError:
    return BinanceError(
        MANDATORY_PARAM, f"Param '{first}' or '{second}' must be sent, but both were empty/null!"
    )


def greater_than(param: str, limit: int) -> BinanceError:
    return BinanceError(
        MANDATORY_PARAM, f"'{param}' contains unexpected value. Cannot be greater than {limit}."
    )


def duplicate_param() -> BinanceError:
    return BinanceError(TOO_MANY_PARAMETERS, "Duplicate values for a parameter detected.")


def not_required(param: str) -> BinanceError:
    return BinanceError(PARAM_NOT_REQUIRED, f"Parameter '{param}' sent when not required.")


def bad_symbol() -> BinanceError:
    return BinanceError(BAD_SYMBOL, "Invalid symbol.")


def bad_interval() -> BinanceError:
    return BinanceError(BAD_INTERVAL, "Invalid interval.")


def filter_failure(name: str) -> BinanceError:
    return BinanceError(INVALID_MESSAGE, f"Filter failure: {name}")


def new_order_rejected(msg: str) -> BinanceError:
    return BinanceError(NEW_ORDER_REJECTED, msg)


def no_such_order() -> BinanceError:
    return BinanceError(NO_SUCH_ORDER, "Order does not exist.")


def unknown_order_cancel() -> BinanceError:
    return BinanceError(CANCEL_REJECTED, "Unknown order sent.")


_NEW_ORDER: dict[Reason, str] = {
    Reason.INSUFFICIENT_FUNDS: "Account has insufficient balance for requested action.",
    Reason.DUPLICATE_CLIENT_ORDER_ID: "Duplicate order sent.",
    Reason.MARKET_CLOSED: "Market is closed.",
    Reason.TRADING_HALTED: "Market is closed.",
    Reason.POST_ONLY_WOULD_TAKE: "Order would immediately match and take.",
    Reason.UNKNOWN_ORDER: "Unknown order sent.",
}
_FILTERS: dict[Reason, str] = {
    Reason.INVALID_PRICE: "PRICE_FILTER",
    Reason.INVALID_QUANTITY: "LOT_SIZE",
    Reason.BELOW_MIN_QUANTITY: "LOT_SIZE",
}


def rejection(reason: Reason, message: str, *, cancel: bool = False) -> BinanceError:
    """A venue rejection of a new order (or of a cancel, ``cancel=True``)."""
    if reason is Reason.UNKNOWN_INSTRUMENT:
        return bad_symbol()
    if reason in _FILTERS:
        return filter_failure(_FILTERS[reason])
    if cancel:
        if reason is Reason.UNKNOWN_ORDER:
            return unknown_order_cancel()
        return BinanceError(CANCEL_REJECTED, message or "CANCEL_REJECTED")
    return new_order_rejected(_NEW_ORDER.get(reason, message or "NEW_ORDER_REJECTED"))
