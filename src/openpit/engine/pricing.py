"""Integer price arithmetic for protection bands and trailing stops.

Invariants:
- Integers only; every rounding direction is the one that keeps a bound *inside*
  the band: a buy cap rounds down, a sell floor rounds up, and never below 1 tick.
- A trailing stop's trigger never sits closer to its watermark than the trail:
  a sell trailing stop rounds down, a buy trailing stop rounds up.
"""

from __future__ import annotations

from openpit.core.instrument import PPM


def band_cap(reference: int, is_buy: bool, band_ppm: int) -> int:
    """Worst price a market-like order may trade at around ``reference``."""
    if is_buy:
        return reference * (PPM + band_ppm) // PPM
    return max(1, -((-reference * (PPM - band_ppm)) // PPM))


def trailing_stop(watermark: int, is_buy: bool, ticks: int | None, ppm: int | None) -> int:
    """Trigger price of a trailing stop whose watermark is ``watermark``."""
    if ticks is not None:
        return watermark + ticks if is_buy else watermark - ticks
    assert ppm is not None
    if is_buy:
        return -((-watermark * (PPM + ppm)) // PPM)
    return watermark * (PPM - ppm) // PPM
