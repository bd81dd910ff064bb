"""One peer's incoming negotiation, waiting to be handled in order (docs/protocol.md 1.4). No I/O.

Every offer makes the answerer build a fresh connection and send an answer through signaling,
whose rate limit closes a client that sends too much (4429): a peer flooding us with offers must
not make us exceed it, nor queue work without end.

- A new offer makes every signal still waiting before it moot (older offers and their
  candidates): they are dropped, so only the newest offer is answered. Our own commands (the
  offer we are to make, ``None``) are kept.
- Offers are answered at most :data:`ANSWERS_PER_SECOND` a second per peer (bursts of
  :data:`ANSWER_BURST`); a later one waits, and a newer one replaces it meanwhile.
- At most :data:`MAX_WAITING_SIGNALS` signals wait; beyond that the oldest goes.

Time is passed in. ``web/static/watercooler/signalqueue.js`` keeps the same rules.

This module must not import aiortc, aiohttp or asyncio.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Final

ANSWERS_PER_SECOND: Final = 1.0
ANSWER_BURST: Final = 2.0
MAX_WAITING_SIGNALS: Final = 64

Item = dict[str, Any] | None
"""A peer's signal, or ``None``: our own command to offer."""


def is_offer(item: Item) -> bool:
    description = item.get("description") if item is not None else None
    return isinstance(description, dict) and description.get("type") == "offer"


@dataclass(frozen=True, slots=True)
class Ready:
    """The next item to handle now."""

    item: Item


class SignalQueue:
    """What waits to be handled for one peer; see the module docstring."""

    def __init__(
        self,
        rate: float = ANSWERS_PER_SECOND,
        burst: float = ANSWER_BURST,
        max_waiting: int = MAX_WAITING_SIGNALS,
    ) -> None:
        self.rate = rate
        self.burst = burst
        self.max_waiting = max_waiting
        self.items: list[Item] = []
        self._tokens = burst
        self._updated: float | None = None
        self.dropped = 0
        """How many signals were dropped (moot, or over the bound)."""

    def push(self, item: Item) -> None:
        """A signal arrived (or ``None``: we are to offer)."""
        if is_offer(item):
            kept: list[Item] = [waiting for waiting in self.items if waiting is None]
            self.dropped += len(self.items) - len(kept)
            self.items = kept
        self.items.append(item)
        while sum(waiting is not None for waiting in self.items) > self.max_waiting:
            oldest = next(i for i, waiting in enumerate(self.items) if waiting is not None)
            del self.items[oldest]
            self.dropped += 1

    def take(self, now: float) -> Ready | float | None:
        """The next item to handle now, how many seconds to wait before asking again (an offer
        over the answer budget), or None when nothing waits."""
        if not self.items:
            return None
        head = self.items[0]
        if is_offer(head):
            if self._updated is not None:
                elapsed = max(0.0, now - self._updated)
                self._tokens = min(self.burst, self._tokens + elapsed * self.rate)
            self._updated = now
            if self._tokens < 1:
                return math.ceil((1 - self._tokens) / self.rate * 1000) / 1000
            self._tokens -= 1
        del self.items[0]
        return Ready(head)
