"""Alerts: custom user alerts, system/user notifications, risk events (circuit breaker,
volatility, large liquidations), margin calls and cross-venue arbitrage.

Pure and synchronous; see ``docs/alerts.md``. The server wires ``RiskServices``.
"""

from openpit.alerts.arbitrage import ArbitrageService, Quote, detect
from openpit.alerts.custom import AlertError, AlertService, LiveAlert
from openpit.alerts.events import (
    PRIVATE_EVENTS,
    AlertCondition,
    AlertEvent,
    AnyAlertEvent,
    ArbitrageOpportunity,
    ArbitrageWithdrawn,
    Confidence,
    ConnectionState,
    CustomAlertTriggered,
    ExchangeConnectionStatus,
    MarginCallAlert,
    NotificationLevel,
    RiskAlert,
    RiskAlertType,
    SystemNotification,
    UserNotification,
    render_value,
)
from openpit.alerts.margin import MarginCallService
from openpit.alerts.notify import NotificationService
from openpit.alerts.risk import RiskMonitor
from openpit.alerts.services import RiskServices
from openpit.alerts.settings import (
    AlertSettings,
    ArbitrageSettings,
    CircuitBreakerSettings,
    Settings,
    parse_settings,
)
from openpit.alerts.system import ConnectionTracker

__all__ = [
    "PRIVATE_EVENTS",
    "AlertCondition",
    "AlertError",
    "AlertEvent",
    "AlertService",
    "AlertSettings",
    "AnyAlertEvent",
    "ArbitrageOpportunity",
    "ArbitrageService",
    "ArbitrageSettings",
    "ArbitrageWithdrawn",
    "CircuitBreakerSettings",
    "Confidence",
    "ConnectionState",
    "ConnectionTracker",
    "CustomAlertTriggered",
    "ExchangeConnectionStatus",
    "LiveAlert",
    "MarginCallAlert",
    "MarginCallService",
    "NotificationLevel",
    "NotificationService",
    "Quote",
    "RiskAlert",
    "RiskAlertType",
    "RiskMonitor",
    "RiskServices",
    "Settings",
    "SystemNotification",
    "UserNotification",
    "detect",
    "parse_settings",
    "render_value",
]
