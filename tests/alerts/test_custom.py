"""Custom alerts: crossing semantics, cool-down, isolation between users, persistence."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from openpit.alerts import AlertCondition, AlertError, AlertService, CustomAlertTriggered
from openpit.store import AlertState, SqliteStore
from tests.alerts.helpers import CONFIG, T0, px

INSTS = CONFIG.instruments


def svc() -> AlertService:
    return AlertService(INSTS)


def price(s: AlertService, value: str, ts: int = T0) -> list[CustomAlertTriggered]:
    return s.evaluate("BTCUSDT", ts, price=px(value))


def test_alert_price_above_crossing_fires_exactly_once() -> None:
    s = svc()
    price(s, "42000")
    a = s.create("alice", "btc 43k", "price_above", "BTCUSDT", Decimal("43000"), T0)
    assert price(s, "42900") == []
    fired = price(s, "43000.01", T0 + 1)
    assert [(e.alert_id, e.user, e.threshold, e.current_value) for e in fired] == [
        (a.id, "alice", px("43000"), px("43000.01"))
    ]
    assert fired[0].triggered_at == T0 + 1 and fired[0].condition is AlertCondition.PRICE_ABOVE
    # staying above, going back and crossing again: a one-shot alert is done
    assert price(s, "43500", T0 + 2) == []
    assert price(s, "42000", T0 + 3) == []
    assert price(s, "44000", T0 + 4) == []
    assert s.list_alerts("alice") == []


def test_alert_price_below_at_threshold_does_not_fire_until_strictly_below() -> None:
    s = svc()
    price(s, "42000")
    s.create("alice", "dip", AlertCondition.PRICE_BELOW, "BTC/USDT", "41000", T0)
    assert price(s, "41000") == []
    assert len(price(s, "40999.99")) == 1


def test_alert_created_while_condition_holds_waits_for_a_crossing() -> None:
    s = svc()
    price(s, "45000")
    s.create("alice", "above", "price_above", "BTCUSDT", "43000", T0)
    assert price(s, "46000") == []  # never was on the other side
    assert price(s, "42000") == []  # back: armed
    assert len(price(s, "43001")) == 1


def test_alert_without_any_price_yet_never_fires_on_first_value() -> None:
    s = svc()
    s.create("alice", "above", "price_above", "BTCUSDT", "43000", T0)
    assert price(s, "50000") == []


def test_alert_repeating_fires_again_after_cooldown_and_crossing_back() -> None:
    s = svc()
    price(s, "42000")
    s.create("alice", "r", "price_above", "BTCUSDT", "43000", T0, repeat=True, cooldown_ms=60_000)
    assert len(price(s, "43100", T0 + 1_000)) == 1
    assert price(s, "43200", T0 + 2_000) == []  # still above: no new crossing
    assert price(s, "42900", T0 + 3_000) == []  # back: re-armed
    assert price(s, "43100", T0 + 4_000) == []  # crossing inside the cool-down: swallowed
    assert price(s, "43100", T0 + 70_000) == []  # cool-down over, but no new crossing
    assert price(s, "42900", T0 + 71_000) == []
    fired = price(s, "43100", T0 + 72_000)
    assert [e.triggered_at for e in fired] == [T0 + 72_000]
    assert len(s.list_alerts("alice")) == 1  # repeating alerts stay active


def test_alert_repeating_zero_cooldown_fires_on_every_crossing() -> None:
    s = svc()
    price(s, "42000")
    s.create("alice", "r", "price_above", "BTCUSDT", "43000", T0, repeat=True)
    fires = 0
    for i, value in enumerate(["43001", "42999", "43001", "43000", "43002"]):
        fires += len(price(s, value, T0 + i))
    assert fires == 3


def test_alert_other_users_alert_never_reaches_them() -> None:
    s = svc()
    price(s, "42000")
    a = s.create("alice", "a", "price_above", "BTCUSDT", "43000", T0)
    s.create("bob", "b", "price_above", "BTCUSDT", "44000", T0)
    fired = price(s, "43500")
    assert [(e.user, e.alert_id) for e in fired] == [("alice", a.id)]
    assert s.delete("bob", a.id) is False  # bob cannot see or delete alice's alert
    assert s.get("bob", a.id) is None
    assert [x.user for x in s.list_alerts("bob")] == ["bob"]


def test_alert_deleted_never_fires() -> None:
    s = svc()
    price(s, "42000")
    a = s.create("alice", "a", "price_above", "BTCUSDT", "43000", T0)
    assert s.delete("alice", a.id) is True
    assert price(s, "43500") == []


def test_alert_percent_and_volume_thresholds_in_ppm_and_lots() -> None:
    s = svc()
    s.evaluate("BTCUSDT", T0, change_ppm=0, volume=0)
    up = s.create("alice", "up5", "percent_change_above", "BTCUSDT", "5", T0)
    down = s.create("alice", "dn", "percent_change_below", "BTCUSDT", "-2.5", T0)
    vol = s.create("alice", "vol", "volume_above", "BTCUSDT", "1.5", T0)
    assert (up.threshold, down.threshold, vol.threshold) == (50_000, -25_000, 150_000)
    assert [e.alert_id for e in s.evaluate("BTCUSDT", T0, change_ppm=50_001)] == [up.id]
    assert [e.alert_id for e in s.evaluate("BTCUSDT", T0, change_ppm=-25_001)] == [down.id]
    assert [e.alert_id for e in s.evaluate("BTCUSDT", T0, volume=150_001)] == [vol.id]


@pytest.mark.parametrize(
    ("condition", "instrument", "threshold", "code"),
    [
        ("price_sideways", "BTCUSDT", "1", "invalid_parameter"),
        ("price_above", "NOPE", "1", "unknown_instrument"),
        ("price_above", "BTCUSDT", "1.001", "invalid_parameter"),
        ("price_above", "BTCUSDT", "0", "invalid_parameter"),
        ("percent_change_above", "BTCUSDT", "1.00001", "invalid_parameter"),
        ("price_above", "BTCUSDT", "abc", "invalid_parameter"),
    ],
)
def test_alert_create_invalid_input_is_rejected(
    condition: str, instrument: str, threshold: str, code: str
) -> None:
    with pytest.raises(AlertError) as err:
        svc().create("alice", "x", condition, instrument, threshold, T0)
    assert err.value.code == code


def test_alert_create_beyond_user_limit_is_rejected() -> None:
    s = AlertService(INSTS, max_per_user=2)
    for i in range(2):
        s.create("alice", f"a{i}", "price_above", "BTCUSDT", "43000", T0)
    with pytest.raises(AlertError) as err:
        s.create("alice", "a3", "price_above", "BTCUSDT", "43000", T0)
    assert err.value.code == "limit_exceeded"
    s.create("bob", "b", "price_above", "BTCUSDT", "43000", T0)  # per user


def test_alert_restart_with_sqlite_store_reloads_and_fires(tmp_path: Path) -> None:
    store = SqliteStore.in_data_dir(tmp_path)
    s = AlertService.load(store, INSTS)
    price(s, "42000")
    one = s.create("alice", "one", "price_above", "BTCUSDT", "43000", T0)
    rep = s.create(
        "alice", "rep", "price_below", "BTCUSDT", "41000", T0, repeat=True, cooldown_ms=60_000
    )
    keep = s.create("bob", "keep", "price_above", "BTCUSDT", "45000", T0)
    assert [e.alert_id for e in price(s, "43500", T0 + 1)] == [one.id]
    assert [e.alert_id for e in price(s, "40000", T0 + 2)] == [rep.id]
    store.close()

    store = SqliteStore.in_data_dir(tmp_path)
    s2 = AlertService.load(store, INSTS)
    assert [a.id for a in s2.list_alerts("alice")] == [rep.id]  # the one-shot is done
    assert store.get_alert(one.id) is not None
    assert store.get_alert(one.id).state is AlertState.TRIGGERED  # type: ignore[union-attr]
    assert [a.id for a in s2.list_alerts("bob")] == [keep.id]
    assert s2.get("alice", rep.id).last_triggered == T0 + 2  # type: ignore[union-attr]
    price(s2, "42000", T0 + 10_000)  # first value after restart arms
    assert price(s2, "40000", T0 + 20_000) == []  # inside the persisted cool-down
    price(s2, "42000", T0 + 70_000)
    assert [e.alert_id for e in price(s2, "40000", T0 + 80_000)] == [rep.id]
    assert [e.alert_id for e in price(s2, "46000", T0 + 90_000)] == [keep.id]
    assert s2.delete("alice", one.id) is True  # a triggered alert can still be deleted
    assert store.get_alert(one.id) is None
    store.close()
