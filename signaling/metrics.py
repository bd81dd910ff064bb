"""Prometheus metrics of one signaling server (``GET /metrics``).

Everything is read when Prometheus scrapes: the counters the session core keeps as plain integers
(``signaling.counters``) and those of the broker (messages from Redis it dropped), and gauges
taken from the core's state. Each application has its own registry,
so several servers in one process (tests, benchmarks) never share figures.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from typing import TYPE_CHECKING

from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.metrics_core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    HistogramMetricFamily,
    Metric,
)
from prometheus_client.registry import Collector

from signaling.links import OPEN_BUCKETS_MS, PATHS

if TYPE_CHECKING:
    from signaling.service import SignalingService


class _ServiceCollector(Collector):
    def __init__(self, service: SignalingService) -> None:
        self.service = service

    def collect(self) -> Iterator[Metric]:
        core = self.service.core
        counters = core.counters
        yield GaugeMetricFamily(
            "watercooler_connections", "Open websocket connections", value=len(core.sessions)
        )
        yield GaugeMetricFamily(
            "watercooler_rooms", "Sprint rooms with peers", value=core.rooms.room_count
        )
        yield GaugeMetricFamily(
            "watercooler_peers", "Peers joined to a sprint", value=core.rooms.peer_count
        )
        messages = CounterMetricFamily(
            "watercooler_messages",
            "Websocket messages by direction (in/out) and type",
            labels=["direction", "type"],
        )
        for (direction, kind), count in sorted(counters.messages.items()):
            messages.add_metric([direction, kind], count)
        yield messages
        yield _by_label(
            "watercooler_relayed_bytes",
            "Bytes of peer messages relayed, by kind (signal/relay)",
            "kind",
            counters.relayed_bytes,
        )
        yield _by_label(
            "watercooler_rejects",
            "Refused connections, messages and hooks by reason",
            "reason",
            counters.rejects,
        )
        yield _by_label(
            "watercooler_link_outcomes",
            "Pairs whose link reached an outcome, by path (direct, turn, relay, failed); each "
            "change of a pair's outcome counts once",
            "path",
            {path: counters.link_outcomes.get(path, 0) for path in PATHS},
        )
        yield GaugeMetricFamily(
            "watercooler_relayed_pairs",
            "Pairs whose messages go through the signaling relay now, as their peers report",
            value=core.links.relayed_pairs,
        )
        buckets = counters.link_open_buckets or [0] * (len(OPEN_BUCKETS_MS) + 1)
        cumulative = list(itertools.accumulate(buckets))
        yield HistogramMetricFamily(
            "watercooler_link_open_seconds",
            "Time from a pair's first offer to its open data channel, as its peers report",
            buckets=[
                *(
                    (f"{bound / 1000:g}", count)
                    for bound, count in zip(OPEN_BUCKETS_MS, cumulative[:-1], strict=True)
                ),
                ("+Inf", cumulative[-1]),
            ],
            sum_value=counters.link_open_sum_ms / 1000,
        )
        dropped = CounterMetricFamily(
            "watercooler_broker_dropped",
            "Messages read from Redis and dropped, by source (instance-channel, sprint-channel, "
            "directory) and cause (malformed, or handler-error)",
            labels=["source", "cause"],
        )
        for (source, cause), count in sorted(self.service.broker.dropped_messages.items()):
            dropped.add_metric([source, cause], count)
        yield dropped
        yield _by_label(
            "watercooler_hook_events",
            "Hook requests by result (delivered/rejected)",
            "result",
            counters.hook_events,
        )


def _by_label(name: str, documentation: str, label: str, values: dict[str, int]) -> Metric:
    family = CounterMetricFamily(name, documentation, labels=[label])
    for key, count in sorted(values.items()):
        family.add_metric([key], count)
    return family


class SignalingMetrics:
    """The registry behind ``/metrics`` for one service."""

    def __init__(self, service: SignalingService) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self.registry.register(_ServiceCollector(service))

    def render(self) -> bytes:
        return generate_latest(self.registry)
