"""``openpit serve``: recover the venue, start journal, market data, feeds and gateway.

Start-up order (each step only after the previous one succeeded):
1. load the config (errors name file and key);
2. open the data directory: lock it, recover snapshot + journal tail, verify the hash;
3. fund the lending pool and demo accounts if the journal is empty (journaled like
   any command);
4. seed market data from the recovered books, balances and positions, rebuild its
   trade history (tape, 24 h window, candles) from the store and the replayed journal
   tail (``openpit.server.restore``), and start the gateway;
5. start the simulator (unless ``--no-simulator``) and print what a newcomer needs.
Shutdown (SIGTERM/SIGINT): stop feeds, tell clients and close them (gateway), take a
last snapshot, commit and close the journal, exit 0. A background task snapshots per
the ``[server]`` policy (``openpit.server.persistence``).

Invariants:
- Every shutdown step has its own timeout and a failing or timed-out step is logged
  and skipped, so one wedged worker never keeps the others from closing; acknowledged
  commands are durable before their reply, so skipping a step loses none of them.
- ``openpit serve`` exits within ``[server] shutdown_timeout_seconds`` (default 15) of
  the first SIGTERM/SIGINT whatever is wedged: a watchdog thread ends the process
  (exit status 1) if the graceful path has not finished by then; a second signal ends
  it at once.
- The health board (history writer, journal, publication, snapshots, risk timer,
  simulator) is what ``/healthz`` reports; ``[server] stuck_after_seconds`` (default 30)
  is how long one unit of work may run before its component counts as stuck.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import errno
import logging
import os
import signal
import sys
import threading
import time
from collections.abc import Awaitable, Coroutine, Sequence
from pathlib import Path

from openpit.alerts import AnyAlertEvent, RiskServices
from openpit.api import add_rest_routes
from openpit.api.local import ADMIN_FILE, ensure_admin_key, ensure_jwt_secret, token_issuer
from openpit.binance import BinanceConfigError, add_binance_routes
from openpit.binance import settings_of as binance_settings
from openpit.config import ConfigError, VenueConfig, load_config, load_demo_config
from openpit.core.enums import Side
from openpit.core.events import BookLevel, Event
from openpit.core.health import DEFAULT_STUCK_AFTER_S, Health, HealthBoard
from openpit.durability import Durability, RecoveryError
from openpit.feeds.simulator import start_simulator
from openpit.gateway import HUB, create_app, start_gateway
from openpit.gateway.app import HEALTH
from openpit.gateway.settings import GatewaySettings
from openpit.marketdata import MarketData
from openpit.server.persistence import (
    SnapshotTask,
    check_restored_config,
    durability_config,
    history_refill,
)
from openpit.server.restore import TailTrades, account_seed_events, restore_marketdata
from openpit.server.risk import wire_risk
from openpit.server.tls import TlsSetup, resolve_tls
from openpit.server.tokens import jwt_settings
from openpit.store import HistoryWriter, SqliteStore
from openpit.store.keys import StoreKeyStore, ensure_demo_key
from openpit.venue import Venue
from openpit.venue.service import VenueService, wall_clock_ms
from openpit.web import add_web_routes, dashboard

log = logging.getLogger("openpit.serve")

DEMO_USER = "demo"
DEFAULT_SHUTDOWN_TIMEOUT_S = 15.0
STEP_TIMEOUT_S = 5.0  # one shutdown step (gateway: its close timeout + 2 s)


def server_float(config: VenueConfig, key: str, default: float) -> float:
    """A positive number of seconds from the ``[server]`` table."""
    value = config.extra.get("server", {}).get(key, default)
    if isinstance(value, bool) or not isinstance(value, int | float) or value <= 0:
        raise ConfigError(f"server.{key}: expected a positive number of seconds, got {value!r}")
    return float(value)


async def bounded(what: str, step: Awaitable[object], timeout: float) -> bool:
    """Await one shutdown step for at most ``timeout`` s; log and go on if it fails."""
    try:
        await asyncio.wait_for(step, timeout)
        return True
    except TimeoutError:
        log.error("shutdown: %s did not finish within %.1f s; going on", what, timeout)
    except Exception:
        log.exception("shutdown: %s failed; going on", what)
    return False


def book_seed_events(venue: Venue) -> list[Event]:
    """Synthetic level events that bring a fresh ``MarketData`` to the engine's books."""
    out: list[Event] = []
    for inst in venue.config.instruments:
        bids, asks = venue.engine.depth(inst, 1_000_000)
        out.extend(BookLevel(instrument=inst, side=Side.BUY, price=p, qty=q) for p, q in bids)
        out.extend(BookLevel(instrument=inst, side=Side.SELL, price=p, qty=q) for p, q in asks)
    return out


async def run_server(
    config: VenueConfig,
    args: argparse.Namespace,
    stop: asyncio.Event,
    ready: asyncio.Future[dict[str, str]] | None = None,
) -> int:
    data_dir = Path(args.data_dir)
    started = time.perf_counter()
    tls = tls_from_args(config, args)  # a bad certificate stops here, before any state
    # history first: replayed results refill what a crash kept from reaching it
    store = SqliteStore.in_data_dir(data_dir)
    history = HistoryWriter(store.path)
    written = store.history_seq()
    refill = history_refill(history, written)
    tail = TailTrades(written)  # replayed trades the store may not hold yet

    def on_replayed(result: object) -> None:
        refill(result)
        tail(result)

    try:
        durability = Durability.open(
            lambda: Venue(config),
            durability_config(config, data_dir, args.fsync),
            on_result=on_replayed,
        )
    except BaseException:
        history.close()
        store.close()
        raise
    venue = durability.target
    rec = durability.recovered
    if rec.snapshot is not None:
        try:  # a restored venue keeps its pickled config: refuse a changed one
            check_restored_config(venue, config, rec.snapshot.path)
        except ConfigError:
            await durability.close()
            history.close()
            store.close()
            raise
    log.info(
        "recovered seq %d (snapshot at %s, %d commands replayed in %.3f s) in %.3f s",
        rec.seq,
        rec.snapshot.seq if rec.snapshot is not None else "none",
        rec.replayed,
        rec.elapsed_s,
        time.perf_counter() - started,
    )
    service = VenueService(config, venue, durability)
    service.add_listener(lambda published: history.submit(published.events))
    snapshots = SnapshotTask(durability, history)
    service.add_listener(snapshots.on_published)  # after the history listener
    board = HealthBoard([history.health, durability.writer.health, service.health])
    board.add(snapshots.health)
    if venue.seq == 0:
        for command in venue.genesis_commands():
            await service.submit(command)
    marketdata = MarketData(config)
    marketdata.apply(book_seed_events(venue))
    marketdata.apply(account_seed_events(venue))
    restore_marketdata(marketdata, store.path, tail, now=service.clock())
    tail.trades.clear()
    service.attach_marketdata(marketdata)  # from now on applied once per published result
    demo_key = ensure_demo_key(store, DEMO_USER, wall_clock_ms())
    admin_key = ensure_admin_key(store, data_dir, wall_clock_ms())
    jwt = jwt_settings(config, data_dir)  # [server] jwt_* or the data dir's jwt-secret
    jwt_secret = jwt.sign_key if jwt.algorithm == "HS256" and jwt.sign_key else ""
    jwt_secret = jwt_secret or ensure_jwt_secret(data_dir)
    issue_token = token_issuer(jwt_secret)

    settings = GatewaySettings.from_mapping(config.extra.get("gateway", {}))
    keys = StoreKeyStore(store)  # tokens die with their key: each login reads the store
    app = create_app(
        service,
        marketdata,
        keys,
        settings,
        authenticator=jwt.authenticator(keys),
        root_handler=dashboard,
    )
    app[HEALTH] = board
    add_web_routes(app, demo_key=(demo_key.key_id, demo_key.secret))  # loopback only
    # alerts: custom alerts, notifications, circuit breaker, arbitrage, margin calls
    risk = wire_risk(
        RiskServices(config, store, first_id=wall_clock_ms()), service, marketdata, app[HUB]
    )
    publish_alert = getattr(app[HUB], "publish_alert", None)  # alert fan-out, when wired

    def publish_alerts(events: Sequence[AnyAlertEvent]) -> None:
        for event in events:
            if publish_alert is not None:
                publish_alert(event)

    add_rest_routes(
        app,
        service,
        marketdata,
        store,
        history=history,
        publish_alerts=None if publish_alert is None else publish_alerts,
        issue_token=issue_token,
    )
    add_binance_routes(app, service, marketdata, store, history=history)
    running = await start_gateway(
        app, args.host, args.port, ssl_context=None if tls is None else tls.context
    )
    risk.start()
    board.add(Health("risk", alive=lambda: risk.running or stop.is_set()))
    simulator = start_simulator(service, enabled=not args.no_simulator, seed=args.seed)
    if simulator is not None:
        sim = simulator
        board.add(Health("simulator", alive=lambda: not sim.done() or stop.is_set()))
    snapshots.start()
    stuck_after = server_float(config, "stuck_after_seconds", DEFAULT_STUCK_AFTER_S)
    for status in board.statuses():
        component = board.get(status.name)
        if component is not None:
            component.stuck_after_s = stuck_after

    urls = running.urls
    token = issue_token(
        DEMO_USER,
        frozenset({"read", "trade"}),
        86_400,
        wall_clock_ms(),
        minted_with=demo_key.key_id,  # revoking the demo key ends it
    )
    print_banner(urls, demo_key.key_id, demo_key.secret, simulator is not None, data_dir)
    if tls is not None:
        print(tls_banner(tls), flush=True)
    print_welcome(
        urls["health"].rsplit("/", 1)[0],
        demo_key.key_id,
        demo_key.secret,
        token,
        data_dir / ADMIN_FILE,
        cafile=None if tls is None or not tls.self_signed else tls.cert,
    )
    log.info("admin key %s (secret in %s)", admin_key.api_key, data_dir / ADMIN_FILE)
    if ready is not None and not ready.done():
        ready.set_result(urls)
    try:
        await stop.wait()
    finally:
        print("openpit: shutting down", flush=True)
        if simulator is not None:
            simulator.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await asyncio.wait_for(simulator, STEP_TIMEOUT_S)
        gateway_s = running.app[HUB].settings.close_timeout + 2
        await bounded("risk services", risk.stop(), STEP_TIMEOUT_S)
        await bounded("gateway", running.stop(), gateway_s)
        await bounded("final snapshot", snapshots.stop(final=True), STEP_TIMEOUT_S)
        journal_closed = await bounded("journal", durability.close(), STEP_TIMEOUT_S)
        wedged = not history.health.status().ok  # then do not wait long for it
        close_s = 1.0 if wedged else STEP_TIMEOUT_S
        await bounded("history", asyncio.to_thread(history.close, close_s), close_s + 1)
        store.close()
    return 0 if journal_closed else 1


def print_banner(
    urls: dict[str, str], key: str, secret: str, simulator: bool, data_dir: Path
) -> None:
    lines = [
        "",
        "openpit is running" + (" with the market simulator" if simulator else ""),
        f"  data directory   {data_dir.resolve()}",
        f"  health           {urls['health']}   metrics {urls['metrics']}",
        f"  demo API key     {key}",
        f"  demo API secret  {secret}",
    ]
    print("\n".join(lines), flush=True)


def print_welcome(
    base: str, key: str, secret: str, token: str, admin_file: Path, cafile: Path | None = None
) -> None:
    """What a newcomer needs after ``make run``: where to look and one thing to paste.

    ``base`` is ``http://...`` or ``https://...``; ``cafile``: the self-signed
    certificate the examples trust (``curl --cacert``, ``ssl.create_default_context``).
    """
    ws = "ws" + base.removeprefix("http")
    curl = "curl -s" if cafile is None else f"curl -s --cacert {cafile.resolve()}"
    connect = f"websockets.connect('{ws}/ws')"
    if cafile is not None:
        connect = (
            f"websockets.connect('{ws}/ws',\n"
            f"          ssl=ssl.create_default_context(cafile='{cafile.resolve()}'))"
        )
    lines = [
        f"  dashboard        {base}/",
        f"  REST API docs    {base}/api/v1/docs  (OpenAPI: {base}/api/v1/openapi.json)",
        f"  WebSocket flat   {ws}/ws  (action/event frames, API key + HMAC login)",
        f"  WebSocket envel. {ws}/ws/market-data, /ws/trading, /ws/notifications, /ws/custom",
        f"  WebSocket typed  {ws}/  or {ws}/ws  (type frames, JWT login)",
        f"  demo JWT (24 h)  {token}",
        f"  admin key file   {admin_file.resolve()}  (openpit CLI uses it; keep it private)",
        "",
        "try it (another terminal):",
        f"  {curl} '{base}/api/v1/ticker?symbol=BTCUSDT'",
        f"  .venv/bin/openpit keys create --user alice --server {base} --json",
        "  .venv/bin/python - <<'PY'",
        "  import asyncio, hashlib, hmac, json, ssl, time, websockets",
        "  async def main():",
        f"      async with {connect} as ws:",
        "          ts = int(time.time() * 1000)",
        f"          sig = hmac.new(b'{secret}', b'{key}' + str(ts).encode(),",
        "                         hashlib.sha256).hexdigest()",
        "          await ws.send(json.dumps({'action': 'authenticate',",
        f"              'api_key': '{key}', 'timestamp': ts, 'signature': sig}}))",
        "          print(await ws.recv())",
        "  asyncio.run(main())",
        "  PY",
        "",
        "press Ctrl-C to stop",
    ]
    print("\n".join(lines), flush=True)


def tls_from_args(config: VenueConfig, args: argparse.Namespace) -> TlsSetup | None:
    """``--tls`` / ``--tls-cert`` / ``--tls-key`` over ``[server]`` (``openpit.server.tls``)."""
    return resolve_tls(
        config,
        Path(args.data_dir),
        getattr(args, "tls", None),
        getattr(args, "tls_cert", None),
        getattr(args, "tls_key", None),
    )


def tls_banner(tls: TlsSetup) -> str:
    kind = "self-signed certificate" if tls.self_signed else "certificate"
    return "\n".join(
        [
            f"  TLS              {kind} {tls.cert.resolve()}",
            f"  SHA-256          {tls.fingerprint}",
        ]
    )


# every key the [server] table may hold (read by main, persistence, tls and tokens)
SERVER_KEYS = frozenset(
    {
        "event_loop",
        "jwt_algorithm",
        "jwt_audience",
        "jwt_private_key_file",
        "jwt_public_key_file",
        "jwt_secret",
        "shutdown_timeout_seconds",
        "snapshot_every_commands",
        "snapshot_every_seconds",
        "stuck_after_seconds",
        "tls",
        "tls_cert",
        "tls_key",
    }
)


def check_server_table(config: VenueConfig) -> None:
    """Unknown keys in ``[server]`` are refused, as ``[gateway]`` refuses its own; so is
    a malformed ``[binance]`` table."""
    try:
        binance_settings(config)
    except BinanceConfigError as exc:
        raise ConfigError(f"{config.source}: {exc}") from None
    for key in config.extra.get("server", {}):
        if key not in SERVER_KEYS:
            raise ConfigError(
                f"{config.source}: server.{key}: unknown key "
                f"(allowed: {', '.join(sorted(SERVER_KEYS))})"
            )


def run_loop(coro: Coroutine[object, object, int], config: VenueConfig) -> int:
    """Run ``coro`` on uvloop when installed and not turned off (``[server] event_loop =
    "asyncio"``), else on asyncio's own loop."""
    choice = config.extra.get("server", {}).get("event_loop", "uvloop")
    if choice not in ("uvloop", "asyncio"):
        raise ConfigError(f"[server] event_loop must be 'uvloop' or 'asyncio', got {choice!r}")
    if choice == "uvloop":
        try:
            import uvloop
        except ImportError:
            log.info("uvloop is not installed: running on asyncio's own event loop")
        else:
            return uvloop.run(coro)
    return asyncio.run(coro)


def serve(args: argparse.Namespace) -> int:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    config = load_demo_config() if args.config is None else load_config(args.config)
    check_server_table(config)

    deadline = server_float(config, "shutdown_timeout_seconds", DEFAULT_SHUTDOWN_TIMEOUT_S)
    watchdog = ShutdownWatchdog(deadline)

    async def main() -> int:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()

        def on_signal(signum: int) -> None:
            watchdog.signalled(signum)
            stop.set()

        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, on_signal, sig)
        return await run_server(config, args, stop)

    try:
        return run_loop(main(), config)
    except OSError as exc:
        if exc.errno != errno.EADDRINUSE:
            raise
        print(
            f"openpit: port {args.port} on {args.host} is in use: stop the other server "
            "or choose another port with --port",
            file=sys.stderr,
        )
        return 2
    except RecoveryError as exc:
        print(f"openpit: {exc}", file=sys.stderr)
        return 2
    finally:
        watchdog.disarm()


class ShutdownWatchdog:
    """Ends the process ``deadline`` s after the first stop signal, whatever is wedged."""

    def __init__(self, deadline: float) -> None:
        self.deadline = deadline
        self._timer: threading.Timer | None = None

    def signalled(self, signum: int) -> None:
        if self._timer is not None:  # a second signal: the operator means it
            self._exit(f"second {signal.Signals(signum).name}: exiting now")
        log.info("%s: shutting down (at most %.1f s)", signal.Signals(signum).name, self.deadline)
        self._timer = threading.Timer(
            self.deadline,
            self._exit,
            (f"graceful shutdown did not finish within {self.deadline:.1f} s: exiting",),
        )
        self._timer.daemon = True
        self._timer.start()

    def disarm(self) -> None:
        if self._timer is not None:
            self._timer.cancel()

    @staticmethod
    def _exit(why: str) -> None:
        print(f"openpit: {why}", file=sys.stderr, flush=True)
        logging.shutdown()
        os._exit(1)
