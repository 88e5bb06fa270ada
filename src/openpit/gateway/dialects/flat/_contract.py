"""Static conformance: mypy checks this package against the dialect contract.

One line per protocol the spec declares (``spec.groups``); ``bind`` checks the same
at load time. Imported by nothing at run time."""

from __future__ import annotations

from openpit.gateway.dialects import flat
from openpit.gateway.dialects.base import Dialect

_core: Dialect = flat
