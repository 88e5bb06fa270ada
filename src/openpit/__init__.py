"""openpit: a trading venue in a box.

A matching engine with accounts, market data derived from it, and a WebSocket API
speaking three wire dialects, all behind one server and one port.
"""

__version__ = "0.1.0"
