"""The baseline of ``bench/orders.py``: a bare aiohttp WebSocket echo server.

Every text frame is answered with one frame of the same size (the frame itself), on any
path. ``python -m bench._echo`` listens on 127.0.0.1 at a free port and prints it.
"""

from __future__ import annotations

import asyncio
import sys

from aiohttp import WSMsgType, web


async def _echo(request: web.Request) -> web.WebSocketResponse:
    ws = web.WebSocketResponse(compress=False, max_msg_size=0)
    await ws.prepare(request)
    async for msg in ws:
        if msg.type == WSMsgType.TEXT:
            await ws.send_str(msg.data)
    return ws


async def _main() -> None:
    app = web.Application()
    app.router.add_get("/{tail:.*}", _echo)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    print(runner.addresses[0][1], flush=True)
    try:
        await asyncio.Event().wait()
    finally:
        await runner.cleanup()


if __name__ == "__main__":
    try:
        asyncio.run(_main())
    except KeyboardInterrupt:
        sys.exit(0)
