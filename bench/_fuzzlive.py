"""The live fuzz's client side: hostile frames (``bench/_fuzzframes.py``) over real sockets
to a running ``openpit serve``, every reply and close classified, and a well-behaved
trader alongside that must keep getting order acks.

Each fuzz connection sends its frames in batches, each batch followed by the dialect's
ping; the next batch waits for the pong (or the close), so sends are pipelined but
bounded and every reply or close lands within one batch of the frame that caused it. A
failure names the seed and that batch's frames.

Failures: a reply that is an internal error (flat ``code`` 500, envelope
``internal_error``, typed ``INTERNAL_ERROR``), a non-JSON text reply, a close without a
close frame (1006) or with 1011, no pong within ``REPLY_TIMEOUT_S``. A close with a
documented code (auth failures, flood strikes, frame size, invalid UTF-8) is fine: the
connection is reopened.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import aiohttp

from bench._fuzzframes import Frame, FrameGen
from openpit.gateway import sign

REPLY_TIMEOUT_S = 20.0
BATCH = 100
# documented closes (docs/dialects.md): 1000 timeout, 1007 invalid UTF-8 (RFC 6455),
# 1008 policy, 1009 too big, 4000-4003 envelope auth/flood/subscribe/connection limits
FINE_CLOSES = frozenset({1000, 1007, 1008, 1009, 4000, 4001, 4002, 4003})


@dataclass(frozen=True, slots=True)
class Target:
    name: str
    path: str
    seeds: str  # key of load_seeds()
    login: str  # "none" | "flat" | "envelope" | "typed"
    ping: str
    ping2: str = ""


TARGETS = [
    Target("flat", "/ws", "flat", "flat", '{"action":"ping"}'),
    Target("flat-anon", "/ws?dialect=flat", "flat", "none", '{"action":"ping"}'),
    # the first frame picks flat or typed: both pings, one of them is answered with a pong
    Target("router-anon", "/ws", "flat", "none", '{"action":"ping"}', '{"type":"ping"}'),
    Target(
        "env-md",
        "/ws/market-data",
        "envelope:/ws/market-data",
        "none",
        '{"action":"ping","id":"fz-ping"}',
    ),
    Target(
        "env-trading",
        "/ws/trading",
        "envelope:/ws/trading",
        "envelope",
        '{"action":"ping","id":"fz-ping"}',
    ),
    Target(
        "env-notif",
        "/ws/notifications",
        "envelope:/ws/notifications",
        "envelope",
        '{"action":"ping","id":"fz-ping"}',
    ),
    Target(
        "env-custom",
        "/ws/custom",
        "envelope:/ws/custom",
        "envelope",
        '{"action":"ping","id":"fz-ping"}',
    ),
    Target(
        "env-trading-anon",
        "/ws/trading",
        "envelope:/ws/trading",
        "none",
        '{"action":"ping","id":"fz-ping"}',
    ),
    Target("typed", "/", "typed", "typed", '{"type":"ping"}'),
    Target("typed-anon", "/", "typed", "none", '{"type":"ping"}'),
]


def internal_error(reply: dict[str, Any]) -> bool:
    """An internal error in any dialect's shape."""
    if reply.get("event") == "error" and reply.get("code") == 500:
        return True
    if reply.get("type") == "error":
        data, err = reply.get("data"), reply.get("error")
        if isinstance(data, dict) and data.get("code") == "internal_error":
            return True
        if isinstance(err, dict) and err.get("code") == "INTERNAL_ERROR":
            return True
    return False


def is_pong(reply: dict[str, Any]) -> bool:
    return reply.get("event") == "pong" or reply.get("type") == "pong"


@dataclass
class Tally:
    frames: int = 0
    replies: int = 0
    reconnects: int = 0
    kinds: Counter[str] = field(default_factory=Counter)
    closes: Counter[int] = field(default_factory=Counter)
    problems: list[str] = field(default_factory=list)
    abnormal: list[str] = field(default_factory=list)  # closes without a close frame

    def problem(self, seed: int, target: Target, what: str, batch: list[Frame]) -> None:
        if "closed with 1006" in what or "closed with None" in what:
            self.abnormal.append(f"seed {seed} target {target.name}: {what}")
            return
        if len(self.problems) < 20:
            frames = "\n    ".join(f.show() for f in batch[-BATCH:])
            self.problems.append(
                f"seed {seed} target {target.name}: {what}\n  batch:\n    {frames}"
            )


class Clock:
    """Distinct login timestamps (the replay guard refuses a reused key + timestamp)."""

    def __init__(self) -> None:
        self.last = 0

    def ts(self) -> int:
        self.last = max(int(time.time() * 1000), self.last + 1)
        return self.last


async def login(
    ws: aiohttp.ClientWebSocketResponse,
    how: str,
    key: tuple[str, str],
    jwt: str,
    clock: Clock,
) -> None:
    """Authenticate and wait for the success reply (skipping stream messages)."""
    ts = clock.ts()
    if how == "flat":
        frame: dict[str, Any] = {
            "action": "authenticate",
            "api_key": key[0],
            "timestamp": ts,
            "signature": sign(key[1], key[0], ts),
        }
    elif how == "envelope":
        frame = {
            "action": "authenticate",
            "data": {"api_key": key[0], "timestamp": ts, "signature": sign(key[1], key[0], ts)},
            "id": "login",
        }
    else:
        frame = {"type": "authenticate", "token": jwt}
    await ws.send_str(json.dumps(frame))
    while True:
        msg = await ws.receive(REPLY_TIMEOUT_S)
        if msg.type is not aiohttp.WSMsgType.TEXT:
            raise AssertionError(f"{how} login: {msg}")
        reply = json.loads(msg.data)
        kind = reply.get("event") or reply.get("type")
        if kind in ("authenticated", "auth_response", "auth_success"):
            return
        if kind == "error":
            raise AssertionError(f"{how} login refused: {reply}")


async def fuzz_connection(
    http: aiohttp.ClientSession,
    base: str,
    target: Target,
    gen: FrameGen,
    frames: int,
    key: tuple[str, str],
    jwt: str,
    clock: Clock,
    tally: Tally,
    seed: int,
    enough: asyncio.Event | None = None,
) -> None:
    """Send ``frames`` fuzz frames to ``target``, reconnecting after documented closes
    (stops early, at a batch boundary, once ``enough`` is set)."""
    sent = 0
    enough = enough or asyncio.Event()
    while sent < frames and not enough.is_set():
        tally.reconnects += 1
        ws = await http.ws_connect(f"ws://{base}{target.path}", autoping=True, max_msg_size=0)
        try:
            if target.login != "none":
                await login(ws, target.login, key, jwt, clock)
            while sent < frames and not enough.is_set():
                batch = [gen.frame(target.seeds) for _ in range(min(BATCH, frames - sent))]
                # invalid UTF-8 closes the connection (1007): send it last, nothing after it
                batch.sort(key=lambda f: f.kind == "bad_utf8")
                closing = batch[-1].kind == "bad_utf8"
                if closing:
                    batch = [f for f in batch if f.kind != "bad_utf8"] + [batch[-1]]
                try:
                    for frame in batch:
                        await _send(ws, frame)
                        sent += 1
                        tally.frames += 1
                        tally.kinds[frame.kind] += 1
                    if not closing:
                        await ws.send_str(target.ping)
                        if target.ping2:
                            await ws.send_str(target.ping2)
                except ConnectionError:
                    pass  # closed by the server meanwhile: its close frame is read below
                if not await _drain(ws, target, batch, tally, seed):
                    break  # closed with a documented code: reconnect
        finally:
            if not ws.closed:
                await ws.close()


async def _send(ws: aiohttp.ClientWebSocketResponse, frame: Frame) -> None:
    if frame.kind == "text":
        assert isinstance(frame.data, str)
        await ws.send_str(frame.data)
    elif frame.kind == "binary":
        assert isinstance(frame.data, bytes)
        await ws.send_bytes(frame.data)
    else:  # invalid UTF-8 with the TEXT opcode: aiohttp's send_str would encode it
        assert isinstance(frame.data, bytes)
        await ws._writer.send_frame(frame.data, aiohttp.WSMsgType.TEXT)


async def _drain(
    ws: aiohttp.ClientWebSocketResponse,
    target: Target,
    batch: list[Frame],
    tally: Tally,
    seed: int,
) -> bool:
    """Read until the pong (True) or a close (False); judge each reply."""
    while True:
        try:
            msg = await ws.receive(REPLY_TIMEOUT_S)
        except TimeoutError:
            tally.problem(seed, target, f"no pong within {REPLY_TIMEOUT_S} s", batch)
            return False
        if msg.type is aiohttp.WSMsgType.TEXT:
            tally.replies += 1
            try:
                reply = json.loads(msg.data)
            except ValueError:
                tally.problem(seed, target, f"non-JSON reply {msg.data[:200]!r}", batch)
                continue
            if not isinstance(reply, dict):
                tally.problem(seed, target, f"non-object reply {msg.data[:200]!r}", batch)
                continue
            if internal_error(reply):
                tally.problem(seed, target, f"internal error {msg.data[:300]}", batch)
            if is_pong(reply):
                return True
            continue
        if msg.type is aiohttp.WSMsgType.BINARY:
            tally.problem(seed, target, "binary reply", batch)
            continue
        # CLOSE / CLOSING / CLOSED / ERROR
        code = ws.close_code
        if msg.type is aiohttp.WSMsgType.CLOSE:
            code = int(msg.data)
        tally.closes[code if code is not None else 1006] += 1
        if code is None or code not in FINE_CLOSES:
            tally.problem(seed, target, f"closed with {code} ({msg})", batch)
        return False


@dataclass
class Trader:
    """One well-behaved flat connection: place a resting order, cancel it, repeat; every
    request must be answered with its ack."""

    acks: int = 0
    problems: list[str] = field(default_factory=list)
    stop: asyncio.Event = field(default_factory=asyncio.Event)

    async def run(
        self, http: aiohttp.ClientSession, base: str, key: tuple[str, str], clock: Clock
    ) -> None:
        async with http.ws_connect(f"ws://{base}/ws") as ws:
            await login(ws, "flat", key, "", clock)
            n = 0
            while not self.stop.is_set():
                n += 1
                cid = f"good-{n}"
                place = {
                    "action": "submit_order",
                    "exchange": "binance",
                    "symbol": "BTCUSDT",
                    "side": "buy",
                    "type": "limit",
                    "amount": 0.001,
                    "price": 1000.0,
                    "client_order_id": cid,
                }
                reply = await self._ask(ws, place)
                if reply.get("event") != "order_accepted":
                    self.problems.append(f"submit {cid}: {reply}")
                    return
                reply = await self._ask(ws, {"action": "cancel_order", "client_order_id": cid})
                if reply.get("event") != "order_cancelled":
                    self.problems.append(f"cancel {cid}: {reply}")
                    return
                self.acks += 2

    async def _ask(self, ws: aiohttp.ClientWebSocketResponse, frame: dict[str, Any]) -> Any:
        await ws.send_str(json.dumps(frame))
        while True:
            try:
                msg = await ws.receive(REPLY_TIMEOUT_S)
            except TimeoutError:
                return {"timeout": REPLY_TIMEOUT_S}
            if msg.type is not aiohttp.WSMsgType.TEXT:
                return {"closed": str(msg)}
            reply = json.loads(msg.data)
            if "channel" not in reply and reply.get("event") != "ping":
                return reply


async def mint_jwt(http: aiohttp.ClientSession, base: str, key: tuple[str, str]) -> str:
    """``POST /api/v1/tokens`` signed with ``key``."""
    from openpit.api.signing import signed_headers

    path, body = "/api/v1/tokens", b'{"ttl_seconds": 3600}'
    headers = signed_headers(key[0], key[1], int(time.time() * 1000), "POST", path, body)
    headers["Content-Type"] = "application/json"
    async with http.post(f"http://{base}{path}", data=body, headers=headers) as resp:
        data = await resp.json()
        assert resp.status in (200, 201), data
        return str(data["token"])


async def run_fuzz(
    base: str,
    keys: dict[str, tuple[str, str]],
    seed: int,
    total_frames: int,
    parallel: int = 2,
    *,
    handled: int | None = None,
) -> tuple[Tally, Trader]:
    """``total_frames`` split evenly over ``TARGETS`` (``parallel`` connections each),
    with a ``Trader`` (user ``bob``) running throughout. Fuzzers log in as ``alice``
    (keys) and ``demo`` (typed).

    ``handled``: instead, go on until the server has handled that many frames (its
    ``openpit_ws_messages_in``; what a client sends after a close the server decided is
    read and dropped, not handled), ``total_frames`` then only bounds what is sent."""
    tally, trader, clock = Tally(), Trader(), Clock()
    enough = asyncio.Event()
    async with aiohttp.ClientSession() as http:
        jwt = await mint_jwt(http, base, keys["demo"])
        trading = asyncio.create_task(trader.run(http, base, keys["bob"], clock))
        watcher = None
        if handled is not None:
            watcher = asyncio.create_task(_watch_handled(http, base, handled, enough))
        jobs = []
        per = -(-total_frames // (len(TARGETS) * parallel))  # at least total_frames
        for t, target in enumerate(TARGETS):
            for p in range(parallel):
                gen = FrameGen(seed * 1000 + t * 10 + p)
                jobs.append(
                    fuzz_connection(
                        http,
                        base,
                        target,
                        gen,
                        per,
                        keys["alice"],
                        jwt,
                        clock,
                        tally,
                        seed,
                        enough,
                    )
                )
        try:
            await asyncio.gather(*jobs)
        finally:
            trader.stop.set()
            await trading
            if watcher is not None:
                watcher.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await watcher
    return tally, trader


async def messages_handled(http: aiohttp.ClientSession, base: str) -> int:
    """The server's count of frames it handled (``openpit_ws_messages_in`` in /metrics)."""
    async with http.get(f"http://{base}/metrics") as resp:
        text = await resp.text()
    for line in text.splitlines():
        if line.startswith("openpit_ws_messages_in"):
            return int(float(line.split()[-1]))
    raise RuntimeError("/metrics has no openpit_ws_messages_in")


async def _watch_handled(
    http: aiohttp.ClientSession, base: str, target: int, enough: asyncio.Event
) -> None:
    while await messages_handled(http, base) < target:
        await asyncio.sleep(0.25)
    enough.set()
