"""The card this client holds, and the moves it makes with it (docs/protocol.md 2.3, 2.4).

One card at a time, as a person holds one: :meth:`OwnDrag.start` picks it up (a card held already
is put back first), :meth:`OwnDrag.hover` moves it over a place (hovers spaced at least
:data:`~peer_client.protocol.HOVER_INTERVAL` apart), :meth:`OwnDrag.cancel` puts it back, and
:meth:`OwnDrag.drop` drops it and saves the move with the board against the version the card had
when it was picked up, so a change saved meanwhile is refused (409), never overwritten. While a
card is held, :meth:`OwnDrag.keep_alive` sends its latest hover again every
:data:`~peer_client.protocol.DRAG_KEEPALIVE_SECONDS`, so peers never take it for a drag whose end
was lost. The page does the same in the user's own moves of ``web/static/watercooler/live.js``.

It only sends (the ``broadcast`` it is given) and saves (the board client): it never reads what
peers say, and the only task state it keeps is the board's answer, through
:meth:`~peer_client.board_source.BoardSource.keep`.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Sequence
from typing import Any

from peer_client import messages
from peer_client.board_api import BoardClient, MoveResult
from peer_client.board_source import BoardSource
from peer_client.errors import ActionError
from peer_client.messages import DragInfo
from peer_client.places import Place
from peer_client.protocol import DRAG_KEEPALIVE_SECONDS, HOVER_INTERVAL
from peer_client.state import BoardState

Broadcast = Callable[[messages.Message], object]


class OwnDrag:
    """Our drag in progress on the board of ``sprint``, and the moves that start and end it."""

    def __init__(
        self,
        state: BoardState,
        source: BoardSource,
        board: BoardClient | None,
        sprint: int,
        broadcast: Broadcast,
    ) -> None:
        self.state = state
        self.source = source
        self.board = board
        self.sprint = sprint
        self._broadcast = broadcast
        self.held: DragInfo | None = None
        """The card we hold (one at a time, as a person does), and the version it had when we
        picked it up: the move is saved against that version (docs/protocol.md 2.4)."""
        self._version = 0
        self._last_hover = 0.0

    def _task(self, task_id: int) -> dict[str, Any]:
        task = self.state.tasks.get(task_id)
        if task is None or self.state.place_of(task_id) is None:
            raise ActionError(f"task {task_id} is not on sprint {self.sprint} or the backlog")
        return task

    def check_place(self, place: Place) -> None:
        """Raise :class:`ActionError` if ``place`` is beyond the end of its column."""
        size = len(self.state.column(place.column))
        if place.index > size:
            raise ActionError(f"{place} is past the end of {place.column} ({size} tasks)")

    def snapshot(self) -> tuple[DragInfo, ...]:
        """Our drag in progress, as a snapshot lists it (none or one)."""
        return () if self.held is None else (self.held,)

    def start(self, task_id: int) -> Place:
        """Pick a card up (others see it held); returns where it was. A card held already is
        put back first: one hand, one card."""
        task = self._task(task_id)
        origin = self.state.place_of(task_id)
        assert origin is not None
        if self.held is not None:
            self.cancel(self.held.task)
        self.held = DragInfo(task_id, origin, origin)
        self._version = task["version"]
        self._last_hover = time.monotonic()
        self._broadcast(messages.DragStart(task_id, task["version"], origin))
        return origin

    async def hover(self, task_id: int, over: Place) -> None:
        """Move a held card over ``over``: hovers at least
        :data:`~peer_client.protocol.HOVER_INTERVAL` apart (at most 30 a second, as the protocol
        asks)."""
        held = self.held
        if held is None or held.task != task_id:
            raise ActionError(f"task {task_id} is not being dragged")
        wait = self._last_hover + HOVER_INTERVAL - time.monotonic()
        if wait > 0:
            await asyncio.sleep(wait)
        self._last_hover = time.monotonic()
        if self.held is held:
            self.held = DragInfo(task_id, held.from_, over)
        self._broadcast(messages.DragHover(task_id, over))

    def cancel(self, task_id: int) -> None:
        """Put a held card back where it was."""
        if self.held is not None and self.held.task == task_id:
            self.held = None
            self._broadcast(messages.DragCancel(task_id))

    def keep_alive(self, now: float) -> None:
        """Say again where a held card is, if nothing was said of it for
        :data:`~peer_client.protocol.DRAG_KEEPALIVE_SECONDS`, so that ours never looks silent."""
        held = self.held
        if held is not None and now - self._last_hover >= DRAG_KEEPALIVE_SECONDS:
            self._last_hover = now
            self._broadcast(messages.DragHover(held.task, held.over))

    async def drop(self, task_id: int, to: Place) -> MoveResult:
        """Drop a held card on ``to`` and save the move (docs/protocol.md 2.4) against the version
        it had when it was picked up: a change saved meanwhile is refused (409), not overwritten.
        A card not held is picked up first (others take a drop only of a card its sender held)."""
        self._task(task_id)
        if self.board is None:
            raise ActionError("this session has no board client to save moves with")
        if self.held is None or self.held.task != task_id:
            self.start(task_id)
        self.held = None
        version = self._version
        self._broadcast(messages.DragDrop(task_id, to, version))
        self.state.add_overlay(task_id, to, version, None, time.monotonic())
        try:
            result = await self.board.move(task_id, to, self.sprint, version)
        except BaseException:
            # Not saved (the board could not be reached, or we are stopping): withdraw the drop
            # now, so nobody shows it as pending until its overlay expires.
            self.state.overlays.pop(task_id, None)
            self._broadcast(messages.DragCancel(task_id))
            raise
        kept = self.source.keep(result.task, "self") if result.task is not None else None
        if kept is not None:
            # The kept state settled the overlay, unless it was not newer than ours.
            self.state.overlays.pop(task_id, None)
            self._broadcast(messages.TaskUpdated(kept))
        else:
            self.state.overlays.pop(task_id, None)
            self._broadcast(messages.DragCancel(task_id))
        return result

    async def move(
        self, task_id: int, to: Place, *, over: Sequence[Place] = (), step: float = 0.0
    ) -> MoveResult:
        """Drag a card as a person would: pick it up, hover over ``over`` then ``to``, drop."""
        self._task(task_id)
        self.start(task_id)
        try:
            for place in (*over, to):
                await asyncio.sleep(step)
                await self.hover(task_id, place)
            await asyncio.sleep(step)
        except BaseException:
            self.cancel(task_id)
            raise
        return await self.drop(task_id, to)
