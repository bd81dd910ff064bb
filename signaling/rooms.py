"""Sprint rooms: who is in which sprint, and who may address whom. No I/O.

:class:`Rooms` is a plain object: the server feeds it joins, leaves and addressing questions, and it
answers with decisions (the peer id to use, who must be told what). It never sends anything itself,
so it is tested without sockets and a refused operation leaves it unchanged.

Rules it enforces:
- Peer ids are chosen here, never by a client (a resumed id is one this server issued; the caller
  checks the resume token before asking).
- A peer can only address peers of its own sprint; ids of other sprints are indistinguishable from
  ids that do not exist.
- Limits: peers per sprint, number of rooms.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

from signaling.errors import CapacityExceeded, RoutingError


def random_peer_id() -> str:
    """96 random bits, URL-safe: unguessable, short enough for logs."""
    return secrets.token_urlsafe(12)


@dataclass(frozen=True, slots=True)
class Member:
    """One peer in one sprint. ``connection`` tells apart successive sockets of a resumed peer."""

    peer: str
    sprint: str
    user_id: str
    name: str
    connection: int

    def public(self) -> dict[str, object]:
        """The peer as others see it in ``welcome.peers``."""
        return {"peer": self.peer, "user": {"id": self.user_id, "name": self.name}}


@dataclass(frozen=True, slots=True)
class Admission:
    """The outcome of a join.

    ``others`` are the members already in the sprint (for ``welcome``); they get ``peer-joined``
    unless ``replaced`` is set, in which case the peer resumed over a live connection that the
    caller must close without telling anyone (the peer never left).
    """

    member: Member
    others: tuple[Member, ...]
    replaced: Member | None = None


@dataclass(slots=True)
class Rooms:
    """All sprint rooms of this server."""

    max_peers_per_sprint: int = 50
    max_rooms: int = 10_000
    new_peer_id: Callable[[], str] = random_peer_id
    _rooms: dict[str, dict[str, Member]] = field(default_factory=dict)
    _members: dict[str, Member] = field(default_factory=dict)

    @property
    def room_count(self) -> int:
        return len(self._rooms)

    @property
    def peer_count(self) -> int:
        return len(self._members)

    def join(
        self,
        *,
        sprint: str,
        user_id: str,
        name: str,
        connection: int,
        resume_peer: str | None = None,
    ) -> Admission:
        """Admit a connection to a sprint, or raise :class:`CapacityExceeded`."""
        room = self._rooms.get(sprint)
        existing = self._members.get(resume_peer) if resume_peer else None
        if existing is not None and existing.sprint != sprint:
            existing, resume_peer = None, None  # a token for another sprint cannot steal an id
        if existing is not None:
            assert room is not None
            member = Member(resume_peer or existing.peer, sprint, user_id, name, connection)
            room[member.peer] = member
            self._members[member.peer] = member
            others = tuple(m for m in room.values() if m.peer != member.peer)
            return Admission(member=member, others=others, replaced=existing)
        if room is None and len(self._rooms) >= self.max_rooms:
            raise CapacityExceeded(
                f"server holds its maximum of {self.max_rooms} sprint rooms", code="server-full"
            )
        if room is not None and len(room) >= self.max_peers_per_sprint:
            raise CapacityExceeded(
                f"sprint room is full ({self.max_peers_per_sprint} peers)", code="room-full"
            )
        peer = resume_peer if resume_peer and resume_peer not in self._members else None
        while peer is None or peer in self._members:
            peer = self.new_peer_id()
        member = Member(peer, sprint, user_id, name, connection)
        others = tuple(room.values()) if room else ()
        self._rooms.setdefault(sprint, {})[peer] = member
        self._members[peer] = member
        return Admission(member=member, others=others)

    def leave(self, peer: str, connection: int) -> tuple[Member, ...]:
        """Remove a peer if ``connection`` still owns it; return who must get ``peer-left``.

        A connection that was replaced by a resume owns nothing any more: its late leave is a no-op.
        """
        member = self._members.get(peer)
        if member is None or member.connection != connection:
            return ()
        del self._members[peer]
        room = self._rooms[member.sprint]
        del room[peer]
        if not room:
            del self._rooms[member.sprint]
            return ()
        return tuple(room.values())

    def route(self, sender: str, recipient: str) -> Member:
        """The member ``sender`` may address as ``recipient``, or raise :class:`RoutingError`."""
        source = self._members.get(sender)
        target = self._members.get(recipient)
        if source is None:
            raise RoutingError("you have not joined a sprint", code="not-joined")
        if recipient == sender:
            raise RoutingError("a peer cannot address itself", code="self-addressed")
        if target is None or target.sprint != source.sprint:
            raise RoutingError(
                f"no peer {recipient[:64]!r} in your sprint (it may have left)",
                code="unknown-peer",
            )
        return target

    def members(self, sprint: str) -> tuple[Member, ...]:
        room = self._rooms.get(sprint)
        return tuple(room.values()) if room else ()

    def member(self, peer: str) -> Member | None:
        return self._members.get(peer)

    def __iter__(self) -> Iterator[Member]:
        return iter(tuple(self._members.values()))
