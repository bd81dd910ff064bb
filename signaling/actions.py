"""What the session core asks the I/O layer to do. Plain values, no I/O.

Every input of :class:`~signaling.core.SignalingCore` returns a sequence of these; the service
(``signaling.service``) carries them out in order: frames to write, sockets to close, the broker to
ask or tell, lines to log. Tests read them to see what the core decided.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # the session table builds actions: no import cycle at run time
    from signaling.rooms import Member
    from signaling.session import Session


@dataclass(slots=True)
class Send:
    """Write one text frame (``payload``, UTF-8) to ``session``'s websocket."""

    session: Session
    payload: bytes


@dataclass(slots=True)
class SendSignal:
    """A relayed ``signal``: write ``payload`` to ``session`` and log it as :class:`LogSignal`
    does, with the same fields (one action for both: every relayed message is one)."""

    session: Session
    payload: bytes
    sprint: str
    sender: str
    to: str
    kind: str
    size: int
    candidates: str | None


@dataclass(slots=True)
class SendToMany:
    """Write the same text frame to each session (a broadcast: the frame is built once)."""

    sessions: tuple[Session, ...]
    payload: bytes
    kind: str


@dataclass(slots=True)
class Close:
    """Send a close frame with ``code`` and ``reason``, then close the connection."""

    session: Session
    code: int
    reason: str


@dataclass(slots=True)
class Abort:
    """Drop the TCP connection without a close frame (the client no longer answers)."""

    session: Session


@dataclass(slots=True)
class SendPing:
    """Send a websocket ping (heartbeat)."""

    session: Session


@dataclass(slots=True)
class EnterSprint:
    """Ask the broker for ``sprint``'s members elsewhere; answer with ``entered`` or
    ``broker_failed``."""

    session: Session
    sprint: str


@dataclass(slots=True)
class AnnounceJoin:
    """Tell the broker ``member`` joined; answer with ``announced`` or ``broker_failed``."""

    session: Session
    member: Member


@dataclass(slots=True)
class AnnounceLeave:
    """Tell the broker ``member`` left (``last_in_sprint``: stop listening to its sprint)."""

    member: Member
    last_in_sprint: bool


@dataclass(slots=True)
class MovedAway:
    """``member`` resumed on another instance: the broker forgets it here without telling
    anyone, since the peer never left (``last_in_sprint``: stop listening to its sprint)."""

    member: Member
    last_in_sprint: bool


@dataclass(slots=True)
class SendElsewhere:
    """Hand a frame for ``member`` to the instance holding it; if it cannot be handed over,
    answer with ``undeliverable(sender)``."""

    sender: str
    member: Member
    text: str


@dataclass(slots=True)
class ReportUndelivered:
    """Tell ``instance`` that a frame its peer ``sender`` sent to one of ours was not delivered
    (it arrived too late), so that the sender hears ``unavailable``."""

    instance: str
    sender: str


@dataclass(slots=True)
class PublishToSprint:
    """Hand a board event's frame to the other instances with peers in ``sprint``."""

    sprint: str
    text: str


@dataclass(slots=True)
class Log:
    """Log one event with its fields (``logs.log_event``)."""

    event: str
    level: int
    fields: dict[str, Any]


@dataclass(slots=True)
class LogSignal:
    """Log one relayed signal (``logs.log_signal``: the same line, built directly)."""

    sprint: str
    sender: str
    to: str
    kind: str
    size: int
    candidates: str | None


Action = (
    Send
    | SendSignal
    | SendToMany
    | Close
    | Abort
    | SendPing
    | EnterSprint
    | AnnounceJoin
    | AnnounceLeave
    | MovedAway
    | SendElsewhere
    | ReportUndelivered
    | PublishToSprint
    | Log
    | LogSignal
)
