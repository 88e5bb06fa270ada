"""Typed dialect streams: market data, order and portfolio messages.

Invariants:
- Each renderer is called once per event and its bytes are fanned out: it depends
  only on the event, never on who receives it. Stream messages carry the event's
  ``timestamp`` (the server's when the event has none).
- Channel names are ``orderbook_<pair>``, ``trades_<pair>``, ``price_<asset>``,
  ``portfolio``, ``orders`` (``positions``: the ``positions`` module).
- Every ``orderbook_update`` is a full top-N snapshot; ``stop``/``stop_limit`` orders
  show as ``stop_loss``.
- Ticker, venue status and instrument status are not spec 004 streams (never
  subscribed in typed); halts reach typed clients as ``risk_alert`` messages.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Final

from openpit.core.events import InstrumentStatus, OrderUpdate, Trade
from openpit.core.instrument import Asset, Instrument
from openpit.gateway.dialects.typed.wire import (
    _encode,
    _money,
    _price,
    _qty,
    fixed,
    order_id_text,
    percent,
    signed,
    status_text,
)
from openpit.gateway.model import BookView, OrderFee, TickerView
from openpit.marketdata.portfolio import Portfolio
from openpit.marketdata.prices import PriceUpdate


def render_trade(inst: Instrument, trade: Trade) -> bytes:
    """{"type": "trade", "channel": "trades_LUXURY001/XRP", "data": {"pair": "LUXURY001/XRP",
    "tradeId": "trade_123456789", "price": "1000.25", "amount": "50.00", "side": "buy",
    "timestamp": 1640995200000, "sequence": 12346}, "timestamp": 1640995200000}"""
    return _encode(
        {
            "type": "trade",
            "channel": f"trades_{inst.symbol}",
            "data": {
                "pair": inst.symbol,
                "venue": inst.venue,
                "tradeId": f"trade_{trade.trade_id}",
                "price": _price(inst, trade.price),
                "amount": _qty(inst, trade.qty),
                "side": trade.taker_side.value,
                "timestamp": trade.ts,
                "sequence": trade.iseq,
            },
            "timestamp": trade.ts,
        }
    )


def _levels(inst: Instrument, rows: tuple[tuple[int, int], ...]) -> list[dict[str, str]]:
    out = []
    for p, q in rows:
        price = inst.ticks_to_price(p)
        amount = inst.lots_to_qty(q)
        out.append(
            {
                "price": fixed(price, inst.price_decimals),
                "amount": fixed(amount, inst.qty_decimals),
                "total": fixed(price * amount, inst.price_decimals),
            }
        )
    return out


def render_book(inst: Instrument, book: BookView, ts: int) -> bytes:
    """{"type": "orderbook_update", "channel": "orderbook_LUXURY001/XRP", "data": {"pair":
    "LUXURY001/XRP", "bids": [{"price": "1000.00", "amount": "500.00", "total":
    "500000.00"}], "asks": [{"price": "1000.50", "amount": "200.00", "total":
    "200100.00"}], "sequence": 12345, "spread": "0.50"}, "timestamp": 1640995200000}

    Every message is a full top-N snapshot (conflated to at most 10/s per pair).
    """
    spread = None
    if book.bids and book.asks:
        spread = _price(inst, book.asks[0][0] - book.bids[0][0])
    return _encode(
        {
            "type": "orderbook_update",
            "channel": f"orderbook_{inst.symbol}",
            "data": {
                "pair": inst.symbol,
                "venue": inst.venue,
                "bids": _levels(inst, book.bids),
                "asks": _levels(inst, book.asks),
                "sequence": book.sequence or 0,
                "spread": spread,
            },
            "timestamp": book.ts or ts,
        }
    )


def render_ticker(inst: Instrument, ticker: TickerView, ts: int) -> bytes:
    """Not a spec 004 stream (never subscribed in typed); a ticker in the typed style."""
    return _encode(
        {
            "type": "ticker",
            "channel": f"ticker_{inst.symbol}",
            "data": {
                "pair": inst.symbol,
                "price": _price(inst, ticker.last),
                "bid": _price(inst, ticker.bid),
                "ask": _price(inst, ticker.ask),
            },
            "timestamp": ticker.ts or ts,
        }
    )


def render_price(inst: Instrument, update: PriceUpdate, ts: int) -> bytes:
    """{"type": "price_update", "channel": "price_LUXURY001", "data": {"symbol": "LUXURY001",
    "price": "1000.25", "change24h": "+2.5%", "volume24h": "125000.00", "high24h":
    "1005.00", "low24h": "985.00", "marketCap": "50000000.00"}, "timestamp": 1640995200000}

    ``volume24h`` is the 24 h quote volume; ``change24h`` has 2 decimals ("+2.50%").
    """
    cap = update.market_cap
    return _encode(
        {
            "type": "price_update",
            "channel": f"price_{update.symbol}",
            "data": {
                "symbol": update.symbol,
                "pair": inst.symbol,
                "price": _price(inst, update.price),
                "change24h": percent(update.change_ppm if update.change_ppm is not None else 0),
                "volume24h": _money(inst, update.quote_volume),
                "high24h": _price(inst, update.high),
                "low24h": _price(inst, update.low),
                "marketCap": None if cap is None else _money(inst, cap),
            },
            "timestamp": update.ts or ts,
        }
    )


def render_portfolio(
    portfolio: Portfolio, assets: Mapping[str, Asset], places: int, ts: int
) -> bytes:
    """{"type": "portfolio_update", "channel": "portfolio", "data": {"totalValue":
    "1520000.00", "change": "+20000.00", "changePercent": "+1.33%", "positions":
    [{"symbol": "LUXURY001", "balance": "500.00", "value": "500125.00", "change":
    "+125.00"}]}, "timestamp": 1640995200000}

    Values are in ``currency`` (the valuation asset) with ``places`` decimals; balances
    with each asset's decimals; an unpriced asset has ``value`` and ``change`` null.
    """
    v = assets[portfolio.valuation_asset]

    def money(units: int) -> Decimal:
        return v.from_units(units)

    rows = []
    for a in portfolio.assets:
        asset = assets.get(a.asset)
        rows.append(
            {
                "symbol": a.asset,
                "balance": format(asset.from_units(a.units), "f") if asset else str(a.units),
                "value": None if a.value is None else fixed(money(a.value), places),
                "change": None if a.change is None else signed(money(a.change), places),
            }
        )
    margin = []
    for p in portfolio.positions:
        if not p.margin_mode:
            continue
        pnl = p.unrealized_pnl_value
        margin.append(
            {
                "instrument": p.instrument,
                "pnl": None if pnl is None else signed(money(pnl), places),
            }
        )
    return _encode(
        {
            "type": "portfolio_update",
            "channel": "portfolio",
            "data": {
                "totalValue": fixed(money(portfolio.total_value), places),
                "change": signed(money(portfolio.change), places),
                "changePercent": percent(portfolio.change_ppm or 0),
                "currency": portfolio.valuation_asset,
                "positions": rows,
                "marginPositions": margin,
                "unpriced": portfolio.unpriced,
            },
            "timestamp": ts,
        }
    )


_TYPE_NAMES: Final = {"stop": "stop_loss", "stop_limit": "stop_loss"}


def render_order(inst: Instrument, order: OrderUpdate, fee: OrderFee) -> bytes:
    """{"type": "order_update", "channel": "orders", "data": {"orderId": "order_123456789",
    "status": "partially_filled", "side": "buy", "type": "limit", "pair": "LUXURY001/XRP",
    "amount": "100.00", "filled": "25.00", "remaining": "75.00", "averagePrice": "1000.50",
    "lastFillPrice": "1000.25", "lastFillAmount": "25.00"}, "timestamp": 1640995200000}"""
    average = None
    if order.filled:
        avg = Decimal(order.filled_value) / order.filled * inst.tick_size
        average = fixed(avg, inst.price_decimals)
    last_qty = order.last_fill_qty
    return _encode(
        {
            "type": "order_update",
            "channel": "orders",
            "data": {
                "orderId": order_id_text(order.order_id),
                "clientOrderId": order.client_order_id,
                "status": status_text(order.status.value),
                "side": order.side.value,
                "type": _TYPE_NAMES.get(order.type.value, order.type.value),
                "pair": inst.symbol,
                "venue": inst.venue,
                "amount": _qty(inst, order.qty),
                "price": _price(inst, order.price),
                "stopPrice": _price(inst, order.stop_price),
                "filled": _qty(inst, order.filled),
                "remaining": _qty(inst, order.remaining),
                "averagePrice": average,
                "lastFillPrice": _price(inst, order.last_fill_price) if last_qty else None,
                "lastFillAmount": _qty(inst, last_qty) if last_qty else None,
                "fee": _money(inst, fee.units),
                "leverage": order.leverage,
                "reason": None if order.reason.value == "ok" else order.reason.value,
            },
            "timestamp": order.ts,
        }
    )


def render_venue_status(venue: str, status: str, ts: int) -> bytes:
    """Not a spec 004 stream (never subscribed in typed)."""
    return _encode(
        {"type": "venue_status", "data": {"venue": venue, "status": status}, "timestamp": ts}
    )


def render_instrument_status(inst: Instrument, status: InstrumentStatus) -> bytes:
    """Not a spec 004 stream (never subscribed in typed); halts reach typed clients as
    ``risk_alert`` messages."""
    return _encode(
        {
            "type": "instrument_status",
            "data": {
                "pair": inst.symbol,
                "venue": inst.venue,
                "status": "halted" if status.halted else "trading",
                "reason": status.reason,
            },
            "timestamp": status.ts,
        }
    )
