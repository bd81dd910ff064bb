"""The session core's counters: plain integers, exported by ``signaling.metrics`` at scrape time.

They are touched for every relayed message, so they are dict increments and nothing more (a
prometheus-client ``Counter`` takes a lock on each). No I/O.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field


@dataclass(slots=True)
class Counters:
    """``messages[direction, type]``, ``relayed_bytes[kind]``, ``rejects[reason]``,
    ``hook_events[result]``, ``link_outcomes[path]`` and the time-to-open histogram."""

    messages: defaultdict[tuple[str, str], int] = field(default_factory=lambda: defaultdict(int))
    relayed_bytes: defaultdict[str, int] = field(default_factory=lambda: defaultdict(int))
    rejects: defaultdict[str, int] = field(default_factory=lambda: defaultdict(int))
    hook_events: defaultdict[str, int] = field(default_factory=lambda: defaultdict(int))
    link_outcomes: defaultdict[str, int] = field(default_factory=lambda: defaultdict(int))
    # The time-to-open histogram (signaling.links): a count per bucket, then the sum and count.
    link_open_buckets: list[int] = field(default_factory=list)
    link_open_sum_ms: float = 0.0
    link_open_count: int = 0

    def observe_link_open(self, milliseconds: int, bounds: tuple[int, ...]) -> None:
        if not self.link_open_buckets:
            self.link_open_buckets = [0] * (len(bounds) + 1)
        index = next((i for i, bound in enumerate(bounds) if milliseconds <= bound), len(bounds))
        self.link_open_buckets[index] += 1
        self.link_open_sum_ms += milliseconds
        self.link_open_count += 1

    def message(self, direction: str, kind: str, count: int = 1) -> None:
        self.messages[direction, kind] += count

    def message_count(self, direction: str, kind: str) -> int:
        return self.messages.get((direction, kind), 0)
