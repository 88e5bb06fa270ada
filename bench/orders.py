"""Order path benchmark (issue 14): what a trading client feels, frame in to ack out.

``openpit serve`` runs as a subprocess (temp data dir, free port, the simulator on, order
rate limits raised in a ``[gateway]`` table); the baseline is a bare aiohttp WebSocket
echo server (``bench/_echo.py``, a subprocess too) answering each frame with a frame of
the same size. The load comes from separate processes (``bench/_orders_load.py``), the
same clients and frames against both. Users, keys, funds and JWTs are made through the
admin REST API with the data directory's admin key.

Per dialect (flat ``/ws``, envelope ``/ws/trading``, typed ``/``):

1. closed loop: 10 clients x 8 order commands in flight (limit orders far from the touch,
   each cancelled once acked): acked commands/s / echo frames/s >= 0.4;
2. open loop: 1,000 commands/s with 200 market-data subscribers (book + trades) on the
   same instrument connected (to the echo server likewise): p99 round trip / echo p99
   <= 3;
3. scaling: the closed loop with 100,000 resting orders of 1,000 users / the closed loop
   before they were seeded >= 0.9;

plus 4. the venue path (``bench/venue.py``): engine + ledger + sequencer / engine alone
>= 0.4. Every scenario checks what it measured: every command answered, none rejected,
else it raises. Closed loops are best of ``ROUNDS`` (the box is shared; noise only slows
a run down). ``python -m bench orders`` writes bench/results/orders.json.

Profiling: ``python -m bench.orders --profile DIR`` runs scenarios 1 and 2 with
``py-spy record --gil`` attached to the server and writes ``DIR/<dialect>-<scenario>.txt``
(collapsed stacks) and a top-functions summary (``DIR/summary.txt``); see
docs/performance.md.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import multiprocessing as mp
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from decimal import ROUND_DOWN, Decimal
from importlib import resources
from pathlib import Path
from typing import Any

import aiohttp

from bench._orders_load import cpu_seconds
from bench._orders_wire import DIALECTS
from bench._pyspy import RATE

N_CLIENTS = 10
PROFILE_CLOSED_S = 6.0  # profile mode: longer windows, more samples
PROFILE_OPEN_COUNT = 8000
INFLIGHT = 8
CLOSED_S = 2.0
WARMUP_S = 0.5
ROUNDS = 3
OPEN_RATE = 1000
OPEN_COUNT = 5000
SUBSCRIBERS = 200
SEED_USERS = 1000
SEED_PER_USER = 100
# journal durability of the server under test: "batch" (the default); "off" or "always" only
# to see what the group commit costs (BENCH_ORDERS_FSYNC=off python -m bench orders)
FSYNC = os.environ.get("BENCH_ORDERS_FSYNC", "batch")
TARGETS = {"closed": 0.4, "open_p99": 3.0, "scaling": 0.9, "venue": 0.4}
BIG = [1_000_000, 1_000_000]  # a token bucket that never refuses
GATEWAY = f"""
[gateway]
rest_rates = {{ public = {BIG}, signed = {BIG} }}
rates = {{ order = {BIG}, other = {BIG}, auth = {BIG}, subscribe = {BIG} }}
dialect_rates = {{ envelope = {{ order = {BIG}, other = {BIG}, auth = {BIG}, subscribe = {BIG} }}, \
typed = {{ "*" = {BIG}, order = {BIG} }} }}
max_anonymous_per_address = 1000000
anonymous_rate = {BIG}
"""


# -- processes -----------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def _openpit() -> list[str]:
    script = Path(sys.executable).with_name("openpit")
    if script.exists():
        return [str(script)]
    return [sys.executable, "-c", "import sys; from openpit.cli import main; sys.exit(main())"]


class Server:
    """``openpit serve`` with the simulator on, on a temp data dir and a free port."""

    def __init__(self, tmp: Path) -> None:
        tmp.mkdir(parents=True)
        self.data = tmp / "data"
        self.config = tmp / "openpit.toml"
        self.log = tmp / "server.log"
        demo = resources.files("openpit.config").joinpath("demo.toml").read_text("utf-8")
        self.config.write_text(demo + GATEWAY, encoding="utf-8")
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        with open(self.log, "wb") as log:
            self.proc = subprocess.Popen(
                [
                    *_openpit(),
                    *("serve", "--port", str(self.port), "--data-dir", str(self.data)),
                    *("--config", str(self.config), "--fsync", FSYNC),
                ],
                stdout=log,
                stderr=subprocess.STDOUT,
                env={**os.environ, "PYTHONUNBUFFERED": "1"},
            )

    async def wait_ready(self, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        async with aiohttp.ClientSession() as http:
            while time.monotonic() < deadline:
                if self.proc.poll() is not None:
                    raise RuntimeError(f"openpit serve exited:\n{self.tail()}")
                with contextlib.suppress(aiohttp.ClientError, OSError):
                    async with http.get(self.url + "/healthz") as resp:
                        if resp.status == 200 and (self.data / "admin-key.json").exists():
                            return
                await asyncio.sleep(0.2)
        raise RuntimeError(f"openpit serve not healthy in {timeout} s:\n{self.tail()}")

    def tail(self, lines: int = 30) -> str:
        text = self.log.read_text(errors="replace") if self.log.exists() else ""
        return "\n".join(text.splitlines()[-lines:])

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


class Echo:
    def __init__(self) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "bench._echo"],
            stdout=subprocess.PIPE,
            cwd=Path(__file__).parent.parent,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )
        assert self.proc.stdout is not None
        self.port = int(self.proc.stdout.readline())
        self.url = f"http://127.0.0.1:{self.port}"

    def stop(self) -> None:
        if self.proc.poll() is not None:
            return
        self.proc.send_signal(signal.SIGINT)
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


_CTX = mp.get_context("spawn")


class Job:
    """One load job in its own process (``bench._orders_load.run``)."""

    def __init__(self, job: dict[str, Any]) -> None:
        from bench._orders_load import run

        self.kind = job["kind"]
        self.conn, child = _CTX.Pipe()
        self.proc = _CTX.Process(target=run, args=(job, child), daemon=True)
        self.proc.start()

    def recv(self, timeout: float) -> Any:
        if not self.conn.poll(timeout):
            self.proc.kill()
            raise RuntimeError(f"load job {self.kind}: no answer in {timeout} s")
        msg = self.conn.recv()
        if isinstance(msg, dict) and "error" in msg:
            self.proc.kill()
            raise RuntimeError(f"load job {self.kind} failed: {msg['error']}")
        return msg

    def result(self, timeout: float) -> dict[str, Any]:
        msg = self.recv(timeout)
        self.proc.join(10)
        return msg  # type: ignore[no-any-return]


def _run_job(job: dict[str, Any], timeout: float, pid: int | None = None) -> dict[str, Any]:
    """Run a load job; with ``pid``, add that process's CPU use over the job (all threads)."""
    cpu, wall = cpu_seconds(pid), time.perf_counter()
    r = Job(job).result(timeout)
    if pid is not None:
        used, wall = cpu_seconds(pid) - cpu, time.perf_counter() - wall
        r["server_cpu_s"] = round(used, 2)
        r["server_cpu_percent"] = round(100 * used / wall, 1)
    return r


# "gil": samples only while a thread holds the GIL (where the CPU time goes); "wall": every
# thread, idle included (where the main thread waits): BENCH_ORDERS_PYSPY=wall
PYSPY_MODE = os.environ.get("BENCH_ORDERS_PYSPY", "gil")
PYSPY_MODES = {"gil": ("--gil",), "wall": ("--idle", "--threads")}


class Profiler:
    """``py-spy record`` on the server for one scenario (collapsed stacks)."""

    def __init__(self, directory: Path | None, pid: int, name: str) -> None:
        self.proc: subprocess.Popen[bytes] | None = None
        if directory is None:
            return
        spy = shutil.which("py-spy") or str(Path(sys.executable).with_name("py-spy"))
        self.out = directory / f"{name}.txt"
        self.proc = subprocess.Popen(
            [
                *(spy, "record", *PYSPY_MODES[PYSPY_MODE], "-r", str(RATE), "-p", str(pid)),
                *("-o", str(self.out), "--format", "raw"),
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
        )
        self.started = time.perf_counter()
        time.sleep(0.5)  # attached before the load starts

    def stop(self) -> None:
        if self.proc is None:
            return
        self.proc.send_signal(signal.SIGINT)
        try:
            err, _ = self.proc.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            err, _ = self.proc.communicate()
        self.out.with_suffix(".log").write_bytes(err)
        if not self.out.exists():
            raise RuntimeError(f"py-spy wrote nothing: {err.decode(errors='replace')[-500:]}")
        (self.out.with_suffix(".seconds")).write_text(f"{time.perf_counter() - self.started:.2f}\n")


# -- setup over the admin REST API --------------------------------------------------------


class Rest:
    def __init__(self, http: aiohttp.ClientSession, url: str) -> None:
        self.http, self.url = http, url

    async def call(self, method: str, path: str, cred: dict[str, str], body: Any = None) -> Any:
        from openpit.api.signing import signed_headers

        data = b"" if body is None else json.dumps(body).encode()
        ts = time.time_ns() // 1_000_000
        headers = signed_headers(cred["api_key"], cred["api_secret"], ts, method, path, data)
        if data:
            headers["Content-Type"] = "application/json"
        async with self.http.request(method, self.url + path, data=data, headers=headers) as r:
            reply = await r.json()
            if r.status >= 300:
                raise RuntimeError(f"{method} {path}: HTTP {r.status} {reply}")
            return reply

    async def user(self, admin: dict[str, str], name: str, funds: dict[str, str]) -> dict[str, str]:
        key = await self.call(
            "POST",
            "/api/v1/admin/keys",
            admin,
            {"user": name, "permissions": ["read", "trade"], "create_user": True},
        )
        cred = {"user": name, "api_key": key["api_key"], "api_secret": key["api_secret"]}
        for asset, amount in funds.items():
            body = {"user": name, "asset": asset, "amount": amount}
            await self.call("POST", "/api/v1/admin/deposits", admin, body)
        return cred


async def _gather_bounded(coros: list[Any], limit: int) -> list[Any]:
    sem = asyncio.Semaphore(limit)

    async def one(c: Any) -> Any:
        async with sem:
            return await c

    return await asyncio.gather(*(one(c) for c in coros))


def _admin(data: Path) -> dict[str, str]:
    raw = json.loads((data / "admin-key.json").read_text())
    return {"api_key": raw["api_key"], "api_secret": raw["api_secret"]}


async def _setup_traders(server: Server) -> tuple[list[dict[str, str]], dict[str, Any]]:
    admin = _admin(server.data)
    async with aiohttp.ClientSession() as http:
        rest = Rest(http, server.url)
        funds = {"USDT": "10000000", "BTC": "1000"}
        creds = await _gather_bounded(
            [rest.user(admin, f"bench-t{i}", funds) for i in range(N_CLIENTS)], 10
        )
        for cred in creds:
            reply = await rest.call("POST", "/api/v1/tokens", cred, {"ttl_seconds": 3600})
            cred["token"] = reply["token"]
        deadline = time.monotonic() + 30
        while True:  # the simulator's makers quote both sides within a second or two
            async with http.get(server.url + "/api/v1/orderbook?symbol=BTCUSDT&depth=1") as r:
                book = await r.json()
            if book["bids"] and book["asks"]:
                break
            if time.monotonic() > deadline:
                raise RuntimeError(f"no two-sided BTCUSDT book in 30 s: {book}")
            await asyncio.sleep(0.2)
    bid, ask = Decimal(book["bids"][0][0]), Decimal(book["asks"][0][0])
    mid = (bid + ask) / 2
    return creds, {"bid": str(bid), "ask": str(ask), "mid": mid}


def _price(x: Decimal) -> str:
    return str(x.quantize(Decimal("0.01"), rounding=ROUND_DOWN))


async def _setup_seed_users(server: Server, mid: Decimal) -> list[dict[str, Any]]:
    """1,000 users, each with 100 orders far from the touch: even users bid at 60-85 % of
    the mid, odd users offer at 115-140 %, spread over 5,000 price levels a side."""
    admin = _admin(server.data)
    levels = 5000
    step = mid * Decimal("0.25") / levels
    async with aiohttp.ClientSession() as http:
        rest = Rest(http, server.url)
        coros = []
        for u in range(SEED_USERS):
            funds = {"USDT": "1000000"} if u % 2 == 0 else {"BTC": "10"}
            coros.append(rest.user(admin, f"bench-s{u}", funds))
        users = await _gather_bounded(coros, 16)
    for u, user in enumerate(users):
        side = "buy" if u % 2 == 0 else "sell"
        base = mid * Decimal("0.60") if side == "buy" else mid * Decimal("1.15")
        user["orders"] = [
            [side, _price(base + ((u * 7919 + j * 104_729) % levels) * step)]
            for j in range(SEED_PER_USER)
        ]
    return users


# -- scenarios -----------------------------------------------------------------------------


def _check(name: str, r: dict[str, Any], expected: int | None = None) -> None:
    problems = []
    if r["errors"]:
        problems.append(f"{r['errors']} rejected or unexpected replies: {r['error_samples']}")
    if r["unanswered"]:
        problems.append(f"{r['unanswered']} commands never answered")
    if expected is not None and r.get("answered") != expected:
        problems.append(f"{r.get('answered')} of {expected} timed commands answered")
    if r["placed"] != r["cancelled"] and "cleanup_cancels" not in r:
        problems.append(f"placed {r['placed']} but cancelled {r['cancelled']}")
    if problems:
        raise RuntimeError(f"{name}: " + "; ".join(problems))


Target = Server | Echo


Side = tuple[Target, list[Any], dict[str, str]]  # a target, its traders, its prices


def _closed(
    dialect: str, sides: list[Side], rounds: int, spy: tuple[Path, str] | None = None
) -> list[dict[str, Any]]:
    """Closed-loop windows alternating between ``sides``; the best window of each side,
    with every window's rate. ``spy``: profile the first side (then measured alone)."""
    if spy is not None and len(sides) > 1:
        return _closed(dialect, sides[:1], rounds, spy) + _closed(dialect, sides[1:], rounds)
    job = {
        "kind": "closed",
        "dialect": dialect,
        "targets": [
            {
                "url": t.url,
                "creds": creds,
                "prices": prices,
                "echo": isinstance(t, Echo),
                "pid": t.proc.pid,
            }
            for t, creds, prices in sides
        ],
        "rounds": rounds,
        "inflight": INFLIGHT,
        "seconds": CLOSED_S,
        "warmup_s": WARMUP_S,
    }
    profiler = None if spy is None else Profiler(spy[0], sides[0][0].proc.pid, spy[1])
    try:
        r = _run_job(job, len(sides) * rounds * (CLOSED_S + WARMUP_S + 25) + 30)
    finally:
        if profiler is not None:
            profiler.stop()
    out = []
    for (t, _, _), windows in zip(sides, r["targets"], strict=True):
        name = f"{dialect} closed loop{' (echo)' if isinstance(t, Echo) else ''}"
        for w in windows:
            _check(name, w)
            if not w["window_placed"]:
                raise RuntimeError(f"{name}: nothing acked in the window")
        out.append(_best(windows))
    return out


def _open(target: Target, dialect: str, creds: list[Any], prices: dict[str, str]) -> dict[str, Any]:
    echo = isinstance(target, Echo)
    d = DIALECTS[dialect]
    subs = Job(
        {
            "kind": "subscribers",
            "port": target.port,
            "path": d.md_path,
            "subscribe": d.subscribe,
            "n": SUBSCRIBERS,
            "max_s": 120,
        }
    )
    if subs.recv(60) != "ready":
        raise RuntimeError("subscribers: unexpected message")
    job = {
        "kind": "open",
        "dialect": dialect,
        "url": target.url,
        "creds": creds,
        "prices": prices,
        "rate": OPEN_RATE,
        "count": OPEN_COUNT,
        "echo": echo,
    }
    started = time.perf_counter()
    r = _run_job(job, OPEN_COUNT / OPEN_RATE + 90, target.proc.pid)
    elapsed = time.perf_counter() - started
    subs.conn.send("stop")
    s = subs.result(30)
    _check(f"{dialect} open loop{' (echo)' if echo else ''}", r, OPEN_COUNT)
    if s["closed"]:
        raise RuntimeError(f"{dialect} open loop: {s['closed']} subscribers were disconnected")
    if not echo and not s["frames"]:
        raise RuntimeError(f"{dialect} open loop: the subscribers received no market data")
    r["subscribers"] = {**s, "frames_per_s": round(s["frames"] / elapsed)}
    return r


def _best(runs: list[dict[str, Any]]) -> dict[str, Any]:
    best = max(runs, key=lambda r: r["commands_per_s"])
    return {
        **best,
        "rounds_commands_per_s": [r["commands_per_s"] for r in runs],
        "rounds_server_cpu_percent": [r.get("server_cpu_percent") for r in runs],
    }


def _brief(r: dict[str, Any]) -> dict[str, Any]:
    keys = ("commands_per_s", "placements_per_s", "rounds_commands_per_s", "window_placed")
    keys += ("window_cancelled", "p50_ms", "p99_ms", "max_ms", "p99_ms_per_second")
    keys += ("achieved_rate", "sent")
    keys += ("cleanup_cancels", "server_cpu_percent", "rounds_server_cpu_percent")
    keys += ("subscribers",)
    return {k: r[k] for k in keys if k in r}


def _seed(server: Server, users: list[dict[str, Any]]) -> dict[str, Any]:
    """The users' orders through envelope ``batch_orders``; every one must be accepted."""
    job = {
        "kind": "seed",
        "url": server.url,
        "users": users,
        "qty": "0.001",
        "concurrency": 20,
        "timeout_s": 150,
    }
    r = _run_job(job, 170)
    want = sum(len(u["orders"]) for u in users)
    if r["accepted"] != want or r["problems"]:
        raise RuntimeError(f"seeding: {r['accepted']} of {want} accepted: {r['problems']}")
    return {"orders": want, "users": len(users), "batch_orders_s": r["seconds"]}


def _traders(server: Server) -> tuple[list[dict[str, str]], dict[str, Any]]:
    asyncio.run(server.wait_ready())
    creds, book = asyncio.run(_setup_traders(server))
    mid = book["mid"]
    prices = {"buy": _price(mid * Decimal("0.9")), "sell": _price(mid * Decimal("1.1"))}
    return creds, {"bid": book["bid"], "ask": book["ask"], "mid": mid, **prices}


def _run(profile: Path | None) -> dict[str, Any]:
    """Scenarios 1 and 2 on one server and the echo server; scenario 3 on two fresh
    servers, one holding the 100,000 seeded orders, measured in alternation."""
    tmp = Path(tempfile.mkdtemp(prefix="openpit-bench-orders-"))
    server = Server(tmp / "main")
    echo = Echo()
    empty: Server | None = None
    seeded: Server | None = None
    rounds = 1 if profile else ROUNDS
    out: dict[str, Any] = {}
    try:
        creds, market = _traders(server)
        prices = {"buy": market["buy"], "sell": market["sell"]}
        out["market"] = {k: v for k, v in market.items() if k != "mid"}
        per: dict[str, dict[str, Any]] = {}
        for dialect in DIALECTS:
            spy = None if profile is None else (profile, f"{dialect}-closed")
            ours, base = _closed(
                dialect, [(server, creds, prices), (echo, creds, prices)], rounds, spy
            )
            profiler = Profiler(profile, server.proc.pid, f"{dialect}-open")
            o_ours = _open(server, dialect, creds, prices)
            profiler.stop()
            o_base = _open(echo, dialect, creds, prices)
            per[dialect] = {
                "closed": ours,
                "closed_echo": base,
                "open": o_ours,
                "open_echo": o_base,
            }
            print(f"   {dialect}: closed loop and open loop done", flush=True)
        # scenario 3: two fresh servers set up alike (traders, 1,000 funded users); one
        # also holds the users' 100,000 resting orders
        echo.stop()
        server.stop()
        empty, seeded = Server(tmp / "empty"), Server(tmp / "seeded")
        started = time.perf_counter()
        (creds_e, market_e), (creds_s, market_s) = _traders(empty), _traders(seeded)
        prices_e = {"buy": market_e["buy"], "sell": market_e["sell"]}
        prices_s = {"buy": market_s["buy"], "sell": market_s["sell"]}

        async def users() -> list[list[dict[str, Any]]]:
            return list(
                await asyncio.gather(
                    _setup_seed_users(empty, market_e["mid"]),
                    _setup_seed_users(seeded, market_s["mid"]),
                )
            )

        _, seed_users = asyncio.run(users())
        setup_s = time.perf_counter() - started
        out["seeded"] = {**_seed(seeded, seed_users), "setup_s": round(setup_s, 2)}
        print(f"   seeded: {out['seeded']}", flush=True)
        for dialect in DIALECTS:
            spy = None if profile is None else (profile, f"{dialect}-seeded")
            full, none = _closed(
                dialect, [(seeded, creds_s, prices_s), (empty, creds_e, prices_e)], rounds, spy
            )
            per[dialect]["closed_empty"] = none
            per[dialect]["closed_seeded"] = full
        out["dialects"] = per
    finally:
        server.stop()
        echo.stop()
        for other in (empty, seeded):
            if other is not None:
                other.stop()
        if profile is None:
            shutil.rmtree(tmp, ignore_errors=True)
        else:
            out["server_log"] = str(server.log)
    return out


def _pair_ratio(a: dict[str, Any], b: dict[str, Any]) -> float:
    """Median over rounds of a/b, each round's two windows measured back to back."""
    pairs = zip(a["rounds_commands_per_s"], b["rounds_commands_per_s"], strict=True)
    return round(statistics.median(x / y for x, y in pairs), 3)


def _report(raw: dict[str, Any]) -> dict[str, Any]:
    dialects: dict[str, Any] = {}
    passed = True
    for name, r in raw["dialects"].items():
        closed_ratio = r["closed"]["commands_per_s"] / r["closed_echo"]["commands_per_s"]
        p99_ratio = r["open"]["p99_ms"] / r["open_echo"]["p99_ms"]
        entry: dict[str, Any] = {
            "closed_commands_per_s": r["closed"]["commands_per_s"],
            "echo_frames_per_s": r["closed_echo"]["commands_per_s"],
            "ratio_closed_vs_echo": round(closed_ratio, 3),
            "open_p99_ms": r["open"]["p99_ms"],
            "echo_p99_ms": r["open_echo"]["p99_ms"],
            "ratio_open_p99_vs_echo": round(p99_ratio, 2),
        }
        entry["ratio_closed_vs_echo_median_of_rounds"] = _pair_ratio(r["closed"], r["closed_echo"])
        ok = closed_ratio >= TARGETS["closed"] and p99_ratio <= TARGETS["open_p99"]
        scaling = r["closed_seeded"]["commands_per_s"] / r["closed_empty"]["commands_per_s"]
        entry["empty_commands_per_s"] = r["closed_empty"]["commands_per_s"]
        entry["seeded_commands_per_s"] = r["closed_seeded"]["commands_per_s"]
        entry["ratio_seeded_vs_empty"] = round(scaling, 3)
        entry["ratio_seeded_vs_empty_median_of_rounds"] = _pair_ratio(
            r["closed_seeded"], r["closed_empty"]
        )
        ok = ok and scaling >= TARGETS["scaling"]
        entry["passed"] = ok
        entry["detail"] = {k: _brief(v) for k, v in r.items()}
        passed = passed and ok
        dialects[name] = entry
    return {"dialects": dialects, "passed": passed}


def main(profile: str | None = None) -> dict[str, Any]:
    from bench import venue

    started = time.perf_counter()
    global CLOSED_S, OPEN_COUNT
    directory = None if profile is None else Path(profile)
    if directory is not None:
        directory.mkdir(parents=True, exist_ok=True)
        CLOSED_S, OPEN_COUNT = PROFILE_CLOSED_S, PROFILE_OPEN_COUNT
    raw = _run(directory)
    result: dict[str, Any] = {
        "setup": {
            "clients": N_CLIENTS,
            "in_flight_per_client": INFLIGHT,
            "closed_seconds": CLOSED_S,
            "closed_rounds": 1 if directory else ROUNDS,
            "open_rate_per_s": OPEN_RATE,
            "open_commands": OPEN_COUNT,
            "subscribers": SUBSCRIBERS,
            "seeded": raw.get("seeded"),
            "market": raw["market"],
            "commands": "limit orders of 0.001 BTC on BTCUSDT, buys at 90 % and sells at 110 %"
            " of the mid; each acked order is cancelled (both count as order commands)",
            "fsync": FSYNC,
            "cpus": os.cpu_count(),
            "load_1m_at_start": round(os.getloadavg()[0], 2),
        },
        **_report(raw),
        "targets": TARGETS,
    }
    if directory is None:
        v = venue.main()
        result["venue"] = {
            "engine_alone_ops_per_s": v["engine_alone_ops_per_s"],
            "engine_plus_ledger_ops_per_s": v["engine_plus_ledger_ops_per_s"],
            "ratio": v["ratio_engine_plus_ledger_vs_engine"],
            "passed": v["ratio_engine_plus_ledger_vs_engine"] >= TARGETS["venue"],
        }
        result["passed"] = result["passed"] and result["venue"]["passed"]
    else:
        from bench._pyspy import summarize

        result["profile"] = summarize(directory, mode=PYSPY_MODE)
        result["server_log"] = raw.get("server_log")
    result["elapsed_s"] = round(time.perf_counter() - started, 1)
    return result


if __name__ == "__main__":
    import argparse

    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--profile", metavar="DIR", help="py-spy the server (scenarios 1, 2)")
    args = parser.parse_args()
    print(json.dumps(main(args.profile), indent=2, default=str))
