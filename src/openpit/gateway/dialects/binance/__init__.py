"""The Binance spot stream surface, pure parts: stream names, control frames, event JSON.

``streams`` turns openpit's market data and venue events into Binance's WebSocket
events (web-socket-streams.md, user-data-stream.md); the I/O (routes, fan-out,
listenKeys) lives in ``openpit.api.binance``. The REST surface and its symbol map,
decimal text and error table are ``openpit.binance``. Not a spec dialect: it is not
loaded by ``load_dialects`` and owns its own endpoints under ``/binance``.
"""
