"""Prometheus metrics of one signaling server (``GET /metrics``).

Each application gets its own registry, so several servers in one process (tests, benchmarks)
never share counters.
"""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, generate_latest


class SignalingMetrics:
    """The server's counters and gauges."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self.connections = Gauge(
            "watercooler_connections", "Open websocket connections", registry=self.registry
        )
        self.rooms = Gauge("watercooler_rooms", "Sprint rooms with peers", registry=self.registry)
        self.peers = Gauge("watercooler_peers", "Peers joined to a sprint", registry=self.registry)
        self.messages = Counter(
            "watercooler_messages",
            "Websocket messages by direction (in/out) and type",
            ["direction", "type"],
            registry=self.registry,
        )
        self.rejects = Counter(
            "watercooler_rejects",
            "Refused connections, messages and hooks by reason",
            ["reason"],
            registry=self.registry,
        )
        self.hook_events = Counter(
            "watercooler_hook_events",
            "Hook requests by result (delivered/rejected)",
            ["result"],
            registry=self.registry,
        )
        self.relayed_bytes = Counter(
            "watercooler_relayed_bytes",
            "Bytes of peer messages relayed, by kind (signal/relay)",
            ["kind"],
            registry=self.registry,
        )

    def render(self) -> bytes:
        return generate_latest(self.registry)
