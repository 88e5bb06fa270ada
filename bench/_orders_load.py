"""Load clients for ``bench/orders.py``; each job runs in its own (spawned) process.

- ``closed``: N connections, ``inflight`` order commands outstanding on each; every
  placement ack is answered with a cancel of that order, every cancel ack with the next
  placement, so the book holds at most N x inflight of our orders. Counts acked commands
  in the measured window, then drains (nothing of ours stays resting). Windows alternate
  between the job's targets (e.g. the server and the echo server), ``rounds`` times.
- ``open``: commands at a fixed rate over N connections, round robin; a connection cancels
  its oldest acked order if it has one, else places. Latency = reply time - *scheduled*
  send time (no coordinated omission). Every command must be answered.
- ``subscribers``: raw-socket market-data connections (cheap: frames are counted by their
  headers, payloads not parsed); they answer ping frames and report what they received.
- ``seed``: resting orders through envelope ``batch_orders`` (50 operations a message).

``echo=True`` runs ``closed``/``open`` against the echo server with the same frames.
Every job is bounded in time; a job that fails reports ``{"error": ...}``.
"""

from __future__ import annotations

import asyncio
import base64
import collections
import os
import selectors
import socket
import struct
import time
from typing import Any

import aiohttp
import msgspec

from bench._orders_wire import DIALECTS

_decode = msgspec.json.decode


def run(job: dict[str, Any], conn: Any) -> None:
    """Process entry point: run ``job`` and send its result down ``conn``."""
    try:
        if job["kind"] == "subscribers":
            conn.send(_subscribers(job, conn))
        else:
            conn.send(asyncio.run(_JOBS[job["kind"]](job)))
    except BaseException as exc:  # report instead of hanging the parent
        conn.send({"error": f"{type(exc).__name__}: {exc}"})


class Failure(Exception):
    pass


async def _connect(
    session: aiohttp.ClientSession, job: dict[str, Any], cred: dict[str, str] | None
) -> aiohttp.ClientWebSocketResponse:
    d = DIALECTS[job["dialect"]]
    ws = await session.ws_connect(job["url"] + d.path, compress=0, max_msg_size=0, autoping=True)
    if job.get("echo") or cred is None:
        return ws
    await ws.send_str(d.auth(cred))
    while True:
        msg = await asyncio.wait_for(ws.receive(), 10)
        if msg.type != aiohttp.WSMsgType.TEXT:
            raise Failure(f"{d.name}: connection closed during authentication: {msg}")
        data = _decode(msg.data)
        if d.auth_ok(data):
            return ws
        if data.get("event") == "error" or data.get("type") in ("error", "auth_response"):
            raise Failure(f"{d.name}: authentication failed: {msg.data[:300]}")


class _Stats:
    def __init__(self) -> None:
        self.placed = 0
        self.cancelled = 0
        self.errors = 0
        self.samples: list[str] = []
        self.lat: list[float] = []
        self.unanswered = 0

    def error(self, text: str) -> None:
        self.errors += 1
        if len(self.samples) < 5:
            self.samples.append(text[:400])

    def result(self, **extra: Any) -> dict[str, Any]:
        return {
            "placed": self.placed,
            "cancelled": self.cancelled,
            "errors": self.errors,
            "error_samples": self.samples,
            "unanswered": self.unanswered,
            **extra,
        }


# -- closed loop ----------------------------------------------------------------------------


async def _closed(job: dict[str, Any]) -> dict[str, Any]:
    """``job["targets"]``: ``{url, creds, prices, echo}`` each; connections to every target
    stay open and the measured windows alternate between targets, ``rounds`` times, so
    that load from outside the benchmark hits every target alike."""
    targets = job["targets"]
    out: list[list[dict[str, Any]]] = [[] for _ in targets]
    async with aiohttp.ClientSession() as session:
        conns = []
        for t in targets:
            spec = {**job, **t}
            conns.append([await _connect(session, spec, cred) for cred in t["creds"]])
        for r in range(job["rounds"]):
            for k, t in enumerate(targets):
                window = await _closed_window({**job, **t}, conns[k], f"r{r}")
                out[k].append(window)
        for group in conns:
            for ws in group:
                await ws.close()
    return {"targets": out}


async def _closed_window(
    job: dict[str, Any], conns: list[aiohttp.ClientWebSocketResponse], round_tag: str
) -> dict[str, Any]:
    d = DIALECTS[job["dialect"]]
    classify = d.classify_echo if job.get("echo") else d.classify
    prices = job["prices"]
    inflight = job["inflight"]
    stats = _Stats()
    counted = [0, 0]  # placements, cancels acked inside the window
    t_start = time.perf_counter() + job["warmup_s"]
    t_stop = t_start + job["seconds"]
    cpu = [0.0, 0.0]  # the target's CPU seconds at the window's start and stop

    def sample_cpu(k: int) -> None:
        cpu[k] = cpu_seconds(job.get("pid"))

    loop = asyncio.get_running_loop()
    loop.call_later(job["warmup_s"], sample_cpu, 0)
    loop.call_later(job["warmup_s"] + job["seconds"], sample_cpu, 1)

    async def client(i: int, ws: aiohttp.ClientWebSocketResponse) -> None:
        pending: set[str] = set()
        n = 0

        async def place() -> None:
            nonlocal n
            n += 1
            tag = f"c{i}{round_tag}x{n}"
            pending.add(tag)
            side = "buy" if n & 1 else "sell"
            await ws.send_str(d.place(tag, side, prices[side]))

        for _ in range(inflight):
            await place()
        while pending:
            msg = await ws.receive()
            if msg.type != aiohttp.WSMsgType.TEXT:
                stats.error(f"connection ended: {msg.type} {msg.data} {msg.extra}")
                break
            data = _decode(msg.data)
            kind, key, ref = classify(data)
            if kind == "other":
                continue
            if kind == "error" or key not in pending:
                stats.error(msg.data)
                pending.discard(key)  # type: ignore[arg-type]
                continue
            pending.remove(key)  # type: ignore[arg-type]
            now = time.perf_counter()
            if kind == "placed":
                stats.placed += 1
                if t_start <= now < t_stop:
                    counted[0] += 1
                frame, ckey = d.cancel(ref)
                pending.add(ckey)
                await ws.send_str(frame)
            else:
                stats.cancelled += 1
                if t_start <= now < t_stop:
                    counted[1] += 1
                if now < t_stop:
                    await place()
        stats.unanswered += len(pending)

    try:
        await asyncio.wait_for(
            asyncio.gather(*(client(i, ws) for i, ws in enumerate(conns))),
            job["seconds"] + job["warmup_s"] + 20,
        )
    except TimeoutError:
        stats.error("timeout: the closed loop did not drain within 20 s")
    window = job["seconds"]
    return stats.result(
        server_cpu_percent=round(100 * (cpu[1] - cpu[0]) / window, 1),
        window_placed=counted[0],
        window_cancelled=counted[1],
        commands_per_s=round((counted[0] + counted[1]) / window, 1),
        placements_per_s=round(counted[0] / window, 1),
    )


# -- open loop ------------------------------------------------------------------------------


async def _open(job: dict[str, Any]) -> dict[str, Any]:
    d = DIALECTS[job["dialect"]]
    classify = d.classify_echo if job.get("echo") else d.classify
    prices = job["prices"]
    rate, total = job["rate"], job["count"]
    stats = _Stats()
    async with aiohttp.ClientSession() as session:
        conns = [await _connect(session, job, cred) for cred in job["creds"]]
        pending: list[dict[str, float]] = [{} for _ in conns]
        acked: list[collections.deque[str]] = [collections.deque() for _ in conns]
        outstanding = [0]

        async def reader(i: int, ws: aiohttp.ClientWebSocketResponse) -> None:
            mine, ready = pending[i], acked[i]
            async for msg in ws:
                if msg.type != aiohttp.WSMsgType.TEXT:
                    break
                now = time.perf_counter()
                kind, key, ref = classify(_decode(msg.data))
                if kind == "other":
                    continue
                sched = mine.pop(key, None)  # type: ignore[arg-type]
                if kind == "error" or sched is None:
                    stats.error(msg.data)
                else:
                    stats.lat.append(now - sched)
                    by_second[int(sched - t0)].append(now - sched)
                    if kind == "placed":
                        stats.placed += 1
                        ready.append(ref)  # type: ignore[arg-type]
                    else:
                        stats.cancelled += 1
                outstanding[0] -= 1

        t0 = time.perf_counter() + 0.2
        by_second: collections.defaultdict[int, list[float]] = collections.defaultdict(list)
        readers = [asyncio.ensure_future(reader(i, ws)) for i, ws in enumerate(conns)]
        n = len(conns)
        sent = 0
        for k in range(total):
            sched = t0 + k / rate
            delay = sched - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            elif k % 16 == 0:
                await asyncio.sleep(0)  # behind schedule: still let the readers run
            i = k % n
            if acked[i]:
                frame, key = d.cancel(acked[i].popleft())
            else:
                key = f"o{i}x{k}"
                side = "buy" if (k // n) & 1 else "sell"
                frame = d.place(key, side, prices[side])
            pending[i][key] = sched
            outstanding[0] += 1
            sent += 1
            await conns[i].send_str(frame)
        send_s = time.perf_counter() - t0
        deadline = time.perf_counter() + 20
        while outstanding[0] > 0 and time.perf_counter() < deadline:
            await asyncio.sleep(0.05)
        timed = sorted(stats.lat)
        per_s = [_pct(sorted(by_second[k]), 0.99) for k in sorted(by_second)]
        # cleanup, untimed: cancel what is still resting, every cancel must be acked
        cleanup = 0
        for i, ws in enumerate(conns):
            while acked[i]:
                frame, key = d.cancel(acked[i].popleft())
                pending[i][key] = time.perf_counter()
                outstanding[0] += 1
                cleanup += 1
                await ws.send_str(frame)
        deadline = time.perf_counter() + 20
        while outstanding[0] > 0 and time.perf_counter() < deadline:
            await asyncio.sleep(0.05)
        stats.unanswered = sum(len(p) for p in pending)
        for ws in conns:
            await ws.close()
        for task in readers:
            task.cancel()
    return stats.result(
        sent=sent,
        cleanup_cancels=cleanup,
        rate=rate,
        achieved_rate=round(sent / max(send_s, 1e-9), 1),
        answered=len(timed),
        p50_ms=_pct(timed, 0.50),
        p99_ms=_pct(timed, 0.99),
        max_ms=_pct(timed, 1.0),
        p99_ms_per_second=per_s,
    )


def cpu_seconds(pid: int | None) -> float:
    """User + system CPU seconds of ``pid``, all threads (Linux /proc; 0 elsewhere)."""
    if pid is None:
        return 0.0
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _pct(values: list[float], p: float) -> float | None:
    if not values:
        return None
    return round(values[min(len(values) - 1, int(p * len(values)))] * 1000, 3)


# -- seeding --------------------------------------------------------------------------------


async def _seed(job: dict[str, Any]) -> dict[str, Any]:
    """Each user: one envelope connection, ``per_user`` orders in batches of 50."""
    accepted = [0]
    problems: list[str] = []
    queue: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
    for user in job["users"]:
        queue.put_nowait(user)

    async def worker(session: aiohttp.ClientSession) -> None:
        while not queue.empty():
            user = queue.get_nowait()
            ws = await _connect(session, {**job, "dialect": "envelope", "echo": False}, user)
            try:
                orders = user["orders"]  # [[side, price], ...]
                ids = []
                for b in range(0, len(orders), 50):
                    ops = [
                        {
                            "operation": "submit",
                            "symbol": "BTCUSDT",
                            "side": side,
                            "type": "limit",
                            "quantity": float(job["qty"]),
                            "price": float(price),
                            "time_in_force": "gtc",
                        }
                        for side, price in orders[b : b + 50]
                    ]
                    rid = f"b{b}"
                    ids.append(rid)
                    await ws.send_str(
                        msgspec.json.encode(
                            {"action": "batch_orders", "data": {"operations": ops}, "id": rid}
                        ).decode()
                    )
                while ids:
                    msg = await asyncio.wait_for(ws.receive(), 30)
                    if msg.type != aiohttp.WSMsgType.TEXT:
                        raise Failure(f"seed: connection closed: {msg}")
                    data = _decode(msg.data)
                    if data.get("type") != "batch_response":
                        if data.get("type") == "error":
                            raise Failure(f"seed: {msg.data[:300]}")
                        continue
                    ids.remove(data["id"])
                    results = data["data"]["results"]
                    ok = [r for r in results if r.get("status") == "accepted"]
                    bad = data["data"]["status"] != "completed" or len(ok) != len(results)
                    if bad and len(problems) < 5:
                        problems.append(msg.data[:400])
                    accepted[0] += len(ok)
            finally:
                await ws.close()

    started = time.perf_counter()
    async with aiohttp.ClientSession() as session:
        await asyncio.wait_for(
            asyncio.gather(*(worker(session) for _ in range(job["concurrency"]))),
            job["timeout_s"],
        )
    return {
        "accepted": accepted[0],
        "problems": problems,
        "seconds": round(time.perf_counter() - started, 2),
    }


_JOBS = {"closed": _closed, "open": _open, "seed": _seed}


# -- market-data subscribers (raw sockets) --------------------------------------------------


def _masked(opcode: int, payload: bytes) -> bytes:
    mask = os.urandom(4)
    body = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
    n = len(payload)
    if n < 126:
        head = bytes((0x80 | opcode, 0x80 | n))
    else:
        head = bytes((0x80 | opcode, 0x80 | 126)) + struct.pack("!H", n)
    return head + mask + body


def _subscribers(job: dict[str, Any], conn: Any) -> dict[str, Any]:
    """Open ``n`` connections, subscribe, report "ready", read until the parent says stop."""
    host, port = "127.0.0.1", job["port"]
    sub = _masked(0x1, job["subscribe"].encode())
    sel = selectors.DefaultSelector()
    socks: dict[int, list[Any]] = {}  # fd -> [sock, rest, frames]
    for _ in range(job["n"]):
        sock = socket.create_connection((host, port), timeout=10)
        key = base64.b64encode(os.urandom(16)).decode()
        sock.sendall(
            (
                f"GET {job['path']} HTTP/1.1\r\nHost: {host}:{port}\r\nUpgrade: websocket\r\n"
                f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\n"
                "Sec-WebSocket-Version: 13\r\n\r\n"
            ).encode()
        )
        head = b""
        while b"\r\n\r\n" not in head:
            chunk = sock.recv(4096)
            if not chunk:
                raise Failure("subscriber: connection closed during the handshake")
            head += chunk
        if b" 101 " not in head.split(b"\r\n", 1)[0]:
            raise Failure(f"subscriber: no upgrade: {head[:200]!r}")
        sock.sendall(sub)
        sock.setblocking(False)
        socks[sock.fileno()] = [sock, head.split(b"\r\n\r\n", 1)[1], 0]
        sel.register(sock, selectors.EVENT_READ)
    ready = False
    closed = 0
    frames = nbytes = 0
    deadline = time.monotonic() + job["max_s"]
    stop = False
    while not stop and time.monotonic() < deadline:
        for key_, _ in sel.select(0.05):
            st = socks[key_.fd]
            try:
                chunk = st[0].recv(1 << 18)
            except (BlockingIOError, InterruptedError):
                continue
            except OSError:
                chunk = b""
            if not chunk:
                sel.unregister(st[0])
                closed += 1
                continue
            nbytes += len(chunk)
            buf = st[1] + chunk if st[1] else chunk
            pos, n = 0, len(buf)
            while pos + 2 <= n:
                op = buf[pos] & 0x0F
                length = buf[pos + 1] & 0x7F
                start = pos + 2
                if length == 126:
                    if pos + 4 > n:
                        break
                    length = buf[pos + 2] << 8 | buf[pos + 3]
                    start = pos + 4
                elif length == 127:
                    if pos + 10 > n:
                        break
                    length = struct.unpack_from("!Q", buf, pos + 2)[0]
                    start = pos + 10
                if start + length > n:
                    break
                if op == 0x9:  # ping: answer, or the server closes us
                    st[0].sendall(_masked(0xA, buf[start : start + length]))
                elif op == 0x8:
                    closed += 1
                st[2] += 1
                frames += 1
                pos = start + length
            st[1] = buf[pos:]
        if not ready and all(st[2] >= 1 for st in socks.values()):
            ready = True
            frames = nbytes = 0
            conn.send("ready")
        if ready and conn.poll():
            stop = conn.recv() == "stop"
    for st in socks.values():
        st[0].close()
    if not ready:
        return {"error": f"subscribers: not all {job['n']} subscribed within {job['max_s']} s"}
    return {"connections": len(socks), "frames": frames, "bytes": nbytes, "closed": closed}
