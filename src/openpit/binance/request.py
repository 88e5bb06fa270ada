"""Binance request parsing: parameters, signatures, timing, and new-order requests.

Invariants:
- Parameters come from the query string and, for POST/PUT/DELETE, the
  ``application/x-www-form-urlencoded`` body; a name given twice (within one or
  across both) is ``-1101``. (Binance lets the query win over the body; refusing the
  ambiguity is stricter and no client relies on it.)
- A signed request carries ``X-MBX-APIKEY`` and a ``signature`` parameter: hex
  HMAC-SHA256 with the key's secret over the query string exactly as sent followed by
  the body exactly as sent, the ``signature=...`` pair itself removed. Hex case does
  not matter; comparison is constant-time.
- Timing exactly as Binance: ``recvWindow`` defaults to 5000 and may not exceed 60000
  (``-1102``); a ``timestamp`` 1000 ms or more ahead of the server, or older than
  ``recvWindow``, is ``-1021``.
- A new order is fully parsed into a venue ``PlaceOrder`` before it is submitted;
  every missing or malformed field is a Binance error naming it.
Pure: no I/O; time comes in as an argument.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from urllib.parse import parse_qsl

from openpit.binance import errors as e
from openpit.binance.exchange import STP_IN
from openpit.binance.symbols import Listing, parse_decimal
from openpit.core.commands import PlaceOrder
from openpit.core.enums import OrderType, Side, TimeInForce

DEFAULT_RECV_WINDOW = 5000
MAX_RECV_WINDOW = 60000
MAX_LONG = 2**63 - 1
_CLIENT_ID_CHARS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789.:/_-")

SIDES = {"BUY": Side.BUY, "SELL": Side.SELL}
TIFS = {"GTC": TimeInForce.GTC, "IOC": TimeInForce.IOC, "FOK": TimeInForce.FOK}
TYPES = {
    "LIMIT": OrderType.LIMIT,
    "LIMIT_MAKER": OrderType.LIMIT,
    "MARKET": OrderType.MARKET,
    "STOP_LOSS": OrderType.STOP,
    "STOP_LOSS_LIMIT": OrderType.STOP_LIMIT,
    "TAKE_PROFIT": OrderType.TAKE_PROFIT,
    "TAKE_PROFIT_LIMIT": OrderType.TAKE_PROFIT_LIMIT,
}
_WITH_PRICE = frozenset({"LIMIT", "LIMIT_MAKER", "STOP_LOSS_LIMIT", "TAKE_PROFIT_LIMIT"})
_WITH_TIF = frozenset({"LIMIT", "STOP_LOSS_LIMIT", "TAKE_PROFIT_LIMIT"})
_WITH_STOP = frozenset({"STOP_LOSS", "STOP_LOSS_LIMIT", "TAKE_PROFIT", "TAKE_PROFIT_LIMIT"})
RESP_TYPES = frozenset({"ACK", "RESULT", "FULL"})


def split_params(query: str, body: str) -> dict[str, str]:
    """The parameters of a request (raw query string and form body), once each."""
    out: dict[str, str] = {}
    for part in (query, body):
        for name, value in parse_qsl(part, keep_blank_values=True):
            if name in out:
                raise e.duplicate_param()
            out[name] = value
    return out


def signed_payload(query: str, body: str) -> tuple[str, str | None]:
    """(what was signed, the signature): query + body without the ``signature`` pair."""
    signature = None
    kept: list[str] = []
    for part in (query, body):
        if not part:
            continue
        pairs = []
        for pair in part.split("&"):
            if pair.startswith("signature="):
                if signature is not None:
                    raise e.duplicate_param()
                signature = pair[len("signature=") :]
            else:
                pairs.append(pair)
        kept.append("&".join(pairs))
    return "".join(kept), signature


def sign(secret: str, payload: str) -> str:
    """hex HMAC-SHA256(secret, payload): what a Binance client sends as ``signature``."""
    return hmac.new(secret.encode(), payload.encode(), hashlib.sha256).hexdigest()


def check_signature(secret: str, payload: str, signature: str | None) -> None:
    if not signature:
        raise e.mandatory("signature")
    if not hmac.compare_digest(sign(secret, payload).encode(), signature.lower().encode()):
        raise e.invalid_signature()


def check_timing(params: Mapping[str, str], now: int) -> None:
    """Binance's timing security: ``timestamp`` within ``recvWindow`` of ``now``."""
    text = params.get("timestamp")
    if not text:
        raise e.mandatory("timestamp")
    stamp = long_param("timestamp", text)
    if stamp > 10**14:  # microseconds, as Binance accepts
        stamp //= 1000
    window = Decimal(DEFAULT_RECV_WINDOW)
    if "recvWindow" in params:
        window = parse_decimal("recvWindow", params["recvWindow"])
        if window > MAX_RECV_WINDOW:
            raise e.greater_than("recvWindow", MAX_RECV_WINDOW)
    if stamp >= now + 1000:
        raise e.ahead_of_server()
    if now - stamp > window:
        raise e.outside_recv_window()


def long_param(name: str, text: str) -> int:
    if not text.isdigit() or len(text) > 19 or int(text) > MAX_LONG:
        raise e.mandatory(name)
    return int(text)


def opt_long(params: Mapping[str, str], name: str) -> int | None:
    text = params.get(name)
    return None if text is None or text == "" else long_param(name, text)


def limit_param(params: Mapping[str, str], default: int, largest: int) -> int:
    """``limit``: the default when absent, at most ``largest`` (Binance caps, not refuses)."""
    n = opt_long(params, "limit")
    if n is None:
        return default
    if n <= 0:
        raise e.mandatory("limit")
    return min(n, largest)


def required(params: Mapping[str, str], name: str) -> str:
    value = params.get(name)
    if not value:
        raise e.mandatory(name)
    return value


def client_order_id(text: str | None) -> str:
    """``newClientOrderId`` (Binance's ``^[.A-Z:/a-z0-9_-]{1,36}$``) or a fresh one."""
    if text is None or text == "":
        return secrets.token_hex(11)  # 22 characters, as Binance's generated ids
    if len(text) > 36 or not set(text) <= _CLIENT_ID_CHARS:
        raise e.illegal_chars("newClientOrderId")
    return text


@dataclass(frozen=True, slots=True)
class NewOrder:
    command: PlaceOrder
    resp_type: str
    stp: str  # the selfTradePreventionMode to report


def new_order(params: Mapping[str, str], lst: Listing, user: str, default_stp: str) -> NewOrder:
    """``POST /api/v3/order`` parameters as a venue command."""
    side_text = required(params, "side")
    side = SIDES.get(side_text)
    if side is None:
        raise e.BinanceError(e.INVALID_SIDE, "Invalid side.")
    type_text = required(params, "type")
    kind = TYPES.get(type_text)
    if kind is None:
        raise e.BinanceError(e.INVALID_ORDER_TYPE, "Invalid orderType.")
    if params.get("quoteOrderQty"):
        raise e.new_order_rejected("Quote order qty market orders are not support for this symbol.")
    for unsupported in ("icebergQty", "trailingDelta", "pegPriceType"):
        if params.get(unsupported):
            raise e.new_order_rejected("Unsupported order combination")
    qty = lst.parse_qty("quantity", required(params, "quantity"))
    price = None
    if type_text in _WITH_PRICE:
        price = lst.parse_price("price", required(params, "price"))
    elif params.get("price"):
        raise e.not_required("price")
    stop = None
    if type_text in _WITH_STOP:
        stop = lst.parse_price("stopPrice", required(params, "stopPrice"))
    elif params.get("stopPrice"):
        raise e.not_required("stopPrice")
    tif = TimeInForce.GTC
    tif_text = params.get("timeInForce")
    if type_text in _WITH_TIF:
        if not tif_text:
            raise e.mandatory("timeInForce")
    elif tif_text and type_text != "MARKET":
        raise e.BinanceError(-1114, "TimeInForce parameter sent when not required.")
    if tif_text:
        found = TIFS.get(tif_text)
        if found is None:
            raise e.BinanceError(e.INVALID_TIF, "Invalid timeInForce.")
        tif = found
    default_resp = "FULL" if type_text in ("MARKET", "LIMIT") else "ACK"
    resp_type = params.get("newOrderRespType") or default_resp
    if resp_type not in RESP_TYPES:
        raise e.mandatory("newOrderRespType")
    stp_text = params.get("selfTradePreventionMode") or default_stp
    stp = STP_IN.get(stp_text)
    if stp is None:
        raise e.mandatory("selfTradePreventionMode")
    command = PlaceOrder(
        user=user,
        instrument=lst.inst.id,
        side=side,
        type=kind,
        qty=qty,
        price=price,
        stop_price=stop,
        tif=tif,
        client_order_id=client_order_id(params.get("newClientOrderId")),
        post_only=type_text == "LIMIT_MAKER",
        stp=stp,
    )
    return NewOrder(command, resp_type, stp_text)
