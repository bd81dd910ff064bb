"""Joining and leaving a sprint: ticket, resume, broker round trips, welcome, peer-left. No I/O.

A join takes three steps, because other instances may hold peers of the same sprint::

    join (ticket checked)  ──EnterSprint──▶  entered(remote members)   rooms admit the peer
                           ──AnnounceJoin──▶ announced()               welcome, peer-joined

Either broker step may fail (``broker_failed``: close 1013), and the socket may go away at any
point; whatever happens, the room ends up as if the peer either never came or joined and left.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Final

from signaling import protocol
from signaling.actions import Action, AnnounceJoin, AnnounceLeave, EnterSprint, Log
from signaling.config import Settings
from signaling.errors import CapacityExceeded, TicketRejected
from signaling.ice import ice_servers_for
from signaling.ratelimit import TokenBucket
from signaling.rooms import Member, Rooms
from signaling.session import JOINED, JOINING, Session, SessionTable
from signaling.tickets import derive_key, peer_from_resume_token, resume_token, verify_ticket

CLOSE_TRY_AGAIN: Final = 1013
CLOSE_RATE_LIMITED: Final = 4429
MAX_JOIN_BUCKETS: Final = 100_000
CLOSE_REPLACED: Final = 4000
REPLACED: Final = "replaced: this peer resumed on a newer connection"


class Membership:
    """Who is in which sprint, as sessions join and leave."""

    def __init__(self, settings: Settings, table: SessionTable, rooms: Rooms) -> None:
        self.settings = settings
        self.table = table
        self.rooms = rooms
        self.shutting_down = False
        # The wall clock (seconds since the epoch) minus the core's clock: tickets expire in
        # wall time, the core keeps monotonic time (SignalingCore.set_wall_clock).
        self.wall_offset = 0.0
        self._resume_key = derive_key(settings.secret, "resume")
        # Joins per (sprint, user): one ticket joining and leaving in a loop would make every
        # peer of the sprint hear two messages per turn.
        self._joins: dict[tuple[str, str], TokenBucket] = {}

    def _join_allowed(self, key: tuple[str, str], now: float) -> bool:
        bucket = self._joins.get(key)
        if bucket is None:
            if len(self._joins) >= MAX_JOIN_BUCKETS:  # forget those that have refilled
                for stale in [k for k, b in self._joins.items() if b.full(now)]:
                    del self._joins[stale]
            bucket = self._joins[key] = TokenBucket(
                self.settings.join_rate, self.settings.join_burst
            )
        return bucket.allow(now)

    def join(self, session: Session, join: protocol.Join) -> Sequence[Action]:
        """A ``join`` from a connected session: check the ticket, then ask the broker."""
        table = self.table
        table.counters.message("in", "join")
        try:
            claims = verify_ticket(
                join.ticket, self.settings.secret, session.last_seen + self.wall_offset
            )
        except TicketRejected as exc:
            return (
                table.refused("bad-ticket", addr=session.address, detail=exc.message),
                *table.close(session, exc.close_code, exc.message),
            )
        if not self._join_allowed((claims.sprint, claims.user_id), session.last_seen):
            settings = self.settings
            return (
                table.refused("join-rate-limited", addr=session.address, sprint=claims.sprint),
                *table.close(
                    session,
                    CLOSE_RATE_LIMITED,
                    f"joining this sprint too often: more than {settings.join_burst} joins at "
                    f"once or one every {1 / settings.join_rate:g} s",
                ),
            )
        actions: list[Action] = []
        if join.resume:
            session.resume_peer = peer_from_resume_token(
                self._resume_key, join.resume, sprint=claims.sprint, user_id=claims.user_id
            )
            if session.resume_peer is None:
                actions.append(
                    Log(
                        "resume-refused",
                        logging.INFO,
                        {
                            "sprint": claims.sprint,
                            "user": claims.user_id,
                            "reason": "resume token not valid for this sprint and user; "
                            "new peer id",
                        },
                    )
                )
        session.claims = claims
        table.move(session, JOINING)
        # Peers announced on other instances while the broker answers are kept for this join.
        self.rooms.begin_entering(claims.sprint)
        actions.append(EnterSprint(session, claims.sprint))
        return actions

    def entered(self, session: Session, remote: Sequence[Member]) -> Sequence[Action]:
        """The broker listed the sprint's members elsewhere: admit the session to the room."""
        claims = session.claims
        assert claims is not None, "entered() answers an EnterSprint"
        try:
            if session.state is not JOINING:
                return ()  # the socket went away while the broker answered
            admission = self.rooms.join(
                sprint=claims.sprint,
                user_id=claims.user_id,
                name=claims.name,
                connection=session.number,
                resume_peer=session.resume_peer,
                known_remote=tuple(remote),
            )
        except CapacityExceeded as exc:
            return (
                self.table.refused(exc.code, addr=session.address, sprint=claims.sprint),
                *self.table.close(session, exc.close_code, exc.message),
            )
        finally:
            self.rooms.end_entering(claims.sprint)
        session.member = admission.member
        session.replaces = admission.replaced
        session.others = admission.others
        return (AnnounceJoin(session, admission.member),)

    def broker_failed(self, session: Session, reason: str) -> Sequence[Action]:
        """The broker could not be asked or told about this join: refuse it with 1013."""
        table = self.table
        actions: list[Action] = [
            table.refused("broker-unavailable", addr=session.address, sprint=session.sprint)
        ]
        member = session.member
        if member is not None:
            self.rooms.leave(member.peer, session.number)
            session.member = None
        actions.extend(table.close(session, CLOSE_TRY_AGAIN, reason))
        return actions

    def announced(self, session: Session, wall_time: float) -> Sequence[Action]:
        """The broker knows of the join: welcome the peer, tell its sprint, run its backlog.

        ``wall_time`` (seconds since the epoch) dates the TURN credentials in the welcome.
        Returns the actions and leaves the backlog to the caller (it is handled like any frame).
        """
        table = self.table
        member = session.member
        assert member is not None, "announced() answers an AnnounceJoin"
        previous = table.by_peer.get(member.peer)
        table.by_peer[member.peer] = session
        if session.state is not JOINING:
            return self.depart(session)  # closed while the broker was told: leave as usual
        table.move(session, JOINED)
        welcome = protocol.welcome(
            peer=member.peer,
            sprint=member.sprint,
            peers=[other.public() for other in session.others],
            ice_servers=ice_servers_for(self.settings, member.user_id, wall_time),
            resume=resume_token(
                self._resume_key, sprint=member.sprint, user_id=member.user_id, peer=member.peer
            ),
        )
        actions: list[Action] = [table.message(session, welcome)]
        if session.replaces is not None:
            if previous is not None and previous is not session:
                actions.extend(table.close(previous, CLOSE_REPLACED, REPLACED))
        else:
            local = [other for other in session.others if self.rooms.is_local(other)]
            actions.extend(self.tell_joined(member, local))
        actions.append(
            Log(
                "resume" if session.replaces or session.resume_peer else "join",
                logging.INFO,
                {
                    "sprint": member.sprint,
                    "peer": member.peer,
                    "user": member.user_id,
                    "name": member.name,
                    "addr": session.address,
                    "peers": len(session.others) + 1,
                },
            )
        )
        session.others = ()
        return actions

    def depart(self, session: Session) -> Sequence[Action]:
        """The session is gone: drop it from its room and tell the others (unless replaced)."""
        member = session.member
        if member is None:
            return ()
        by_peer = self.table.by_peer
        if by_peer.get(member.peer) is session:
            del by_peer[member.peer]
        others = self.rooms.leave(member.peer, session.number)
        if others is None:
            return ()  # replaced by a resumed connection: the peer never left
        actions: list[Action] = [
            AnnounceLeave(member, last_in_sprint=not others),
            Log(
                "leave",
                logging.INFO,
                {
                    "sprint": member.sprint,
                    "peer": member.peer,
                    "user": member.user_id,
                    "name": member.name,
                    "addr": session.address,
                    "reason": self._leave_reason(session),
                },
            ),
        ]
        if not self.shutting_down:
            actions.extend(self.tell_left(member.peer, others))
        return actions

    def _leave_reason(self, session: Session) -> str:
        if self.shutting_down:
            return "server shutting down"
        if session.lost_reason is not None:
            return session.lost_reason
        if session.close_code is None:
            return "connection lost"
        return f"closed ({session.close_code})"

    def tell_left(self, peer: str, members: Sequence[Member]) -> Sequence[Action]:
        payload = protocol.encode_bytes(protocol.peer_left(peer))
        return self.table.broadcast(members, payload, "peer-left")

    def tell_joined(self, member: Member, members: Sequence[Member]) -> Sequence[Action]:
        joined = protocol.peer_joined(member.peer, protocol.user_dict(member.user_id, member.name))
        return self.table.broadcast(members, protocol.encode_bytes(joined), "peer-joined")
