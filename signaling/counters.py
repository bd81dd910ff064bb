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
    ``hook_events[result]``."""

    messages: defaultdict[tuple[str, str], int] = field(default_factory=lambda: defaultdict(int))
    relayed_bytes: defaultdict[str, int] = field(default_factory=lambda: defaultdict(int))
    rejects: defaultdict[str, int] = field(default_factory=lambda: defaultdict(int))
    hook_events: defaultdict[str, int] = field(default_factory=lambda: defaultdict(int))

    def message(self, direction: str, kind: str, count: int = 1) -> None:
        self.messages[direction, kind] += count

    def message_count(self, direction: str, kind: str) -> int:
        return self.messages.get((direction, kind), 0)
