"""Our own budget for relayed messages (docs/protocol.md 2.6). No I/O; time is passed in.

Signaling limits ``relay`` messages per connection, so a client keeps its own budget under the
server's default, shared by every peer it relays to: :data:`RELAY_RATE` messages a second, bursts
of :data:`RELAY_BURST`. Hovers are the first to go: a ``drag-hover`` is relayed only while at least
:data:`HOVER_RESERVE` tokens are left (:data:`POSITION_RESERVE` for one that only moves the
pointer), so drops, cancels and updates still get through when a drag is busy. The page keeps the
same numbers (``web/static/watercooler/mesh.js``).

This module must not import aiortc, aiohttp or asyncio.
"""

from __future__ import annotations

from typing import Final

RELAY_RATE: Final = 15.0
RELAY_BURST: Final = 40.0
HOVER_RESERVE: Final = 20.0
POSITION_RESERVE: Final = 30.0


class TokenBucket:
    """``rate`` tokens a second up to ``burst``; :meth:`take` spends one if enough are left."""

    def __init__(self, rate: float = RELAY_RATE, burst: float = RELAY_BURST) -> None:
        self.rate = rate
        self.burst = burst
        self._tokens = burst
        self._at: float | None = None

    def take(self, now: float, reserve: float = 0.0) -> bool:
        """Spend one token if more than ``reserve`` are left after refilling up to ``now``."""
        if self._at is not None:
            self._tokens = min(self.burst, self._tokens + max(0.0, now - self._at) * self.rate)
        self._at = now
        if self._tokens - 1 < reserve:
            return False
        self._tokens -= 1
        return True


def reserve_for(message_type: object, position_only: bool = False) -> float:
    """How many tokens must stay after relaying a message of this type (hovers keep a reserve,
    and hovers that only move the pointer a larger one)."""
    if message_type != "drag-hover":
        return 0.0
    return POSITION_RESERVE if position_only else HOVER_RESERVE
