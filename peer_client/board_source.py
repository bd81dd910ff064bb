"""Task states from the board, and nothing else (docs/protocol.md 2.4).

Every REST answer and board event is checked by the protocol's field rules
(:func:`peer_client.fields.task`) before the board state keeps it, and only tasks that are known or
on this sprint's board are kept. A peer's ``task-updated`` hint is answered by asking the board,
rate-limited by :class:`~peer_client.refresh.RefreshLimiter`: the task itself when we know it
(``GET /api/tasks/{id}/``), else the backlog listing, where a task new to this board without a
board event must be.
The page's twin is ``web/static/watercooler/boardsource.js``.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Iterable
from typing import Any, Literal

from peer_client import fields
from peer_client.board_api import BoardClient
from peer_client.errors import PeerClientError
from peer_client.events import TaskEvent
from peer_client.places import place_of_task
from peer_client.refresh import BACKLOG, RefreshLimiter
from peer_client.state import BoardState

log = logging.getLogger("peer_client.session")

Emit = Callable[[str, Any], None]
Spawn = Callable[[Awaitable[Any]], None]


def checked_tasks(tasks: Iterable[object]) -> list[dict[str, Any]]:
    """The tasks of a REST load that keep the protocol's field rules (a bad record is left out)."""
    good = []
    for value in tasks:
        task, fault = fields.checked_task(value)
        if task is None:
            log.warning("a task from the board broke the protocol's rules; not used: %s", fault)
        else:
            good.append(task)
    return good


class BoardSource:
    """Keeps board-sourced task states in ``state`` and tells ``emit`` about each change."""

    def __init__(
        self,
        state: BoardState,
        board: BoardClient | None,
        sprint: int,
        emit: Emit,
        spawn: Spawn,
        limiter: RefreshLimiter | None = None,
    ) -> None:
        self.state = state
        self.board = board
        self.sprint = sprint
        self._emit = emit
        self._spawn = spawn
        self._limiter = limiter or RefreshLimiter()
        self.closed = False

    def keep(self, value: object, source: Literal["board", "self"]) -> dict[str, Any] | None:
        """Keep a task the board answered or announced, if it keeps the field rules and is known or
        on this board. Returns the checked task (None if it broke a rule)."""
        task, fault = fields.checked_task(value)
        if task is None:
            log.warning("a task from the board broke the protocol's rules; not used: %s", fault)
            return None
        known = task["id"] in self.state.tasks
        if not known and place_of_task(task, self.sprint) is None:
            return task  # another sprint's task we never had: not ours to show
        previous = self.state.apply_task(task)
        if previous is not None:
            self._emit("task-updated", TaskEvent(task, previous or None, source))
        return task

    def on_event(self, event: dict[str, Any]) -> None:
        """A board event that signaling pushed (docs/protocol.md 1.5)."""
        if event.get("model") != "task":
            self._emit("board-event", event)
            return
        if event.get("action") != "deleted":
            self.keep(event.get("task"), "board")
            return
        task, fault = fields.checked_task(event.get("task"))
        if task is None:
            log.warning("board event with a malformed task; ignored: %s", fault)
            return
        self._remove(task)

    def _remove(self, task: dict[str, Any]) -> None:
        previous = self.state.tasks.get(task["id"])
        if self.state.remove_task(task):
            self._emit("task-deleted", TaskEvent(task, previous, "board"))

    def hint(self, task_id: int, sender: str) -> None:
        """Peer ``sender`` said task ``task_id`` changed: ask the board, when the limiter
        allows."""
        if self.board is None:
            log.debug("hint about task %d: no board client to ask", task_id)
            return
        key = task_id if task_id in self.state.tasks else BACKLOG
        delay = self._limiter.hint(key, time.monotonic(), sender)
        if delay is not None:
            self._later(delay, key)

    def _later(self, delay: float, task_id: int) -> None:
        async def fetch_later() -> None:
            await asyncio.sleep(delay)
            await self._fetch(task_id)

        self._spawn(fetch_later())

    async def _fetch(self, task_id: int) -> None:
        """Ask the board for ``task_id`` (or, for :data:`BACKLOG`, the backlog listing)."""
        if self.closed or self.board is None:
            return
        self._limiter.begin(task_id, time.monotonic())
        try:
            if task_id == BACKLOG:
                for task in await self.board.backlog():
                    self.keep(task, "board")
                return
            answer = await self.board.task(task_id)
            if answer is not None:
                self.keep(answer, "board")
            elif (kept := self.state.tasks.get(task_id)) is not None:
                self._remove(kept)  # the board has no such task (any more)
        except PeerClientError as exc:
            log.info("could not fetch task %d from the board: %s", task_id, exc)
        finally:
            again = self._limiter.end(task_id, time.monotonic())
            if again is not None and not self.closed:
                self._later(again, task_id)

    def close(self) -> None:
        """Fetch nothing more (fetches already spawned end with the session's tasks)."""
        self.closed = True
