"""The server's durability wiring: snapshot settings, history catch-up, config check."""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import time
from decimal import Decimal
from pathlib import Path

import pytest

from openpit.config import ConfigError, VenueConfig, load_demo_config
from openpit.core.commands import PlaceOrder
from openpit.core.enums import OrderType, Side
from openpit.core.events import Event
from openpit.durability import Durability, DurabilityConfig, FsyncMode
from openpit.server.main import run_server
from openpit.server.persistence import (
    SnapshotTask,
    config_differences,
    durability_config,
    history_refill,
)
from openpit.store import HistoryWriter, SqliteStore
from openpit.venue import CommandResult, Venue
from openpit.venue.service import VenueService


def _with_server_table(**table: object) -> VenueConfig:
    config = load_demo_config()
    return dataclasses.replace(config, extra={**config.extra, "server": table})


def test_durability_config_server_table_sets_snapshot_policy(tmp_path: Path) -> None:
    config = _with_server_table(snapshot_every_commands=500, snapshot_every_seconds=0)
    got = durability_config(config, tmp_path, "always")
    assert (got.snapshot_every_commands, got.snapshot_every_seconds) == (500, 0.0)
    assert got.fsync is FsyncMode.ALWAYS and got.data_dir == tmp_path
    default = durability_config(load_demo_config(), tmp_path, "batch")
    assert default.snapshot_every_commands == DurabilityConfig().snapshot_every_commands


@pytest.mark.parametrize(
    "table",
    [
        {"snapshot_every_commands": 0},
        {"snapshot_every_commands": "10"},
        {"snapshot_every_seconds": -1},
    ],
)
def test_durability_config_bad_value_raises_config_error_naming_key(
    tmp_path: Path, table: dict[str, object]
) -> None:
    with pytest.raises(ConfigError, match=f"server.{next(iter(table))}"):
        durability_config(_with_server_table(**table), tmp_path, "batch")


def test_config_differences_changed_and_added_instrument_are_named() -> None:
    config = load_demo_config()
    btc = config.instruments["BTCUSDT"]
    changed = dataclasses.replace(
        config,
        instruments={
            **config.instruments,
            "BTCUSDT": dataclasses.replace(btc, tick_size=Decimal("0.1")),
            "NEWUSDT": dataclasses.replace(btc, id="NEWUSDT"),
        },
    )
    assert config_differences(config, config) == []
    assert config_differences(config, changed) == [
        "instrument NEWUSDT added",
        "instrument BTCUSDT changed",
    ]


def test_history_refill_skips_results_the_history_already_holds(tmp_path: Path) -> None:
    submitted: list[int] = []

    class FakeHistory:
        def submit(self, events: list[Event]) -> None:
            submitted.append(len(events))

    refill = history_refill(FakeHistory(), written_seq=5)  # type: ignore[arg-type]
    for seq in (4, 5, 6, 7):
        refill(CommandResult(seq=seq, ts=0, events=[]))
    refill(object())  # not a venue result: ignored
    assert submitted == [0, 0]


def test_snapshot_task_waits_for_history_before_writing_snapshot(tmp_path: Path) -> None:
    """A snapshot must never cover results the history has not written yet."""
    config = load_demo_config()

    async def scenario() -> tuple[int, int]:
        durability = Durability.open(
            lambda: Venue(config), DurabilityConfig(data_dir=tmp_path, fsync=FsyncMode.OFF)
        )
        store = SqliteStore.in_data_dir(tmp_path)
        history = HistoryWriter(store.path)
        write = history._store.write_history

        def slow_write(events):  # type: ignore[no-untyped-def]
            time.sleep(0.2)  # a slow disk: history lags behind the venue
            return write(events)

        history._store.write_history = slow_write  # type: ignore[method-assign]
        service = VenueService(config, durability.target, durability)
        service.add_listener(lambda r: history.submit(r.events))
        task = SnapshotTask(durability, history)
        service.add_listener(task.on_published)
        for command in durability.target.genesis_commands():
            await service.submit(command)
        inst = config.instruments["BTCUSDT"]
        orders = [
            PlaceOrder(
                user="alice",
                instrument=inst.id,
                side=Side.BUY,
                type=OrderType.LIMIT,
                qty=1,
                price=inst.price_to_ticks(inst.ticks_to_price(1_000_000 + i)),
                client_order_id=f"c{i}",
            )
            for i in range(20)
        ]
        await asyncio.gather(*(service.submit(o) for o in orders[:10]))
        pending = [asyncio.ensure_future(service.submit(o)) for o in orders[10:]]
        info = await durability.snapshot(task.history_through)
        written = store.history_seq()
        await asyncio.gather(*pending)
        await task.stop(final=True)  # a last one at the newest seq
        assert durability.snapshots.list()[-1][0] == durability.target.seq
        await durability.close()
        await history.drain()
        history.close()
        store.close()
        return info.seq, written

    snapshot_seq, history_seq = asyncio.run(scenario())
    assert history_seq >= snapshot_seq


def _args(data_dir: Path) -> argparse.Namespace:
    return argparse.Namespace(
        host="127.0.0.1", port=0, data_dir=str(data_dir), fsync="batch", no_simulator=True, seed=1
    )


async def _serve_once(config: VenueConfig, data_dir: Path) -> int:
    stop = asyncio.Event()
    ready: asyncio.Future[dict[str, str]] = asyncio.get_running_loop().create_future()
    task = asyncio.create_task(run_server(config, _args(data_dir), stop, ready))
    started: list[asyncio.Future[object]] = [ready, task]  # type: ignore[list-item]
    await asyncio.wait(started, timeout=30, return_when=asyncio.FIRST_COMPLETED)
    stop.set()
    return await task  # raises what run_server raised (before it was ready)


def test_serve_graceful_stop_snapshots_and_changed_instruments_are_refused(
    tmp_path: Path,
) -> None:
    config = load_demo_config()
    assert asyncio.run(_serve_once(config, tmp_path)) == 0
    snaps = sorted((tmp_path / "snapshots").glob("*.snap"))
    assert snaps, "graceful shutdown left no snapshot"

    assert asyncio.run(_serve_once(config, tmp_path)) == 0  # same config: starts

    fewer = dict(config.instruments)
    del fewer["TSLA"]
    changed = dataclasses.replace(config, instruments=fewer)
    with pytest.raises(ConfigError, match="instrument TSLA removed"):
        asyncio.run(_serve_once(changed, tmp_path))
    assert asyncio.run(_serve_once(config, tmp_path)) == 0  # the lock was released
