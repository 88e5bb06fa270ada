"""Every close the server decides reaches the client as a close frame, even while the
client is still sending: the handler sends its close frame and then reads and drops
what the client still sends until the client's close frame arrives (a socket closed
with unread input is reset, and the reset destroys the close frame the client has not
read yet). Invalid UTF-8 is caught by the gateway, so every frame before it is answered
and the close is 1007 with a close frame.
"""

from __future__ import annotations

import json
from collections import Counter

import aiohttp

from tests.gateway.helpers import live, run_async

BAD_SUBSCRIBE = {"action": "subscribe", "data": {"channel": "no_such_channel"}, "id": 0}


async def _burst_after_close(port: int, pad: int) -> tuple[str, int | None]:
    """10 bad subscribes (the envelope closes with 4002 at the 10th), then 300 more frames
    sent without reading: the close must arrive as a frame, whatever is still in flight."""
    async with aiohttp.ClientSession() as http:
        ws = await http.ws_connect(f"ws://127.0.0.1:{port}/ws/market-data", max_msg_size=0)
        try:
            for i in range(310):
                frame = BAD_SUBSCRIBE if i < 10 else {"action": "ping", "id": i, "pad": "x" * pad}
                await ws.send_str(json.dumps(frame))
        except ConnectionError:
            pass  # the server closed meanwhile: its close frame must still be readable
        while True:
            msg = await ws.receive(10)
            if msg.type is aiohttp.WSMsgType.TEXT:
                continue
            code = int(msg.data) if msg.type is aiohttp.WSMsgType.CLOSE else ws.close_code
            return msg.type.name, code


@run_async
async def test_a_strike_close_reaches_a_client_that_is_still_sending() -> None:
    async with live() as env:
        outcomes: Counter[tuple[str, int | None]] = Counter()
        for pad in (10, 1_000, 10_000):
            for _ in range(8):
                outcomes[await _burst_after_close(env.gateway.port, pad)] += 1
        assert outcomes == Counter({("CLOSE", 4002): 24}), outcomes


@run_async
async def test_invalid_utf8_closes_1007_after_answering_every_frame_before_it() -> None:
    async with live() as env, aiohttp.ClientSession() as http:
        # uncompressed: aiohttp's client may compress a frame in a thread, and a frame
        # written through its writer directly could then overtake the ones before it
        url = f"ws://127.0.0.1:{env.gateway.port}/ws/market-data"
        ws = await http.ws_connect(url, compress=0)
        for i in range(50):
            await ws.send_str(json.dumps({"action": "ping", "id": i}))
        await ws._writer.send_frame(b'{"action": "ping", "id": "\xff\xfe"}', aiohttp.WSMsgType.TEXT)
        replies = []
        while True:
            msg = await ws.receive(10)
            if msg.type is not aiohttp.WSMsgType.TEXT:
                break
            replies.append(json.loads(msg.data))
        assert msg.type is aiohttp.WSMsgType.CLOSE, msg
        assert msg.data == 1007 and msg.extra == "Invalid UTF-8 text message"
        assert [r.get("id") for r in replies] == list(range(50))


@run_async
async def test_invalid_utf8_as_the_first_frame_closes_1007() -> None:
    async with live() as env, aiohttp.ClientSession() as http:
        ws = await http.ws_connect(f"ws://127.0.0.1:{env.gateway.port}/ws")
        await ws._writer.send_frame(b"\xc3\x28", aiohttp.WSMsgType.TEXT)
        msg = await ws.receive(10)
        assert msg.type is aiohttp.WSMsgType.CLOSE and msg.data == 1007, msg
