"""The venue's private event log (``openpit.venue.private_log``) and the service's
``private_since``: what a resuming client is sent is exactly what it missed, in order,
with no gap and no duplicate, or nothing at all when the log no longer reaches back."""

from __future__ import annotations

import asyncio

from hypothesis import given, settings
from hypothesis import strategies as st

from openpit.core.enums import Side
from openpit.core.events import UserEvent
from openpit.venue import Venue
from openpit.venue.private_log import PrivateLog
from openpit.venue.service import VenueService
from tests.venue.helpers import CONFIG, T0, limit, market


def _service(per_user: int) -> VenueService:
    venue = Venue(CONFIG)
    for cmd in venue.genesis_commands():
        venue.execute(cmd, T0)
    return VenueService(CONFIG, venue, clock=lambda: T0, private_log=PrivateLog(per_user))


def _trade(service: VenueService, rounds: int) -> list[UserEvent]:
    """Alice rests and bob takes, ``rounds`` times; every private event alice was told."""
    told: list[UserEvent] = []
    service.add_listener(
        lambda p: told.extend(e for e in p.events if isinstance(e, UserEvent) and e.user == "alice")
    )

    async def run() -> None:
        for _ in range(rounds):
            await service.submit(limit("alice", Side.SELL, "42000", "0.01"))
            await service.submit(market("bob", Side.BUY, "0.01"))

    asyncio.run(run())
    return told


@settings(max_examples=30, deadline=None)
@given(rounds=st.integers(1, 6), cut=st.integers(0, 60), per_user=st.integers(1, 80))
def test_resume_gives_exactly_the_missed_events_or_says_it_cannot(
    rounds: int, cut: int, per_user: int
) -> None:
    service = _service(per_user)
    told = _trade(service, rounds)
    assert [e.useq for e in told] == list(range(told[0].useq, told[0].useq + len(told)))
    seen = told[: min(cut, len(told))]
    last = seen[-1].useq if seen else told[0].useq - 1
    missed = service.private_since("alice", last)
    expected = [e for e in told if e.useq > last]
    if missed is None:
        assert len(expected) > per_user  # only when the log no longer reaches back
    else:
        assert [e.useq for e in missed] == [e.useq for e in expected]
        assert missed == expected


def test_nothing_missed_and_a_sequence_from_the_future() -> None:
    service = _service(16)
    told = _trade(service, 2)
    latest = told[-1].useq
    assert service.private_since("alice", latest) == []
    assert service.private_since("alice", latest + 5) is None  # not a sequence we sent
    assert service.private_since("nobody", 0) == []
