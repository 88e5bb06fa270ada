"""The ledger: pure, synchronous accounts, reservations, fees and positions.

See ``openpit.ledger.ledger`` for the invariants and ``docs/ledger.md`` for the rules.
"""

from openpit.ledger.accounts import FEES, INTERNAL_ACCOUNTS, LENDER, LedgerError
from openpit.ledger.ledger import Ledger, Rejection

__all__ = ["FEES", "INTERNAL_ACCOUNTS", "LENDER", "Ledger", "LedgerError", "Rejection"]
