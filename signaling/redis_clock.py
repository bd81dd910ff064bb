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

A host whose clock is far from Redis's is told in its log (:class:`SkewLog` decides when: at most
every ``SKEW_LOG_INTERVAL`` while it lasts, and once when it is right again).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Final, Literal

from signaling.ratelimit import LogThrottle

MAX_ROUND_TRIP: Final = 0.25  # seconds; a slower TIME reading is not used
# A host whose clock is this far from Redis's gets a warning: tickets and hook tokens are still
# judged on the host's own clock, so it needs setting right (NTP).
SKEW_WARNING: Final = 0.5
SKEW_LOG_INTERVAL: Final = 600.0  # seconds between two clock-skew lines


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


@dataclass(slots=True)
class SkewLog:
    """When to say that our clock is far from Redis's: at most every ``interval`` while it is,
    and once when it is right again."""

    interval: float = SKEW_LOG_INTERVAL
    throttle: LogThrottle = field(init=False)
    said: bool = field(default=False, init=False)  # that it is skewed, since it was last right

    def __post_init__(self) -> None:
        self.throttle = LogThrottle(self.interval)

    def after(self, clock: ClockOffset, now: float) -> Literal["skewed", "resolved"] | None:
        """What to say after ``clock`` took a reading, at ``now`` (monotonic): that it is
        ``skewed``, that that is ``resolved``, or nothing."""
        if clock.skewed:
            if self.throttle.allow(now) is None:
                return None
            self.said = True
            return "skewed"
        if self.said:
            self.said = False
            self.throttle = LogThrottle(self.interval)
            return "resolved"
        return None


def server_time(answer: tuple[int, int]) -> float:
    """Redis's ``TIME`` answer (seconds, microseconds) as seconds since the epoch."""
    seconds, micros = answer
    return int(seconds) + int(micros) / 1_000_000
