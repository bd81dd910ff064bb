"""The signaling session core: the rules of docs/protocol.md section 1, with no I/O.

Like h11 and the ``websockets`` library's sans-I/O layer, :class:`SignalingCore` is a plain object.
Transports feed it what happened (a connection opened, a text frame arrived, the broker answered,
time passed, a hook came in, another instance said something) and every input returns the actions
to carry out (``signaling.actions``: send these bytes to that session, close it with this code,
ask the broker, log this). It never sends, sleeps or reads a clock: time is the ``now`` passed in
(monotonic seconds), and wall-clock time (for tickets' expiry) is that ``now`` plus the offset the
service last gave :meth:`SignalingCore.set_wall_clock`.

The parts, each in its own module:

- ``session``: each connection's state, the table of which message each state accepts, and the
  table of all sessions (per-address counts, closes, errors, broadcasts);
- ``membership``: joining (ticket, resume, the broker round trips, welcome) and leaving;
- ``news``: board events from the hook and notices from other instances;
- ``relay``: signals and relayed messages between the peers of a sprint;
- this module: connections opening and closing, frames and what each state does with them, rate
  limits, deadlines and heartbeats, shutdown.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from typing import Any, Final

from signaling import protocol
from signaling.actions import (
    Abort,
    Action,
    Close,
    Log,
    Send,
    SendPing,
)
from signaling.config import Settings
from signaling.errors import ProtocolError
from signaling.links import LinkBook
from signaling.membership import Membership
from signaling.news import News
from signaling.ratelimit import TokenBucket
from signaling.relay import Relaying
from signaling.rooms import Member, Rooms, random_peer_id
from signaling.session import (
    ACCEPTS,
    CLOSED,
    CLOSING,
    CONNECTED,
    JOINED,
    JOINING,
    QUEUE,
    Session,
    SessionTable,
)

CLOSE_GOING_AWAY: Final = 1001
CLOSE_ABUSE: Final = 4400
CLOSE_NO_JOIN: Final = 4408
CLOSE_FULL: Final = 4409
CLOSE_RATE_LIMITED: Final = 4429

NOTHING: Final[tuple[Action, ...]] = ()
_PONG: Final = protocol.PONG.encode()


class SignalingCore:
    """Sessions, rooms and limits of one signaling instance, as decisions."""

    def __init__(
        self,
        settings: Settings,
        *,
        instance: str = "local",
        new_peer_id: Callable[[], str] = random_peer_id,
    ) -> None:
        self.settings = settings
        self.rooms = Rooms(
            max_peers_per_sprint=settings.max_peers_per_sprint,
            max_peers_per_user=settings.max_peers_per_user,
            max_rooms=settings.max_rooms,
            instance=instance,
            new_peer_id=new_peer_id,
        )
        self.table = SessionTable()
        self.counters = self.table.counters
        self.membership = Membership(settings, self.table, self.rooms)
        self.links = LinkBook(self.counters)
        self.news = News(self.table, self.rooms, self.membership, self.links)
        self._next_number = 1
        self._next_sweep: float | None = None
        self.relaying = Relaying(settings, self.table, self.rooms, self.links)
        self._handlers: dict[str, Callable[[Session, Any], Sequence[Action]]] = {
            "join": self.membership.join,
            "signal": self.relaying.signal,
            "relay": self.relaying.relay,
            "link": self.relaying.link,
            "pong": self._pong,
            QUEUE: self._queue,
        }
        # receive() takes a joined session's signal (every relayed message) before the table:
        # it runs the handler the table names for it, looked up here once.
        rule = ACCEPTS[JOINED][protocol.Signal]
        assert isinstance(rule, str), "a joined session's signal must have a handler"
        self._signal = self._handlers[rule]

    @property
    def sessions(self) -> dict[int, Session]:
        return self.table.sessions

    @property
    def shutting_down(self) -> bool:
        return self.membership.shutting_down

    def set_wall_clock(self, wall: float, now: float) -> None:
        """The wall clock read ``wall`` (seconds since the epoch) when the core's clock read
        ``now``: a ticket's expiry is judged at ``now + (wall - now)`` from then on."""
        self.membership.wall_offset = wall - now

    def start(self, now: float) -> None:
        """The instance starts serving: heartbeats run from ``now`` on."""
        if self.settings.heartbeat > 0:
            self._next_sweep = now + self.settings.heartbeat / 2

    # --- connections --------------------------------------------------------------------------

    def open(self, address: str, now: float) -> tuple[Session, Sequence[Action]]:
        """A websocket handshake completed: the new session, closed at once if over a limit."""
        settings = self.settings
        table = self.table
        session = Session(
            self._next_number,
            address,
            now,
            TokenBucket(settings.rate, settings.burst),
            last_seen=now,
        )
        self._next_number += 1
        refusal = self._refusal(address)
        if refusal is not None:
            code, message, reason = refusal
            session.state = CLOSING  # never added to the table, so never counted
            session.close_code = code
            actions: list[Action] = [Close(session, code, message)]
            if reason is not None:
                actions.insert(0, table.refused(reason, addr=address))
            return session, actions
        table.add(session)
        return session, NOTHING

    def _refusal(self, address: str) -> tuple[int, str, str | None] | None:
        """Why a new connection from ``address`` is refused: close code, reason, reject label."""
        settings = self.settings
        if self.shutting_down:
            return CLOSE_GOING_AWAY, "server shutting down", None
        if len(self.table.sessions) >= settings.max_connections:
            return (
                CLOSE_FULL,
                f"server is at its limit of {settings.max_connections} connections",
                "server-full",
            )
        waiting = self.table.unjoined.get(address, 0)
        if waiting >= settings.max_unjoined_per_address:
            return (
                CLOSE_FULL,
                f"{waiting} connections from your address have not joined yet; "
                "join or close them first",
                "address-full",
            )
        return None

    def closed(
        self,
        session: Session,
        *,
        close_code: int | None = None,
        lost_reason: str | None = None,
    ) -> Sequence[Action]:
        """The session's TCP connection is gone (``close_code``: from the client's close frame,
        if it sent one; ``lost_reason``: why the transport dropped it): forget it, tell its
        sprint."""
        if session.state is CLOSED:
            return NOTHING
        if session.close_code is None:
            session.close_code = close_code
        if lost_reason is not None and session.lost_reason is None:
            session.lost_reason = lost_reason
        announcing = session.state is JOINING and session.member is not None
        if session.number in self.table.sessions:
            self.table.move(session, CLOSED)
        else:
            session.state = CLOSED
        if announcing:
            return NOTHING  # the broker's answer (announced / broker_failed) finishes the leave
        actions = self.membership.depart(session)
        gone = session.peer
        if gone is not None and self.rooms.member(gone) is None:
            self.links.left(gone)
        return actions

    def seen(self, session: Session, now: float) -> None:
        """The client sent something the core is not shown (a pong): it is alive."""
        session.last_seen = now

    # --- frames -------------------------------------------------------------------------------

    def receive(self, session: Session, text: str, now: float) -> Sequence[Action]:
        """One text frame from the client."""
        state = session.state
        if state is CLOSING or state is CLOSED:
            return NOTHING
        session.last_seen = now
        if not session.messages.allow(now):
            return self._flooded(session)
        try:
            message = protocol.parse_client_message(text)
            if state is JOINED and type(message) is protocol.Signal:
                # The table's busiest entry, taken first: in every state the outcome is the
                # table's (tests/signaling/test_core_table.py).
                return self._signal(session, message)
            return self._dispatch(session, message)
        except ProtocolError as exc:  # bad input, found parsing or handling (before any change)
            return self._bad_input(session, exc)

    def receive_binary(self, session: Session, now: float) -> Sequence[Action]:
        """One binary frame from the client (not part of the protocol)."""
        state = session.state
        if state is CLOSING or state is CLOSED:
            return NOTHING
        session.last_seen = now
        if not session.messages.allow(now):
            return self._flooded(session)
        return self._dispatch(session, protocol.BINARY)

    def _dispatch(self, session: Session, message: Any) -> Sequence[Action]:
        """Do what :data:`~signaling.session.ACCEPTS` says ``message`` does in this state."""
        rule = ACCEPTS[session.state].get(type(message))
        if rule is None:
            return NOTHING
        if type(rule) is str:
            return self._handlers[rule](session, message)
        assert isinstance(rule, ProtocolError)
        return self._bad_input(session, rule)

    def _queue(self, session: Session, message: Any) -> Sequence[Action]:
        """Joining: the message waits, in order, until the join is done."""
        session.backlog.append(message)
        return NOTHING

    def _pong(self, session: Session, message: protocol.Ping) -> Sequence[Action]:
        self.counters.message("in", "ping")
        self.counters.message("out", "pong")
        return (Send(session, _PONG),)

    # --- joins (the broker's answers) -----------------------------------------------------------

    def entered(self, session: Session, remote: Sequence[Member]) -> Sequence[Action]:
        """The broker answered an ``EnterSprint`` with the sprint's members elsewhere."""
        return self.membership.entered(session, remote)

    def announced(self, session: Session, wall_time: float) -> Sequence[Action]:
        """The broker answered an ``AnnounceJoin``: welcome, then what the client sent
        meanwhile."""
        actions = list(self.membership.announced(session, wall_time))
        backlog, session.backlog = session.backlog, []
        for message in backlog:
            if session.state is not JOINED:
                break
            actions.extend(self._dispatch(session, message))
        return actions

    def broker_failed(self, session: Session, reason: str) -> Sequence[Action]:
        """The broker could not be asked or told about a join: refused with 1013."""
        return self.membership.broker_failed(session, reason)

    def undeliverable(self, sender: str) -> Sequence[Action]:
        """A frame from ``sender`` for a peer on another instance could not be handed over."""
        return self.relaying.undeliverable(sender)

    # --- time ---------------------------------------------------------------------------------

    def tick(self, now: float) -> Sequence[Action]:
        """Join deadlines that passed (4408) and, every half heartbeat, pings and lost peers."""
        actions: list[Action] = []
        timeout = self.settings.join_timeout
        deadlines = self.table.deadlines
        while deadlines and deadlines[0].opened + timeout <= now:
            session = deadlines.popleft()
            if session.state is CONNECTED:
                actions.append(self.table.refused("no-join", addr=session.address))
                actions.extend(
                    self.table.close(session, CLOSE_NO_JOIN, f"no join within {timeout:g} s")
                )
        if self._next_sweep is not None and now >= self._next_sweep:
            self._next_sweep = now + self.settings.heartbeat / 2
            actions.extend(self._heartbeats(now))
            self.links.forget(lambda peer: self.rooms.member(peer) is not None)
        return actions

    def next_wakeup(self) -> float | None:
        """When :meth:`tick` next has something to do (None: nothing is waiting)."""
        deadlines = self.table.deadlines
        first = deadlines[0].opened + self.settings.join_timeout if deadlines else None
        sweep = self._next_sweep
        if first is None or (sweep is not None and sweep < first):
            return sweep
        return first

    def _heartbeats(self, now: float) -> Sequence[Action]:
        """Ping joined sessions quiet for a heartbeat interval; drop those that stay silent half
        as long again. Any frame counts as a sign of life, so busy sockets are never pinged; a
        lost one is found within 2.5 intervals."""
        interval = self.settings.heartbeat
        step = interval / 2
        actions: list[Action] = []
        for session in list(self.table.sessions.values()):
            if session.state is not JOINED:
                continue
            if session.ping_sent and session.last_seen < session.ping_sent:
                if now - session.ping_sent >= step:
                    session.lost_reason = "heartbeat lost (no pong)"
                    self.table.move(session, CLOSING)
                    actions.append(Abort(session))
            elif now - session.last_seen >= interval:
                session.ping_sent = now
                actions.append(SendPing(session))
        return actions

    # --- the websocket layer's reports and shutdown -------------------------------------------

    def transport_failed(self, session: Session, code: int, detail: str) -> Sequence[Action]:
        """The websocket layer failed the connection (it sends the close itself): log it."""
        if session.state is not CLOSED and session.state is not CLOSING:
            self.table.move(session, CLOSING)
            session.close_code = code
        reason = "frame-too-large" if code == 1009 else "socket-error"
        return (self.table.refused(reason, peer=session.peer, addr=session.address, detail=detail),)

    def overflowed(self, session: Session, buffered: int) -> Sequence[Action]:
        """The client stopped reading, so its transport dropped it."""
        self.counters.rejects["slow-client"] += 1
        session.lost_reason = "too slow: stopped reading"
        if session.state is not CLOSED and session.state is not CLOSING:
            self.table.move(session, CLOSING)
        return (
            Log(
                "slow-client-disconnected",
                logging.INFO,
                {
                    "peer": session.peer,
                    "sprint": session.sprint,
                    "addr": session.address,
                    "buffered_bytes": buffered,
                },
            ),
        )

    def shutdown(self, uptime: float) -> Sequence[Action]:
        """Close every session with 1001 so clients reconnect elsewhere; log a summary."""
        self.membership.shutting_down = True
        actions: list[Action] = [
            Log(
                "shutdown",
                logging.INFO,
                {
                    "connections": len(self.table.sessions),
                    "rooms": self.rooms.room_count,
                    "peers": self.rooms.peer_count,
                    "uptime_s": round(uptime, 1),
                },
            )
        ]
        for session in list(self.table.sessions.values()):
            actions.extend(self.table.close(session, CLOSE_GOING_AWAY, "server shutting down"))
        return actions

    # --- refusals -----------------------------------------------------------------------------

    def _flooded(self, session: Session) -> Sequence[Action]:
        settings = self.settings
        return (
            self.table.refused("rate-limited", peer=session.peer, addr=session.address),
            *self.table.close(
                session,
                CLOSE_RATE_LIMITED,
                f"rate limit exceeded: more than {settings.rate:g} messages/s "
                f"(burst {settings.burst})",
            ),
        )

    def _bad_input(self, session: Session, exc: ProtocolError) -> Sequence[Action]:
        """Answer a bad message with an ``error``; too many in a row close with 4400."""
        table = self.table
        table.counters.rejects[exc.code] += 1
        actions: list[Action] = [
            Log(
                "bad-message",
                logging.INFO,
                {
                    "peer": session.peer,
                    "addr": session.address,
                    "code": exc.code,
                    "message": exc.message,
                },
            ),
            table.error(session, exc.code, exc.message),
        ]
        if session.invalid is None:
            session.invalid = TokenBucket(self.settings.invalid_rate, self.settings.invalid_burst)
        if not session.invalid.allow(session.last_seen):
            actions.append(table.refused("abuse", peer=session.peer, addr=session.address))
            actions.extend(table.close(session, CLOSE_ABUSE, "too many invalid messages"))
        return actions
