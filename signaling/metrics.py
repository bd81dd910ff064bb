"""Prometheus metrics of one signaling server (``GET /metrics``).

Each application gets its own registry, so several servers in one process (tests, benchmarks)
never share counters.

The two counters touched for every relayed message (``messages`` and ``relayed_bytes``) are plain
integers in a dict, read by a collector when Prometheus scrapes: a prometheus-client ``Counter``
takes a lock on every increment, which was 5% of the server's CPU under relay load. The rest are
ordinary prometheus-client metrics.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator

from prometheus_client import CollectorRegistry, Counter, Gauge, generate_latest
from prometheus_client.metrics_core import CounterMetricFamily, Metric
from prometheus_client.registry import Collector


class _HotCounters(Collector):
    """Message and byte counts kept as plain ints; exported at scrape time."""

    def __init__(self) -> None:
        self.messages: defaultdict[tuple[str, str], int] = defaultdict(int)
        self.relayed_bytes: defaultdict[str, int] = defaultdict(int)

    def collect(self) -> Iterator[Metric]:
        messages = CounterMetricFamily(
            "watercooler_messages",
            "Websocket messages by direction (in/out) and type",
            labels=["direction", "type"],
        )
        for (direction, kind), count in sorted(self.messages.items()):
            messages.add_metric([direction, kind], count)
        yield messages
        relayed = CounterMetricFamily(
            "watercooler_relayed_bytes",
            "Bytes of peer messages relayed, by kind (signal/relay)",
            labels=["kind"],
        )
        for kind, count in sorted(self.relayed_bytes.items()):
            relayed.add_metric([kind], count)
        yield relayed


class SignalingMetrics:
    """The server's counters and gauges."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self.connections = Gauge(
            "watercooler_connections", "Open websocket connections", registry=self.registry
        )
        self.rooms = Gauge("watercooler_rooms", "Sprint rooms with peers", registry=self.registry)
        self.peers = Gauge("watercooler_peers", "Peers joined to a sprint", registry=self.registry)
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
        self._hot = _HotCounters()
        self.registry.register(self._hot)
        # The plain dicts behind the two hot counters, for the relay path to increment directly.
        self.messages = self._hot.messages
        self.relayed_bytes = self._hot.relayed_bytes

    def count_message(self, direction: str, kind: str, count: int = 1) -> None:
        """``messages{direction,type}`` += count (hot path: a dict increment)."""
        self._hot.messages[direction, kind] += count

    def count_relayed_bytes(self, kind: str, size: int) -> None:
        self._hot.relayed_bytes[kind] += size

    def message_count(self, direction: str, kind: str) -> int:
        return self._hot.messages.get((direction, kind), 0)

    def render(self) -> bytes:
        return generate_latest(self.registry)
