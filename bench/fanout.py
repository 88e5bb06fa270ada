"""Fan-out benchmark: 1,000 subscribers on one busy trades channel.

Ours (the gateway: render once, frame once, one ``transport.write`` per connection
per loop tick) against a baseline aiohttp server that sends the same payload with one
``await ws.send_str()`` per connection per message. A separate load-client process
opens the connections over raw sockets, parses frame headers, and counts frames and
bytes; frames/s is measured at the clients, from the first to the last frame. Each
trade payload carries its send time, so the client also measures tick-to-client
latency (p50/p99).

Both servers are measured ``ROUNDS`` times and the best run of each is reported
(the box may be shared; noise only ever slows a run down).

Run: ``python -m bench fanout`` (bounded: about 40 s; needs ~2,100 file descriptors).
"""

from __future__ import annotations

import asyncio
import base64
import json
import multiprocessing as mp
import os
import selectors
import socket
import struct
import time
from typing import Any

N_CLIENTS = 1000
TRADES = 200  # messages published on the channel per run
ROUNDS = 2  # best of N for both servers: the box may be shared, noise only slows a run
BURST = 20  # trades per loop tick: one group-commit batch of a busy venue
REQUIRED_RATIO = 10.0
LOAD_PROCS = max(1, min(4, (os.cpu_count() or 2) - 1))  # cheap clients, several processes


# -- load client (separate process) -------------------------------------------------------


def _frames(buf: bytes, pos: int) -> tuple[int, int]:
    """Count complete server (unmasked) frames in ``buf`` from ``pos``; returns (count, pos)."""
    n = len(buf)
    count = 0
    while pos + 2 <= n:
        length = buf[pos + 1] & 0x7F
        if length < 126:
            end = pos + 2 + length
        elif length == 126:
            if pos + 4 > n:
                break
            end = pos + 4 + (buf[pos + 2] << 8 | buf[pos + 3])
        else:
            if pos + 10 > n:
                break
            end = pos + 10 + struct.unpack_from("!Q", buf, pos + 2)[0]
        if end > n:
            break
        count += 1
        pos = end
    return count, pos


def _sent_time(buf: bytes, pos: int) -> float | None:
    i = buf.find(b'"sent":', pos, pos + 400)
    if i < 0:
        return None
    j = buf.find(b",", i)
    return float(buf[i + 7 : j])


def _load(port: int, path: str, n: int, want: int, conn: Any, deflate: bool = False) -> None:
    """Open ``n`` connections, subscribe each, count frames until each saw ``want``.

    ``deflate``: offer permessage-deflate and subscribe in the typed dialect (spec 004),
    whose connections compress; frames are counted by header, payloads not inflated.
    """
    try:
        sel = selectors.DefaultSelector()
        if deflate:
            sub = json.dumps(
                {"type": "subscribe", "channels": [{"type": "trades", "pair": "BTCUSDT"}]}
            ).encode()
        else:
            sub = json.dumps(
                {
                    "action": "subscribe",
                    "channels": ["trades"],
                    "params": {"exchange": "binance", "symbols": ["BTCUSDT"]},
                }
            ).encode()
        ext = "Sec-WebSocket-Extensions: permessage-deflate\r\n" if deflate else ""
        mask = os.urandom(4)
        masked = bytes(b ^ mask[i % 4] for i, b in enumerate(sub))
        sub_frame = bytes((0x81, 0x80 | len(sub))) + mask + masked
        state: dict[int, list[Any]] = {}  # fd -> [sock, rest, frames]
        for _ in range(n):
            sock = socket.create_connection(("127.0.0.1", port))
            key = base64.b64encode(os.urandom(16)).decode()
            sock.sendall(
                (
                    f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nUpgrade: websocket\r\n"
                    f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\n"
                    f"Sec-WebSocket-Version: 13\r\n{ext}\r\n"
                ).encode()
            )
            head = b""
            while b"\r\n\r\n" not in head:
                head += sock.recv(4096)
            rest = head.split(b"\r\n\r\n", 1)[1]
            sock.sendall(sub_frame)
            sock.setblocking(False)
            state[sock.fileno()] = [sock, rest, 0]
            sel.register(sock, selectors.EVENT_READ)
        target = want + 1  # + the subscription reply
        ready_sent = False
        frames = nbytes = 0
        first = last = 0.0
        lat: list[float] = []
        unfinished = n
        deadline = time.monotonic() + 50
        while unfinished and time.monotonic() < deadline:
            for key_, _ in sel.select(1.0):
                st = state[key_.fd]
                sock = st[0]
                try:
                    chunk = sock.recv(1 << 18)
                except BlockingIOError:
                    continue
                if not chunk:
                    sel.unregister(sock)
                    unfinished -= 1
                    continue
                now = time.perf_counter()
                buf = st[1] + chunk if st[1] else chunk
                if st[2] >= 1:
                    sent = _sent_time(buf, 0)
                    if sent is not None:
                        lat.append(now - sent)
                count, pos = _frames(buf, 0)
                before = st[2]
                st[2] += count
                st[1] = buf[pos:]
                if ready_sent and count:
                    got = count - (1 if before == 0 else 0)
                    frames += got
                    nbytes += len(buf) - len(st[1])
                    if not first:
                        first = now
                    last = now
                if st[2] >= target:
                    sel.unregister(sock)
                    unfinished -= 1
            if not ready_sent and all(st[2] >= 1 for st in state.values()):
                ready_sent = True
                conn.send("ready")
        for st in state.values():
            st[0].close()
        conn.send({"frames": frames, "bytes": nbytes, "first": first, "last": last, "lat": lat})
    except Exception as exc:  # report instead of hanging the parent
        conn.send({"error": repr(exc)})


# -- servers ---------------------------------------------------------------------------


def _trade_payload(i: int, sent: float) -> bytes:
    return (
        b'{"channel":"trades","exchange":"binance","symbol":"BTCUSDT","data":{"id":"%d",'
        b'"price":42650.5,"amount":0.1,"side":"buy","timestamp":1647356789123},'
        b'"sent":%.6f,"timestamp":1647356789123}' % (i, sent)
    )


async def _run_ours(port_box: list[int], go: asyncio.Event, done: asyncio.Event) -> None:
    from openpit.config.loader import load_demo_config
    from openpit.gateway import HUB, GatewaySettings, InMemoryKeyStore, create_app, start_gateway
    from openpit.gateway.settings import RateLimit

    class _Service:
        config = load_demo_config()

        def add_listener(self, fn: Any) -> None: ...

        def remove_listener(self, fn: Any) -> None: ...

        async def submit(self, command: Any) -> Any:
            raise NotImplementedError

    from openpit.marketdata import MarketData

    service = _Service()
    settings = GatewaySettings(
        rates={},
        send_budget_bytes=64 * 1024 * 1024,
        max_anonymous_per_address=1_000_000,  # every subscriber is on 127.0.0.1
        anonymous_rate=RateLimit(1e9, 1e9),
    )
    app = create_app(service, MarketData(service.config), InMemoryKeyStore(), settings)
    gw = await start_gateway(app, "127.0.0.1", 0)
    hub = app[HUB]
    port_box.append(gw.port)
    await go.wait()
    t0 = time.perf_counter()
    key = ("trades", "BTCUSDT", None)
    for i in range(0, TRADES, BURST):
        for j in range(i, min(i + BURST, TRADES)):
            payload = _trade_payload(j, time.perf_counter())
            hub.publish(key, lambda d, p=payload: p)  # the fan-out path: frame once, push all
        await asyncio.sleep(0)
    await asyncio.sleep(0)
    port_box.append(time.perf_counter() - t0)  # type: ignore[arg-type]
    await done.wait()
    await gw.stop()


async def _run_baseline(port_box: list[int], go: asyncio.Event, done: asyncio.Event) -> None:
    from aiohttp import web

    subscribers: list[web.WebSocketResponse] = []

    async def handler(request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse(compress=False)
        await ws.prepare(request)
        await ws.receive()
        await ws.send_str('{"event":"subscribed"}')
        subscribers.append(ws)
        async for _ in ws:
            pass
        return ws

    app = web.Application()
    app.router.add_get("/ws", handler)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port_box.append(runner.addresses[0][1])
    await go.wait()
    for i in range(0, TRADES, BURST):
        for j in range(i, min(i + BURST, TRADES)):
            text = _trade_payload(j, time.perf_counter()).decode()
            for ws in subscribers:
                await ws.send_str(text)  # one await per connection per message
        await asyncio.sleep(0)
    await done.wait()
    await runner.cleanup()


def _measure(kind: str, n: int) -> dict[str, Any]:
    """``kind``: ``ours``, ``ours_deflate`` (compressed subscribers) or ``baseline``."""

    async def main() -> dict[str, Any]:
        ctx = mp.get_context("spawn")
        port_box: list[int] = []
        go, done = asyncio.Event(), asyncio.Event()
        server = _run_baseline if kind == "baseline" else _run_ours
        deflate = kind == "ours_deflate"
        task = asyncio.ensure_future(server(port_box, go, done))
        while not port_box:
            await asyncio.sleep(0.01)
        loop = asyncio.get_running_loop()
        procs, pipes = [], []
        for k in range(LOAD_PROCS):
            parent, child = ctx.Pipe()
            share = n // LOAD_PROCS + (1 if k < n % LOAD_PROCS else 0)
            path = "/?dialect=typed" if deflate else "/ws"
            proc = ctx.Process(
                target=_load, args=(port_box[0], path, share, TRADES, child, deflate)
            )
            proc.start()
            procs.append(proc)
            pipes.append(parent)
        for parent in pipes:
            msg = await loop.run_in_executor(None, parent.recv)
            if msg != "ready":
                raise RuntimeError(f"load client failed: {msg}")
        go.set()
        results = [await loop.run_in_executor(None, parent.recv) for parent in pipes]
        done.set()
        await task
        total_server = port_box[1] if len(port_box) > 1 else None
        for proc in procs:
            proc.join(10)
        total: dict[str, Any] = {
            "frames": 0,
            "bytes": 0,
            "first": 1e18,
            "last": 0.0,
            "lat": [],
            "server_s": total_server,
        }
        for r in results:
            if "error" in r:
                raise RuntimeError(r["error"])
            total["frames"] += r["frames"]
            total["bytes"] += r["bytes"]
            total["first"] = min(total["first"], r["first"])
            total["last"] = max(total["last"], r["last"])
            total["lat"] += r["lat"]
        return total

    r = asyncio.run(main())
    elapsed = max(r["last"] - r["first"], 1e-9)
    lat = sorted(r["lat"])

    def pct(p: float) -> float | None:  # None: payloads were compressed (not inflated)
        return round(lat[min(len(lat) - 1, int(p * len(lat)))] * 1000, 2) if lat else None

    return {
        "frames": r["frames"],
        "bytes": r["bytes"],
        "seconds": round(elapsed, 3),
        "frames_per_s": round(r["frames"] / elapsed),
        "latency_ms_p50": pct(0.5),
        "latency_ms_p99": pct(0.99),
        "server_publish_s": None if r.get("server_s") is None else round(r["server_s"], 3),
    }


def main() -> dict[str, Any]:
    socket.setdefaulttimeout(None)
    try:
        import resource

        soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
        if soft < 4096:
            resource.setrlimit(resource.RLIMIT_NOFILE, (min(4096, hard), hard))
    except (ImportError, ValueError, OSError):
        pass
    ours = max(
        (_measure("ours", N_CLIENTS) for _ in range(ROUNDS)), key=lambda r: r["frames_per_s"]
    )
    base = max(
        (_measure("baseline", N_CLIENTS) for _ in range(ROUNDS)), key=lambda r: r["frames_per_s"]
    )
    deflate = max(
        (_measure("ours_deflate", N_CLIENTS) for _ in range(ROUNDS)),
        key=lambda r: r["frames_per_s"],
    )
    ratio = ours["frames_per_s"] / max(1, base["frames_per_s"])
    return {
        "subscribers": N_CLIENTS,
        "messages": TRADES,
        "messages_per_tick": BURST,
        "load_processes": LOAD_PROCS,
        "ours": ours,
        "baseline_send_str": base,
        "ratio": round(ratio, 1),
        # typed subscribers with permessage-deflate: one compression context each, so
        # every frame is compressed per connection (no shared pre-built frames)
        "ours_deflate": deflate,
        "deflate_vs_ours_frames_ratio": round(
            deflate["frames_per_s"] / max(1, ours["frames_per_s"]), 3
        ),
        "deflate_vs_ours_bytes_ratio": round(deflate["bytes"] / max(1, ours["bytes"]), 3),
        "deflate_vs_baseline_frames_ratio": round(
            deflate["frames_per_s"] / max(1, base["frames_per_s"]), 2
        ),
        "required_ratio": REQUIRED_RATIO,
        "passed": ratio >= REQUIRED_RATIO and ours["frames"] == N_CLIENTS * TRADES,
    }


if __name__ == "__main__":
    print(json.dumps(main(), indent=2))
