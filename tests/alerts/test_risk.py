"""Circuit breaker, volatility spikes, large liquidations, margin calls, connection status,
notifications — against the real Venue."""

from __future__ import annotations

import pytest

from openpit.alerts import (
    ConnectionState,
    ExchangeConnectionStatus,
    MarginCallAlert,
    NotificationLevel,
    RiskAlert,
    RiskAlertType,
    RiskServices,
    SystemNotification,
    UserNotification,
)
from openpit.alerts.margin import time_to_liquidation_s
from openpit.alerts.settings import parse_settings
from openpit.config.loader import ConfigError
from openpit.core.commands import Clock, SetHalt
from openpit.core.enums import Reason, Side
from tests.alerts.helpers import T0, Harness, config_with, limit, px

BREAKER = {
    "band": "0.05",
    "window_ms": 60_000,
    "halt_ms": 300_000,
    "volatility_band": "0.02",
    "volatility_window_ms": 60_000,
}


def trade(h: Harness, price: str, ts: int) -> None:
    assert h.run(limit("bob", Side.SELL, price, "0.01"), ts).ok
    assert h.run(limit("alice", Side.BUY, price, "0.01"), ts).ok


def test_breaker_move_beyond_band_halts_rejects_orders_and_resumes_on_schedule() -> None:
    h = Harness(config_with(circuit_breaker=BREAKER))
    trade(h, "42650", T0)
    trade(h, "43600", T0 + 1_000)  # +2.2 %: volatility spike, no halt
    [spike] = [a for a in h.of(RiskAlert) if a.type is RiskAlertType.VOLATILITY_SPIKE]
    assert spike.instrument == "BTCUSDT" and spike.details["move_ppm"] == 22_274
    trade(h, "44800", T0 + 2_000)  # +5.04 % from the window's low: halt
    until = T0 + 2_000 + 300_000
    [halt] = [c for c in h.submitted if isinstance(c, SetHalt)]
    assert (halt.instrument, halt.halted, halt.until) == ("BTCUSDT", True, until)
    assert h.venue.is_halted("BTCUSDT")
    [cb] = [a for a in h.of(RiskAlert) if a.type is RiskAlertType.CIRCUIT_BREAKER]
    assert cb.details["reference_price"] == px("42650") and cb.details["until"] == until

    rejected = h.run(limit("alice", Side.BUY, "44000", "0.01"), T0 + 3_000)
    assert rejected.reason is Reason.TRADING_HALTED
    [note] = [n for n in h.of(UserNotification) if n.kind == "order_rejected"]
    assert note.user == "alice" and note.title == "Order Rejected"

    h.tick(until - 1)
    assert not any(isinstance(c, Clock) for c in h.submitted)
    assert h.venue.is_halted("BTCUSDT")
    h.tick(until)
    assert any(isinstance(c, Clock) for c in h.submitted)
    assert not h.venue.is_halted("BTCUSDT")
    resumed = [a for a in h.of(RiskAlert) if a.type is RiskAlertType.CIRCUIT_BREAKER]
    assert [a.message.split()[-1] for a in resumed] == [cb.message.split()[-1], "resumed"]
    assert h.run(limit("alice", Side.BUY, "44000", "0.01"), until + 1).ok


def test_breaker_moves_within_band_never_halt() -> None:
    h = Harness(config_with(circuit_breaker=BREAKER))
    for i, price in enumerate(["42650", "43500", "42000", "43800"]):  # < 5 % from any ref
        trade(h, price, T0 + i * 1_000)
    assert h.submitted == []


def test_breaker_operator_halt_of_every_venue_instrument_reports_venue_halted() -> None:
    h = Harness()
    h.published.extend(h.services.start(h.md, T0))
    for iid in ("BTCUSDT", "ETHUSDT"):
        h.run(SetHalt(instrument=iid, halted=True, reason="maintenance"), T0 + 1)
    h.run(SetHalt(instrument="ETHUSDT", halted=False), T0 + 2)
    binance = [e.status for e in h.of(ExchangeConnectionStatus) if e.exchange == "binance"]
    assert binance == [ConnectionState.CONNECTED, ConnectionState.HALTED, ConnectionState.RESUMED]
    types = [a.type for a in h.of(RiskAlert)]
    assert types == [RiskAlertType.TRADING_HALT] * 3


def test_margin_liquidation_large_fill_alert_margin_calls_and_notifications() -> None:
    cfg = config_with(
        circuit_breaker={"enabled": False},
        alerts={"large_liquidation": {"USDT": "10000"}, "link_base": "https://pit.example/"},
    )
    h = Harness(cfg)
    h.run(limit("bob", Side.SELL, "42650", "1"), T0)
    assert h.run(limit("alice", Side.BUY, "42650", "1", margin=True, leverage=5), T0).ok
    h.run(limit("demo", Side.BUY, "36800", "0.1"), T0 + 1)
    h.run(limit("bob", Side.SELL, "36800", "0.1"), T0 + 2)
    h.run(limit("demo", Side.BUY, "35400", "2"), T0 + 3)
    h.run(limit("demo", Side.BUY, "35500", "0.1"), T0 + 4)
    h.run(limit("bob", Side.SELL, "35500", "0.1"), T0 + 5)

    calls = h.of(MarginCallAlert)
    assert [(c.user, c.severity, c.position_id) for c in calls] == [
        ("alice", "critical", "pos_BTCUSDT"),
        ("alice", "liquidation", "pos_BTCUSDT"),
    ]
    assert calls[0].required_deposit > 0 and calls[0].required_margin_ratio_ppm == 100_000
    assert calls[1].time_to_liquidation_s == 0
    notes = [n for n in h.of(UserNotification) if n.kind in ("margin_call", "liquidation")]
    assert [(n.user, n.title) for n in notes] == [
        ("alice", "Margin Call Warning"),
        ("alice", "Position Liquidation"),
    ]
    assert notes[0].link == "https://pit.example/account/margin"
    [large] = [a for a in h.of(RiskAlert) if a.type is RiskAlertType.LARGE_LIQUIDATION]
    assert large.instrument == "BTCUSDT" and large.details["qty"] == 100_000  # 1 BTC
    assert isinstance(large.details["notional"], int) and large.details["notional"] >= 10**12


@pytest.mark.parametrize(
    ("mark", "liq", "oldest", "expected"),
    [
        (36_000, 35_000, (0, 37_000), 60),  # falling 1000 ticks / 60 s, 1000 to go
        (36_000, 35_000, (0, 35_500), 3600),  # rising: default
        (36_000, 37_000, (0, 35_000), 60),  # short, rising toward it
        (36_000, 35_000, None, 3600),  # no history: default
        (35_000, 35_000, (0, 37_000), 0),  # at the liquidation price
        (36_000, None, (0, 37_000), None),  # cannot be liquidated
    ],
)
def test_margin_time_to_liquidation_from_velocity_or_default(
    mark: int, liq: int | None, oldest: tuple[int, int] | None, expected: int | None
) -> None:
    assert time_to_liquidation_s(mark, liq, oldest, 60_000, 3600) == expected


def test_notification_system_published_by_operator_has_fields() -> None:
    svc = RiskServices(config_with())
    n = svc.system_notification("info", "Market Hours Update", "Early close.", None, T0)
    assert n == SystemNotification(
        ts=T0,
        id=1,
        level=NotificationLevel.INFO,
        title="Market Hours Update",
        message="Early close.",
    )
    with pytest.raises(ValueError):
        svc.system_notification("loud", "t", "m", None, T0)


def test_settings_unknown_key_is_an_error_naming_the_key() -> None:
    for table in ("alerts", "circuit_breaker", "arbitrage"):
        with pytest.raises(ConfigError, match=rf"{table}\.bogus: unknown key"):
            parse_settings(config_with(**{table: {"bogus": 1}}))
    with pytest.raises(ConfigError, match=r"alerts\.large_liquidation\.DOGE"):
        parse_settings(config_with(alerts={"large_liquidation": {"DOGE": "1"}}))
    with pytest.raises(ConfigError, match=r"circuit_breaker\.band"):
        parse_settings(config_with(circuit_breaker={"band": "0.1234567"}))


def test_settings_values_parse_to_integers() -> None:
    s = parse_settings(
        config_with(
            circuit_breaker={"band": "0.07", "instruments": ["BTC/USDT"]},
            arbitrage={"min_spread": "0.002", "min_amount": "2.5", "ttl_ms": 1000},
        )
    )
    assert s.circuit_breaker.band_ppm == 70_000
    assert s.circuit_breaker.instruments == frozenset({"BTCUSDT"})
    assert (s.arbitrage.min_spread_ppm, s.arbitrage.ttl_ms) == (2_000, 1000)
