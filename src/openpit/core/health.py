"""Health of the server's background components (history writer, journal, snapshots...).

Invariants:
- Each component owns one ``Health`` record and reports into it: ``start_work`` /
  ``end_work`` around one unit of work (a batch, a group commit), ``beat`` for progress
  without a unit, ``error`` for a failure it survived (it stays healthy), ``failing``
  while it cannot do its work but keeps trying, ``dead`` once it has stopped for good.
- A component is unhealthy when it is dead, its ``alive`` check says its thread or task
  has ended, it is failing, or one unit of work has been running for longer than
  ``stuck_after_s`` (stuck). Otherwise it is healthy, whatever errors it survived.
- Reports are plain attribute writes (atomic under the GIL) from any thread; reading a
  status takes no lock and costs a few attribute reads, so ``/healthz`` can ask often.
- Pure vocabulary: the clock is injected; nothing here starts threads or does I/O.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from enum import StrEnum
from typing import Final

DEFAULT_STUCK_AFTER_S: Final = 30.0


class State(StrEnum):
    OK = "ok"
    FAILING = "failing"  # cannot do its work right now, still trying
    STUCK = "stuck"  # one unit of work has run too long
    DEAD = "dead"  # stopped for good (thread/task ended, or gave up)


@dataclass(frozen=True, slots=True)
class Status:
    """One component's health at one instant (what ``/healthz`` shows)."""

    name: str
    state: State
    detail: str = ""
    last_progress_age_s: float | None = None  # seconds since the last progress
    last_error: str | None = None
    errors: int = 0  # failures survived so far

    @property
    def ok(self) -> bool:
        return self.state is State.OK


class Health:
    """The health record of one component; see the module docstring for the rules."""

    def __init__(
        self,
        name: str,
        *,
        stuck_after_s: float = DEFAULT_STUCK_AFTER_S,
        alive: Callable[[], bool] | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.name = name
        self.stuck_after_s = stuck_after_s
        self.alive = alive
        self._clock = clock
        self.last_progress: float | None = None
        self.busy_since: float | None = None
        self.last_error: str | None = None
        self.errors = 0
        self._failing: str | None = None
        self._dead: str | None = None

    # -- reports (from the component's own thread or task) ----------------------------
    def beat(self) -> None:
        """Progress: the component did some of its work (clears ``failing``)."""
        self.last_progress = self._clock()
        self._failing = None

    def start_work(self) -> None:
        self.busy_since = self._clock()

    def end_work(self) -> None:
        self.busy_since = None
        self.beat()

    def error(self, text: str) -> None:
        """A failure the component survived (it skipped or retried the work)."""
        self.last_error = text
        self.errors += 1

    def failing(self, text: str) -> None:
        """The component cannot do its work now; it keeps trying (unhealthy until a beat)."""
        self.error(text)
        self._failing = text
        self.busy_since = None

    def dead(self, text: str) -> None:
        self.error(text)
        self._dead = text
        self.busy_since = None

    # -- reading ------------------------------------------------------------------------
    def status(self, now: float | None = None) -> Status:
        now = self._clock() if now is None else now
        age = None if self.last_progress is None else max(0.0, now - self.last_progress)

        def at(state: State, detail: str = "") -> Status:
            return Status(self.name, state, detail, age, self.last_error, self.errors)

        if self._dead is not None:
            return at(State.DEAD, self._dead)
        if self.alive is not None and not self.alive():
            return at(State.DEAD, "its thread or task has ended")
        if self._failing is not None:
            return at(State.FAILING, self._failing)
        busy = self.busy_since
        if busy is not None and now - busy > self.stuck_after_s:
            return at(State.STUCK, f"one unit of work running for {now - busy:.1f} s")
        return at(State.OK)


class HealthBoard:
    """Every component's ``Health``, by name; ``problems()`` is what ``/healthz`` reports."""

    def __init__(self, components: Iterable[Health] = ()) -> None:
        self._components: dict[str, Health] = {}
        for health in components:
            self.add(health)

    def add(self, health: Health) -> Health:
        self._components[health.name] = health
        return health

    def remove(self, name: str) -> None:
        self._components.pop(name, None)

    def get(self, name: str) -> Health | None:
        return self._components.get(name)

    def statuses(self, now: float | None = None) -> list[Status]:
        return [h.status(now) for h in self._components.values()]

    def problems(self, now: float | None = None) -> list[Status]:
        return [s for s in self.statuses(now) if not s.ok]
