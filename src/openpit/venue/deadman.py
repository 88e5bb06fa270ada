"""The dead-man timer: "cancel all my open orders unless I refresh this within T".

A client arms it with ``cancel_all_after(user, timeout_ms)`` and refreshes it by arming
it again before it fires; ``timeout_ms == 0`` disarms it. When it fires, the user's open
orders are cancelled with one ``CancelAll`` command, submitted like any client's (so it
is journaled, and the cancels are published on the user's streams like any other).

Invariants:
- One timer per user: arming again replaces the previous deadline, from any connection.
- A timer fires at most once per arming, and never after it was disarmed or replaced.
- The deadline is the venue's clock (ms) at arming plus the timeout; ``pending`` says
  who is armed until when.
- Timeouts are bounded (``MAX_TIMEOUT_MS``) so a typo cannot arm a timer for years.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Final

from openpit.core.commands import CancelAll, Command
from openpit.core.errors import OpenpitError

MAX_TIMEOUT_MS: Final = 24 * 3600 * 1000

log = logging.getLogger("openpit.venue")


class DeadManError(OpenpitError, ValueError):
    """A timeout outside 0..MAX_TIMEOUT_MS; ``str(exc)`` is safe to show."""


class DeadMan:
    def __init__(
        self,
        submit: Callable[[Command], Awaitable[object]],
        clock_ms: Callable[[], int],
    ) -> None:
        self._submit = submit
        self._clock_ms = clock_ms
        self._timers: dict[str, tuple[int, asyncio.TimerHandle]] = {}
        self._tasks: set[asyncio.Task[object]] = set()
        self.fired = 0

    def cancel_all_after(self, user: str, timeout_ms: int) -> int | None:
        """Arm (or refresh) ``user``'s timer; 0 disarms. The deadline in ms, or None."""
        if not 0 <= timeout_ms <= MAX_TIMEOUT_MS:
            raise DeadManError(
                f"timeout must be between 0 and {MAX_TIMEOUT_MS} ms (0 disarms), got {timeout_ms}"
            )
        previous = self._timers.pop(user, None)
        if previous is not None:
            previous[1].cancel()
        if timeout_ms == 0:
            return None
        deadline = self._clock_ms() + timeout_ms
        handle = asyncio.get_running_loop().call_later(
            timeout_ms / 1000, self._fire, user, deadline
        )
        self._timers[user] = (deadline, handle)
        return deadline

    def pending(self) -> dict[str, int]:
        """user -> deadline (ms) of every armed timer."""
        return {user: deadline for user, (deadline, _) in self._timers.items()}

    def close(self) -> None:
        for _, handle in self._timers.values():
            handle.cancel()
        self._timers.clear()

    def _fire(self, user: str, deadline: int) -> None:
        armed = self._timers.get(user)
        if armed is None or armed[0] != deadline:
            return  # replaced or disarmed meanwhile
        del self._timers[user]
        self.fired += 1
        log.info("dead-man timer of %s fired: cancelling all its open orders", user)
        task = asyncio.get_running_loop().create_task(self._cancel(user))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _cancel(self, user: str) -> object:
        return await self._submit(CancelAll(user=user))
