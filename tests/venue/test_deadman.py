"""The dead-man timer (``VenueService.deadman``): armed, refreshed, disarmed, fired; when
it fires every open order of that user (and only that user) is cancelled through the
venue like any client's cancel."""

from __future__ import annotations

import asyncio

import pytest

from openpit.core.commands import PlaceOrder
from openpit.core.enums import OrderStatus, Side
from openpit.core.events import OrderUpdate
from openpit.venue import Venue
from openpit.venue.deadman import MAX_TIMEOUT_MS, DeadManError
from openpit.venue.service import VenueService
from tests.venue.helpers import CONFIG, T0, limit


def _service() -> VenueService:
    venue = Venue(CONFIG)
    for cmd in venue.genesis_commands():
        venue.execute(cmd, T0)
    return VenueService(CONFIG, venue, clock=lambda: T0)


async def _rest(service: VenueService, user: str) -> int:
    order: PlaceOrder = limit(user, Side.BUY, "20000", "0.01")
    result = await service.submit(order)
    assert result.ok and result.order_id is not None
    return result.order_id


async def _until(check: object, limit_s: float = 10.0) -> None:
    """Wait for ``check()`` (a bound for a hung run, not a timing assertion)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + limit_s
    while not check():  # type: ignore[operator]
        assert loop.time() < deadline, "timed out"
        await asyncio.sleep(0.005)


def test_a_timer_that_is_not_refreshed_cancels_only_its_users_orders() -> None:
    async def run() -> None:
        service = _service()
        cancelled: list[int] = []
        service.add_listener(
            lambda p: cancelled.extend(
                e.order_id
                for e in p.events
                if isinstance(e, OrderUpdate) and e.status is OrderStatus.CANCELLED
            )
        )
        alice = [await _rest(service, "alice") for _ in range(3)]
        bob = await _rest(service, "bob")
        first = service.deadman.cancel_all_after("alice", 600_000)
        assert first == T0 + 600_000 and service.deadman.pending() == {"alice": first}
        second = service.deadman.cancel_all_after("alice", 1)  # refreshed: replaces the first
        assert service.deadman.pending() == {"alice": second}
        await _until(lambda: service.deadman.fired == 1)
        await _until(lambda: len(cancelled) == 3)
        assert sorted(cancelled) == sorted(alice)
        assert service.order("bob", bob, None) is not None
        assert service.open_orders("alice") == []
        service.deadman._fire("alice", first)  # the replaced timer's late call: nothing
        assert service.deadman.fired == 1

    asyncio.run(run())


def test_disarmed_and_replaced_timers_never_fire() -> None:
    async def run() -> None:
        service = _service()
        await _rest(service, "alice")
        service.deadman.cancel_all_after("alice", 20)
        assert service.deadman.cancel_all_after("alice", 0) is None  # disarmed
        assert service.deadman.pending() == {}
        await asyncio.sleep(0.06)
        assert service.deadman.fired == 0 and len(service.open_orders("alice")) == 1
        with pytest.raises(DeadManError):
            service.deadman.cancel_all_after("alice", MAX_TIMEOUT_MS + 1)
        with pytest.raises(DeadManError):
            service.deadman.cancel_all_after("alice", -1)

    asyncio.run(run())
