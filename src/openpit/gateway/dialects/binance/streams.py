"""Binance spot WebSocket streams: stream names, control frames, and every event's JSON.

Invariants:
- Pure: no I/O, no clock reads (event times come in as ``ts``), no state. Each renderer
  returns the UTF-8 JSON bytes of one event and does not depend on who receives it, so
  the fan-out renders once per stream and frames once.
- Stream names are Binance's (web-socket-streams.md): ``<symbol>@depth[@100ms]``,
  ``<symbol>@depth<5|10|20>[@100ms]``, ``@trade``, ``@aggTrade``, ``@kline_<i>`` for
  openpit's intervals, ``@bookTicker``, ``@ticker``, ``@miniTicker``, and the all-market
  ``!ticker@arr`` / ``!miniTicker@arr``; symbols are lower case in a name.
- Diff depth events carry ``U`` = the first and ``u`` = the last book sequence they
  cover (``U = prev_sequence + 1`` of the first delta merged, ``u = sequence`` of the
  last), the same sequence the REST ``depth`` reports as ``lastUpdateId``: consecutive
  events of one stream satisfy ``U == previous u + 1``.
- Numbers are decimal strings at the listing's precision, ids and times integers
  (``openpit.binance.symbols.Listing``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum

import msgspec

from openpit.binance import render
from openpit.binance.symbols import Listing
from openpit.core.enums import Liquidity, OrderStatus, Side
from openpit.core.errors import OpenpitError
from openpit.core.events import Fill, OrderUpdate
from openpit.marketdata.candles import INTERVALS, Candle
from openpit.marketdata.tape import PublicTrade
from openpit.marketdata.ticker import Ticker

Level = tuple[int, int]
_enc = msgspec.json.Encoder()


class Kind(StrEnum):
    DEPTH = "depth"  # diff depth
    PARTIAL = "partial"  # top-N snapshot
    TRADE = "trade"
    AGG_TRADE = "aggTrade"
    KLINE = "kline"
    BOOK_TICKER = "bookTicker"
    TICKER = "ticker"
    MINI_TICKER = "miniTicker"
    ALL_TICKER = "!ticker@arr"
    ALL_MINI = "!miniTicker@arr"


PARTIAL_LEVELS = (5, 10, 20)
SPEEDS = {"100ms": 100, "1000ms": 1000}


@dataclass(frozen=True, slots=True)
class Stream:
    """One parsed stream name. ``symbol`` upper case ('' for all-market streams);
    ``arg``: levels (partial depth) or interval (kline); ``every_ms``: update speed."""

    name: str
    kind: Kind
    symbol: str = ""
    arg: str = ""
    every_ms: int = 0


class BadStream(OpenpitError, ValueError):
    """Not a stream name this surface serves."""


def parse_stream(name: str) -> Stream:
    """``"btcusdt@depth@100ms"`` -> ``Stream(kind=DEPTH, symbol="BTCUSDT", every_ms=100)``."""
    if name in (Kind.ALL_TICKER.value, Kind.ALL_MINI.value):
        return Stream(name, Kind(name), every_ms=1000)
    sym, sep, rest = name.partition("@")
    if not sep or not sym or sym != sym.lower():
        raise BadStream(name)
    parts = rest.split("@")
    head, speed = parts[0], parts[1] if len(parts) > 1 else None
    if len(parts) > 2 or (speed is not None and speed not in SPEEDS):
        raise BadStream(name)
    upper = sym.upper()
    if head == "depth":
        return Stream(name, Kind.DEPTH, upper, every_ms=SPEEDS[speed or "1000ms"])
    if head.startswith("depth") and head[5:] in {str(n) for n in PARTIAL_LEVELS}:
        return Stream(name, Kind.PARTIAL, upper, head[5:], SPEEDS[speed or "1000ms"])
    if speed is not None:
        raise BadStream(name)
    if head.startswith("kline_") and head[6:] in INTERVALS:
        return Stream(name, Kind.KLINE, upper, head[6:], 1000)
    simple = {
        "trade": Kind.TRADE,
        "aggTrade": Kind.AGG_TRADE,
        "bookTicker": Kind.BOOK_TICKER,
        "ticker": Kind.TICKER,
        "miniTicker": Kind.MINI_TICKER,
    }
    kind = simple.get(head)
    if kind is None:
        raise BadStream(name)
    return Stream(
        name, kind, upper, every_ms=1000 if kind in (Kind.TICKER, Kind.MINI_TICKER) else 0
    )


# -- control frames (SUBSCRIBE / UNSUBSCRIBE / LIST_SUBSCRIPTIONS / properties) ---------------


class Control(msgspec.Struct, frozen=True):
    method: str
    id: int | str | None = None
    params: list[object] = msgspec.field(default_factory=list)


class ControlError(OpenpitError, ValueError):
    """A control frame Binance would refuse: ``code`` as web-socket-streams.md lists."""

    def __init__(self, code: int, msg: str, request_id: int | str | None = None) -> None:
        super().__init__(msg)
        self.code, self.msg, self.request_id = code, msg, request_id


METHODS = ("SUBSCRIBE", "UNSUBSCRIBE", "LIST_SUBSCRIPTIONS", "SET_PROPERTY", "GET_PROPERTY")


def parse_control(frame: str | bytes) -> Control:
    """``{"method": "SUBSCRIBE", "params": ["btcusdt@aggTrade"], "id": 1}``."""
    try:
        c = msgspec.json.decode(frame, type=Control)
    except msgspec.ValidationError as exc:
        raise ControlError(2, f"Invalid request: {exc}") from None
    except msgspec.DecodeError:
        raise ControlError(3, "Invalid JSON: expected value at line 1 column 1") from None
    if c.method not in METHODS:
        raise ControlError(2, f"Invalid request: unknown method {c.method!r}", c.id)
    if c.method in ("SUBSCRIBE", "UNSUBSCRIBE") and not all(isinstance(p, str) for p in c.params):
        raise ControlError(1, "Invalid value type: expected a list of stream names", c.id)
    return c


def control_result(request_id: int | str | None, result: object = None) -> bytes:
    """``{"result": null, "id": 1}``."""
    return _enc.encode({"result": result, "id": request_id})


def control_error(code: int, msg: str, request_id: int | str | None = None) -> bytes:
    """``{"error": {"code": 2, "msg": "Invalid request: ..."}, "id": 1}``."""
    return _enc.encode({"error": {"code": code, "msg": msg}, "id": request_id})


def combined(stream: str, payload: bytes) -> bytes:
    """The ``/stream`` wrapping: ``{"stream": "<name>", "data": <payload>}``."""
    return b'{"stream":' + _enc.encode(stream) + b',"data":' + payload + b"}"


# -- market events --------------------------------------------------------------------------


def _levels(lst: Listing, levels: Sequence[Level]) -> list[list[str]]:
    return [[lst.price(p), lst.qty(q)] for p, q in levels]


def depth_update(
    lst: Listing, first: int, last: int, bids: Sequence[Level], asks: Sequence[Level], ts: int
) -> bytes:
    """``{"e":"depthUpdate","E":1672515782136,"s":"BNBBTC","U":157,"u":160,
    "b":[["0.0024","10"]],"a":[["0.0026","100"]]}`` (quantity "0" deletes a level)."""
    return _enc.encode(
        {
            "e": "depthUpdate",
            "E": ts,
            "s": lst.symbol,
            "U": first,
            "u": last,
            "b": _levels(lst, bids),
            "a": _levels(lst, asks),
        }
    )


def partial_depth(
    lst: Listing, last_update_id: int, bids: Sequence[Level], asks: Sequence[Level]
) -> bytes:
    """``{"lastUpdateId":160,"bids":[["0.0024","10"]],"asks":[["0.0026","100"]]}``."""
    return _enc.encode(
        {"lastUpdateId": last_update_id, "bids": _levels(lst, bids), "asks": _levels(lst, asks)}
    )


def trade(lst: Listing, t: PublicTrade, ts: int) -> bytes:
    """``{"e":"trade","E":1672515782136,"s":"BNBBTC","t":12345,"p":"0.001","q":"100",
    "T":1672515782136,"m":true,"M":true}``."""
    return _enc.encode(
        {
            "e": "trade",
            "E": ts,
            "s": lst.symbol,
            "t": t.trade_id,
            "p": lst.price(t.price),
            "q": lst.qty(t.qty),
            "T": t.ts,
            "m": t.taker_side is Side.SELL,
            "M": True,
        }
    )


def agg_trade(lst: Listing, t: PublicTrade, ts: int) -> bytes:
    """``{"e":"aggTrade","E":..,"s":"BNBBTC","a":12345,"p":"0.001","q":"100","f":100,
    "l":105,"T":..,"m":true,"M":true}``: every openpit trade is its own aggregate."""
    return _enc.encode({"e": "aggTrade", "E": ts, "s": lst.symbol, **render.agg_trade(lst, t)})


def kline(lst: Listing, c: Candle, ts: int) -> bytes:
    """``{"e":"kline","E":..,"s":"BNBBTC","k":{"t":..,"T":..,"s":"BNBBTC","i":"1m",
    "f":-1,"L":-1,"o":"0.0010","c":"0.0020","h":"0.0025","l":"0.0015","v":"1000",
    "n":100,"x":false,"q":"1.0000","V":"0","Q":"0","B":"0"}}`` (first/last trade ids and
    taker-buy volumes are not kept: ``-1`` and ``"0"``, as the REST klines)."""
    row = render.kline(lst, c)
    return _enc.encode(
        {
            "e": "kline",
            "E": ts,
            "s": lst.symbol,
            "k": {
                "t": c.start,
                "T": c.end - 1,
                "s": lst.symbol,
                "i": c.interval,
                "f": -1,
                "L": -1,
                "o": row[1],
                "c": row[4],
                "h": row[2],
                "l": row[3],
                "v": row[5],
                "n": c.trades,
                "x": c.closed,
                "q": row[7],
                "V": row[9],
                "Q": row[10],
                "B": "0",
            },
        }
    )


def book_ticker(lst: Listing, t: Ticker, update_id: int) -> bytes:
    """``{"u":400900217,"s":"BNBUSDT","b":"25.35190000","B":"31.21000000",
    "a":"25.36520000","A":"40.66000000"}``."""
    return _enc.encode(
        {
            "u": update_id,
            "s": lst.symbol,
            "b": lst.price(t.bid),
            "B": lst.qty(t.bid_qty or 0),
            "a": lst.price(t.ask),
            "A": lst.qty(t.ask_qty or 0),
        }
    )


_MINI = {"lastPrice": "c", "openPrice": "o", "highPrice": "h", "lowPrice": "l"}
_FULL = {
    "priceChange": "p",
    "priceChangePercent": "P",
    "weightedAvgPrice": "w",
    "prevClosePrice": "x",
    "lastPrice": "c",
    "lastQty": "Q",
    "bidPrice": "b",
    "bidQty": "B",
    "askPrice": "a",
    "askQty": "A",
    "openPrice": "o",
    "highPrice": "h",
    "lowPrice": "l",
}


def ticker_obj(lst: Listing, t: Ticker, ts: int, mini: bool) -> dict[str, object]:
    rest = render.ticker_24hr(lst, t, mini=mini)
    out: dict[str, object] = {"e": "24hrMiniTicker" if mini else "24hrTicker", "E": ts}
    out["s"] = lst.symbol
    for long, short in (_MINI if mini else _FULL).items():
        out[short] = rest[long]
    out["v"], out["q"] = rest["volume"], rest["quoteVolume"]
    if not mini:
        out.update(O=rest["openTime"], C=rest["closeTime"], F=-1, L=-1, n=rest["count"])
    return out


def ticker(lst: Listing, t: Ticker, ts: int, mini: bool = False) -> bytes:
    """``{"e":"24hrTicker","E":..,"s":"BNBBTC","p":"0.0015","P":"250.00","w":"0.0018",
    "x":"0.0009","c":"0.0025","Q":"10","b":"0.0024","B":"10","a":"0.0026","A":"100",
    "o":"0.0010","h":"0.0025","l":"0.0010","v":"10000","q":"18","O":0,"C":86400000,
    "F":0,"L":18150,"n":18151}``; ``mini``: the ``24hrMiniTicker`` subset."""
    return _enc.encode(ticker_obj(lst, t, ts, mini))


def all_tickers(items: Sequence[tuple[Listing, Ticker]], ts: int, mini: bool) -> bytes:
    """``!ticker@arr`` / ``!miniTicker@arr``: a JSON array of the tickers that changed."""
    return _enc.encode([ticker_obj(lst, t, ts, mini) for lst, t in items])


# -- user data ------------------------------------------------------------------------------


def execution_type(u: OrderUpdate, fill: Fill | None) -> str:
    """``x``: TRADE when this update reports a fill, else what the status says."""
    if fill is not None:
        return "TRADE"
    return {
        OrderStatus.CANCELLED: "CANCELED",
        OrderStatus.EXPIRED: "EXPIRED",
        OrderStatus.REJECTED: "REJECTED",
    }.get(u.status, "NEW")


def execution_report(
    lst: Listing, u: OrderUpdate, fill: Fill | None, ts: int, stp: str
) -> dict[str, object]:
    """``{"e":"executionReport","E":..,"s":"ETHBTC","c":"mUvoqJxFIILMdfAW5iGSOW","S":"BUY",
    "o":"LIMIT","f":"GTC","q":"1.00000000","p":"0.10264410","P":"0.00000000",
    "F":"0.00000000","g":-1,"C":"","x":"NEW","X":"NEW","r":"NONE","i":4293153,
    "l":"0.00000000","z":"0.00000000","L":"0.00000000","n":"0","N":null,"T":..,"t":-1,
    "I":8641984,"w":true,"m":false,"M":false,"O":..,"Z":"0.00000000","Y":"0.00000000",
    "Q":"0.00000000","W":..,"V":"NONE"}`` (user-data-stream.md)."""
    x = execution_type(u, fill)
    last_qty = fill.qty if fill is not None else 0
    last_price = fill.price if fill is not None else None
    last_quote = lst.inst.notional(fill.price, fill.qty) if fill is not None else 0
    zero_price, zero_quote = lst.price(None), lst.quote_amount(0)
    working = u.status is not OrderStatus.PENDING
    out: dict[str, object] = {
        "e": "executionReport",
        "E": ts,
        "s": lst.symbol,
        "c": render.client_id(u),
        "S": render.SIDE[u.side],
        "o": render.order_type(u),
        "f": render.TIF[u.tif],
        "q": lst.qty(u.qty),
        "p": lst.price(u.price),
        "P": lst.price(u.stop_price),
        "F": lst.qty(0),
        "g": -1,
        "C": render.client_id(u) if x == "CANCELED" else "",
        "x": x,
        "X": render.STATUS[u.status],
        "r": "NONE" if u.status is not OrderStatus.REJECTED else "OTHER",
        "i": u.order_id,
        "l": lst.qty(last_qty),
        "z": lst.qty(u.filled),
        "L": lst.price(last_price) if last_price is not None else zero_price,
        "n": lst.quote_amount(fill.fee) if fill is not None else "0",
        "N": fill.fee_asset if fill is not None else None,
        "T": u.ts,
        "t": fill.trade_id if fill is not None else -1,
        "I": u.useq or u.seq,
        "w": working and u.remaining > 0,
        "m": fill is not None and fill.liquidity is Liquidity.MAKER,
        "M": False,
        "O": u.created_ts,
        "Z": lst.notional(u.filled_value),
        "Y": lst.quote_amount(last_quote) if fill is not None else zero_quote,
        "Q": zero_quote,
    }
    if working:  # "only visible if the order has been placed on the book"
        out["W"] = u.created_ts
    out["V"] = stp
    return out


def encode(obj: object) -> bytes:
    return _enc.encode(obj)


def account_position(
    balances: Mapping[str, tuple[str, str]], last_update: int, ts: int
) -> dict[str, object]:
    """``{"e":"outboundAccountPosition","E":1564034571105,"u":1564034571073,
    "B":[{"a":"ETH","f":"10000.000000","l":"0.000000"}]}``; ``balances``: asset ->
    (free, locked) already rendered at the asset's precision."""
    return {
        "e": "outboundAccountPosition",
        "E": ts,
        "u": last_update,
        "B": [{"a": a, "f": f, "l": lk} for a, (f, lk) in balances.items()],
    }


def balance_update(asset: str, delta: str, ts: int) -> dict[str, object]:
    """``{"e":"balanceUpdate","E":1573200697110,"a":"BTC","d":"100.00000000",
    "T":1573200697068}``: a deposit (positive ``d``) or withdrawal (negative)."""
    return {"e": "balanceUpdate", "E": ts, "a": asset, "d": delta, "T": ts}


def listen_key_expired(listen_key: str, ts: int) -> bytes:
    """``{"e":"listenKeyExpired","E":1699596037418,"listenKey":"OfYGbUzi3PraNagEk..."}``."""
    return _enc.encode({"e": "listenKeyExpired", "E": ts, "listenKey": listen_key})
