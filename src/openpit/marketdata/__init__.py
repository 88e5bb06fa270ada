"""Market data: pure, synchronous derivation of what subscribers see from venue events.

See ``docs/market-data.md`` for the streams, sequence rules, checksum and candle rules.
"""

from openpit.marketdata.book import (
    BookDelta,
    BookSnapshot,
    DepthView,
    L2Book,
    checksum_levels,
    checksum_text,
)
from openpit.marketdata.candles import INTERVALS, Candle, MinuteBar, bucket_start
from openpit.marketdata.facade import InstrumentUpdate, MarketData, MarketUpdates
from openpit.marketdata.portfolio import AssetValue, Portfolio, PositionValue
from openpit.marketdata.prices import PriceUpdate
from openpit.marketdata.tape import PublicTrade
from openpit.marketdata.throttle import Conflator
from openpit.marketdata.ticker import Ticker

__all__ = [
    "INTERVALS",
    "AssetValue",
    "BookDelta",
    "BookSnapshot",
    "Candle",
    "Conflator",
    "DepthView",
    "InstrumentUpdate",
    "L2Book",
    "MarketData",
    "MarketUpdates",
    "MinuteBar",
    "Portfolio",
    "PositionValue",
    "PriceUpdate",
    "PublicTrade",
    "Ticker",
    "bucket_start",
    "checksum_levels",
    "checksum_text",
]
