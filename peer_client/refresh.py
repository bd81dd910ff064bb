"""When to ask the board for a task a peer hinted at (docs/protocol.md 2.4). No I/O.

A peer's ``task-updated`` is only a hint; the session answers it with ``GET /api/tasks/{id}/``
(or, for a task it does not know, the backlog listing), and :class:`RefreshLimiter` decides how
often, per task id or :data:`BACKLOG`: at most one request in flight, at most one every
:data:`HINT_FETCH_INTERVAL` seconds (hints arriving meanwhile are merged into one later request),
for at most :data:`MAX_HINTED_TASKS` tasks at a time, so no peer can make us flood the board. The
tasks' slots are shared fairly: one sender's hints hold at most
:data:`MAX_HINTED_TASKS_PER_SENDER` of them, so no peer can keep them all busy and have a
colleague's hints dropped; and the backlog listing has a slot of its own (a new backlog task
reaches others only through its hint). Time is passed in. ``web/static/watercooler/refresh.js``
is the page's twin.

This module must not import aiortc, aiohttp or asyncio.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Final

BACKLOG: Final = 0
"""The key of the backlog listing, asked for when a hint names a task we do not know."""
HINT_FETCH_INTERVAL: Final = 2.0
"""Seconds between two requests for the same task."""
MAX_HINTED_TASKS: Final = 20
"""How many different tasks may wait for (or be in) a request at once (the backlog aside)."""
MAX_HINTED_TASKS_PER_SENDER: Final = 5
"""How many of those one sender's hints may hold."""


@dataclass
class _Entry:
    owner: str
    last: float = -math.inf
    queued: bool = False
    in_flight: bool = False
    again: bool = False


class RefreshLimiter:
    """Per-task limits on fetching hinted tasks; see the module docstring."""

    def __init__(
        self,
        interval: float = HINT_FETCH_INTERVAL,
        max_tasks: int = MAX_HINTED_TASKS,
        per_sender: int = MAX_HINTED_TASKS_PER_SENDER,
    ) -> None:
        self.interval = interval
        self.max_tasks = max_tasks
        self.per_sender = per_sender
        self._entries: dict[int, _Entry] = {}

    def hint(self, task: int, now: float, sender: str) -> float | None:
        """Seconds until ``task`` should be fetched, or None: a fetch is already coming (the hint
        is merged into it) or there is no slot for it (the hint is dropped: too many tasks wait,
        or ``sender``'s hints hold its share of them already)."""
        entry = self._entries.get(task)
        if entry is None:
            if task != BACKLOG and not self._has_room(sender):
                self.prune(now)
                if not self._has_room(sender):
                    return None
            entry = self._entries[task] = _Entry(sender)
        if entry.in_flight:
            entry.again = True
            return None
        if entry.queued:
            return None
        entry.queued = True
        return max(0.0, entry.last + self.interval - now)

    def begin(self, task: int, now: float) -> None:
        """The request for ``task`` goes out now."""
        entry = self._entries.get(task)
        if entry is not None:
            entry.queued, entry.in_flight, entry.last = False, True, now

    def end(self, task: int, now: float) -> float | None:
        """The request is answered: seconds until the next one if hints came meanwhile, or None."""
        entry = self._entries.get(task)
        if entry is None:
            return None
        entry.in_flight = False
        if not entry.again:
            return None
        entry.again, entry.queued = False, True
        return max(0.0, entry.last + self.interval - now)

    def _has_room(self, sender: str) -> bool:
        """Is there a task slot free, and one within ``sender``'s share?"""
        tasks = [entry for task, entry in self._entries.items() if task != BACKLOG]
        mine = sum(entry.owner == sender for entry in tasks)
        return len(tasks) < self.max_tasks and mine < self.per_sender

    def prune(self, now: float) -> None:
        """Forget tasks with nothing waiting whose interval is over."""
        for task, entry in list(self._entries.items()):
            if not entry.queued and not entry.in_flight and entry.last + self.interval <= now:
                del self._entries[task]
