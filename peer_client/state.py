"""What one client believes about a sprint board: tasks, drags by others, pending drops. No I/O.

- **Tasks** are kept by id with the highest ``version`` the board gave (REST answers, board
  ``event`` s from signaling); a state whose version is not higher than the kept one changes
  nothing (docs/protocol.md 2.4). The caller hands this class only what the board said, checked by
  :func:`peer_client.fields.task`: a peer's ``task-updated`` is a hint and never reaches it.
- **Drags** are the cards other peers hold right now: one per peer, its latest (a person holds one
  card), of tasks on this board only (:meth:`BoardState.is_on_board`). A drag ends when nothing
  at all was heard from its peer for :data:`~peer_client.protocol.DRAG_SILENCE_SECONDS` (its end
  was lost).
- **Overlays** are dropped cards shown at their new place until a newer version settles them or
  :data:`~peer_client.protocol.OVERLAY_SECONDS` pass. A peer has at most one (its latest drop),
  and no drop of a card at one version is shown longer than that after the first: repeating it
  never extends it (docs/protocol.md 2.4).

Time is passed in (``now``), so expiry is tested without sleeping.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from peer_client.places import Place, Pointer, place_of_task
from peer_client.protocol import DRAG_SILENCE_SECONDS, OVERLAY_SECONDS


@dataclass(frozen=True, slots=True)
class Drag:
    """A card another peer is holding; ``pointer`` is where their pointer is, if they said;
    ``heard`` when anything was last heard from that peer."""

    peer: str
    task: int
    from_: Place
    over: Place
    version: int | None = None
    pointer: Pointer | None = None
    heard: float = 0.0


@dataclass(frozen=True, slots=True)
class Overlay:
    """A dropped card shown at ``place`` until a version above ``version`` arrives or it expires."""

    task: int
    place: Place
    version: int
    peer: str | None
    expires: float


class BoardState:
    """Tasks of one sprint (and the backlog), drags by others and pending drops."""

    def __init__(self, sprint: int, tasks: list[dict[str, Any]] | None = None) -> None:
        self.sprint = sprint
        self.tasks: dict[int, dict[str, Any]] = {}
        self.drags: dict[str, Drag] = {}
        """By peer: the card each one holds."""
        self.overlays: dict[int, Overlay] = {}
        self._drop_deadlines: dict[int, tuple[int, float]] = {}
        """Per task, the version kept at a peer's first drop of it and that drop's deadline."""
        for task in tasks or ():
            self.apply_task(task)

    # --- tasks -------------------------------------------------------------------------------

    def apply_task(self, task: dict[str, Any]) -> dict[str, Any] | None:
        """Keep ``task`` if its version is newer; returns the state it replaced (``{}`` if none).

        Returns None when the task was ignored (not newer). A kept state settles an overlay whose
        dropped version it exceeds.
        """
        task_id, version = task["id"], task["version"]
        kept = self.tasks.get(task_id)
        if kept is not None and version <= kept["version"]:
            return None
        self.tasks[task_id] = task
        self._drop_deadlines.pop(task_id, None)
        overlay = self.overlays.get(task_id)
        if overlay is not None and version > overlay.version:
            del self.overlays[task_id]
        return kept if kept is not None else {}

    def is_on_board(self, task_id: int) -> bool:
        """Is the task kept and on this sprint's board (the sprint or the backlog)?"""
        task = self.tasks.get(task_id)
        return task is not None and place_of_task(task, self.sprint) is not None

    def remove_task(self, task: dict[str, Any]) -> bool:
        """Forget a deleted task (unless we hold a newer version); True if it was removed."""
        kept = self.tasks.get(task["id"])
        if kept is None or kept["version"] > task.get("version", 0):
            return False
        del self.tasks[task["id"]]
        self.overlays.pop(task["id"], None)
        self._drop_deadlines.pop(task["id"], None)
        return True

    def place_of(self, task_id: int) -> Place | None:
        """Where a task is shown: its pending drop if any, else its kept place; None if not here."""
        overlay = self.overlays.get(task_id)
        if overlay is not None:
            return overlay.place
        task = self.tasks.get(task_id)
        return place_of_task(task, self.sprint) if task is not None else None

    def column(self, column: str) -> list[dict[str, Any]]:
        """The kept tasks of one column in board order (position, then id)."""
        tasks = [
            task
            for task in self.tasks.values()
            if (place := place_of_task(task, self.sprint)) is not None and place.column == column
        ]
        return sorted(tasks, key=lambda task: (task.get("position", 0), task["id"]))

    def name_of(self, task_id: int) -> str:
        task = self.tasks.get(task_id)
        return str(task.get("name", "")) if task is not None else ""

    # --- drags by others ---------------------------------------------------------------------

    def drag_start(
        self, peer: str, task: int, from_: Place, version: int | None = None, now: float = 0.0
    ) -> Drag:
        """``peer`` picked ``task`` up: this is its drag now (it replaces any other)."""
        drag = Drag(peer, task, from_, from_, version, heard=now)
        self.drags[peer] = drag
        return drag

    def drag_hover(
        self, peer: str, task: int, over: Place, pointer: Pointer | None = None
    ) -> Drag | None:
        """Move a drag's hover place and pointer; None (ignored) if ``peer`` is not dragging
        ``task``."""
        previous = self.drags.get(peer)
        if previous is None or previous.task != task:
            return None
        drag = replace(previous, over=over, pointer=pointer)
        self.drags[peer] = drag
        return drag

    def drag_end(self, peer: str, task: int) -> Drag | None:
        """``peer``'s drag of ``task`` ends (dropped or cancelled); returns it if there was one."""
        drag = self.drags.get(peer)
        if drag is None or drag.task != task:
            return None
        return self.drags.pop(peer)

    def replace_drags(self, peer: str, drags: list[Drag]) -> Drag | None:
        """A snapshot: ``peer`` drags the last of ``drags`` now, or nothing; returns that."""
        self.forget_peer(peer)
        if drags:
            self.drags[peer] = drags[-1]
        return self.drags.get(peer)

    def drags_of(self, peer: str) -> list[Drag]:
        """``peer``'s drag in progress, as a list (none or one)."""
        drag = self.drags.get(peer)
        return [] if drag is None else [drag]

    def heard_from(self, peer: str, now: float) -> None:
        """Something was heard from ``peer``: its drag is not a lost one."""
        drag = self.drags.get(peer)
        if drag is not None:
            self.drags[peer] = replace(drag, heard=now)

    def expire_drags(self, now: float) -> list[Drag]:
        """End the drags of peers not heard from for :data:`DRAG_SILENCE_SECONDS`; returns them."""
        silent = [d for d in self.drags.values() if d.heard + DRAG_SILENCE_SECONDS <= now]
        for drag in silent:
            del self.drags[drag.peer]
        return silent

    def forget_peer(self, peer: str) -> list[Drag]:
        """Drop the drag of a peer that left; returns it (as a list: none or one)."""
        drag = self.drags.pop(peer, None)
        return [] if drag is None else [drag]

    # --- pending drops -----------------------------------------------------------------------

    def add_overlay(
        self, task: int, place: Place, version: int, peer: str | None, now: float
    ) -> Overlay | None:
        """Show a drop at once, until a board state newer than the one kept now (or the deadline).

        None if the task is not on this board, or the drop is older than the kept state (stale). A
        drop naming a newer version than we hold is settled by the next board state all the same,
        so no version a peer names can make an overlay outlive the board's next word.

        A peer's drop (``peer`` not None; None is our own) replaces that peer's other overlay (one
        each), never covers our own drop still being saved, and ends no later than
        :data:`~peer_client.protocol.OVERLAY_SECONDS` after the first drop of that card at the
        version kept now: a repeat never extends it.
        """
        kept = self.tasks.get(task)
        if kept is None or not self.is_on_board(task) or kept["version"] > version:
            return None
        expires = now + OVERLAY_SECONDS
        if peer is not None:
            self.drop_overlays_by(peer)
            mine = self.overlays.get(task)
            if mine is not None and mine.peer is None:
                return None
            first = self._drop_deadlines.get(task)
            if first is not None and first[0] == kept["version"]:
                expires = first[1]
            else:
                self._drop_deadlines[task] = (kept["version"], expires)
            if expires <= now:
                return None
        overlay = Overlay(task, place, kept["version"], peer, expires)
        self.overlays[task] = overlay
        return overlay

    def drop_overlays_by(self, peer: str) -> list[Overlay]:
        """Drop every overlay shown for ``peer`` (its cancel or bye); returns them."""
        gone = [overlay for overlay in self.overlays.values() if overlay.peer == peer]
        for overlay in gone:
            del self.overlays[overlay.task]
        return gone

    def expire_overlays(self, now: float) -> list[Overlay]:
        """Drop overlays older than their deadline; returns them (the kept state shows again)."""
        expired = [overlay for overlay in self.overlays.values() if overlay.expires <= now]
        for overlay in expired:
            del self.overlays[overlay.task]
        return expired
