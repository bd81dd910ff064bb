"""Websocket clients as the session core sees them: states, what each state accepts, the table of
sessions. No I/O.

A session lives from the websocket handshake until its TCP connection is gone::

    connected ──join──▶ joining ──broker answered──▶ joined
        │                  │                            │
        └──────────────────┴────── closing ◀────────────┘      (any state) ──▶ closed

- ``connected``: handshake done, no ``join`` yet; the join deadline runs.
- ``joining``: the ticket was good and the broker is being asked who is in the sprint; frames that
  arrive meanwhile wait, in order, in ``backlog``.
- ``joined``: a member of one sprint; it may signal and relay to the others.
- ``closing``: the server sent or received a close; nothing more from this client is handled.
- ``closed``: the TCP connection is gone; the core has forgotten the session.

:data:`ACCEPTS` is the one table of what a client message does in each state: a handler of the
core, or the error it is answered with. A message missing from a state's row is ignored, and a
refused message changes nothing.
"""

from __future__ import annotations

import enum
import logging
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Final

from signaling import protocol
from signaling.actions import Action, Close, Log, Send, SendToMany
from signaling.counters import Counters
from signaling.errors import ProtocolError
from signaling.protocol import Binary, Join, LinkReport, Ping, Relay, Signal
from signaling.ratelimit import TokenBucket
from signaling.rooms import Member
from signaling.tickets import TicketClaims


class State(enum.Enum):
    CONNECTED = "connected"
    JOINING = "joining"
    JOINED = "joined"
    CLOSING = "closing"
    CLOSED = "closed"


CONNECTED: Final = State.CONNECTED
JOINING: Final = State.JOINING
JOINED: Final = State.JOINED
CLOSING: Final = State.CLOSING
CLOSED: Final = State.CLOSED

# The moves a session may make; any other is a bug in the core (it raises).
NEXT_STATES: Final[dict[State, frozenset[State]]] = {
    CONNECTED: frozenset({JOINING, CLOSING, CLOSED}),
    JOINING: frozenset({JOINED, CLOSING, CLOSED}),
    JOINED: frozenset({CLOSING, CLOSED}),
    CLOSING: frozenset({CLOSED}),
    CLOSED: frozenset(),
}

NOT_JOINED: Final = ProtocolError("join first: the first message must be join", code="not-joined")
ALREADY_JOINED: Final = ProtocolError(
    "already joined; open a new connection to join another sprint", code="already-joined"
)
BINARY_REFUSED: Final = ProtocolError(
    "binary frames are not supported; send JSON text", code="binary-not-supported"
)
QUEUE: Final = "queue"  # joining: the message waits for the join to finish

# state -> message type -> the core's handler (a name) or the error answered.
ACCEPTS: Final[dict[State, dict[type, str | ProtocolError]]] = {
    CONNECTED: {
        Join: "join",
        Ping: "pong",
        Signal: NOT_JOINED,
        Relay: NOT_JOINED,
        LinkReport: NOT_JOINED,
        Binary: BINARY_REFUSED,
    },
    JOINING: {
        Join: QUEUE,
        Ping: QUEUE,
        Signal: QUEUE,
        Relay: QUEUE,
        LinkReport: QUEUE,
        Binary: BINARY_REFUSED,
    },
    JOINED: {
        Signal: "signal",
        Relay: "relay",
        LinkReport: "link",
        Ping: "pong",
        Join: ALREADY_JOINED,
        Binary: BINARY_REFUSED,
    },
    CLOSING: {},
    CLOSED: {},
}


@dataclass(slots=True, eq=False)
class Session:
    """A client connection's state. The core changes it; transports only read ``number``.

    ``last_seen`` is when the client last sent anything (any frame counts as a sign of life);
    ``ping_sent`` when the server last pinged it. ``claims`` hold the ticket while joining;
    ``member`` is set once the rooms admitted the join (``others``: who was there then, for
    the welcome; ``replaces``: the connection a resume takes over).
    """

    number: int
    address: str
    opened: float
    messages: TokenBucket
    state: State = CONNECTED
    last_seen: float = 0.0
    ping_sent: float = 0.0
    claims: TicketClaims | None = None
    resume_peer: str | None = None
    member: Member | None = None
    replaces: Member | None = None
    others: tuple[Member, ...] = ()
    backlog: list[str] = field(default_factory=list)
    relays: TokenBucket | None = None
    reports: TokenBucket | None = None
    invalid: TokenBucket | None = None
    close_code: int | None = None
    lost_reason: str | None = None
    # The transport's handle for this socket, set and cleared by the service so that a send
    # needs no lookup; the core never reads it.
    connection: Any = None

    @property
    def peer(self) -> str | None:
        return self.member.peer if self.member is not None else None

    @property
    def sprint(self) -> str | None:
        if self.member is not None:
            return self.member.sprint
        return self.claims.sprint if self.claims is not None else None

    def describe(self) -> str:
        """The connection, named for a log line: its number, peer id and address, on one line
        and short (never the claims, names or other members it holds)."""
        return f"connection {self.number} (peer {self.peer}, address {self.address[:64]!r})"

    def move(self, state: State) -> None:
        """Enter ``state``; a move the diagram above does not allow is a bug and raises."""
        if state is not self.state and state not in NEXT_STATES[self.state]:
            raise RuntimeError(f"session {self.number}: {self.state.value} -> {state.value}")
        self.state = state


_UNJOINED: Final = frozenset({CONNECTED, JOINING})


class SessionTable:
    """The sessions of one instance, and the actions that touch any of them.

    It counts sessions that have not joined yet per address (a per-address cap keeps silent
    sockets from locking others out), and builds the common actions: close, error, broadcast,
    refusal log lines, each counted in :attr:`counters`.
    """

    def __init__(self) -> None:
        self.sessions: dict[int, Session] = {}
        self.by_peer: dict[str, Session] = {}  # joined sessions (announced to the broker)
        self.counters = Counters()
        self.unjoined: dict[str, int] = {}  # address -> sessions not joined yet
        self.deadlines: deque[Session] = deque()  # join deadlines, oldest first

    def add(self, session: Session) -> None:
        self.sessions[session.number] = session
        self.unjoined[session.address] = self.unjoined.get(session.address, 0) + 1
        self.deadlines.append(session)

    def move(self, session: Session, state: State) -> None:
        """``session.move(state)``, keeping the per-address count of unjoined sessions."""
        if (
            session.state in _UNJOINED
            and state not in _UNJOINED
            and session.number in self.sessions
        ):
            address = session.address
            left = self.unjoined.get(address, 0) - 1
            if left > 0:
                self.unjoined[address] = left
            else:
                self.unjoined.pop(address, None)
        session.move(state)
        if state is CLOSED:
            self.sessions.pop(session.number, None)

    def close(self, session: Session, code: int, reason: str) -> Sequence[Action]:
        """Close ``session`` with ``code``; nothing if it is already closing."""
        if session.state is CLOSING or session.state is CLOSED:
            return ()
        self.move(session, CLOSING)
        session.close_code = code
        return (Close(session, code, reason),)

    def refused(self, reason: str, **fields: Any) -> Log:
        """A ``refused`` log line, counted under ``rejects{reason}``."""
        self.counters.rejects[reason] += 1
        return Log("refused", logging.INFO, {"reason": reason, **fields})

    def message(self, session: Session, message: dict[str, Any]) -> Send:
        self.counters.message("out", str(message["type"]))
        return Send(session, protocol.encode_bytes(message))

    def error(self, session: Session, code: str, text: str) -> Send:
        return self.message(session, protocol.error(code, text))

    def broadcast(self, members: Sequence[Member], payload: bytes, kind: str) -> Sequence[Action]:
        """One frame to the local sessions of ``members`` (those not joined yet are skipped)."""
        by_peer = self.by_peer
        sessions = tuple(s for m in members if (s := by_peer.get(m.peer)) is not None)
        if not sessions:
            return ()
        self.counters.message("out", kind, len(sessions))
        return (SendToMany(sessions, payload, kind),)
