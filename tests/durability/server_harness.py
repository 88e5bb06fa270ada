"""A real ``openpit serve`` subprocess and flat-dialect trading clients that record what
they were told, for the server-level crash tests (``test_crash_server.py``).

The clients keep one request in flight each, so every reply belongs to the request just
sent; every ack (``order_accepted`` / ``order_cancelled`` / ``order_modified``), every
``orders`` update and every public trade is recorded with the server incarnation
(``epoch``) it arrived in.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import random
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

import aiohttp

from openpit.config import load_demo_config
from openpit.gateway import sign
from openpit.ledger import LENDER
from openpit.store import Permission, SqliteStore
from openpit.store.keys import new_key

USERS = ("demo", "alice", "bob")
SYMBOLS = {
    "BTCUSDT": (Decimal("30000.00"), Decimal("0.001")),
    "ETHUSDT": (Decimal("2000.00"), Decimal("0.01")),
}
FINAL = frozenset({"filled", "cancelled", "expired", "rejected"})
RANK = {"pending": 0, "new": 1, "partially_filled": 2}
STARTUP_TIMEOUT_S = 30.0


def rank(status: str) -> int:
    return 3 if status in FINAL else RANK[status]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def write_config(path: Path, snapshot_every_commands: int, server_extra: str = "") -> Path:
    """The demo config with frequent snapshots (``[server]`` table, plus ``server_extra``)."""
    from importlib import resources

    demo = resources.files("openpit.config").joinpath("demo.toml").read_text(encoding="utf-8")
    path.write_text(
        demo
        + "\n[server]\n"
        + f"snapshot_every_commands = {snapshot_every_commands}\n"
        + "snapshot_every_seconds = 0\n"
        + server_extra,
        encoding="utf-8",
    )
    return path


def create_keys(data_dir: Path) -> dict[str, tuple[str, str]]:
    """A read+trade key per user in the data directory's store: user -> (key, secret)."""
    store = SqliteStore.in_data_dir(data_dir)
    try:
        out = {}
        for user in USERS:
            store.create_user(user, 1)
            key = new_key(user, frozenset({Permission.READ, Permission.TRADE}), 1)
            store.create_api_key(key)
            out[user] = (key.key_id, key.secret)
        return out
    finally:
        store.close()


def genesis_totals() -> dict[str, int]:
    """Every asset's units after the genesis deposits (lending pool + demo accounts)."""
    config = load_demo_config()
    out = dict.fromkeys(config.assets, 0)
    for asset, units in config.risk.lending_pool.items():
        out[asset] += units
    for acc in config.demo_accounts:
        for asset, units in acc.balances.items():
            out[asset] += units
    assert LENDER not in USERS
    return out


class PortTaken(Exception):
    """Another process bound the free port before the server did."""


class Server:
    """``openpit serve`` as a child process on a fresh port each start."""

    def __init__(
        self, data_dir: Path, config: Path, log: Path, preamble: str = "", simulator: bool = False
    ) -> None:
        """``preamble``: Python run in the child before ``openpit serve`` (fault injection);
        ``simulator``: run the seeded simulator (off by default: deterministic books)."""
        self.data_dir = data_dir
        self.config = config
        self.log = log
        self.preamble = preamble
        self.simulator = simulator
        self.proc: subprocess.Popen[bytes] | None = None
        self.port = 0
        self.starts = 0

    @property
    def base(self) -> str:
        return f"127.0.0.1:{self.port}"

    async def start(self) -> None:
        """Start and wait for ``/healthz``; a port taken meanwhile is retried on another."""
        for attempt in range(3):
            try:
                await self._start()
                return
            except PortTaken:
                if attempt == 2:
                    raise

    async def _start(self) -> None:
        assert self.proc is None
        self.port = free_port()
        env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path), "PYTHONUNBUFFERED": "1"}
        with open(self.log, "ab") as log:
            log.write(f"\n===== start {self.starts} on port {self.port} =====\n".encode())
            log.flush()
            self.proc = subprocess.Popen(
                [
                    sys.executable,
                    "-c",
                    self.preamble + "\nimport sys; from openpit.cli import main; sys.exit(main())",
                    "serve",
                    "--port",
                    str(self.port),
                    "--data-dir",
                    str(self.data_dir),
                    "--config",
                    str(self.config),
                    *(() if self.simulator else ("--no-simulator",)),
                ],
                stdout=log,
                stderr=subprocess.STDOUT,
                env=env,
            )
        self.starts += 1
        deadline = time.monotonic() + STARTUP_TIMEOUT_S
        async with aiohttp.ClientSession() as http:
            while True:
                if self.proc.poll() is not None:
                    self.proc = None
                    if "Address already in use" in self.log_tail(5):
                        raise PortTaken(self.port)
                    raise AssertionError(f"openpit serve exited early:\n{self.log_tail()}")
                with contextlib.suppress(aiohttp.ClientError, OSError):
                    async with http.get(f"http://{self.base}/healthz") as resp:
                        if resp.status == 200 and (await resp.json())["status"] == "ok":
                            return
                if time.monotonic() > deadline:
                    raise AssertionError(
                        f"no /healthz in {STARTUP_TIMEOUT_S} s:\n{self.log_tail()}"
                    )
                await asyncio.sleep(0.1)

    def kill9(self) -> None:
        assert self.proc is not None
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait()
        self.proc = None

    async def stop(self, timeout: float = 30.0) -> int:
        """SIGTERM and wait: the graceful shutdown path."""
        assert self.proc is not None
        proc, self.proc = self.proc, None
        proc.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + timeout
        while proc.poll() is None:
            if time.monotonic() > deadline:
                proc.kill()
                proc.wait()
                raise AssertionError(f"no graceful exit in {timeout} s:\n{self.log_tail()}")
            await asyncio.sleep(0.05)
        return proc.returncode

    def ensure_dead(self) -> None:
        if self.proc is not None:
            self.kill9()

    def log_text(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else ""

    def log_tail(self, lines: int = 40) -> str:
        return "\n".join(self.log_text().splitlines()[-lines:])


@dataclass
class Ack:
    order_id: int
    user: str
    client_order_id: str
    status: str
    epoch: int


@dataclass
class Seen:
    """The furthest state of one order a client was told (acks and ``orders`` updates)."""

    rank: int = 0
    status: str = "pending"
    filled: Decimal = Decimal(0)

    def note(self, status: str, filled: Decimal | None = None) -> None:
        if rank(status) > self.rank or (rank(status) == self.rank and status in FINAL):
            self.rank, self.status = rank(status), status
        if filled is not None:
            self.filled = max(self.filled, filled)


@dataclass
class Record:
    """Everything the clients heard, across every server incarnation."""

    acks: dict[int, Ack] = field(default_factory=dict)
    seen: dict[int, Seen] = field(default_factory=dict)
    # (symbol, trade id) -> (price, amount, epoch)
    trades: dict[tuple[str, int], tuple[Decimal, Decimal, int]] = field(default_factory=dict)
    # per connection: the order ids of its acks and the trade ids it saw, in arrival order
    ack_streams: list[list[int]] = field(default_factory=list)
    trade_streams: list[list[int]] = field(default_factory=list)
    requests: int = 0
    errors: dict[str, int] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)

    def order(self, order_id: int) -> Seen:
        return self.seen.setdefault(order_id, Seen())


class Lost(Exception):
    """The connection ended (the server was killed or stopped)."""


class FlatClient:
    """One authenticated flat-dialect connection of one user, trading at random."""

    def __init__(
        self,
        server: Server,
        user: str,
        key: tuple[str, str],
        name: str,
        epoch: int,
        rng: random.Random,
        record: Record,
    ) -> None:
        self.server = server
        self.user = user
        self.key = key
        self.name = name
        self.epoch = epoch
        self.rng = rng
        self.record = record
        self.replies: asyncio.Queue[dict[str, Any] | None] = asyncio.Queue()
        self.open_orders: dict[int, tuple[str, str]] = {}  # own live: id -> (cid, symbol)
        self.counter = 0
        self.acked: list[int] = []
        record.ack_streams.append(self.acked)
        # per symbol: the fan-out keeps order per subscription key, not across keys
        self.trades_seen: dict[str, list[int]] = {symbol: [] for symbol in SYMBOLS}
        record.trade_streams.extend(self.trades_seen.values())

    async def run(self, ts_offset: int) -> None:
        """Trade until the connection ends; returns quietly then."""
        try:
            async with (
                aiohttp.ClientSession() as http,
                http.ws_connect(f"ws://{self.server.base}/ws", autoping=True) as ws,
            ):
                reader = asyncio.create_task(self._read(ws))
                try:
                    await self._session(ws, ts_offset)
                finally:
                    reader.cancel()
                    with contextlib.suppress(asyncio.CancelledError, Exception):
                        await reader
        except (Lost, aiohttp.ClientError, ConnectionError, OSError, RuntimeError):
            return

    async def _read(self, ws: aiohttp.ClientWebSocketResponse) -> None:
        try:
            async for msg in ws:
                if msg.type is not aiohttp.WSMsgType.TEXT:
                    continue
                data = json.loads(msg.data, parse_float=Decimal)
                if "channel" in data:
                    self._stream(data)
                elif data.get("event") in ("ping", "close"):
                    continue
                else:
                    self.replies.put_nowait(data)
        finally:
            self.replies.put_nowait(None)

    def _stream(self, data: dict[str, Any]) -> None:
        rec, body = self.record, data.get("data", {})
        if data["channel"] == "orders":
            order_id = int(body["id"])
            rec.order(order_id).note(body["status"], body["filled"])
            if body["status"] in FINAL:
                self.open_orders.pop(order_id, None)
        elif data["channel"] == "trades":
            trade_id = int(body["id"])
            key = (data["symbol"], trade_id)
            seen = (body["price"], body["amount"], self.epoch)
            old = rec.trades.setdefault(key, seen)
            if old[:2] != seen[:2]:
                rec.problems.append(f"trade {key} seen as {old[:2]} and as {seen[:2]}")
            self.trades_seen[data["symbol"]].append(trade_id)

    async def _request(
        self, ws: aiohttp.ClientWebSocketResponse, frame: dict[str, Any]
    ) -> dict[str, Any]:
        await ws.send_str(json.dumps(frame))
        reply = await self.replies.get()
        if reply is None:
            raise Lost
        return reply

    async def _session(self, ws: aiohttp.ClientWebSocketResponse, ts_offset: int) -> None:
        key_id, secret = self.key
        ts = _login_ts(ts_offset)  # never reused by this process: the replay guard
        reply = await self._request(
            ws,
            {
                "action": "authenticate",
                "api_key": key_id,
                "timestamp": ts,
                "signature": sign(secret, key_id, ts),
            },
        )
        assert reply.get("event") == "authenticated", reply
        reply = await self._request(
            ws,
            {
                "action": "subscribe",
                "channels": ["orders", "trades"],
                "params": {"exchange": "binance", "symbols": list(SYMBOLS)},
            },
        )
        assert reply.get("event") == "subscribed", reply
        while True:
            frame = self._next_action()
            self.record.requests += 1
            reply = await self._request(ws, frame)
            self._reply(frame, reply)
            if reply.get("code") == 429:
                await asyncio.sleep(float(reply.get("retry_after", 0.1)))

    def _next_action(self) -> dict[str, Any]:
        rng = self.rng
        roll = rng.random()
        if self.open_orders and roll < 0.15:
            order_id = rng.choice(sorted(self.open_orders))
            if rng.random() < 0.5:
                return {"action": "cancel_order", "order_id": str(order_id)}
            return {"action": "cancel_order", "client_order_id": self.open_orders[order_id][0]}
        if self.open_orders and roll < 0.25:
            order_id = rng.choice(sorted(self.open_orders))
            mid, lot = SYMBOLS[self.open_orders[order_id][1]]
            if rng.random() < 0.5:  # may be bigger than the order: loses priority
                change = {"amount": float(lot * rng.randint(1, 4))}
            else:
                change = {"price": float(mid + Decimal(rng.randint(-5, 5)) / 2)}
            return {"action": "modify_order", "order_id": str(order_id), **change}
        symbol = rng.choice(sorted(SYMBOLS))
        mid, lot = SYMBOLS[symbol]
        side = rng.choice(("buy", "sell"))
        self.counter += 1
        frame: dict[str, Any] = {
            "action": "submit_order",
            "exchange": "binance",
            "symbol": symbol,
            "side": side,
            "amount": float(lot * rng.randint(1, 4)),
            "client_order_id": f"{self.name}-{self.epoch}-{self.counter}",
        }
        if roll < 0.30:
            frame["type"] = "market"
        elif roll < 0.40:
            frame |= {
                "type": "limit",
                "time_in_force": "ioc",
                "price": float(mid + (3 if side == "buy" else -3)),
            }
        else:
            frame |= {
                "type": "limit",
                "time_in_force": "gtc",
                "price": float(mid + Decimal(rng.randint(-5, 5)) / 2),
            }
        return frame

    def _reply(self, frame: dict[str, Any], reply: dict[str, Any]) -> None:
        rec, event = self.record, reply.get("event")
        if event == "error":
            name = f"{frame['action']}:{reply.get('code')}:{reply.get('reason')}"
            rec.errors[name] = rec.errors.get(name, 0) + 1
            if reply.get("code") == 404 and frame["action"] != "submit_order":
                self._forget(frame)  # closed meanwhile
            return
        if event == "order_accepted":
            order_id, cid = int(reply["id"]), reply["client_order_id"]
            if cid != frame["client_order_id"]:
                rec.problems.append(f"ack {reply} answers {frame}")
            if order_id in rec.acks:
                rec.problems.append(f"order id {order_id} acknowledged twice: {reply}")
            rec.acks[order_id] = Ack(order_id, self.user, cid, reply["status"], self.epoch)
            rec.order(order_id).note(reply["status"])
            self.acked.append(order_id)
            if reply["status"] not in FINAL and rec.order(order_id).rank < 3:
                self.open_orders[order_id] = (cid, frame["symbol"])
            return
        if event in ("order_cancelled", "order_modified"):
            order_id = int(reply["id"])
            rec.order(order_id).note(reply["status"])
            if reply["status"] in FINAL:
                self.open_orders.pop(order_id, None)
            return
        rec.problems.append(f"unexpected reply {reply} to {frame}")

    def _forget(self, frame: dict[str, Any]) -> None:
        if "order_id" in frame:
            self.open_orders.pop(int(frame["order_id"]), None)
        else:
            for oid, (cid, _) in list(self.open_orders.items()):
                if cid == frame.get("client_order_id"):
                    del self.open_orders[oid]


async def trade(
    server: Server,
    keys: dict[str, tuple[str, str]],
    record: Record,
    epoch: int,
    rng: random.Random,
    per_user: int = 2,
) -> list[asyncio.Task[None]]:
    """Start ``per_user`` trading connections for every user; they end with the server."""
    tasks = []
    for u, user in enumerate(USERS):
        for i in range(per_user):
            client = FlatClient(
                server,
                user,
                keys[user],
                f"{user}{i}",
                epoch,
                random.Random(rng.getrandbits(64)),
                record,
            )
            tasks.append(asyncio.create_task(client.run(ts_offset=u * per_user + i)))
    return tasks


_last_login_ts = 0


def _login_ts(offset: int) -> int:
    """A login timestamp no earlier connection of this process used (now + ``offset``
    alone collided when the clock ticked between two clients of one key)."""
    global _last_login_ts
    _last_login_ts = max(int(time.time() * 1000) + offset, _last_login_ts + 1)
    return _last_login_ts


async def settle(tasks: list[asyncio.Task[None]], timeout: float = 30.0) -> None:
    """Wait for clients to notice the server is gone (cancel stragglers)."""
    if not tasks:
        return
    _, pending = await asyncio.wait(tasks, timeout=timeout)
    for task in pending:
        task.cancel()
    for task in tasks:
        with contextlib.suppress(asyncio.CancelledError):
            await task
