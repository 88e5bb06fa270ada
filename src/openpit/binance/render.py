"""Binance spot JSON for openpit's views: orders, fills, trades, klines, depth, tickers.

Invariants:
- Field names, order and types follow Binance's spot REST documentation (rest-api.md):
  decimals are strings at the listing's precision (``symbols.Listing``), ids and times
  are integers, ``orderListId`` is ``-1``.
- Statuses: openpit's ``pending`` (a stop waiting for its trigger) and ``new`` are
  ``NEW``; ``cancelled`` is ``CANCELED``; the rest keep their name in upper case.
- Types: a post-only limit is ``LIMIT_MAKER``; ``stop`` is ``STOP_LOSS``, ``stop_limit``
  ``STOP_LOSS_LIMIT``; orders only other dialects can place render as the nearest
  Binance type (``trailing_stop`` as ``STOP_LOSS``, ``oco`` as ``LIMIT``).
- Fees: openpit charges both sides in the quote asset, so ``commissionAsset`` is the
  quote asset and ``commission`` the fee actually charged on that fill.
- Figures openpit does not keep are rendered as Binance renders missing data:
  ``firstId``/``lastId`` ``-1`` on tickers, taker-buy volumes ``"0"`` on klines.
Pure: no I/O; the WebSocket streams reuse these renderers.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from decimal import ROUND_DOWN, Decimal

from openpit.binance.symbols import Listing, fixed
from openpit.core.enums import Liquidity, OrderStatus, OrderType, Side, TimeInForce
from openpit.core.events import Fill, OrderUpdate
from openpit.marketdata.book import BookSnapshot
from openpit.marketdata.candles import Candle
from openpit.marketdata.tape import PublicTrade
from openpit.marketdata.ticker import Ticker

JsonObj = dict[str, object]
DAY_MS = 86_400_000

STATUS = {
    OrderStatus.PENDING: "NEW",
    OrderStatus.NEW: "NEW",
    OrderStatus.PARTIALLY_FILLED: "PARTIALLY_FILLED",
    OrderStatus.FILLED: "FILLED",
    OrderStatus.CANCELLED: "CANCELED",
    OrderStatus.EXPIRED: "EXPIRED",
    OrderStatus.REJECTED: "REJECTED",
}
TYPE = {
    OrderType.MARKET: "MARKET",
    OrderType.LIMIT: "LIMIT",
    OrderType.STOP: "STOP_LOSS",
    OrderType.STOP_LIMIT: "STOP_LOSS_LIMIT",
    OrderType.TAKE_PROFIT: "TAKE_PROFIT",
    OrderType.TAKE_PROFIT_LIMIT: "TAKE_PROFIT_LIMIT",
    OrderType.TRAILING_STOP: "STOP_LOSS",
    OrderType.OCO: "LIMIT",
}
TIF = {
    TimeInForce.GTC: "GTC",
    TimeInForce.IOC: "IOC",
    TimeInForce.FOK: "FOK",
    TimeInForce.DAY: "GTC",
}
SIDE = {Side.BUY: "BUY", Side.SELL: "SELL"}
ORDER_TYPES = [
    "LIMIT", "LIMIT_MAKER", "MARKET", "STOP_LOSS", "STOP_LOSS_LIMIT", "TAKE_PROFIT",
    "TAKE_PROFIT_LIMIT",
]  # fmt: skip
_STOPS = frozenset(
    {OrderType.STOP, OrderType.STOP_LIMIT, OrderType.TAKE_PROFIT, OrderType.TAKE_PROFIT_LIMIT,
     OrderType.TRAILING_STOP}
)  # fmt: skip


def order_type(u: OrderUpdate) -> str:
    if u.type is OrderType.LIMIT and u.post_only:
        return "LIMIT_MAKER"
    return TYPE[u.type]


def client_id(u: OrderUpdate) -> str:
    return u.client_order_id if u.client_order_id is not None else str(u.order_id)


def _zero(places: int) -> str:
    return fixed(Decimal(0), places)


def order(lst: Listing, u: OrderUpdate, stp: str) -> JsonObj:
    """``GET /api/v3/order`` (and openOrders, allOrders) for one order."""
    working = u.status is not OrderStatus.PENDING
    return {
        "symbol": lst.symbol,
        "orderId": u.order_id,
        "orderListId": -1,
        "clientOrderId": client_id(u),
        "price": lst.price(u.price),
        "origQty": lst.qty(u.qty),
        "executedQty": lst.qty(u.filled),
        "cummulativeQuoteQty": lst.notional(u.filled_value),
        "status": STATUS[u.status],
        "timeInForce": TIF[u.tif],
        "type": order_type(u),
        "side": SIDE[u.side],
        "stopPrice": lst.price(u.stop_price),
        "icebergQty": _zero(lst.qty_places),
        "time": u.created_ts,
        "updateTime": u.ts,
        "isWorking": working,
        "workingTime": u.created_ts if working else -1,
        "origQuoteOrderQty": _zero(lst.quote.decimals),
        "selfTradePreventionMode": stp,
    }


def new_order(
    lst: Listing, u: OrderUpdate, resp_type: str, transact_time: int, stp: str,
    fills: Sequence[Fill] = (),
) -> JsonObj:  # fmt: skip
    """The reply to ``POST /api/v3/order`` in ``ACK``, ``RESULT`` or ``FULL`` form."""
    out: JsonObj = {
        "symbol": lst.symbol,
        "orderId": u.order_id,
        "orderListId": -1,
        "clientOrderId": client_id(u),
        "transactTime": transact_time,
    }
    if resp_type == "ACK":
        return out
    out.update(
        price=lst.price(u.price),
        origQty=lst.qty(u.qty),
        executedQty=lst.qty(u.filled),
        origQuoteOrderQty=_zero(lst.quote.decimals),
        cummulativeQuoteQty=lst.notional(u.filled_value),
        status=STATUS[u.status],
        timeInForce=TIF[u.tif],
        type=order_type(u),
        side=SIDE[u.side],
    )
    if u.type in _STOPS:
        out["stopPrice"] = lst.price(u.stop_price)
    out["workingTime"] = transact_time if u.status is not OrderStatus.PENDING else -1
    out["selfTradePreventionMode"] = stp
    if resp_type == "FULL":
        out["fills"] = [order_fill(lst, f) for f in fills]
    return out


def cancelled(
    lst: Listing, u: OrderUpdate, cancel_id: str, transact_time: int, stp: str
) -> JsonObj:
    """The reply to ``DELETE /api/v3/order`` (one element of ``DELETE openOrders``)."""
    out: JsonObj = {
        "symbol": lst.symbol,
        "origClientOrderId": client_id(u),
        "orderId": u.order_id,
        "orderListId": -1,
        "clientOrderId": cancel_id,
        "transactTime": transact_time,
        "price": lst.price(u.price),
        "origQty": lst.qty(u.qty),
        "executedQty": lst.qty(u.filled),
        "origQuoteOrderQty": _zero(lst.quote.decimals),
        "cummulativeQuoteQty": lst.notional(u.filled_value),
        "status": STATUS[u.status],
        "timeInForce": TIF[u.tif],
        "type": order_type(u),
        "side": SIDE[u.side],
    }
    if u.type in _STOPS:
        out["stopPrice"] = lst.price(u.stop_price)
    out["selfTradePreventionMode"] = stp
    return out


def order_fill(lst: Listing, f: Fill) -> JsonObj:
    return {
        "price": lst.price(f.price),
        "qty": lst.qty(f.qty),
        "commission": lst.quote_amount(f.fee),
        "commissionAsset": f.fee_asset,
        "tradeId": f.trade_id,
    }


def my_trade(lst: Listing, f: Fill) -> JsonObj:
    """One element of ``GET /api/v3/myTrades``."""
    return {
        "symbol": lst.symbol,
        "id": f.trade_id,
        "orderId": f.order_id,
        "orderListId": -1,
        "price": lst.price(f.price),
        "qty": lst.qty(f.qty),
        "quoteQty": lst.quote_amount(lst.inst.notional(f.price, f.qty)),
        "commission": lst.quote_amount(f.fee),
        "commissionAsset": f.fee_asset,
        "time": f.ts,
        "isBuyer": f.side is Side.BUY,
        "isMaker": f.liquidity is Liquidity.MAKER,
        "isBestMatch": True,
    }


def trade(lst: Listing, t: PublicTrade) -> JsonObj:
    """One element of ``GET /api/v3/trades`` / ``historicalTrades``."""
    return {
        "id": t.trade_id,
        "price": lst.price(t.price),
        "qty": lst.qty(t.qty),
        "quoteQty": lst.quote_amount(lst.inst.notional(t.price, t.qty)),
        "time": t.ts,
        "isBuyerMaker": t.taker_side is Side.SELL,
        "isBestMatch": True,
    }


def agg_trade(lst: Listing, t: PublicTrade) -> JsonObj:
    """One element of ``GET /api/v3/aggTrades``: every openpit trade is its own aggregate."""
    return {
        "a": t.trade_id,
        "p": lst.price(t.price),
        "q": lst.qty(t.qty),
        "f": t.trade_id,
        "l": t.trade_id,
        "T": t.ts,
        "m": t.taker_side is Side.SELL,
        "M": True,
    }


def kline(lst: Listing, c: Candle) -> list[object]:
    zero_base = _zero(lst.qty_places)
    return [
        c.start,
        lst.price(c.open),
        lst.price(c.high),
        lst.price(c.low),
        lst.price(c.close),
        lst.qty(c.volume),
        c.end - 1,
        lst.quote_amount(c.quote_volume),
        c.trades,
        zero_base,
        _zero(lst.quote.decimals),
        "0",
    ]


def depth(lst: Listing, snap: BookSnapshot, limit: int | None = None) -> JsonObj:
    """``GET /api/v3/depth``: the snapshot's top ``limit`` levels, ``lastUpdateId`` its sequence."""
    return {
        "lastUpdateId": snap.sequence,
        "bids": [[lst.price(p), lst.qty(q)] for p, q in snap.bids[:limit]],
        "asks": [[lst.price(p), lst.qty(q)] for p, q in snap.asks[:limit]],
    }


def _average(lst: Listing, quote_units: int, lots: int) -> str:
    if lots <= 0:
        return _zero(lst.price_places)
    value = lst.quote.from_units(quote_units) / lst.inst.lots_to_qty(lots)
    return fixed(value.quantize(Decimal(1).scaleb(-lst.price_places), ROUND_DOWN), lst.price_places)


def avg_price(
    lst: Listing, candles: Iterable[Candle], last_price: int | None, close_time: int
) -> JsonObj:
    """``GET /api/v3/avgPrice``: volume-weighted over the 1m candles given (5 minutes)."""
    quote = lots = 0
    for c in candles:
        quote += c.quote_volume
        lots += c.volume
    price = _average(lst, quote, lots) if lots else lst.price(last_price)
    return {"mins": 5, "price": price, "closeTime": close_time}


def ticker_24hr(lst: Listing, t: Ticker, mini: bool = False) -> JsonObj:
    """``GET /api/v3/ticker/24hr`` (``type=FULL``, or ``MINI`` with ``mini``)."""
    p = lst.price
    opened = t.open if t.open is not None else t.last_price
    window: JsonObj = {
        "openPrice": p(opened),
        "highPrice": p(t.high),
        "lowPrice": p(t.low),
    }
    if mini:
        window["lastPrice"] = p(t.last_price)
    window.update(
        volume=lst.qty(t.volume),
        quoteVolume=lst.quote_amount(t.quote_volume),
        openTime=t.ts - DAY_MS,
        closeTime=t.ts,
        firstId=-1,
        lastId=-1,
        count=t.trades,
    )
    if mini:
        return {"symbol": lst.symbol, **window}
    change = t.change if t.change is not None else 0
    return {
        "symbol": lst.symbol,
        "priceChange": ("-" if change < 0 else "") + p(abs(change)),
        "priceChangePercent": fixed(Decimal(t.change_ppm or 0) / 10_000, 3),
        "weightedAvgPrice": _average(lst, t.quote_volume, t.volume),
        "prevClosePrice": p(opened),
        "lastPrice": p(t.last_price),
        "lastQty": lst.qty(t.last_qty or 0),
        **book_ticker(lst, t, symbol=False),
        **window,
    }


def ticker_price(lst: Listing, t: Ticker) -> JsonObj:
    return {"symbol": lst.symbol, "price": lst.price(t.last_price)}


def book_ticker(lst: Listing, t: Ticker, symbol: bool = True) -> JsonObj:
    out: JsonObj = {"symbol": lst.symbol} if symbol else {}
    out.update(
        {
            "bidPrice": lst.price(t.bid),
            "bidQty": lst.qty(t.bid_qty or 0),
            "askPrice": lst.price(t.ask),
            "askQty": lst.qty(t.ask_qty or 0),
        }
    )
    return out
