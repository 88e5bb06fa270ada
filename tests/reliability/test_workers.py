"""Workers that fail say so: the journal's fsync failure, a raising publication listener,
a failing snapshot task — each logged and on its health record, none silently."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path

import pytest

from openpit.config import load_demo_config
from openpit.core.commands import Deposit
from openpit.core.health import HealthBoard, State
from openpit.durability import FsyncMode, JournalWriteFailed, JournalWriter
from openpit.venue import CommandResult, Venue
from openpit.venue.service import VenueService
from tests.gateway.helpers import run_async


def test_journal_fsync_failure_is_logged_once_and_health_dead(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    def broken_fsync(fd: int) -> None:
        raise OSError(5, "Input/output error")

    async def scenario() -> None:
        writer = JournalWriter(tmp_path, 1, mode=FsyncMode.BATCH, fsync=broken_fsync)
        assert writer.health.status().ok
        writer.append(1, 0, b"{}")
        with pytest.raises(JournalWriteFailed):
            await writer.commit()
        with pytest.raises(JournalWriteFailed):
            await writer.commit()
        status = HealthBoard([writer.health]).problems()
        assert [(s.name, s.state) for s in status] == [("journal", State.DEAD)]
        assert "Input/output error" in status[0].detail
        await writer.close()

    with caplog.at_level(logging.CRITICAL, "openpit.durability"):
        asyncio.run(scenario())
    assert sum("journal write failed" in r.getMessage() for r in caplog.records) == 1


@run_async
async def test_publication_raising_listener_costs_only_itself(
    caplog: pytest.LogCaptureFixture,
) -> None:
    config = load_demo_config()
    service = VenueService(config, Venue(config))
    seen: list[int] = []

    def broken(result: CommandResult) -> None:
        raise OverflowError("Python int too large to convert to SQLite INTEGER")

    service.add_listener(broken)
    service.add_listener(lambda result: seen.append(result.seq))
    with caplog.at_level(logging.ERROR, "openpit.serve"):
        first = await service.submit(Deposit(user="u", asset="USDT", units=1))
        second = await service.submit(Deposit(user="u", asset="USDT", units=1))
    assert first.ok and second.ok and seen == [first.seq, second.seq]
    assert service.health.status().state is State.FAILING
    assert service.listener_failures == {broken.__qualname__: 2}
    assert sum("OverflowError" in r.getMessage() for r in caplog.records) == 1
    service.remove_listener(broken)
    await service.submit(Deposit(user="u", asset="USDT", units=1))
    assert service.health.status().ok
