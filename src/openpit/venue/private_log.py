"""The recent private events of each user, kept by the venue for clients that resume.

Every private event (``UserEvent``: orders, fills, balances, positions, margin calls,
rejections) carries ``useq``, consecutive per user from 1, stamped by the sequencer. A
client that reconnects says the last ``useq`` it saw; ``since`` answers the events after
it, in order, or ``None`` when the log no longer reaches back that far (the client then
takes a fresh snapshot instead).

Invariants:
- For each user the log holds a contiguous run of that user's events, ``useq`` rising by
  exactly 1, ending at the latest published one; at most ``per_user`` of them (the
  oldest are forgotten first). ``since`` never returns a gap or a duplicate.
- The log is filled from published results only (and, at start-up, from the journal
  tail that recovery replays), so it never holds an event a client could not have
  been told about.
- Pure and synchronous; one append per private event.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable

from openpit.core.events import Event, UserEvent

DEFAULT_PER_USER = 512


class PrivateLog:
    __slots__ = ("_logs", "per_user")

    def __init__(self, per_user: int = DEFAULT_PER_USER) -> None:
        if per_user < 1:
            raise ValueError("per_user must be at least 1")
        self.per_user = per_user
        self._logs: dict[str, deque[UserEvent]] = {}

    def record(self, events: Iterable[Event]) -> None:
        logs = self._logs
        for ev in events:
            if not isinstance(ev, UserEvent) or not ev.useq:
                continue
            log = logs.get(ev.user)
            if log is None:
                log = logs[ev.user] = deque(maxlen=self.per_user)
            elif log[-1].useq + 1 != ev.useq:  # not contiguous (never expected): restart
                log.clear()
            log.append(ev)

    def last(self, user: str) -> int:
        """The latest ``useq`` logged for ``user`` (0: none)."""
        log = self._logs.get(user)
        return log[-1].useq if log else 0

    def since(self, user: str, useq: int) -> list[UserEvent] | None:
        """``user``'s events after ``useq`` in order; None if they are no longer all here."""
        log = self._logs.get(user)
        if not log:
            return [] if useq == 0 else None
        latest = log[-1].useq
        if useq >= latest:
            return [] if useq == latest else None  # ahead of the venue: not ours
        first = log[0].useq
        if useq + 1 < first:
            return None
        return list(log)[useq + 1 - first :]
