"""Integer money helpers for the ledger: rounding is always explicit.

Invariants:
- Every amount is an ``int`` of asset units; rates are ``int`` parts per million.
- ``fee`` rounds down (the venue never charges more than the rate); ``fee_cap``
  rounds up (a reservation never holds less than any fee it may have to pay).
- For integers ``a, b >= 0`` and ``d > 0``: ``ceil((a+b)/d) - ceil(a/d) >= floor(b/d)``.
  This is what makes "reserve with ceil, charge with floor" never run short
  (see ``openpit.ledger.orders``).
"""

from __future__ import annotations

PPM = 1_000_000


def ceil_div(a: int, b: int) -> int:
    """``ceil(a / b)`` for ``b > 0``, exact for any integer ``a``."""
    return -(-a // b)


def fee(notional: int, rate_ppm: int) -> int:
    """The fee charged on ``notional``: floor(notional * rate / 1e6)."""
    return notional * rate_ppm // PPM


def fee_cap(notional: int, rate_ppm: int) -> int:
    """The most a fee on ``notional`` can be, rounded up: ceil(notional * rate / 1e6)."""
    return ceil_div(notional * rate_ppm, PPM)


def pro_rata_floor(amount: int, part: int, whole: int) -> int:
    """``floor(amount * part / whole)``; the whole amount when ``part == whole``."""
    return amount * part // whole


def pro_rata_ceil(amount: int, part: int, whole: int) -> int:
    """``ceil(amount * part / whole)``; the whole amount when ``part == whole``."""
    return ceil_div(amount * part, whole)
