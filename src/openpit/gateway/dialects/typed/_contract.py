"""Static conformance: mypy checks this package against the dialect contract.

One line per protocol the spec declares (``spec.groups``); ``bind`` checks the same
at load time. Imported by nothing at run time."""

from __future__ import annotations

from openpit.gateway.dialects import typed
from openpit.gateway.dialects.base import Dialect, Portfolios, Prices, Stats

_core: Dialect = typed
_portfolios: Portfolios = typed
_prices: Prices = typed
_stats: Stats = typed
