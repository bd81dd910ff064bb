"""This instance's wall clock against the Redis server's, so that instances agree on a frame's age
whatever their own clocks say. No I/O: the broker reads the clocks and passes the readings in.

A frame for a peer on another instance carries the time it was sent, and the receiving instance
drops it once it is older than ``OUTBOX_MAX_AGE`` (its sender is told). Read from two hosts' wall
clocks, that age is off by the difference between the clocks: a receiver 3 s ahead of the sender
would find every frame stale, one 3 s behind would deliver frames seconds late. Every instance
therefore asks Redis for its ``TIME`` with each presence renewal and keeps the offset of Redis's
clock from its own; frames are stamped, and their ages read, on Redis's clock, the one clock all
instances share. A reading is used only if its round trip was short: one taken while Redis
stalled says little about the clocks.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

MAX_ROUND_TRIP: Final = 0.25  # seconds; a slower TIME reading is not used
# A host whose clock is this far from Redis's gets a warning: tickets and hook tokens are still
# judged on the host's own clock, so it needs setting right (NTP).
SKEW_WARNING: Final = 0.5


@dataclass(slots=True)
class ClockOffset:
    """Redis's clock minus ours (``offset``, seconds), from the last usable reading."""

    offset: float = 0.0
    known: bool = False

    def reading(self, sent: float, received: float, server: float) -> bool:
        """Redis answered ``TIME`` with ``server``: asked at ``sent``, answered at ``received``
        (our wall clock). True if the reading was used."""
        if not 0 <= received - sent <= MAX_ROUND_TRIP:
            return False
        self.offset = server - (sent + received) / 2
        self.known = True
        return True

    @property
    def ahead(self) -> float:
        """How far our clock is ahead of Redis's (negative: behind)."""
        return -self.offset

    @property
    def skewed(self) -> bool:
        return self.known and abs(self.offset) >= SKEW_WARNING


def server_time(answer: tuple[int, int]) -> float:
    """Redis's ``TIME`` answer (seconds, microseconds) as seconds since the epoch."""
    seconds, micros = answer
    return int(seconds) + int(micros) / 1_000_000
