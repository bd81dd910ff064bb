"""Who else is in the sprint: the people signaling introduced, and the presence list. No I/O.

A person's name and user id come from signaling (``welcome``, ``peer-joined``), which took them
from the ticket, never from a peer's message (docs/protocol.md 2.2). Present is every peer
signaling lists now, and every peer we hold an open channel to, since a channel keeps its peer
shown while signaling itself is away (docs/protocol.md 2.5); ourselves excepted, ordered by name.
:meth:`Roster.update` says who arrived and who left since the last list.

It decides nothing about links or drags, and tells no listener: the session does both with what
:meth:`Roster.update` answers.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from peer_client.events import Person


@dataclass(frozen=True, slots=True)
class PresenceChange:
    """Who arrived (in presence order) and who left, after the list changed."""

    arrived: list[str]
    left: set[str]


class Roster:
    """People by peer id, the peers signaling lists, and who is present."""

    def __init__(self) -> None:
        self.people: dict[str, Person] = {}
        self.listed: set[str] = set()
        """The peers signaling lists now: ``welcome``'s, and each ``peer-joined`` since."""
        self.present: tuple[str, ...] = ()
        """Everyone else viewing the sprint, by name."""

    def remember(self, peer: str, user: object) -> None:
        """Keep who ``peer`` is, from signaling's ``user`` object."""
        if isinstance(user, dict):
            self.people[peer] = Person(peer, str(user.get("id", "")), str(user.get("name", "")))

    def person(self, peer: str) -> Person:
        return self.people.get(peer) or Person(peer, "", peer[:8])

    def presence(self) -> dict[str, Person]:
        """Everyone else viewing the sprint, by peer id."""
        return {peer: self.people[peer] for peer in self.present}

    def update(self, linked: Iterable[str], me: str) -> PresenceChange | None:
        """Present is now the listed peers and ``linked`` (those with an open channel), without
        ``me``; None if that is who was present already."""
        present = self.listed | set(linked)
        present.discard(me)
        ordered = tuple(sorted(present, key=lambda p: (self.person(p).name, p)))
        if ordered == self.present:
            return None
        before = set(self.present)
        self.present = ordered
        return PresenceChange(
            [peer for peer in ordered if peer not in before], before - set(ordered)
        )
