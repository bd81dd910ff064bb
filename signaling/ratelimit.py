"""Token buckets for per-connection limits, and a bound on how often one event is logged. No I/O;
the caller passes the time.

A bucket holds up to ``burst`` tokens and refills at ``rate`` tokens per second; each message takes
one. A client may send ``burst`` messages at once (an offer plus its trickled candidates to several
peers) but no more than ``rate`` per second over time.

:class:`LogThrottle` keeps an event that a client can cause at will (a refused connection, say)
from filling the log: one line per interval, saying how many it stands for.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(slots=True)
class TokenBucket:
    """A token bucket. ``allow(now)`` takes a token if there is one."""

    rate: float
    burst: float
    tokens: float = field(init=False)
    updated: float | None = field(default=None, init=False)

    def __post_init__(self) -> None:
        if self.rate <= 0 or self.burst < 1:
            raise ValueError(f"bucket needs rate > 0 and burst >= 1, got {self.rate}, {self.burst}")
        self.tokens = self.burst

    def full(self, now: float) -> bool:
        """Whether the bucket would be full at ``now`` (it has been idle long enough)."""
        if self.updated is None:
            return True
        return self.tokens + (now - self.updated) * self.rate >= self.burst

    def allow(self, now: float) -> bool:
        tokens = self.tokens
        if self.updated is not None:
            tokens += (now - self.updated) * self.rate
            if tokens > self.burst:
                tokens = self.burst
        self.updated = now
        if tokens >= 1.0:
            self.tokens = tokens - 1.0
            return True
        self.tokens = tokens
        return False


@dataclass(slots=True)
class LogThrottle:
    """At most one log line per ``interval`` seconds for one kind of event; each line says how
    many were held back since the one before (the events are still counted elsewhere)."""

    interval: float
    held: int = field(default=0, init=False)
    next_line: float | None = field(default=None, init=False)

    def allow(self, now: float) -> int | None:
        """The number held back since the last line if a line may be written now, else None
        (and this one is held back)."""
        if self.next_line is None or now >= self.next_line:
            self.next_line = now + self.interval
            held, self.held = self.held, 0
            return held
        self.held += 1
        return None
