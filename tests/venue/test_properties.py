"""Property tests through the whole venue: determinism and conservation of every asset."""

from __future__ import annotations

import random

from hypothesis import given, settings
from hypothesis import strategies as st

from openpit.core.commands import CancelOrder, Command, ModifyOrder, PlaceOrder
from openpit.core.enums import OrderType, Side, TimeInForce
from openpit.venue import Venue
from tests.venue.helpers import T0, fresh_venue

USERS = ["alice", "bob", "demo"]


def random_commands(seed: int, n: int) -> list[Command]:
    rng = random.Random(seed)
    out: list[Command] = []
    for i in range(n):
        user = rng.choice(USERS)
        roll = rng.random()
        if roll < 0.6:
            kind = rng.choice(
                [
                    OrderType.LIMIT,
                    OrderType.LIMIT,
                    OrderType.MARKET,
                    OrderType.STOP,
                    OrderType.STOP_LIMIT,
                ]
            )
            side = rng.choice([Side.BUY, Side.SELL])
            price = 4_265_000 + rng.randint(-40, 40) * 50
            cmd = PlaceOrder(
                user=user,
                instrument="BTCUSDT",
                side=side,
                type=kind,
                qty=rng.randint(1, 5000),
                price=price if kind in (OrderType.LIMIT, OrderType.STOP_LIMIT) else None,
                stop_price=price + rng.randint(-10, 10) * 50
                if kind in (OrderType.STOP, OrderType.STOP_LIMIT)
                else None,
                tif=rng.choice([TimeInForce.GTC, TimeInForce.IOC, TimeInForce.FOK])
                if kind is OrderType.LIMIT
                else TimeInForce.GTC
                if kind is not OrderType.MARKET
                else TimeInForce.IOC,
                client_order_id=f"c{i}" if rng.random() < 0.3 else None,
                margin=rng.random() < 0.2,
                leverage=rng.choice([1, 2, 5]),
            )
            out.append(cmd)
        elif roll < 0.8:
            out.append(CancelOrder(user=user, order_id=rng.randint(1, i + 1)))
        else:
            out.append(
                ModifyOrder(
                    user=user,
                    order_id=rng.randint(1, i + 1),
                    qty=rng.randint(1, 5000),
                    price=4_265_000 + rng.randint(-40, 40) * 50,
                )
            )
    return out


def replay(commands: list[Command]) -> tuple[Venue, list[object]]:
    venue = fresh_venue()
    events: list[object] = []
    for k, cmd in enumerate(commands):
        events.extend(venue.execute(cmd, T0 + k).events)
    return venue, events


@settings(max_examples=15, deadline=None)
@given(st.integers(min_value=0, max_value=10**6))
def test_venue_random_stream_conserves_every_asset(seed: int) -> None:
    venue = fresh_venue()
    before = venue.ledger.totals()
    for k, cmd in enumerate(random_commands(seed, 150)):
        venue.execute(cmd, T0 + k)
        assert venue.ledger.totals() == before
    for user in USERS:
        for asset, (available, reserved) in venue.ledger.balances(user).items():
            assert available >= 0 and reserved >= 0, (user, asset)


@settings(max_examples=5, deadline=None)
@given(st.integers(min_value=0, max_value=10**6))
def test_venue_same_commands_give_same_events_and_state_hash(seed: int) -> None:
    commands = random_commands(seed, 150)
    a, events_a = replay(commands)
    b, events_b = replay(commands)
    assert a.state_hash() == b.state_hash()
    assert events_a == events_b
