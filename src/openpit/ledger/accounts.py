"""Per-(account, asset) balances: ``available`` and ``reserved`` units.

Invariants:
- An account exists once something was credited to it; reading an unknown
  account yields ``(0, 0)`` and creates nothing.
- ``reserved`` is never negative for any account; ``available`` is never negative
  for any account except ``LENDER``, which absorbs bad debt (a negative pool balance
  is the record of a loss the venue took, see ``openpit.ledger.margin``).
- Every mutation records the touched ``(account, asset)`` key, in order of first
  touch, so callers emit exactly one ``Balance`` event per key whose value changed.
- Moves between ``available`` and ``reserved`` of one account never change its total.
"""

from __future__ import annotations

from collections.abc import Iterator

from openpit.core.errors import OpenpitError
from openpit.core.events import Balance

LENDER = "__lender__"  # the venue's lending pool (funded from risk.lending_pool)
FEES = "__fees__"  # fees collected
INTERNAL_ACCOUNTS = (LENDER, FEES)


class LedgerError(OpenpitError, RuntimeError):
    """A caller broke the ledger's contract (unknown order, overfill, overdraft).

    Business rejections are ``(Reason, message)`` results, never this exception.
    """


class Accounts:
    """The balance table. Pure data; picklable."""

    __slots__ = ("_bal", "_touched")

    def __init__(self) -> None:
        self._bal: dict[tuple[str, str], list[int]] = {}  # (user, asset) -> [available, reserved]
        self._touched: dict[tuple[str, str], tuple[int, int]] = {}  # key -> value at first touch

    # -- reading ---------------------------------------------------------------
    def get(self, user: str, asset: str) -> tuple[int, int]:
        b = self._bal.get((user, asset))
        return (0, 0) if b is None else (b[0], b[1])

    def available(self, user: str, asset: str) -> int:
        return self.get(user, asset)[0]

    def of(self, user: str) -> dict[str, tuple[int, int]]:
        return {a: (b[0], b[1]) for (u, a), b in sorted(self._bal.items()) if u == user}

    def items(self) -> Iterator[tuple[str, str, int, int]]:
        for (user, asset), b in sorted(self._bal.items()):
            yield user, asset, b[0], b[1]

    def known(self, user: str) -> bool:
        return any(u == user for u, _ in self._bal)

    # -- mutations -------------------------------------------------------------
    def _row(self, user: str, asset: str) -> list[int]:
        key = (user, asset)
        if key not in self._touched:
            self._touched[key] = self.get(user, asset)
        row = self._bal.get(key)
        if row is None:
            row = self._bal[key] = [0, 0]
        return row

    def credit(self, user: str, asset: str, units: int) -> None:
        """Add to ``available``."""
        if units:
            self._row(user, asset)[0] += units

    def debit(self, user: str, asset: str, units: int) -> None:
        """Take from ``available``; only ``LENDER`` may go below zero."""
        if not units:
            return
        row = self._row(user, asset)
        if row[0] < units and user != LENDER:
            raise LedgerError(f"{user} {asset}: debit {units} exceeds available {row[0]}")
        row[0] -= units

    def reserve(self, user: str, asset: str, units: int) -> None:
        """Move ``available`` to ``reserved``."""
        if not units:
            return
        row = self._row(user, asset)
        if row[0] < units:
            raise LedgerError(f"{user} {asset}: reserve {units} exceeds available {row[0]}")
        row[0] -= units
        row[1] += units

    def release(self, user: str, asset: str, units: int) -> None:
        """Move ``reserved`` back to ``available``."""
        if not units:
            return
        row = self._row(user, asset)
        if row[1] < units or units < 0:
            raise LedgerError(f"{user} {asset}: release {units} exceeds reserved {row[1]}")
        row[1] -= units
        row[0] += units

    def consume(self, user: str, asset: str, units: int) -> None:
        """Take from ``reserved`` (the units leave the account)."""
        if not units:
            return
        row = self._row(user, asset)
        if row[1] < units or units < 0:
            raise LedgerError(f"{user} {asset}: consume {units} exceeds reserved {row[1]}")
        row[1] -= units

    # -- events ----------------------------------------------------------------
    def drain(self) -> list[Balance]:
        """One ``Balance`` per key changed since the last drain, in order of first touch."""
        events = []
        for (user, asset), before in self._touched.items():
            available, reserved = self.get(user, asset)
            if (available, reserved) == before:
                continue
            events.append(Balance(user=user, asset=asset, available=available, reserved=reserved))
        self._touched.clear()
        return events

    def totals(self, into: dict[str, int]) -> None:
        for (_, asset), b in self._bal.items():
            into[asset] = into.get(asset, 0) + b[0] + b[1]
