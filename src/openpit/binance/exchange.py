"""``exchangeInfo``, ``account`` and the rate-limit tables of the Binance surface.

Invariants:
- Filters come from the instrument alone: ``PRICE_FILTER`` (``tickSize`` = tick,
  ``minPrice`` = one tick, ``maxPrice`` = the largest price the venue can hold),
  ``LOT_SIZE`` and ``MARKET_LOT_SIZE`` (``stepSize`` = lot, ``minQty`` = min qty,
  ``maxQty`` = the largest quantity), ``NOTIONAL`` with ``minNotional`` = one tick x
  one lot (openpit has no minimum notional beyond that).
- ``status`` is ``TRADING``, or ``HALT`` while the instrument is halted.
- ``quoteOrderQtyMarketAllowed`` is ``false``: openpit orders are sized in lots, so a
  quote-sized market order is refused with the message Binance uses for symbols that
  do not allow it.
- Commission figures are in Binance's units: ``makerCommission`` in basis points,
  ``commissionRates`` as decimal fractions.
Pure: no I/O.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from decimal import Decimal

from openpit.binance.render import ORDER_TYPES, JsonObj
from openpit.binance.symbols import Listing, fixed
from openpit.core.enums import STPMode
from openpit.core.instrument import Asset

STP_IN = {
    "NONE": STPMode.NONE,
    "EXPIRE_TAKER": STPMode.CANCEL_NEWEST,
    "EXPIRE_MAKER": STPMode.CANCEL_OLDEST,
    "EXPIRE_BOTH": STPMode.CANCEL_BOTH,
    "DECREMENT": STPMode.DECREMENT_AND_CANCEL,
}
STP_OUT = {mode: name for name, mode in STP_IN.items()}


def rate_limits(weight_per_minute: int, orders_per_10s: int, orders_per_day: int) -> list[JsonObj]:
    return [
        {"rateLimitType": "REQUEST_WEIGHT", "interval": "MINUTE", "intervalNum": 1,
         "limit": weight_per_minute},
        {"rateLimitType": "ORDERS", "interval": "SECOND", "intervalNum": 10,
         "limit": orders_per_10s},
        {"rateLimitType": "ORDERS", "interval": "DAY", "intervalNum": 1, "limit": orders_per_day},
    ]  # fmt: skip


def filters(lst: Listing) -> list[JsonObj]:
    inst = lst.inst
    max_price = fixed(inst.ticks_to_price(inst.max_ticks), lst.price_places)
    max_qty = fixed(inst.lots_to_qty(inst.max_lots), lst.qty_places)
    min_qty = lst.qty(inst.min_lots)
    min_notional = lst.quote_amount(inst.notional_units)
    return [
        {"filterType": "PRICE_FILTER", "minPrice": lst.step_price(), "maxPrice": max_price,
         "tickSize": lst.step_price()},
        {"filterType": "LOT_SIZE", "minQty": min_qty, "maxQty": max_qty,
         "stepSize": lst.step_qty()},
        {"filterType": "MARKET_LOT_SIZE", "minQty": min_qty, "maxQty": max_qty,
         "stepSize": lst.step_qty()},
        {"filterType": "NOTIONAL", "minNotional": min_notional, "applyMinToMarket": False,
         "maxNotional": fixed(Decimal(9_000_000_000_000_000), lst.quote.decimals),
         "applyMaxToMarket": False, "avgPriceMins": 5},
    ]  # fmt: skip


def symbol_info(lst: Listing, halted: bool, stp_default: STPMode) -> JsonObj:
    inst = lst.inst
    margin = inst.margin_allowed
    return {
        "symbol": lst.symbol,
        "status": "HALT" if halted else "TRADING",
        "baseAsset": inst.base.symbol,
        "baseAssetPrecision": lst.qty_places,
        "quoteAsset": inst.quote.symbol,
        "quotePrecision": lst.price_places,
        "quoteAssetPrecision": lst.price_places,
        "baseCommissionPrecision": inst.base.decimals,
        "quoteCommissionPrecision": inst.quote.decimals,
        "orderTypes": list(ORDER_TYPES),
        "icebergAllowed": False,
        "ocoAllowed": False,
        "otoAllowed": False,
        "opoAllowed": False,
        "quoteOrderQtyMarketAllowed": False,
        "allowTrailingStop": False,
        "cancelReplaceAllowed": False,
        "amendAllowed": False,
        "pegInstructionsAllowed": False,
        "isSpotTradingAllowed": True,
        "isMarginTradingAllowed": margin,
        "filters": filters(lst),
        "permissions": [],
        "permissionSets": [["SPOT", "MARGIN"]] if margin else [["SPOT"]],
        "defaultSelfTradePreventionMode": STP_OUT[stp_default],
        "allowedSelfTradePreventionModes": list(STP_IN),
    }


def exchange_info(
    listings: Iterable[Listing],
    halted: Callable[[str], bool],
    stp_default: STPMode,
    now: int,
    limits: list[JsonObj],
) -> JsonObj:
    return {
        "timezone": "UTC",
        "serverTime": now,
        "rateLimits": limits,
        "exchangeFilters": [],
        "symbols": [symbol_info(lst, halted(lst.inst.id), stp_default) for lst in listings],
    }


def _bps(rate_ppm: int) -> int:
    return rate_ppm // 100


def _rate(rate_ppm: int) -> str:
    return fixed(Decimal(rate_ppm) / 1_000_000, 8)


def account(
    assets: Mapping[str, Asset],
    balances: Mapping[str, tuple[int, int]],
    maker_ppm: int,
    taker_ppm: int,
    can_trade: bool,
    uid: int,
    now: int,
    omit_zero: bool = False,
) -> JsonObj:
    """``GET /api/v3/account``; ``balances``: asset -> (available, reserved) units."""
    rows = []
    for symbol, asset in assets.items():
        free, locked = balances.get(symbol, (0, 0))
        if omit_zero and free == 0 and locked == 0:
            continue
        rows.append(
            {
                "asset": symbol,
                "free": fixed(asset.from_units(free), asset.decimals),
                "locked": fixed(asset.from_units(locked), asset.decimals),
            }
        )
    return {
        "makerCommission": _bps(maker_ppm),
        "takerCommission": _bps(taker_ppm),
        "buyerCommission": 0,
        "sellerCommission": 0,
        "commissionRates": {
            "maker": _rate(maker_ppm),
            "taker": _rate(taker_ppm),
            "buyer": _rate(0),
            "seller": _rate(0),
        },
        "canTrade": can_trade,
        "canWithdraw": False,
        "canDeposit": False,
        "brokered": False,
        "requireSelfTradePrevention": False,
        "preventSor": False,
        "updateTime": now,
        "accountType": "SPOT",
        "balances": rows,
        "permissions": ["SPOT"],
        "uid": uid,
    }
