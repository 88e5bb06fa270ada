"""Trading sessions: when an instrument accepts orders, and when its trading day ends.

Invariants:
- A ``24x7`` session is always open; its trading day ends at 00:00 UTC.
- An ``hours`` session is open on its weekdays from ``open`` (inclusive) to ``close``
  (exclusive), local time in its time zone; its day ends at ``close``.
- All times are integer milliseconds since the Unix epoch (UTC). Pure: no clock reads.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

_DAY_MS = 86_400_000


@dataclass(frozen=True, slots=True)
class TradingSession:
    always_open: bool = True
    open: time = time(0, 0)
    close: time = time(0, 0)
    timezone: str = "UTC"
    weekdays: frozenset[int] = frozenset(range(7))  # 0 = Monday

    def is_open(self, ts_ms: int) -> bool:
        if self.always_open:
            return True
        local = self._local(ts_ms)
        if local.weekday() not in self.weekdays:
            return False
        return self.open <= local.time() < self.close

    def day_end(self, ts_ms: int) -> int:
        """The end (ms) of the trading day that contains ``ts_ms``, or the next one.

        ``day`` orders entered at ``ts_ms`` expire at this instant.
        """
        if self.always_open:
            return (ts_ms // _DAY_MS + 1) * _DAY_MS
        zone = ZoneInfo(self.timezone)
        local = self._local(ts_ms)
        for offset in range(8):
            day = (local + timedelta(days=offset)).date()
            if day.weekday() not in self.weekdays:
                continue
            end = datetime.combine(day, self.close, tzinfo=zone)
            end_ms = int(end.timestamp() * 1000)
            if end_ms > ts_ms:
                return end_ms
        raise ValueError("session has no trading day within a week")

    def _local(self, ts_ms: int) -> datetime:
        return datetime.fromtimestamp(ts_ms / 1000, tz=UTC).astimezone(ZoneInfo(self.timezone))

    def describe(self) -> str:
        if self.always_open:
            return "24x7"
        days = ",".join(str(d) for d in sorted(self.weekdays))
        return f"{self.open:%H:%M}-{self.close:%H:%M} {self.timezone} days={days}"


ALWAYS_OPEN = TradingSession()
