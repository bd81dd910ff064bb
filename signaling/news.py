"""What reaches the session core from outside its websockets: board events and other instances.

Board events come through the hook (``signaling.app`` checks the request); notices come from the
broker (``signaling.broker``): peers joining, leaving or moving on other instances, an instance
found dead, frames for one of our peers. Each becomes actions, like any other input. No I/O.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from signaling import protocol
from signaling.actions import Action, MovedAway, PublishToSprint, ReportUndelivered, Send
from signaling.links import LinkBook
from signaling.membership import REPLACED, Membership
from signaling.rooms import Member, Rooms
from signaling.session import SessionTable

CLOSE_REPLACED = 4000


class News:
    """Board events and broker notices, turned into actions."""

    def __init__(
        self, table: SessionTable, rooms: Rooms, membership: Membership, links: LinkBook
    ) -> None:
        self.table = table
        self.rooms = rooms
        self.membership = membership
        self.links = links

    # --- board events -------------------------------------------------------------------------

    def hook_event(self, sprint: str, event: dict[str, Any]) -> tuple[Sequence[Action], int]:
        """A board event from the hook: to the sprint's local peers and the other instances.
        Returns the actions and the number of local peers it goes to."""
        text = protocol.encode(protocol.board_event(event))
        local = self.rooms.local_members(sprint)
        self.table.counters.hook_events["delivered"] += 1
        actions = (
            *self.table.broadcast(local, text.encode(), "event"),
            PublishToSprint(sprint, text),
        )
        return actions, len(local)

    def deliver_to_sprint(self, sprint: str, text: str) -> Sequence[Action]:
        """A board event that another instance received through its hook."""
        return self.table.broadcast(self.rooms.local_members(sprint), text.encode(), "event")

    # --- other instances ----------------------------------------------------------------------

    def deliver_to_peer(self, peer: str, text: str) -> Sequence[Action]:
        """A frame another instance relayed to a peer of ours."""
        session = self.table.by_peer.get(peer)
        if session is None:
            return ()
        self.table.counters.message("out", "remote")
        return (Send(session, text.encode()),)

    def arrived_late(self, text: str) -> Sequence[Action]:
        """A frame another instance relayed to a peer of ours came too late and was dropped:
        the instance of its sender (a member of the recipient's sprint) is told, so that the
        sender hears it was not delivered. Nothing if that sender is no longer known."""
        sender = protocol.sender_of(text)
        member = self.rooms.member(sender) if sender is not None else None
        if member is None or self.rooms.is_local(member):
            return ()
        return (ReportUndelivered(member.instance, member.peer),)

    def remote_joined(self, member: Member) -> Sequence[Action]:
        actions: list[Action] = []
        known = self.rooms.member(member.peer)
        if known is not None and (not self.rooms.is_local(known) or known.sprint != member.sprint):
            known = None  # not one of our peers resuming over there
        if known is not None:
            actions.extend(self._retire_local(known))
        local = self.rooms.add_remote(member)
        if local:
            actions.extend(self.membership.tell_joined(member, local))
        if known is not None:
            # It may have been the room's last local member: the room is then forgotten, and
            # its sprint no longer listened to, as after the last leave.
            actions.append(MovedAway(known, last_in_sprint=self.rooms.vacate(member.sprint)))
        return actions

    def remote_left(self, member: Member) -> Sequence[Action]:
        local = self.rooms.remove_remote(member)
        if local is None:
            return ()
        self.links.left(member.peer)
        return self.membership.tell_left(member.peer, local)

    def remote_synced(self, sprint: str, instance: str, members: list[Member]) -> Sequence[Action]:
        joined, left = self.rooms.sync_instance(sprint, instance, members)
        actions: list[Action] = []
        for member in joined:
            others = [m for m in self.rooms.local_members(sprint) if m.peer != member.peer]
            actions.extend(self.membership.tell_joined(member, others))
        for member, local in left:
            self.links.left(member.peer)
            actions.extend(self.membership.tell_left(member.peer, local))
        return actions

    def instance_lost(self, instance: str) -> tuple[Sequence[Action], list[Member]]:
        """Every peer of a dead instance is gone: the actions, and those members."""
        removed = self.rooms.remove_instance(instance)
        actions: list[Action] = []
        for member, local in removed:
            self.links.left(member.peer)
            actions.extend(self.membership.tell_left(member.peer, local))
        return actions, [member for member, _ in removed]

    def _retire_local(self, member: Member) -> Sequence[Action]:
        """Our socket for ``member`` was superseded by a resume on another instance: close it
        without telling anyone, since the peer never left."""
        session = self.table.by_peer.pop(member.peer, None)
        if session is None:
            return ()
        return self.table.close(session, CLOSE_REPLACED, REPLACED)
