"""What a :class:`~peer_client.session.BoardSession` tells its listeners: people and events. No I/O.

Plain frozen values, built by the session from what signaling, the board and the peers said; a
listener may keep them. The events, by the name :meth:`~peer_client.session.BoardSession.on`
subscribes to, and their payloads:

=================  ===========================================================================
``joined``         :class:`Person` — we are in the sprint (our own person)
``presence``       ``tuple[Person, ...]`` — everyone else viewing the sprint, after each change
``peer-joined``    :class:`Person` — someone arrived
``peer-left``      :class:`Person` — someone left (signaling's ``peer-left``)
``link``           :class:`LinkEvent` — our link to a person: connecting, direct, relayed, closed
``hello``          :class:`HelloEvent` — a person's client introduced itself on its channel
``drag``           :class:`DragEvent` — someone picked up, hovered, dropped or put back a card
``task-updated``   :class:`TaskEvent` — a newer board state of a task was kept
``task-deleted``   :class:`TaskEvent` — the board deleted a task
``overlay-expired`` :class:`~peer_client.state.Overlay` — a drop was not settled within 10 s
``signaling``      ``str`` — the signaling connection's new state (joined, reconnecting, ...)
``rejected``       :class:`RejectedEvent` — a malformed message from a peer was dropped
=================  ===========================================================================

This module decides no event: the session and its parts do.
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
