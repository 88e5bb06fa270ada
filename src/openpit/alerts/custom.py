"""Custom price / change / volume alerts per user, evaluated through sorted indexes.

Invariants:
- Values per instrument: ``price`` = last trade price (ticks), ``change`` = 24 h change
  (ppm), ``volume`` = 24 h base volume (lots). ``*_above`` fires when the value becomes
  ``> threshold``, ``*_below`` when it becomes ``< threshold``.
- Crossing semantics: an alert fires only when the value crosses from the other side.
  An alert is *armed* while the last seen value is on the non-firing side
  (``<= threshold`` for above, ``>= threshold`` for below); otherwise it is *waiting*
  for the value to come back. A new (or reloaded) alert whose condition already holds,
  or whose instrument has no value yet, starts waiting: it never fires on creation.
- Every fire disarms the alert. One-shot alerts are then done (store state
  ``triggered``); repeating ones wait for the value to come back, and a crossing
  earlier than ``last_triggered + cooldown_ms`` is swallowed (the alert waits again),
  so a repeating alert fires at most once per cool-down and once per crossing.
- Per (instrument, value) there are four lists sorted by (threshold, id): armed and
  waiting, for above and below. A value change touches only the prefix/suffix that
  crossed (bisect), never the other alerts. Firing order within one value change is
  by (threshold, id) — deterministic.
- An alert event only ever names the alert's owner (``user``).
- Pure: time comes in as ``ts``; the only I/O is through the injected ``Store``.
"""

from __future__ import annotations

from bisect import bisect_left, insort
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from openpit.alerts.events import AlertCondition, CustomAlertTriggered
from openpit.core.errors import OpenpitError
from openpit.core.instrument import Instrument, NotAMultiple, OutOfRange
from openpit.store import Alert, AlertState, Store

PRICE, CHANGE, VOLUME = "price", "change", "volume"

# condition -> (metric, above?)
_SHAPE: dict[AlertCondition, tuple[str, bool]] = {
    AlertCondition.PRICE_ABOVE: (PRICE, True),
    AlertCondition.PRICE_BELOW: (PRICE, False),
    AlertCondition.PERCENT_CHANGE_ABOVE: (CHANGE, True),
    AlertCondition.PERCENT_CHANGE_BELOW: (CHANGE, False),
    AlertCondition.VOLUME_ABOVE: (VOLUME, True),
}


class AlertError(OpenpitError, ValueError):
    """A create/delete request that cannot be honoured; ``code`` is the reason."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


@dataclass(slots=True)
class LiveAlert:
    id: int
    user: str
    name: str
    condition: AlertCondition
    instrument: str
    threshold: int  # condition units
    repeat: bool
    cooldown_ms: int
    created: int
    last_triggered: int | None = None
    state: AlertState = AlertState.ACTIVE

    @property
    def metric(self) -> str:
        return _SHAPE[self.condition][0]

    @property
    def above(self) -> bool:
        return _SHAPE[self.condition][1]

    def cooled(self, ts: int) -> bool:
        return self.last_triggered is None or ts >= self.last_triggered + self.cooldown_ms


Key = tuple[int, int]  # (threshold, alert id)


class _Index:
    """Alerts on one (instrument, metric), by state and direction."""

    __slots__ = ("armed_above", "armed_below", "value", "wait_above", "wait_below")

    def __init__(self) -> None:
        self.value: int | None = None
        self.armed_above: list[Key] = []
        self.wait_above: list[Key] = []
        self.armed_below: list[Key] = []
        self.wait_below: list[Key] = []

    def add(self, a: LiveAlert) -> None:
        v, k = self.value, (a.threshold, a.id)
        if a.above:
            insort(self.armed_above if v is not None and v <= a.threshold else self.wait_above, k)
        else:
            insort(self.armed_below if v is not None and v >= a.threshold else self.wait_below, k)

    def remove(self, a: LiveAlert) -> None:
        k = (a.threshold, a.id)
        lists = (
            (self.armed_above, self.wait_above) if a.above else (self.armed_below, self.wait_below)
        )
        for lst in lists:
            i = bisect_left(lst, k)
            if i < len(lst) and lst[i] == k:
                del lst[i]
                return

    def update(self, v: int) -> tuple[list[Key], list[Key]]:
        """New value: (crossed above, crossed below), each removed from its armed list,
        then waiting alerts back on their non-firing side are armed."""
        self.value = v
        lo = (v,)  # sorts before every (v, id)
        hi = (v + 1,)  # sorts after every (v, id)
        aa = self.armed_above
        i = bisect_left(aa, lo)  # thresholds < v crossed
        up = aa[:i]
        if i:
            del aa[:i]
        ab = self.armed_below
        j = bisect_left(ab, hi)  # thresholds > v crossed
        down = ab[j:]
        if down:
            del ab[j:]
        wa = self.wait_above
        k = bisect_left(wa, lo)  # thresholds >= v: back below (or at) -> armed
        if k < len(wa):
            for key in wa[k:]:
                insort(aa, key)
            del wa[k:]
        wb = self.wait_below
        m = bisect_left(wb, hi)  # thresholds <= v: back above (or at) -> armed
        if m:
            for key in wb[:m]:
                insort(ab, key)
            del wb[:m]
        return up, down

    def wait(self, a: LiveAlert) -> None:
        insort(self.wait_above if a.above else self.wait_below, (a.threshold, a.id))


def to_threshold(condition: AlertCondition, inst: Instrument, value: Decimal | str) -> int:
    """A client threshold (price, percent, base quantity) in condition units."""
    try:
        d = Decimal(value) if isinstance(value, str) else value
        if not d.is_finite():
            raise InvalidOperation
        metric = _SHAPE[condition][0]
        if metric == PRICE:
            n = inst.price_to_ticks(d)
            if n <= 0:
                raise AlertError("invalid_parameter", "threshold must be a positive price")
            return n
        if metric == VOLUME:
            n = inst.qty_to_lots(d)
            if n < 0:
                raise AlertError("invalid_parameter", "threshold must not be negative")
            return n
        ppm = d * 10_000
        if ppm != ppm.to_integral_value():
            raise NotAMultiple("percent thresholds have at most 4 decimal places")
        return int(ppm)
    except (InvalidOperation, NotAMultiple, OutOfRange) as exc:
        raise AlertError("invalid_parameter", f"invalid threshold {value!r}: {exc}") from exc


class AlertService:
    """Custom alerts of every user. ``evaluate`` once per changed instrument value."""

    def __init__(
        self,
        instruments: Mapping[str, Instrument],
        store: Store | None = None,
        *,
        max_per_user: int = 100,
    ) -> None:
        self.instruments = instruments
        self.store = store
        self.max_per_user = max_per_user
        self._alerts: dict[int, LiveAlert] = {}  # active ones
        self._by_user: dict[str, set[int]] = {}
        self._index: dict[tuple[str, str], _Index] = {}
        self._next_id = 1  # only without a store
        self._per_instrument: dict[str, int] = {}

    # -- persistence -------------------------------------------------------------------
    @classmethod
    def load(
        cls, store: Store, instruments: Mapping[str, Instrument], *, max_per_user: int = 100
    ) -> AlertService:
        """Every active alert of the store (alerts of unknown instruments are skipped)."""
        svc = cls(instruments, store, max_per_user=max_per_user)
        for rec in store.list_alerts(state=AlertState.ACTIVE):
            live = svc._from_record(rec)
            if live is not None:
                svc._insert(live)
        return svc

    def _from_record(self, rec: Alert) -> LiveAlert | None:
        inst = self.instruments.get(rec.symbol)
        try:
            cond = AlertCondition(rec.condition)
            threshold = to_threshold(cond, inst, rec.threshold) if inst else None
        except (ValueError, AlertError):
            return None
        if inst is None or threshold is None:
            return None
        return LiveAlert(
            id=rec.id,
            user=rec.user,
            name=rec.name,
            condition=cond,
            instrument=inst.id,
            threshold=threshold,
            repeat=rec.repeat,
            cooldown_ms=rec.cooldown_ms,
            created=rec.created,
            last_triggered=rec.last_triggered,
            state=rec.state,
        )

    # -- user operations ---------------------------------------------------------------
    def create(
        self,
        user: str,
        name: str,
        condition: AlertCondition | str,
        instrument: str,
        threshold: Decimal | str,
        ts: int,
        *,
        repeat: bool = False,
        cooldown_ms: int = 0,
    ) -> LiveAlert:
        """Create an alert; ``threshold`` in client units (price, percent, base qty)."""
        try:
            cond = AlertCondition(condition)
        except ValueError as exc:
            allowed = ", ".join(c.value for c in AlertCondition)
            raise AlertError("invalid_parameter", f"unknown condition (one of {allowed})") from exc
        inst = self.instruments.get(instrument)
        if inst is None:
            inst = next((i for i in self.instruments.values() if instrument in i.names), None)
        if inst is None:
            raise AlertError("unknown_instrument", f"unknown instrument {instrument!r}")
        if cooldown_ms < 0:
            raise AlertError("invalid_parameter", "cooldown must not be negative")
        if not name:
            raise AlertError("invalid_parameter", "name must not be empty")
        if len(self._by_user.get(user, ())) >= self.max_per_user:
            raise AlertError("limit_exceeded", f"at most {self.max_per_user} active alerts")
        ticks = to_threshold(cond, inst, threshold)
        text = str(threshold)
        if self.store is not None:
            rec = self.store.create_alert(
                user=user,
                name=name,
                condition=cond.value,
                symbol=inst.id,
                threshold=text,
                created=ts,
                repeat=repeat,
                cooldown_ms=cooldown_ms,
            )
            alert_id = rec.id
        else:
            alert_id = self._next_id
            self._next_id += 1
        live = LiveAlert(
            id=alert_id,
            user=user,
            name=name,
            condition=cond,
            instrument=inst.id,
            threshold=ticks,
            repeat=repeat,
            cooldown_ms=cooldown_ms,
            created=ts,
        )
        self._insert(live)
        return live

    def list_alerts(self, user: str) -> list[LiveAlert]:
        """The user's active alerts, by id."""
        return sorted((self._alerts[i] for i in self._by_user.get(user, ())), key=lambda a: a.id)

    def get(self, user: str, alert_id: int) -> LiveAlert | None:
        a = self._alerts.get(alert_id)
        return a if a is not None and a.user == user else None

    def delete(self, user: str, alert_id: int) -> bool:
        """Delete one of ``user``'s alerts; another user's id is "not found" (False)."""
        a = self._alerts.get(alert_id)
        if a is None or a.user != user:
            if self.store is not None:
                rec = self.store.get_alert(alert_id)
                if rec is not None and rec.user == user:  # a triggered one-shot alert
                    return self.store.delete_alert(alert_id)
            return False
        self._drop(a)
        if self.store is not None:
            self.store.delete_alert(alert_id)
        return True

    # -- evaluation --------------------------------------------------------------------
    def evaluate(
        self,
        instrument: str,
        ts: int,
        *,
        price: int | None = None,
        change_ppm: int | None = None,
        volume: int | None = None,
    ) -> list[CustomAlertTriggered]:
        """Feed the instrument's current values (None: unknown / unchanged)."""
        out: list[CustomAlertTriggered] = []
        for metric, v in ((PRICE, price), (CHANGE, change_ppm), (VOLUME, volume)):
            if v is None:
                continue
            idx = self._index.get((instrument, metric))
            if idx is None:
                idx = self._index[(instrument, metric)] = _Index()
            if idx.value == v:
                continue
            up, down = idx.update(v)
            for _, alert_id in up + down:
                self._fire(idx, self._alerts[alert_id], v, ts, out)
        return out

    def _fire(
        self, idx: _Index, a: LiveAlert, v: int, ts: int, out: list[CustomAlertTriggered]
    ) -> None:
        if not a.cooled(ts):
            idx.wait(a)  # crossing inside the cool-down: swallowed
            return
        a.last_triggered = ts
        if a.repeat:
            idx.wait(a)
            if self.store is not None:
                self.store.update_alert(a.id, last_triggered=ts)
        else:
            a.state = AlertState.TRIGGERED
            self._forget(a)
            if self.store is not None:
                self.store.update_alert(a.id, state=AlertState.TRIGGERED, last_triggered=ts)
        out.append(
            CustomAlertTriggered(
                ts=ts,
                alert_id=a.id,
                user=a.user,
                name=a.name,
                condition=a.condition,
                instrument=a.instrument,
                threshold=a.threshold,
                current_value=v,
                triggered_at=ts,
            )
        )

    # -- internals -----------------------------------------------------------------------
    def watched(self, instrument: str) -> bool:
        """True when ``instrument`` has active alerts (else evaluation can be skipped)."""
        return instrument in self._per_instrument

    def _insert(self, a: LiveAlert) -> None:
        self._alerts[a.id] = a
        self._per_instrument[a.instrument] = self._per_instrument.get(a.instrument, 0) + 1
        self._by_user.setdefault(a.user, set()).add(a.id)
        key = (a.instrument, a.metric)
        idx = self._index.get(key)
        if idx is None:
            idx = self._index[key] = _Index()
        idx.add(a)

    def _forget(self, a: LiveAlert) -> None:
        del self._alerts[a.id]
        n = self._per_instrument[a.instrument] - 1
        if n:
            self._per_instrument[a.instrument] = n
        else:
            del self._per_instrument[a.instrument]
        ids = self._by_user.get(a.user)
        if ids is not None:
            ids.discard(a.id)
            if not ids:
                del self._by_user[a.user]

    def _drop(self, a: LiveAlert) -> None:
        idx = self._index.get((a.instrument, a.metric))
        if idx is not None:
            idx.remove(a)
        self._forget(a)

    def __len__(self) -> int:
        return len(self._alerts)
