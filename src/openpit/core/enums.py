"""Closed sets used across the venue.

Values are the lower-case wire names; every dialect maps them to its own spelling.
"""

from enum import StrEnum


class Side(StrEnum):
    BUY = "buy"
    SELL = "sell"

    @property
    def opposite(self) -> "Side":
        return Side.SELL if self is Side.BUY else Side.BUY


class OrderType(StrEnum):
    MARKET = "market"
    LIMIT = "limit"
    STOP = "stop"  # stop-market: becomes a market order when triggered
    STOP_LIMIT = "stop_limit"  # becomes a limit order when triggered
    TAKE_PROFIT = "take_profit"  # market order triggered when price moves in favour
    TAKE_PROFIT_LIMIT = "take_profit_limit"
    TRAILING_STOP = "trailing_stop"  # stop-market whose trigger follows the price
    OCO = "oco"  # one-cancels-other: a limit leg and a stop(-limit) leg


class TimeInForce(StrEnum):
    GTC = "gtc"
    IOC = "ioc"
    FOK = "fok"
    DAY = "day"


class STPMode(StrEnum):
    """Self-trade prevention: what happens when an order would match its owner's order."""

    CANCEL_NEWEST = "cancel_newest"
    CANCEL_OLDEST = "cancel_oldest"
    CANCEL_BOTH = "cancel_both"
    DECREMENT_AND_CANCEL = "decrement_and_cancel"
    NONE = "none"


class OrderStatus(StrEnum):
    PENDING = "pending"  # a stop waiting for its trigger
    NEW = "new"  # resting, nothing filled
    PARTIALLY_FILLED = "partially_filled"
    FILLED = "filled"
    CANCELLED = "cancelled"
    EXPIRED = "expired"  # ioc/fok remainder, day order at session close
    REJECTED = "rejected"

    @property
    def is_final(self) -> bool:
        return self in _FINAL


_FINAL = frozenset(
    {OrderStatus.FILLED, OrderStatus.CANCELLED, OrderStatus.EXPIRED, OrderStatus.REJECTED}
)
FINAL_STATUSES = _FINAL  # statuses after which an order never changes again


class InstrumentKind(StrEnum):
    SPOT = "spot"
    MARGIN = "margin"  # spot book on which margin (borrowed, leveraged) orders may also trade


class Liquidity(StrEnum):
    MAKER = "maker"
    TAKER = "taker"


class Reason(StrEnum):
    """Internal reason codes for rejections and cancellations.

    ``core.reasons`` gives each a neutral class (REST and gateway statuses derive from
    it); one table per dialect maps them to its wire codes.
    """

    OK = "ok"
    UNKNOWN_INSTRUMENT = "unknown_instrument"
    INVALID_PRICE = "invalid_price"  # not positive or not a multiple of the tick size
    INVALID_QUANTITY = "invalid_quantity"  # not positive or not a multiple of the lot size
    BELOW_MIN_QUANTITY = "below_min_quantity"
    INVALID_PARAMETER = "invalid_parameter"  # any other malformed or contradictory field
    UNKNOWN_ORDER = "unknown_order"
    DUPLICATE_CLIENT_ORDER_ID = "duplicate_client_order_id"
    INSUFFICIENT_FUNDS = "insufficient_funds"
    MARKET_CLOSED = "market_closed"
    TRADING_HALTED = "trading_halted"
    POST_ONLY_WOULD_TAKE = "post_only_would_take"
    FOK_NOT_FILLABLE = "fok_not_fillable"
    IOC_REMAINDER = "ioc_remainder"
    NO_LIQUIDITY = "no_liquidity"  # market order with no reference price or empty book
    PRICE_BAND = "price_band"  # market order stopped by its protection band
    SELF_TRADE = "self_trade"
    REDUCE_ONLY = "reduce_only"  # would open or increase a position
    LEVERAGE_NOT_ALLOWED = "leverage_not_allowed"
    USER_CANCELLED = "user_cancelled"
    OCO_SIBLING = "oco_sibling"  # the other leg of an OCO filled or triggered
    DAY_EXPIRED = "day_expired"
    DEADLINE_PASSED = "deadline_passed"
    LIQUIDATION = "liquidation"
    UNKNOWN_USER = "unknown_user"
    ORDER_NOT_MODIFIABLE = "order_not_modifiable"
