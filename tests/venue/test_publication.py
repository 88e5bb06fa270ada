"""A ``Publication`` names the users whose account a result changed, once each, for every
listener (the gateway's account and portfolio streams read it instead of re-walking)."""

from __future__ import annotations

from openpit.core.enums import Side
from openpit.core.events import Balance, Position
from openpit.venue.views import Publication
from tests.venue.helpers import fresh_venue, limit, market, run


def test_accounts_are_the_users_with_balance_or_position_events_first_mention_first() -> None:
    venue = fresh_venue()
    run(venue, limit("alice", Side.SELL, "42000", "0.1"))
    result = run(venue, market("bob", Side.BUY, "0.1"))
    publication = Publication(result, None, result.seq, result.ts)
    expected: dict[str, None] = {}
    for ev in result.events:
        if isinstance(ev, Balance | Position):
            expected[ev.user] = None
    assert {"alice", "bob"} <= set(publication.accounts)
    assert publication.accounts == tuple(expected)
    assert publication.accounts is publication.accounts  # computed once


def test_a_clock_step_changes_no_account() -> None:
    assert Publication(None, None, 7, 1).accounts == ()
