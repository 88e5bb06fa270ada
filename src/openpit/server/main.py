"""``openpit serve``: recover the venue, start journal, market data, feeds and gateway.

Start-up order (each step only after the previous one succeeded):
1. load the config (errors name file and key);
2. open the data directory: lock it, recover snapshot + journal tail, verify the hash;
3. fund the lending pool and demo accounts if the journal is empty (journaled like
   any command);
4. seed market data from the recovered books and start the gateway;
5. start the simulator (unless ``--no-simulator``) and print what a newcomer needs.
Shutdown (SIGTERM/SIGINT): stop feeds, tell clients and close them (gateway), take a
last snapshot, commit and close the journal, exit 0. A background task snapshots per
the ``[server]`` policy (``openpit.server.persistence``).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import errno
import logging
import sys
import time
from collections.abc import Sequence
from pathlib import Path

from openpit.alerts import AnyAlertEvent, RiskServices
from openpit.api import add_rest_routes
from openpit.api.local import ADMIN_FILE, ensure_admin_key, ensure_jwt_secret, token_issuer
from openpit.config import ConfigError, VenueConfig, load_config, load_demo_config
from openpit.core.enums import Side
from openpit.core.events import BookLevel, Event
from openpit.durability import Durability, RecoveryError
from openpit.feeds.simulator import start_simulator
from openpit.gateway import HUB, create_app, start_gateway
from openpit.gateway.settings import GatewaySettings
from openpit.marketdata import MarketData
from openpit.server.keys import StoreKeyStore, ensure_demo_key
from openpit.server.persistence import (
    SnapshotTask,
    check_restored_config,
    durability_config,
    history_refill,
)
from openpit.server.risk import wire_risk
from openpit.server.service import VenueService, wall_clock_ms
from openpit.server.tokens import jwt_settings
from openpit.store import HistoryWriter, SqliteStore
from openpit.venue import Venue
from openpit.web import add_web_routes, dashboard

log = logging.getLogger("openpit.serve")

DEMO_USER = "demo"


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
    # history first: replayed results refill what a crash kept from reaching it
    store = SqliteStore.in_data_dir(data_dir)
    history = HistoryWriter(store.path)
    try:
        durability = Durability.open(
            lambda: Venue(config),
            durability_config(config, data_dir, args.fsync),
            on_result=history_refill(history, store.history_seq()),
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
    service.add_listener(lambda result: history.submit(result.events))
    snapshots = SnapshotTask(durability, history)
    service.add_listener(snapshots.on_published)  # after the history listener
    if venue.seq == 0:
        for command in venue.genesis_commands():
            await service.submit(command)
    marketdata = MarketData(config)
    marketdata.apply(book_seed_events(venue))
    demo_key = ensure_demo_key(store, DEMO_USER, wall_clock_ms())
    admin_key = ensure_admin_key(store, data_dir, wall_clock_ms())
    jwt = jwt_settings(config, data_dir)  # [server] jwt_* or the data dir's jwt-secret
    jwt_secret = jwt.sign_key if jwt.algorithm == "HS256" and jwt.sign_key else ""
    jwt_secret = jwt_secret or ensure_jwt_secret(data_dir)
    issue_token = token_issuer(jwt_secret)

    settings = GatewaySettings.from_mapping(config.extra.get("gateway", {}))
    app = create_app(
        service,
        marketdata,
        StoreKeyStore(store),
        settings,
        authenticator=jwt.authenticator(),
        root_handler=dashboard,
    )
    add_web_routes(app)
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
    running = await start_gateway(app, args.host, args.port)
    risk.start()
    simulator = start_simulator(service, enabled=not args.no_simulator, seed=args.seed)
    snapshots.start()

    urls = running.urls
    token = issue_token(DEMO_USER, frozenset({"read", "trade"}), 86_400, wall_clock_ms())
    print_banner(urls, demo_key.key_id, demo_key.secret, simulator is not None, data_dir)
    print_welcome(
        f"http://{running.host}:{running.port}",
        demo_key.key_id,
        demo_key.secret,
        token,
        data_dir / ADMIN_FILE,
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
                await simulator
        await risk.stop()
        await running.stop()
        await snapshots.stop(final=True)
        await durability.close()
        await history.drain()
        store.close()
    return 0


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


def print_welcome(base: str, key: str, secret: str, token: str, admin_file: Path) -> None:
    """What a newcomer needs after ``make run``: where to look and one thing to paste."""
    ws = base.replace("http://", "ws://", 1)
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
        f"  curl -s '{base}/api/v1/ticker?symbol=BTCUSDT'",
        f"  .venv/bin/openpit keys create --user alice --server {base} --json",
        "  .venv/bin/python - <<'PY'",
        "  import asyncio, hashlib, hmac, json, time, websockets",
        "  async def main():",
        f"      async with websockets.connect('{ws}/ws') as ws:",
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


def serve(args: argparse.Namespace) -> int:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    config = load_demo_config() if args.config is None else load_config(args.config)

    async def main() -> int:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        import signal

        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, stop.set)
        return await run_server(config, args, stop)

    try:
        return asyncio.run(main())
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
