"""What a :class:`~peer_client.session.BoardSession` tells its listeners: people and events. No I/O.

Plain frozen values, built by the session from what signaling, the board and the peers said; a
listener may keep them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from peer_client.places import Place
from peer_client.presence import colour_for, initials


@dataclass(frozen=True, slots=True)
class Person:
    """Someone viewing the sprint: their peer id and who signaling says they are."""

    peer: str
    user_id: str
    name: str

    @property
    def colour(self) -> str:
        return colour_for(self.user_id)

    @property
    def initials(self) -> str:
        return initials(self.name)


@dataclass(frozen=True, slots=True)
class LinkEvent:
    person: Person
    state: Literal["connecting", "direct", "relayed", "closed"]


@dataclass(frozen=True, slots=True)
class HelloEvent:
    person: Person
    agent: str


@dataclass(frozen=True, slots=True)
class DragEvent:
    """``kind``: ``start`` (``place`` = where it was), ``hover`` (over), ``drop`` (to), ``cancel``
    (``place`` None) or ``snapshot`` (a drag already under way when our channel opened)."""

    kind: Literal["start", "hover", "drop", "cancel", "snapshot"]
    person: Person
    task: int
    task_name: str
    place: Place | None
    from_: Place | None = None


@dataclass(frozen=True, slots=True)
class TaskEvent:
    """A kept task state changed; it always comes from the board. ``source``: ``board`` (a hook
    event through signaling, or the board's answer when a peer's hint made us ask) or ``self``
    (the board's answer to our own move). No peer speaks for a task's state."""

    task: dict[str, Any]
    previous: dict[str, Any] | None
    source: Literal["board", "self"]


@dataclass(frozen=True, slots=True)
class RejectedEvent:
    person: Person
    reason: str
