"""Sprint rooms: who is in which sprint, and who may address whom. No I/O.

:class:`Rooms` is a plain object: the server feeds it joins, leaves and addressing questions, and it
answers with decisions (the peer id to use, who must be told what). It never sends anything itself,
so it is tested without sockets and a refused operation leaves it unchanged.

With several signaling instances (see ``broker``), a room also holds the *remote* members of its
sprint, learned from the broker, each tagged with the instance that holds its socket. A room exists
while it has at least one local member; remote members of sprints without local members are of no
interest here and are not kept.

Rules it enforces:
- Peer ids are chosen here, never by a client (a resumed id is one this cluster issued; the caller
  checks the resume token before asking).
- A peer can only address peers of its own sprint; ids of other sprints are indistinguishable from
  ids that do not exist.
- Limits: peers per sprint (local and remote together), peers per user in one sprint (so one
  ticket cannot fill a room), number of rooms.
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
    """One peer in one sprint.

    ``instance`` names the signaling instance holding the peer's socket; ``connection`` tells apart
    successive sockets of a resumed peer on that instance.
    """

    peer: str
    sprint: str
    user_id: str
    name: str
    connection: int
    instance: str = ""

    def public(self) -> dict[str, object]:
        """The peer as others see it in ``welcome.peers``."""
        return {"peer": self.peer, "user": {"id": self.user_id, "name": self.name}}

    def same_socket(self, other: Member) -> bool:
        return (self.instance, self.connection) == (other.instance, other.connection)


@dataclass(frozen=True, slots=True)
class Admission:
    """The outcome of a join.

    ``others`` are the members already in the sprint (for ``welcome``); they get ``peer-joined``
    unless ``replaced`` is set, in which case the peer resumed over a connection (here or on
    another instance) that the caller must retire without telling anyone: the peer never left.
    """

    member: Member
    others: tuple[Member, ...]
    replaced: Member | None = None


@dataclass(slots=True)
class Rooms:
    """All sprint rooms of this instance."""

    max_peers_per_sprint: int = 50
    max_peers_per_user: int = 10
    max_rooms: int = 10_000
    instance: str = ""
    new_peer_id: Callable[[], str] = random_peer_id
    _rooms: dict[str, dict[str, Member]] = field(default_factory=dict)
    _members: dict[str, Member] = field(default_factory=dict)
    _local_peers: set[str] = field(default_factory=set)  # kept, not counted: joins ask often
    # Sprints a local join is entering (it awaits the broker) whose room does not exist yet, and
    # the remote members announced meanwhile: without them a peer joining on another instance at
    # that moment is missed for good (its notice finds no room here, our directory read missed it).
    _entering: dict[str, int] = field(default_factory=dict)
    _early: dict[str, dict[str, Member]] = field(default_factory=dict)

    @property
    def room_count(self) -> int:
        return len(self._rooms)

    @property
    def peer_count(self) -> int:
        """Local peers: those whose socket is on this instance."""
        return len(self._local_peers)

    def is_local(self, member: Member) -> bool:
        return member.instance == self.instance

    def join(
        self,
        *,
        sprint: str,
        user_id: str,
        name: str,
        connection: int,
        resume_peer: str | None = None,
        known_remote: tuple[Member, ...] | list[Member] = (),
    ) -> Admission:
        """Admit a local connection to a sprint, or raise :class:`CapacityExceeded`.

        ``known_remote`` are the sprint's members on other instances as the broker reported them;
        they count towards the sprint's limit and are listed in the admission's ``others``.
        """
        room = dict(self._rooms.get(sprint, {}))
        learned: list[Member] = []  # remote members new to the room, indexed with the joiner
        for remote in (*known_remote, *self._early.get(sprint, {}).values()):
            if remote.sprint == sprint and not self.is_local(remote) and remote.peer not in room:
                room[remote.peer] = remote
                learned.append(remote)
        existing = room.get(resume_peer) if resume_peer else None
        if existing is not None and existing.user_id != user_id:
            existing, resume_peer = None, None  # a token for another user cannot steal an id
        if existing is None:
            if sprint not in self._rooms and len(self._rooms) >= self.max_rooms:
                raise CapacityExceeded(
                    f"server holds its maximum of {self.max_rooms} sprint rooms",
                    code="server-full",
                )
            if len(room) >= self.max_peers_per_sprint:
                raise CapacityExceeded(
                    f"sprint room is full ({self.max_peers_per_sprint} peers)", code="room-full"
                )
            if sum(m.user_id == user_id for m in room.values()) >= self.max_peers_per_user:
                raise CapacityExceeded(
                    f"this user already has {self.max_peers_per_user} peers in this sprint "
                    "(close another tab or bot first)",
                    code="user-full",
                )
        if existing is not None:
            peer = existing.peer
        elif resume_peer and resume_peer not in self._members and resume_peer not in room:
            peer = resume_peer  # an id this cluster issued, free again (e.g. after a restart)
        else:
            peer = self.new_peer_id()
            while peer in self._members or peer in room:
                peer = self.new_peer_id()
        member = Member(peer, sprint, user_id, name, connection, self.instance)
        others = tuple(m for m in room.values() if m.peer != peer)
        room[peer] = member
        self._rooms[sprint] = room
        # The members already in the room are indexed since they came; only the new ones are.
        for remote in learned:
            self._put(remote)
        self._put(member)
        return Admission(member=member, others=others, replaced=existing)

    def leave(self, peer: str, connection: int) -> tuple[Member, ...] | None:
        """Remove a local peer if ``connection`` still owns it; return who must get ``peer-left``.

        None means nothing was removed: the connection was replaced by a resume (here or on another
        instance) and owns nothing any more. When the last local member leaves, the room and its
        remote members are forgotten.
        """
        member = self._members.get(peer)
        if member is None or member.connection != connection or not self.is_local(member):
            return None
        return self._remove(member)

    def _put(self, member: Member) -> None:
        self._members[member.peer] = member
        if self.is_local(member):
            self._local_peers.add(member.peer)
        else:
            self._local_peers.discard(member.peer)

    def _remove(self, member: Member) -> tuple[Member, ...]:
        del self._members[member.peer]
        self._local_peers.discard(member.peer)
        room = self._rooms[member.sprint]
        del room[member.peer]
        local = tuple(m for m in room.values() if self.is_local(m))
        if not local:
            self._forget(member.sprint)
        return local

    def _forget(self, sprint: str) -> None:
        """The room has no local member left: it and its remote members are of no interest."""
        for remote in self._rooms.pop(sprint).values():
            del self._members[remote.peer]

    # --- joins in progress --------------------------------------------------------------------

    def begin_entering(self, sprint: str) -> None:
        """A local join into ``sprint`` is about to ask the broker who is there; from now until
        :meth:`end_entering`, remote members announced for it are kept for that join."""
        self._entering[sprint] = self._entering.get(sprint, 0) + 1

    def end_entering(self, sprint: str) -> None:
        """That join is in its room (or failed): announcements need the room from now on."""
        count = self._entering.get(sprint, 0) - 1
        if count > 0:
            self._entering[sprint] = count
        else:
            self._entering.pop(sprint, None)
            self._early.pop(sprint, None)

    # --- remote members (from the broker) -----------------------------------------------------

    def add_remote(self, member: Member) -> tuple[Member, ...]:
        """Record a member held by another instance; return local members to tell it joined.

        Nothing is returned when the peer was already known (it moved instances on a resume, or
        this is a repeated announcement), or when this instance has no room for that sprint.
        A local peer that moved away this way may have been the room's last local member: see
        :meth:`vacate`.
        """
        room = self._rooms.get(member.sprint)
        if self.is_local(member):
            return ()
        if room is None:
            if member.sprint in self._entering:
                self._early.setdefault(member.sprint, {})[member.peer] = member
            return ()
        known = self._members.get(member.peer)
        if known is not None and known.sprint != member.sprint:
            return ()
        room[member.peer] = member
        self._put(member)
        if known is not None:
            return ()  # moved instances on a resume, or announced twice: the peer never left
        return tuple(m for m in room.values() if self.is_local(m))

    def remove_remote(self, member: Member) -> tuple[Member, ...] | None:
        """Forget a remote member if it is still the same socket; return local members to tell.

        None means nothing was removed (unknown, or the peer has since resumed elsewhere).
        """
        early = self._early.get(member.sprint, {})
        if member.peer in early and early[member.peer].same_socket(member):
            del early[member.peer]
        known = self._members.get(member.peer)
        if known is None or self.is_local(known) or not known.same_socket(member):
            return None
        return self._remove(known)

    def vacate(self, sprint: str) -> bool:
        """Forget ``sprint``'s room if no local member is left in it (its last one resumed on
        another instance), as when the last one leaves; True if it was forgotten."""
        room = self._rooms.get(sprint)
        if room is None or any(self.is_local(m) for m in room.values()):
            return False
        self._forget(sprint)
        return True

    def sync_instance(
        self, sprint: str, instance: str, members: list[Member]
    ) -> tuple[list[Member], list[tuple[Member, tuple[Member, ...]]]]:
        """Make ``instance``'s members of ``sprint`` exactly ``members``.

        Returns (joined, left): members new to this room, and (member, local members to tell) for
        each one that is gone.
        """
        room = self._rooms.get(sprint)
        if instance == self.instance:
            return [], []
        wanted = {m.peer: m for m in members if m.sprint == sprint and m.instance == instance}
        if room is None:
            if sprint in self._entering:
                early = self._early.setdefault(sprint, {})
                for peer in [p for p, m in early.items() if m.instance == instance]:
                    del early[peer]
                early.update(wanted)
            return [], []
        left = [
            (m, self._remove(m))
            for m in list(room.values())
            if m.instance == instance and m.peer not in wanted and sprint in self._rooms
        ]
        joined = [m for m in wanted.values() if self.add_remote(m)]
        return joined, left

    def remove_instance(self, instance: str) -> list[tuple[Member, tuple[Member, ...]]]:
        """Forget every member held by a dead instance; (member, local members to tell) each."""
        for early in self._early.values():
            for peer in [p for p, m in early.items() if m.instance == instance]:
                del early[peer]
        gone = [m for m in self._members.values() if m.instance == instance]
        return [(m, self._remove(m)) for m in gone if m.peer in self._members]

    def remote_instances(self) -> set[str]:
        return {m.instance for m in self._members.values() if not self.is_local(m)}

    # --- queries ------------------------------------------------------------------------------

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

    def local_members(self, sprint: str) -> tuple[Member, ...]:
        return tuple(m for m in self.members(sprint) if self.is_local(m))

    def sprints(self) -> tuple[str, ...]:
        return tuple(self._rooms)

    def member(self, peer: str) -> Member | None:
        return self._members.get(peer)

    def __iter__(self) -> Iterator[Member]:
        return iter(tuple(self._members.values()))
