"""Reliability benchmark: what one flooding connection per dialect costs everyone else.

A real ``openpit serve`` subprocess on 127.0.0.1 (demo config, no simulator, journal
on). 20 well-behaved flat clients, each authenticated, do paced order round trips (a
limit buy far below the book, then its cancel; one cycle per ``CYCLE_S`` per client,
well inside the order rate limit) and time every request → reply. Measured in the same
run, in alternating windows of ``WINDOW_S`` (off, flood, off, hostile, ``ROUNDS``
times, so the shared box's noise hits every kind of window alike):

1. baseline (off): the 20 clients alone;
2. flood: the same, while a separate process floods one connection per dialect (flat
   ``/ws`` ``submit_order``, envelope ``/ws/trading`` ``submit_order``, typed
   ``/ws?dialect=typed`` ``place_order``) as fast as its socket takes frames, reading
   whatever comes back; when the server closes it, it reconnects after
   ``RECONNECT_BACKOFF_S`` (what spec 001 asks after 4001) and floods again;
3. hostile reconnect: the same flood reconnecting at once (reported, not a target: a
   fresh connection gets fresh per-connection buckets, see docs/reliability.md).

Result: p50/p99 per phase, ``flood_p99_ratio`` = flood p99 / baseline p99 (target
<= 2, ``passed``), ``hostile_reconnect_p99_ratio``, frames the flooders sent, how often
each was closed and with which code, and the server's CPU seconds per second of each
kind of window (``/proc``).
``OPENPIT_BENCH_PROFILE=file`` records the server under the flood with py-spy.

Run: ``python -m bench reliability`` (about 60 s) → bench/results/reliability.json.
"""

from __future__ import annotations

import asyncio
import base64
import json
import multiprocessing as mp
import os
import socket
import statistics
import struct
import subprocess
import sys
import tempfile
import time
from decimal import Decimal
from pathlib import Path
from typing import Any

import aiohttp
from tests.durability.server_harness import Server, create_keys, write_config

from openpit.gateway import sign

CLIENTS = 20
CYCLE_S = 0.1  # one submit + cancel per client per cycle: 20 order messages/s (limit 50/s)
WARMUP_S = 2.0
WINDOW_S = 2.5  # windows alternate off / flood / off / hostile
ROUNDS = 4
REQUIRED_RATIO = 2.0
FLOOD_BATCH = 64  # frames per sendall
RECONNECT_BACKOFF_S = 1.0  # spec 001 on 4001: "Reconnect with backoff"

FLOODS = {
    "flat": (
        "/ws",
        {
            "action": "submit_order",
            "exchange": "binance",
            "symbol": "BTCUSDT",
            "side": "buy",
            "type": "limit",
            "amount": 0.001,
            "price": 1000.0,
        },
    ),
    "envelope": (
        "/ws/trading",
        {
            "action": "submit_order",
            "id": "flood",
            "data": {"symbol": "AAPL", "side": "buy", "type": "limit", "quantity": 1, "price": 1},
        },
    ),
    "typed": (
        "/ws?dialect=typed",
        {
            "type": "place_order",
            "orderType": "limit",
            "orderData": {"pair": "BTC/USDT", "side": "buy", "amount": "0.001", "price": "1"},
        },
    ),
}


# -- flooders (separate process) ---------------------------------------------------------


def _frame(payload: bytes) -> bytes:
    """One masked client text frame."""
    mask = os.urandom(4)
    body = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
    n = len(payload)
    assert n < 65536, "flood payloads are short"
    size = bytes((0x80 | n,)) if n < 126 else bytes((0x80 | 126,)) + struct.pack("!H", n)
    return b"\x81" + size + mask + body


def _close_code(buf: bytes) -> int | None:
    """The code of the first close frame among the server frames in ``buf``, if any."""
    pos = 0
    while pos + 2 <= len(buf):
        opcode, length = buf[pos] & 0x0F, buf[pos + 1] & 0x7F
        start = pos + 2
        if length == 126:
            length, start = struct.unpack_from("!H", buf, pos + 2)[0], pos + 4
        elif length == 127:
            length, start = struct.unpack_from("!Q", buf, pos + 2)[0], pos + 10
        if start + length > len(buf):
            return None
        if opcode == 0x8:
            return int(struct.unpack_from("!H", buf, start)[0]) if length >= 2 else 1005
        pos = start + length
    return None


OFF, FLOOD, HOSTILE = 0, 1, 2  # what the flooders do in a window


async def _flood_one(port: int, path: str, payload: bytes, mode: Any) -> dict[str, Any]:
    """Flood ``path`` while ``mode`` says so; after each close reconnect, at once when
    HOSTILE, after ``RECONNECT_BACKOFF_S`` when FLOOD. Ends when ``mode`` is -1."""
    loop = asyncio.get_running_loop()
    batch = _frame(payload) * FLOOD_BATCH
    sent = {FLOOD: 0, HOSTILE: 0}
    connections = {FLOOD: 0, HOSTILE: 0}
    codes: dict[str, int] = {}
    while mode.value >= 0:
        current = mode.value
        if current == OFF:
            await asyncio.sleep(0.005)
            continue
        sock = socket.socket()
        sock.setblocking(False)
        await loop.sock_connect(sock, ("127.0.0.1", port))
        connections[current] += 1
        key = base64.b64encode(os.urandom(16)).decode()
        await loop.sock_sendall(
            sock,
            (
                f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nUpgrade: websocket\r\n"
                f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\n"
                "Sec-WebSocket-Version: 13\r\n\r\n"
            ).encode(),
        )
        head = b""
        while b"\r\n\r\n" not in head:
            chunk = await loop.sock_recv(sock, 65536)
            if not chunk:
                break
            head += chunk
        buf = head.partition(b"\r\n\r\n")[2]
        code = None
        gone = False
        while code is None and not gone and mode.value == current:
            try:
                await loop.sock_sendall(sock, batch)
                sent[current] += FLOOD_BATCH
            except OSError:
                gone = True  # reset by the server: what it sent before is still readable
            while True:  # read what is there, never wait for it
                try:
                    chunk = sock.recv(1 << 20)
                except BlockingIOError:
                    break
                except OSError:
                    gone = True
                    break
                if not chunk:
                    gone = True
                    break
                buf = (buf + chunk)[-65536:]
            code = _close_code(buf)
        sock.close()
        if code is not None or gone:
            name = str(code or 1006)
            codes[name] = codes.get(name, 0) + 1
            if current == FLOOD:
                await asyncio.sleep(RECONNECT_BACKOFF_S)
    return {
        "frames_sent": {"flood": sent[FLOOD], "hostile": sent[HOSTILE]},
        "connections": {"flood": connections[FLOOD], "hostile": connections[HOSTILE]},
        "closes": codes,
    }


def _flooders(port: int, mode: Any, conn: Any) -> None:
    async def run() -> dict[str, Any]:
        names = list(FLOODS)
        results = await asyncio.gather(
            *(
                _flood_one(port, FLOODS[n][0], json.dumps(FLOODS[n][1]).encode(), mode)
                for n in names
            )
        )
        return dict(zip(names, results, strict=True))

    conn.send(asyncio.run(run()))


# -- well-behaved clients ----------------------------------------------------------------


class Trader:
    """One flat connection doing submit → ack, cancel → ack, once per cycle."""

    def __init__(self, ws: aiohttp.ClientWebSocketResponse, n: int) -> None:
        self.ws = ws
        self.n = n
        self.samples: list[tuple[float, float]] = []  # (when, seconds)
        self.failures = 0

    async def _ask(self, message: dict[str, Any], want: str) -> dict[str, Any]:
        started = time.perf_counter()
        await self.ws.send_str(json.dumps(message))
        while True:
            msg = await self.ws.receive(timeout=30)
            if msg.type is not aiohttp.WSMsgType.TEXT:
                raise ConnectionError(f"trader {self.n}: {msg.type} {msg.data!r}")
            data: dict[str, Any] = json.loads(msg.data)
            if data.get("event") in (want, "error"):
                self.samples.append((time.monotonic(), time.perf_counter() - started))
                return data

    async def run(self, until: float) -> None:
        cycle = 0
        start = time.monotonic() + CYCLE_S * self.n / CLIENTS  # spread the clients out
        while True:
            slot = start + cycle * CYCLE_S
            if slot >= until:
                return
            await asyncio.sleep(max(0.0, slot - time.monotonic()))
            cycle += 1
            ack = await self._ask(
                {
                    "action": "submit_order",
                    "exchange": "binance",
                    "symbol": "BTCUSDT",
                    "side": "buy",
                    "type": "limit",
                    "amount": 0.001,
                    "price": float(Decimal("1000.00") + self.n),
                    "client_order_id": f"t{self.n}-{cycle}",
                },
                "order_accepted",
            )
            if ack.get("event") != "order_accepted":
                self.failures += 1
                continue
            done = await self._ask(
                {"action": "cancel_order", "order_id": ack["id"]}, "order_cancelled"
            )
            if done.get("event") != "order_cancelled":
                self.failures += 1


async def _traders(server: Server, keys: dict[str, tuple[str, str]], http: Any) -> list[Trader]:
    users = list(keys)
    traders = []
    stamp = int(time.time() * 1000)
    for n in range(CLIENTS):
        key, secret = keys[users[n % len(users)]]
        ws = await http.ws_connect(f"ws://{server.base}/ws", autoping=True)
        stamp += 1
        await ws.send_str(
            json.dumps(
                {
                    "action": "authenticate",
                    "api_key": key,
                    "timestamp": stamp,
                    "signature": sign(secret, key, stamp),
                }
            )
        )
        reply = json.loads((await ws.receive(timeout=10)).data)
        assert reply.get("event") == "authenticated", reply
        traders.append(Trader(ws, n))
    return traders


def _percentiles(values: list[float]) -> dict[str, float]:
    ordered = sorted(values)
    if not ordered:
        return {"p50_ms": 0.0, "p99_ms": 0.0, "count": 0}

    def at(q: float) -> float:
        return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000

    return {
        "p50_ms": round(at(0.50), 3),
        "p99_ms": round(at(0.99), 3),
        "max_ms": round(ordered[-1] * 1000, 3),
        "mean_ms": round(statistics.fmean(ordered) * 1000, 3),
        "count": len(ordered),
    }


def _cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def _windows(server: Server, traders: list[Trader], mode: Any) -> dict[int, Any]:
    """Alternate OFF/FLOOD/OFF/HOSTILE windows while the traders run; samples and server
    CPU seconds per kind of window (the box's noise then hits every kind alike)."""
    assert server.proc is not None
    schedule = [OFF, FLOOD, OFF, HOSTILE] * ROUNDS
    begin = time.monotonic() + WARMUP_S
    until = begin + WINDOW_S * len(schedule)
    for t in traders:
        t.samples.clear()
    runs = asyncio.gather(*(t.run(until) for t in traders))
    cpu = dict.fromkeys((OFF, FLOOD, HOSTILE), 0.0)
    await asyncio.sleep(begin - time.monotonic())
    for i, kind in enumerate(schedule):
        mode.value = kind
        used = _cpu_seconds(server.proc.pid)
        await asyncio.sleep(begin + WINDOW_S * (i + 1) - time.monotonic())
        cpu[kind] += _cpu_seconds(server.proc.pid) - used
    mode.value = OFF
    await runs
    out: dict[int, Any] = {k: {"samples": [], "cpu": cpu[k]} for k in cpu}
    settle = 0.2  # the first moments of a window still see the previous one
    for t in traders:
        for when, seconds in t.samples:
            i = int((when - begin) // WINDOW_S)
            if 0 <= i < len(schedule) and when - begin - i * WINDOW_S >= settle:
                out[schedule[i]]["samples"].append(seconds)
    return out


def _cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _profile(server: Server, out: str | None, seconds: float) -> subprocess.Popen[bytes] | None:
    """``OPENPIT_BENCH_PROFILE=file``: ``py-spy record --gil`` of the server over the
    windows (collapsed stacks, ``-f raw``), to see what a flood still costs."""
    if not out or server.proc is None:
        return None
    pyspy = Path(sys.executable).with_name("py-spy")
    cmd = [str(pyspy), "record", "--gil", "-p", str(server.proc.pid), "-d", str(int(seconds))]
    return subprocess.Popen([*cmd, "-f", "raw", "-o", out], stdout=subprocess.DEVNULL)


async def _measure(tmp: Path) -> dict[str, Any]:
    # 20 traders on 3 keys; every client is on 127.0.0.1, so the per-address anonymous
    # limits (docs/gateway.md) are lifted: the flood policy per connection is measured
    extra = (
        "\n[gateway]\nmax_connections_per_key = 50\nmax_anonymous_per_address = 100000\n"
        "anonymous_rate = [1000000, 1000000]\n"
    )
    server = Server(tmp / "data", write_config(tmp / "openpit.toml", 100_000, extra), tmp / "log")
    keys = create_keys(server.data_dir)
    await server.start()
    ctx = mp.get_context("spawn")
    mode = ctx.Value("i", OFF)
    parent, child = ctx.Pipe()
    proc = ctx.Process(target=_flooders, args=(server.port, mode, child))
    proc.start()
    try:
        async with aiohttp.ClientSession() as http:
            traders = await _traders(server, keys, http)
            spy = _profile(server, os.environ.get("OPENPIT_BENCH_PROFILE"), 4 * ROUNDS * WINDOW_S)
            windows = await _windows(server, traders, mode)
            mode.value = -1
            loop = asyncio.get_running_loop()
            floods: dict[str, Any] = await loop.run_in_executor(None, parent.recv)
            if spy is not None:
                spy.wait(60)
            failures = sum(t.failures for t in traders)
            for t in traders:
                await t.ws.close()
        status = await server.stop()
    finally:
        mode.value = -1
        proc.join(10)
        server.ensure_dead()
    seconds = {OFF: 2 * ROUNDS * WINDOW_S, FLOOD: ROUNDS * WINDOW_S, HOSTILE: ROUNDS * WINDOW_S}
    phases = {
        name: {
            **_percentiles(windows[kind]["samples"]),
            "server_cpu_per_s": round(windows[kind]["cpu"] / seconds[kind], 3),
        }
        for name, kind in (("baseline", OFF), ("flood", FLOOD), ("hostile_reconnect", HOSTILE))
    }
    for name, key in (("flood", "flood"), ("hostile_reconnect", "hostile")):
        sent = sum(f["frames_sent"][key] for f in floods.values())
        phases[name]["flood_frames_sent_per_s"] = round(sent / (ROUNDS * WINDOW_S))
        phases[name]["flood_connections"] = {n: f["connections"][key] for n, f in floods.items()}
    base = phases["baseline"]["p99_ms"]

    def ratio(name: str) -> float | None:
        return round(phases[name]["p99_ms"] / base, 3) if base else None

    flood_ratio = ratio("flood")
    return {
        "clients": CLIENTS,
        "requests_per_client_per_s": round(2 / CYCLE_S, 1),
        "window_s": WINDOW_S,
        "windows": ["off", "flood", "off", "hostile"] * ROUNDS,
        "reconnect_backoff_s": RECONNECT_BACKOFF_S,
        **phases,
        "flooder_closes": {n: f["closes"] for n, f in floods.items()},
        "trader_failures": failures,
        "server_exit_status": status,
        "flood_p99_ratio": flood_ratio,
        "hostile_reconnect_p99_ratio": ratio("hostile_reconnect"),
        "required_ratio_max": REQUIRED_RATIO,
        "passed": flood_ratio is not None and flood_ratio <= REQUIRED_RATIO and failures == 0,
    }


def main() -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="openpit-bench-reliability-") as tmp:
        return asyncio.run(_measure(Path(tmp)))


if __name__ == "__main__":
    print(json.dumps(main(), indent=2))
