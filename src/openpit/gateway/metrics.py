"""Prometheus metrics for the gateway, read from the hub's plain counters at scrape time.

Invariant: the hot path only increments plain integers; nothing here runs per frame.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from openpit.gateway.hub import Stats


class GatewayCollector(Collector):
    def __init__(self, stats: Callable[[], Stats]) -> None:
        self._stats = stats

    def collect(self) -> Iterator[Metric]:
        s = self._stats()
        conns = GaugeMetricFamily(
            "openpit_ws_connections", "Open WebSocket connections", labels=["dialect"]
        )
        for dialect, n in sorted(s.connections.items()):
            conns.add_metric([dialect], n)
        yield conns
        yield CounterMetricFamily(
            "openpit_ws_connections_accepted", "WebSocket connections accepted", value=s.accepted
        )
        yield CounterMetricFamily(
            "openpit_ws_messages_in", "Messages received from clients", value=s.messages_in
        )
        yield CounterMetricFamily(
            "openpit_ws_messages_out", "Messages sent to clients", value=s.messages_out
        )
        yield CounterMetricFamily(
            "openpit_ws_bytes_in", "Payload bytes received from clients", value=s.bytes_in
        )
        yield CounterMetricFamily(
            "openpit_ws_bytes_out", "Frame bytes written to clients", value=s.bytes_out
        )
        closes = CounterMetricFamily(
            "openpit_ws_closes", "Connections closed, by reason", labels=["reason"]
        )
        for reason, n in sorted(s.closes.items()):
            closes.add_metric([reason], n)
        yield closes
        errors = CounterMetricFamily(
            "openpit_ws_errors", "Error replies sent, by kind", labels=["kind"]
        )
        for kind, n in sorted(s.errors.items()):
            errors.add_metric([kind], n)
        yield errors


def make_registry(stats: Callable[[], Stats]) -> CollectorRegistry:
    registry = CollectorRegistry(auto_describe=False)
    registry.register(GatewayCollector(stats))
    return registry


def render(registry: CollectorRegistry) -> bytes:
    return generate_latest(registry)
