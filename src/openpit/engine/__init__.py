"""The pure, synchronous, deterministic matching engine (see docs/engine.md)."""

from openpit.engine.engine import Engine
from openpit.engine.order import Order

__all__ = ["Engine", "Order"]
