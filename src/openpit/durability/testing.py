"""A small deterministic replay target and a command generator, for tests and benchmarks.

Invariants:
- ``ChainTarget`` assigns one seq per command and folds every (seq, ts, command) into
  a hash chain, so any lost, repeated, reordered or altered command changes
  ``state_hash()``; it also keeps a little state (balances, open orders) so a pickle
  snapshot has something to carry.
- ``random_commands`` and ``venue_commands`` are pure functions of their seed.
"""

from __future__ import annotations

import hashlib
import random

from openpit.core.commands import (
    CancelOrder,
    Clock,
    Command,
    Deposit,
    ModifyOrder,
    PlaceOrder,
    Withdraw,
    encode_command,
)
from openpit.core.enums import OrderType, Side, TimeInForce


class ChainTarget:
    """Hash-chain accumulator with a bit of venue-like state."""

    def __init__(self) -> None:
        self.seq = 0
        self.ts = 0
        self.chain = hashlib.sha256(b"openpit").digest()
        self.balances: dict[tuple[str, str], int] = {}
        self.orders: dict[int, tuple[str, int]] = {}
        self.next_order_id = 1

    def execute(self, command: Command, ts: int) -> tuple[int, int]:
        self.seq += 1
        self.ts = max(self.ts, ts)
        h = hashlib.sha256(self.chain)
        h.update(self.seq.to_bytes(8, "little"))
        h.update(self.ts.to_bytes(8, "little", signed=True))
        h.update(encode_command(command))
        self.chain = h.digest()
        order_id = 0
        if isinstance(command, Deposit):
            key = (command.user, command.asset)
            self.balances[key] = self.balances.get(key, 0) + command.units
        elif isinstance(command, Withdraw):
            key = (command.user, command.asset)
            if self.balances.get(key, 0) >= command.units:
                self.balances[key] -= command.units
        elif isinstance(command, PlaceOrder):
            order_id = self.next_order_id
            self.next_order_id += 1
            self.orders[order_id] = (command.user, command.qty)
        elif isinstance(command, CancelOrder) and command.order_id is not None:
            self.orders.pop(command.order_id, None)
        return self.seq, order_id

    def state_hash(self) -> str:
        h = hashlib.sha256(self.chain)
        h.update(repr((self.seq, self.ts, self.next_order_id)).encode())
        h.update(repr(sorted(self.balances.items())).encode())
        h.update(repr(sorted(self.orders.items())).encode())
        return h.hexdigest()


def random_commands(
    seed: int, count: int, start_ts: int = 1_700_000_000_000
) -> list[tuple[Command, int]]:
    """``count`` (command, ts) pairs: deposits, withdrawals, orders, cancels, clock ticks."""
    rng = random.Random(seed)
    users = [f"u{i}" for i in range(8)]
    out: list[tuple[Command, int]] = []
    ts = start_ts
    placed = 0
    for _ in range(count):
        ts += rng.randrange(0, 50)
        user = rng.choice(users)
        kind = rng.random()
        command: Command
        if kind < 0.15:
            command = Deposit(
                user=user, asset=rng.choice(("BTC", "USD")), units=rng.randrange(1, 10**9)
            )
        elif kind < 0.2:
            command = Withdraw(user=user, asset="USD", units=rng.randrange(1, 10**6))
        elif kind < 0.75:
            placed += 1
            command = PlaceOrder(
                user=user,
                instrument="BTC-USD",
                side=rng.choice((Side.BUY, Side.SELL)),
                type=OrderType.LIMIT,
                qty=rng.randrange(1, 1000),
                price=rng.randrange(90_000, 110_000),
                client_order_id=f"c{rng.randrange(10**6)}" if rng.random() < 0.5 else None,
            )
        elif kind < 0.97 and placed:
            command = CancelOrder(user=user, order_id=rng.randrange(1, placed + 1))
        else:
            command = Clock()
        out.append((command, ts))
    return out


def venue_commands(
    seed: int,
    count: int,
    *,
    users: tuple[str, ...] = ("alice", "bob", "demo"),
    instrument: str = "BTCUSDT",
    mid_ticks: int = 4_265_000,
    step_ticks: int = 50,
    start_ts: int = 1_795_446_000_000,
) -> list[tuple[Command, int]]:
    """A venue-shaped stream: limit/market/stop orders around ``mid_ticks``, cancels of
    recent orders and modifies, for replaying through the real ``Venue``."""
    rng = random.Random(seed)
    out: list[tuple[Command, int]] = []
    ts = start_ts
    for i in range(count):
        ts += rng.randrange(0, 20)
        user = rng.choice(users)
        roll = rng.random()
        price = mid_ticks + rng.randint(-40, 40) * step_ticks
        command: Command
        if roll < 0.6:
            pick = rng.random()
            kind = OrderType.LIMIT if pick < 0.8 else OrderType.MARKET
            if pick > 0.97:
                kind = OrderType.STOP
            command = PlaceOrder(
                user=user,
                instrument=instrument,
                side=rng.choice((Side.BUY, Side.SELL)),
                type=kind,
                qty=rng.randint(1, 5000),
                price=price if kind is OrderType.LIMIT else None,
                stop_price=price if kind is OrderType.STOP else None,
                tif=TimeInForce.IOC if kind is OrderType.MARKET else TimeInForce.GTC,
                client_order_id=f"c{i}" if rng.random() < 0.3 else None,
            )
        elif roll < 0.9:
            command = CancelOrder(user=user, order_id=max(1, i - rng.randrange(0, 50)))
        else:
            command = ModifyOrder(
                user=user, order_id=max(1, i - rng.randrange(0, 50)), qty=rng.randint(1, 5000)
            )
        out.append((command, ts))
    return out
