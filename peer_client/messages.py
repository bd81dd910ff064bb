"""The data-channel messages (docs/protocol.md 2.3) as small immutable values. No I/O.

One class per message type, each with the fields section 2.3 gives it and :meth:`fields`, which
writes them as the JSON object goes on the wire (without the envelope's ``type`` and ``id``), and
:class:`DragInfo`, one drag in a snapshot. :data:`Message` is any of them.

Reading a message from a frame, and checking one before it is sent, is
:mod:`peer_client.protocol`'s job, not this module's: a value built here is not yet known to keep
the rules. This module must not import aiortc, aiohttp or asyncio.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from peer_client.places import Place, Pointer


@dataclass(frozen=True, slots=True)
class DragInfo:
    """One drag in progress, as a snapshot lists it."""

    task: int
    from_: Place
    over: Place
    pointer: Pointer | None = None

    def to_json(self) -> dict[str, Any]:
        drag = {"task": self.task, "from": self.from_.to_json(), "over": self.over.to_json()}
        if self.pointer is not None:
            drag["pointer"] = self.pointer.to_json()
        return drag


@dataclass(frozen=True, slots=True)
class Hello:
    agent: str
    """Ours send ``"web"`` or ``"bot"``; another client may name itself (docs/protocol.md 2.3)."""
    type: Literal["hello"] = "hello"

    def fields(self) -> dict[str, Any]:
        return {"agent": self.agent}


@dataclass(frozen=True, slots=True)
class Snapshot:
    drags: tuple[DragInfo, ...]
    type: Literal["snapshot"] = "snapshot"

    def fields(self) -> dict[str, Any]:
        return {"drags": [drag.to_json() for drag in self.drags]}


@dataclass(frozen=True, slots=True)
class DragStart:
    task: int
    version: int
    from_: Place
    type: Literal["drag-start"] = "drag-start"

    def fields(self) -> dict[str, Any]:
        return {"task": self.task, "version": self.version, "from": self.from_.to_json()}


@dataclass(frozen=True, slots=True)
class DragHover:
    task: int
    over: Place
    pointer: Pointer | None = None
    """*(extension)* the sender's pointer in board terms, when a pointer drags the card."""
    type: Literal["drag-hover"] = "drag-hover"

    def fields(self) -> dict[str, Any]:
        hover = {"task": self.task, "over": self.over.to_json()}
        if self.pointer is not None:
            hover["pointer"] = self.pointer.to_json()
        return hover


@dataclass(frozen=True, slots=True)
class DragDrop:
    task: int
    to: Place
    version: int
    type: Literal["drag-drop"] = "drag-drop"

    def fields(self) -> dict[str, Any]:
        return {"task": self.task, "to": self.to.to_json(), "version": self.version}


@dataclass(frozen=True, slots=True)
class DragCancel:
    task: int
    type: Literal["drag-cancel"] = "drag-cancel"

    def fields(self) -> dict[str, Any]:
        return {"task": self.task}


@dataclass(frozen=True, slots=True)
class TaskUpdated:
    task: dict[str, Any]
    type: Literal["task-updated"] = "task-updated"

    def fields(self) -> dict[str, Any]:
        return {"task": self.task}


@dataclass(frozen=True, slots=True)
class Bye:
    type: Literal["bye"] = "bye"

    def fields(self) -> dict[str, Any]:
        return {}


@dataclass(frozen=True, slots=True)
class Ping:
    t: float
    type: Literal["ping"] = "ping"

    def fields(self) -> dict[str, Any]:
        return {"t": self.t}


@dataclass(frozen=True, slots=True)
class Pong:
    t: float
    type: Literal["pong"] = "pong"

    def fields(self) -> dict[str, Any]:
        return {"t": self.t}


Message = (
    Hello
    | Snapshot
    | DragStart
    | DragHover
    | DragDrop
    | DragCancel
    | TaskUpdated
    | Bye
    | Ping
    | Pong
)
