"""Envelope dialect streams: market data, account and notification messages.

Invariants:
- Each renderer is called once per event and its bytes are fanned out: it depends
  only on the event, never on who receives it; stream messages carry no ``id``.
- Order book channels are delta-style: a ``orderbook`` snapshot with the view's
  ``sequence``, then ``orderbook_update`` messages with only the changed levels
  (quantity 0 deletes) and consecutive sequences (``prev_sequence`` = previous).
- Trade ids are rendered ``"t-<n>"``, notification ids ``"n-<n>"``, alert ids
  ``"a-<n>"``; account ids ``"acc-<user>"``.
- Spec 001 has no position, venue or instrument status channel: those ride on
  ``account_updates`` and ``system_notifications``.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from typing import Any

import msgspec

from openpit.alerts.events import (
    AnyAlertEvent,
    CustomAlertTriggered,
    SystemNotification,
    UserNotification,
    render_value,
)
from openpit.core.enums import Reason
from openpit.core.events import Fill, InstrumentStatus, OrderUpdate, Position, Trade
from openpit.core.instrument import Instrument
from openpit.gateway.dialects.envelope.replies import _order_fields
from openpit.gateway.dialects.envelope.wire import (
    _channel,
    _exact,
    _oid,
    _price,
    _qty,
    _stream,
    num,
)
from openpit.gateway.model import AccountView, BookView, OrderFee, TickerView
from openpit.marketdata.book import BookDelta
from openpit.marketdata.candles import Candle


def render_trade(inst: Instrument, trade: Trade) -> bytes:
    """{"type": "trade", "data": {"symbol": "AAPL", "price": 150.25, "size": 100,
    "side": "buy", "trade_id": "t-12345", "trade_time": 1625097600000},
    "channel": "trades:AAPL", "timestamp": 1625097600000}"""
    data = {
        "symbol": inst.symbol,
        "price": _price(inst, trade.price),
        "size": _qty(inst, trade.qty),
        "side": trade.taker_side.value,
        "trade_id": f"t-{trade.trade_id}",
        "trade_time": trade.ts,
    }
    return _stream("trade", _channel("trades", inst), data, trade.ts)


def _levels(inst: Instrument, levels: Sequence[tuple[int, int]]) -> list[list[Any]]:
    return [[_price(inst, p), _qty(inst, q)] for p, q in levels]


def render_book(inst: Instrument, book: BookView, ts: int) -> bytes:
    """The snapshot a subscription starts from:
    {"type": "orderbook", "data": {"symbol": "AAPL", "bids": [[150.00, 500]],
    "asks": [[150.05, 300]], "sequence": 12345}, "channel": "orderbook:AAPL:10",
    "timestamp": 1625097600000}"""
    data = {
        "symbol": inst.symbol,
        "bids": _levels(inst, book.bids),
        "asks": _levels(inst, book.asks),
        "sequence": book.sequence or 0,
        "checksum": book.checksum,
    }
    return _stream("orderbook", _channel("orderbook", inst, book.depth), data, ts)


def render_book_delta(inst: Instrument, delta: BookDelta) -> bytes:
    """{"type": "orderbook_update", "data": {"symbol": "AAPL", "bids": [[150.00, 600],
    [149.85, 500]], "asks": [[150.05, 0]], "sequence": 12346, "prev_sequence": 12345},
    "channel": "orderbook:AAPL:10", "timestamp": 1625097601000}"""
    data = {
        "symbol": inst.symbol,
        "bids": _levels(inst, delta.bids),
        "asks": _levels(inst, delta.asks),
        "sequence": delta.sequence,
        "prev_sequence": delta.prev_sequence,
        "checksum": delta.checksum,
    }
    return _stream("orderbook_update", _channel("orderbook", inst, delta.depth), data, delta.ts)


def render_ticker(inst: Instrument, ticker: TickerView, ts: int) -> bytes:
    """{"type": "ticker", "data": {"symbol": "AAPL", "last_price": 150.25, "last_size": 100,
    "bid": 150.20, "ask": 150.30, "volume": 1250000, "daily_change": 2.75,
    "daily_change_percent": 1.86, "high": 151.00, "low": 148.50, "open": 149.00},
    "channel": "ticker:AAPL", "timestamp": 1625097600000}"""
    pct = None
    if ticker.change_ppm is not None:
        pct = (Decimal(ticker.change_ppm) / 10_000).quantize(Decimal("0.01"))
    data = {
        "symbol": inst.symbol,
        "last_price": _price(inst, ticker.last),
        "last_size": None if ticker.last_qty is None else _qty(inst, ticker.last_qty),
        "bid": _price(inst, ticker.bid),
        "ask": _price(inst, ticker.ask),
        "volume": _qty(inst, ticker.volume),
        "daily_change": None if ticker.change is None else num(inst.ticks_to_price(ticker.change)),
        "daily_change_percent": num(pct),
        "high": _price(inst, ticker.high),
        "low": _price(inst, ticker.low),
        "open": _price(inst, ticker.open),
    }
    return _stream("ticker", _channel("ticker", inst), data, ts)


def render_candle(inst: Instrument, candle: Candle, ts: int) -> bytes:
    """{"type": "candle", "data": {"symbol": "AAPL", "interval": "1m", "open": 150.00,
    "high": 150.30, "low": 149.90, "close": 150.25, "volume": 12500,
    "start_time": 1625097540000, "end_time": 1625097600000}, "channel": "candles:AAPL:1m",
    "timestamp": 1625097600000}"""
    data = {
        "symbol": inst.symbol,
        "interval": candle.interval,
        "open": _price(inst, candle.open),
        "high": _price(inst, candle.high),
        "low": _price(inst, candle.low),
        "close": _price(inst, candle.close),
        "volume": _qty(inst, candle.volume),
        "start_time": candle.start,
        "end_time": candle.end,
        "closed": candle.closed,
    }
    return _stream("candle", _channel("candles", inst, candle.interval), data, ts)


def _average(inst: Instrument, value_ticks_lots: int, lots: int) -> Decimal | None:
    if not lots:
        return None
    cost = inst.quote.from_units(value_ticks_lots * inst.notional_units)
    return (cost / inst.lots_to_qty(lots)).quantize(Decimal(1).scaleb(-(inst.price_decimals + 8)))


def render_order(inst: Instrument, order: OrderUpdate, fee: OrderFee) -> bytes:
    """{"type": "order_update", "data": {"order_id": "o-67890", "client_id": "order-1",
    "symbol": "AAPL", "side": "buy", "type": "limit", "quantity": 100,
    "filled_quantity": 50, "remaining_quantity": 50, "price": 150.00,
    "status": "partially_filled", "time_in_force": "gtc", "created_at": 1625097600000,
    "updated_at": 1625097630000}, "channel": "user_orders", "timestamp": 1625097630000}"""
    data = _order_fields(inst, order)
    data.update(
        filled_quantity=_qty(inst, order.filled),
        remaining_quantity=_qty(inst, order.remaining),
        status=order.status.value,
        created_at=order.created_ts or order.ts,
        updated_at=order.ts,
        stop_price=_price(inst, order.stop_price),
        average_price=_exact(inst, _average(inst, order.filled_value, order.filled)),
        fee=num(inst.quote.from_units(fee.units)),
        fee_currency=fee.asset or inst.quote.symbol,
        reason=None if order.reason is Reason.OK else order.reason.value,
    )
    return _stream("order_update", "user_orders", data, order.ts)


def render_fill(inst: Instrument, fill: Fill) -> bytes:
    """{"type": "user_trade", "data": {"trade_id": "t-12345", "order_id": "o-67890",
    "symbol": "AAPL", "side": "buy", "price": 150.00, "quantity": 50, "fee": 0.15,
    "fee_currency": "USD", "trade_time": 1625097630000}, "channel": "user_trades",
    "timestamp": 1625097630000}"""
    data = {
        "trade_id": f"t-{fill.trade_id}",
        "order_id": _oid(fill.order_id),
        "client_id": fill.client_order_id,
        "symbol": inst.symbol,
        "side": fill.side.value,
        "price": _price(inst, fill.price),
        "quantity": _qty(inst, fill.qty),
        "fee": num(inst.quote.from_units(fill.fee)),
        "fee_currency": fill.fee_asset or inst.quote.symbol,
        "liquidity": fill.liquidity.value,
        "trade_time": fill.ts,
    }
    return _stream("user_trade", "user_trades", data, fill.ts)


def _position(inst: Instrument, p: Position) -> dict[str, Any]:
    qty = abs(p.qty)
    amount = inst.lots_to_qty(qty)
    cost = inst.quote.from_units(p.cost)
    average = pnl = None
    if qty:
        average = cost / amount
        if p.mark_price is not None:
            value = inst.ticks_to_price(p.mark_price) * amount
            pnl = value - cost if p.qty > 0 else cost - value
    return {
        "symbol": inst.symbol,
        "quantity": num(inst.lots_to_qty(p.qty)),
        "average_price": _exact(inst, None if average is None else _round(average, inst)),
        "unrealized_pnl": num(None if pnl is None else _round(pnl, inst)),
        "realized_pnl": num(inst.quote.from_units(p.realized_pnl)),
        "type": "margin" if p.margin_mode else "spot",
    }


def _round(value: Decimal, inst: Instrument) -> Decimal:
    return value.quantize(Decimal(1).scaleb(-(inst.price_decimals + 8)))


def render_account(account: AccountView, ts: int) -> bytes:
    """{"type": "account_update", "data": {"account_id": "acc-12345", "balances": [
    {"currency": "USD", "available": 10000.00, "reserved": 15000.00, "total": 25000.00}],
    "positions": [{"symbol": "AAPL", "quantity": 150, "average_price": 149.75,
    "unrealized_pnl": 75.00, "realized_pnl": 0.00}]}, "channel": "account_updates",
    "timestamp": 1625097630000}"""
    balances = [
        {
            "currency": asset.symbol,
            "available": num(asset.from_units(avail)),
            "reserved": num(asset.from_units(reserved)),
            "total": num(asset.from_units(avail + reserved)),
        }
        for asset, avail, reserved in account.balances
    ]
    positions = [_position(inst, p) for inst, p in account.positions]
    data = {"account_id": f"acc-{account.user}", "balances": balances, "positions": positions}
    return _stream("account_update", "account_updates", data, ts)


def render_position(inst: Instrument, position: Position) -> bytes:
    """Spec 001 has no positions channel (positions ride on ``account_updates``)."""
    return _stream("position", "account_updates", _position(inst, position), position.ts)


def render_venue_status(venue: str, status: str, ts: int) -> bytes:
    """Spec 001 has no venue status channel; shaped like a system notification."""
    data = {"exchange": venue, "status": status}
    return _stream("exchange_status", "system_notifications", data, ts)


def render_instrument_status(inst: Instrument, status: InstrumentStatus) -> bytes:
    """Spec 001 has no instrument status channel; shaped like a system notification."""
    data = {
        "symbol": inst.symbol,
        "status": "halted" if status.halted else "trading",
        "reason": status.reason,
    }
    return _stream("instrument_status", "system_notifications", data, status.ts)


def render_alert(event: AnyAlertEvent, inst: Instrument | None) -> bytes | None:
    """System / user notifications and custom alerts (other alert events: None).

    {"type": "system_notification", "data": {"id": "n-12345", "level": "info",
    "title": "Market Hours Update", "message": "...", "link": "https://..."},
    "channel": "system_notifications", "timestamp": 1625097600000}
    {"type": "custom_alert", "data": {"alert_id": "a-12345", "name": "AAPL Price Alert",
    "condition": "price_above", "symbol": "AAPL", "threshold": 150.00,
    "current_value": 150.25, "triggered_at": 1625097600000}, "channel": "custom_alerts",
    "timestamp": 1625097600000}"""
    if isinstance(event, SystemNotification | UserNotification):
        kind = (
            "system_notification" if isinstance(event, SystemNotification) else "user_notification"
        )
        data = {
            "id": f"n-{event.id}",
            "level": event.level.value,
            "title": event.title,
            "message": event.message,
            "link": event.link,
        }
        return _stream(kind, kind + "s", data, event.ts)
    if isinstance(event, CustomAlertTriggered) and inst is not None:
        alert: dict[str, Any] = {
            "alert_id": f"a-{event.alert_id}",
            "name": event.name,
            "condition": event.condition.value,
            "symbol": inst.symbol,
            "threshold": _alert_value(event.condition, inst, event.threshold),
            "current_value": _alert_value(event.condition, inst, event.current_value),
            "triggered_at": event.triggered_at,
        }
        return _stream("custom_alert", "custom_alerts", alert, event.ts)
    return None


def _alert_value(condition: Any, inst: Instrument, value: int) -> msgspec.Raw | None:
    rendered = render_value(condition, inst, value)
    if condition.value.startswith("price_"):
        return msgspec.Raw(format(rendered, f".{inst.price_decimals}f").encode())
    return num(rendered)
