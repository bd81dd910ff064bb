"""When another instance is dead, judged from whether its presence key exists. No I/O: the Redis
broker's presence loop checks the keys and passes the answers and the (monotonic) time in.

An instance renews its key every fifth of the TTL (the ``interval``). Another instance whose key
has been missing for an interval is dead. Not before this instance has been connected for a full
TTL (it is then *settled*): a restarted Redis has forgotten every key, and an instance that has
not re-registered yet is not dead. Until then, a missing key proves nothing.

This module must not act on its verdict: dropping the dead instance's peers is the listener's
job, removing its directory entries the broker's.
"""

from __future__ import annotations


class Liveness:
    """The other instances this one has found missing, since when, and whether it may judge."""

    def __init__(self, ttl: float) -> None:
        self.ttl = ttl
        self.interval = ttl / 5
        self._connected_since = 0.0
        self._missing_since: dict[str, float] = {}
        self._settled = False

    def connected(self, now: float) -> None:
        """A new connection: the others get a full TTL to show up again."""
        self._connected_since = now
        self._settled = False
        self._missing_since.clear()

    def settled(self, now: float) -> bool:
        """Whether a missing key now proves an instance dead."""
        return now - self._connected_since >= self.ttl

    def present(self, instance: str) -> None:
        """``instance``'s key exists."""
        self._missing_since.pop(instance, None)

    def dead(self, instance: str, now: float) -> bool:
        """``instance``'s key is missing: True if that makes it dead (then it is forgotten here)."""
        first_missing = self._missing_since.setdefault(instance, now)
        if self.settled(now) and now - first_missing >= self.interval:
            self._missing_since.pop(instance, None)
            return True
        return False

    def newly_settled(self, now: float) -> bool:
        """True the first time this connection is settled (for the log)."""
        if self.settled(now) and not self._settled:
            self._settled = True
            return True
        return False
