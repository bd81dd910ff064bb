"""What a peer's message may change in a session (docs/protocol.md 2.4). No I/O.

Every peer is untrusted. A message speaks only for its sender's own actions: its drags (of tasks on
this board), its drop (an overlay, never saved by us), its hello. A peer's ``task-updated`` is a
hint and never reaches the kept task states, which come from the board alone: :func:`apply`
answers it with a task to ask the board about. The session feeds this module messages that
:func:`peer_client.protocol.parse_message` already checked and does the I/O it asks for.
``web/static/watercooler/peerinput.js`` is the page's twin.

This module must not import aiortc, aiohttp or asyncio.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from peer_client import messages
from peer_client.places import Place
from peer_client.state import BoardState, Drag

DragKind = Literal["start", "hover", "drop", "cancel", "snapshot"]


@dataclass(frozen=True, slots=True)
class DragChange:
    """A drag of the sender that changed: what to tell the session's listeners."""

    kind: DragKind
    task: int
    place: Place | None
    from_: Place | None


@dataclass(slots=True)
class PeerEffect:
    """What one message changed and what the session should do about it."""

    drags: list[DragChange] = field(default_factory=list)
    hint: int | None = None
    """A task to ask the board about (a peer said it changed)."""
    pong: float | None = None
    agent: str | None = None
    left_drags: list[Drag] = field(default_factory=list)
    """Drags that ended because the sender said ``bye``."""


def apply(state: BoardState, peer: str, message: messages.Message, now: float) -> PeerEffect:
    """Apply one checked message from ``peer`` to ``state``; returns what changed."""
    effect = PeerEffect()
    # Any word from the sender: its drag in progress is not a lost one.
    state.heard_from(peer, now)
    if isinstance(message, messages.Hello):
        effect.agent = message.agent
    elif isinstance(message, messages.Snapshot):
        # One drag per sender: the last of the snapshot's drags on this board. A drag already
        # known is not announced again; a snapshot without one ends the sender's drag.
        before = state.drags.get(peer)
        on_board = [d for d in message.drags if state.is_on_board(d.task)]
        now_held = state.replace_drags(
            peer,
            [Drag(peer, d.task, d.from_, d.over, pointer=d.pointer, heard=now) for d in on_board],
        )
        if now_held is None and before is not None:
            effect.drags.append(DragChange("cancel", before.task, None, before.from_))
        elif now_held is not None and (before is None or before.task != now_held.task):
            effect.drags.append(
                DragChange("snapshot", now_held.task, now_held.over, now_held.from_)
            )
    elif isinstance(message, messages.DragStart):
        # One drag per sender: a start replaces the sender's drag in progress. A start of the
        # card it holds already is that same drag: announced once, not per message.
        if state.is_on_board(message.task):
            before = state.drags.get(peer)
            state.drag_start(peer, message.task, message.from_, message.version, now)
            if before is None or before.task != message.task:
                effect.drags.append(DragChange("start", message.task, message.from_, message.from_))
    elif isinstance(message, messages.DragHover):
        # Only a drag the sender started (drag-start or snapshot) follows its hovers; one that
        # only moves the pointer is kept, not announced (a pointer sends up to 30 a second).
        before = state.drags.get(peer)
        hovering = state.drag_hover(peer, message.task, message.over, message.pointer)
        if hovering is not None and before is not None and before.over != message.over:
            effect.drags.append(DragChange("hover", message.task, message.over, hovering.from_))
    elif isinstance(message, messages.DragDrop):
        # A drop ends the drag its sender holds; a drop of a card the sender does not hold (no
        # drag-start or snapshot for it) is ignored, so no peer can mark cards it never held.
        ended = state.drag_end(peer, message.task)
        if ended is not None:
            state.add_overlay(message.task, message.to, message.version, peer, now)
            effect.drags.append(DragChange("drop", message.task, message.to, ended.from_))
    elif isinstance(message, messages.DragCancel):
        ended = state.drag_end(peer, message.task)
        overlay = state.overlays.get(message.task)
        withdrawn = overlay is not None and overlay.peer == peer
        if withdrawn:
            del state.overlays[message.task]
        if ended is not None or withdrawn:
            # A cancel after a drop withdraws the drop (its sender could not save it).
            from_ = ended.from_ if ended is not None else None
            effect.drags.append(DragChange("cancel", message.task, None, from_))
    elif isinstance(message, messages.TaskUpdated):
        task_id, version = message.task["id"], message.task["version"]
        kept = state.tasks.get(task_id)
        if kept is None or version > kept["version"]:
            effect.hint = task_id
    elif isinstance(message, messages.Bye):
        # The sender's drags and drops end now; presence is signaling's business (peer-left).
        effect.left_drags = state.forget_peer(peer)
        state.drop_overlays_by(peer)
    elif isinstance(message, messages.Ping):
        effect.pong = message.t
    return effect
