"""The WebSocket gateway: one aiohttp server, three dialects, frame-once fan-out.

Use ``create_app(service, marketdata, keys, settings)`` and ``run_gateway(app)``;
see docs/gateway.md.
"""

from openpit.core.access import ApiKey, Permission, Principal
from openpit.gateway.app import (
    HUB,
    RunningGateway,
    create_app,
    load_dialects,
    run_gateway,
    shutdown,
    start_gateway,
)
from openpit.gateway.auth import (
    Authenticator,
    AuthError,
    HmacAuthenticator,
    InMemoryKeyStore,
    JwtAuthenticator,
    KeyStore,
    sign,
)
from openpit.gateway.settings import GatewaySettings, RateLimit

__all__ = [
    "HUB",
    "ApiKey",
    "AuthError",
    "Authenticator",
    "GatewaySettings",
    "HmacAuthenticator",
    "InMemoryKeyStore",
    "JwtAuthenticator",
    "KeyStore",
    "Permission",
    "Principal",
    "RateLimit",
    "RunningGateway",
    "create_app",
    "load_dialects",
    "run_gateway",
    "shutdown",
    "sign",
    "start_gateway",
]
