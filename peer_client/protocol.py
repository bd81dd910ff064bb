"""The data-channel protocol (docs/protocol.md section 2): places, messages, ids. No I/O.

Everything here is a pure function or a small immutable value, so it is tested synchronously:

- :class:`Place` and :data:`COLUMNS`: where a card is, and how a place maps to the board's API
  (``backlog`` is ``sprint: null``; the other columns are the sprint's statuses).
- Message classes (:class:`Hello`, :class:`Snapshot`, :class:`DragStart`, ...) and
  :func:`parse_message`, which validates one incoming message (a channel text frame;
  :func:`parse_relayed` for the signaling frame that relayed one) and answers with the message,
  ``None`` for an unknown type (ignored for forward compatibility), or a :class:`MessageRejected`
  saying what was wrong (dropped and logged). The frame's text is checked first
  (:mod:`peer_client.frames`).
- :class:`MessageIds` numbers outgoing messages ``"<session>:<seq>"``; :class:`SenderSeenIds`
  remembers each sender's last 1,024 ids so a message that arrives twice (channel and relay) is
  handled once, and no peer can use up another's ids.
- :func:`encode` checks what we send by the same rules (:mod:`peer_client.fields`) as what we
  receive.
- :func:`colour_for` and :func:`initials`: how every client shows a person (section 2.5).

This module must not import aiortc, aiohttp or asyncio.
"""

from __future__ import annotations

import json
import re
import secrets
from collections import deque
from dataclasses import dataclass
from typing import Any, Final, Literal

from peer_client import fields, frames
from peer_client.fields import COLUMNS, STATUSES, Column, FieldError

__all__ = ["COLUMNS", "STATUSES", "Column"]

CHANNEL_LABEL: Final = "watercooler"
MAX_MESSAGE_BYTES: Final = frames.MAX_MESSAGE_BYTES
SEEN_IDS: Final = 1024
HOVERS_PER_SECOND: Final = 30
"""At most this many ``drag-hover`` messages a second from one sender."""
HOVER_INTERVAL: Final = 1 / HOVERS_PER_SECOND
"""Seconds: the bot spaces its hovers at least this far apart."""
OVERLAY_SECONDS: Final = 10.0
"""Seconds a dropped card is shown at its new place before a newer version settles it."""
DRAG_SILENCE_SECONDS: Final = 30.0
"""A peer's drag with no message at all from that peer for this long is ended (its end was
lost)."""
DRAG_KEEPALIVE_SECONDS: Final = 10.0
"""A sender holding a card sends its latest hover again at least this often."""
CHANNEL_ONLY_TYPES: Final = frozenset({"ping", "pong"})
"""Messages that go over an open channel only: never relayed, ignored when they come relayed (a
round trip through signaling measures nothing worth showing, and each would spend the relay
budget that drags and drops need; docs/protocol.md 2.6)."""
LINK_TIMEOUT: Final = 10.0
"""Seconds after negotiation began without an open channel before a pair counts as relayed (its
messages go through the relay from the first moment)."""
DRAG_STATE_TYPES: Final = frozenset(
    {"snapshot", "drag-start", "drag-hover", "drag-drop", "drag-cancel"}
)
"""The messages that say where the sender's drags are: only the latest of them counts."""

COLUMN_TITLES: Final[dict[str, str]] = {
    "backlog": "Backlog",
    "not_started": "Not started",
    "in_progress": "In progress",
    "testing": "Testing",
    "done": "Done",
}


def column_named(text: str) -> Column | None:
    """The column a person means by ``text`` (``"In progress"``, ``in-progress``, ...), or None."""
    key = text.strip().lower().replace("-", "_").replace(" ", "_")
    for column in COLUMNS:
        if key == column:
            return column
    return None


@dataclass(frozen=True, slots=True)
class Place:
    """A place on the board: a column and the 0-based index in it."""

    column: Column
    index: int

    def to_json(self) -> dict[str, Any]:
        return {"column": self.column, "index": self.index}

    def __str__(self) -> str:
        return f"{COLUMN_TITLES[self.column]} {self.index}"


@dataclass(frozen=True, slots=True)
class Pointer:
    """Where a dragging peer's pointer is, in board terms: a column and fractions of its width
    (``x``) and height (``y``), so windows of different sizes agree on the spot."""

    column: Column
    x: float
    y: float

    def to_json(self) -> dict[str, Any]:
        return {"column": self.column, "x": self.x, "y": self.y}


def place_of_task(task: dict[str, Any], sprint: int) -> Place | None:
    """Where a task (as the API shows it) sits on the board of ``sprint``; None if not on it."""
    if task.get("sprint") is None:
        return Place("backlog", _int_or_zero(task.get("position")))
    if task.get("sprint") != sprint:
        return None
    column = column_named(str(task.get("status", "")))
    if column is None or column == "backlog":
        return None
    return Place(column, _int_or_zero(task.get("position")))


def move_request(place: Place, sprint: int) -> dict[str, Any]:
    """The fields of ``POST /api/tasks/{id}/move/`` for ``place`` (without ``version``)."""
    if place.column == "backlog":
        return {"sprint": None, "status": "not_started", "position": place.index}
    return {"sprint": sprint, "status": place.column, "position": place.index}


def _int_or_zero(value: object) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) and value >= 0 else 0


# --- messages --------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class DragInfo:
    """One drag in progress, as a snapshot lists it."""

    task: int
    from_: Place
    over: Place
    pointer: Pointer | None = None

    def to_json(self) -> dict[str, Any]:
        drag = {"task": self.task, "from": self.from_.to_json(), "over": self.over.to_json()}
        if self.pointer is not None:
            drag["pointer"] = self.pointer.to_json()
        return drag


@dataclass(frozen=True, slots=True)
class Hello:
    agent: str
    """Ours send ``"web"`` or ``"bot"``; another client may name itself (docs/protocol.md 2.3)."""
    type: Literal["hello"] = "hello"

    def fields(self) -> dict[str, Any]:
        return {"agent": self.agent}


@dataclass(frozen=True, slots=True)
class Snapshot:
    drags: tuple[DragInfo, ...]
    type: Literal["snapshot"] = "snapshot"

    def fields(self) -> dict[str, Any]:
        return {"drags": [drag.to_json() for drag in self.drags]}


@dataclass(frozen=True, slots=True)
class DragStart:
    task: int
    version: int
    from_: Place
    type: Literal["drag-start"] = "drag-start"

    def fields(self) -> dict[str, Any]:
        return {"task": self.task, "version": self.version, "from": self.from_.to_json()}


@dataclass(frozen=True, slots=True)
class DragHover:
    task: int
    over: Place
    pointer: Pointer | None = None
    """*(extension)* the sender's pointer in board terms, when a pointer drags the card."""
    type: Literal["drag-hover"] = "drag-hover"

    def fields(self) -> dict[str, Any]:
        hover = {"task": self.task, "over": self.over.to_json()}
        if self.pointer is not None:
            hover["pointer"] = self.pointer.to_json()
        return hover


@dataclass(frozen=True, slots=True)
class DragDrop:
    task: int
    to: Place
    version: int
    type: Literal["drag-drop"] = "drag-drop"

    def fields(self) -> dict[str, Any]:
        return {"task": self.task, "to": self.to.to_json(), "version": self.version}


@dataclass(frozen=True, slots=True)
class DragCancel:
    task: int
    type: Literal["drag-cancel"] = "drag-cancel"

    def fields(self) -> dict[str, Any]:
        return {"task": self.task}


@dataclass(frozen=True, slots=True)
class TaskUpdated:
    task: dict[str, Any]
    type: Literal["task-updated"] = "task-updated"

    def fields(self) -> dict[str, Any]:
        return {"task": self.task}


@dataclass(frozen=True, slots=True)
class Bye:
    type: Literal["bye"] = "bye"

    def fields(self) -> dict[str, Any]:
        return {}


@dataclass(frozen=True, slots=True)
class Ping:
    t: float
    type: Literal["ping"] = "ping"

    def fields(self) -> dict[str, Any]:
        return {"t": self.t}


@dataclass(frozen=True, slots=True)
class Pong:
    t: float
    type: Literal["pong"] = "pong"

    def fields(self) -> dict[str, Any]:
        return {"t": self.t}


Message = (
    Hello
    | Snapshot
    | DragStart
    | DragHover
    | DragDrop
    | DragCancel
    | TaskUpdated
    | Bye
    | Ping
    | Pong
)


@dataclass(frozen=True, slots=True)
class Received:
    """A valid incoming message and its envelope id."""

    id: str
    message: Message


@dataclass(frozen=True, slots=True)
class MessageRejected:
    """An incoming message that breaks section 2; ``reason`` says how, in plain words."""

    reason: str


def _no_constant(name: str) -> Any:
    # Python's json reads NaN and Infinity; they are not JSON, and a browser would refuse them.
    raise ValueError(f"{name} is not JSON")


def _frame_bytes(obj: object) -> int:
    """The UTF-8 size of ``obj`` as JSON text, written as a browser's ``JSON.stringify`` would."""
    text = json.dumps(obj, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    return len(text.encode("utf-8", "surrogatepass"))


def parse_message(raw: str | bytes) -> Received | MessageRejected | None:
    """Validate one data-channel frame.

    Returns the message (normalised: only section 2's fields), ``None`` for a well-formed message
    of an unknown type (ignored), or :class:`MessageRejected` for anything malformed, with a
    reason naming the field (the caller drops and logs it).
    """
    if isinstance(raw, bytes):
        return MessageRejected("binary frame; messages are JSON text")
    fault = frames.frame_fault(raw)
    if fault is not None:
        return MessageRejected(fault)
    try:
        obj = json.loads(raw, parse_constant=_no_constant)
    except (ValueError, RecursionError):
        return MessageRejected("message is not valid JSON")
    return _validated(obj)


def parse_relayed(frame: str) -> Received | MessageRejected | None:
    """Validate one relayed message, judged on the signaling frame that carried it (the whole
    ``{"type":"relay","from":...,"data":...}`` text as signaling sent it; docs/protocol.md 2.6):
    both clients receive that text byte for byte, so they measure the same."""
    fault = frames.relay_frame_fault(frame)
    if fault is not None:
        return MessageRejected(fault)
    try:
        obj = json.loads(frame, parse_constant=_no_constant)
    except (ValueError, RecursionError):
        return MessageRejected("message is not valid JSON")
    return _validated(obj.get("data") if isinstance(obj, dict) else None)


def _validated(obj: object) -> Received | MessageRejected | None:
    """The envelope and fields of a decoded message (sizes and JSON already checked)."""
    if not isinstance(obj, dict):
        return MessageRejected("message is not a JSON object")
    kind = obj.get("type")
    if not isinstance(kind, str):
        return MessageRejected('message has no string "type"')
    try:
        message_id = fields.text(obj.get("id"), "id", 1, fields.MAX_ID_CHARS)
    except FieldError as exc:
        return MessageRejected(str(exc))
    builder = _BUILDERS.get(kind)
    if builder is None:
        return None
    try:
        return Received(message_id, builder(obj))
    except FieldError as exc:
        return MessageRejected(f"{kind}: {exc}")


def check_outgoing(obj: dict[str, Any]) -> dict[str, Any]:
    """``obj`` normalised if it is a message we may send; ValueError if it breaks section 2.

    Sending such a message would be a bug in this client, so it raises instead of sending.
    """
    parsed = _validated(obj)
    if parsed is None:
        raise ValueError(f"refusing to send a message of unknown type {obj.get('type')!r}")
    if isinstance(parsed, MessageRejected):
        raise ValueError(f"refusing to send an invalid message: {parsed.reason}")
    return {"type": parsed.message.type, "id": parsed.id, **parsed.message.fields()}


def encode(message: Message, message_id: str) -> dict[str, Any]:
    """The JSON object for ``message`` with its envelope, checked by the same rules as what we
    receive (ValueError for a message that breaks them)."""
    return check_outgoing({"type": message.type, "id": message_id, **message.fields()})


def frame_size(obj: dict[str, Any]) -> int:
    """How many bytes ``obj`` takes as a frame (at most :data:`MAX_MESSAGE_BYTES` may be sent)."""
    return _frame_bytes(obj)


def _place(obj: dict[str, Any], name: str, path: str | None = None) -> Place:
    column, index = fields.place(obj.get(name), path or name)
    return Place(column, index)


def _id(obj: dict[str, Any], name: str, path: str | None = None) -> int:
    return fields.positive_id(obj.get(name), path or name)


def _pointer(obj: dict[str, Any], path: str) -> Pointer | None:
    """The optional ``pointer`` of ``obj`` (absent: None; present, it must keep the rules)."""
    if "pointer" not in obj:
        return None
    return Pointer(*fields.pointer(obj["pointer"], path))


def _snapshot(obj: dict[str, Any]) -> Snapshot:
    drags = obj.get("drags")
    if not isinstance(drags, list) or len(drags) > fields.MAX_SNAPSHOT_DRAGS:
        raise FieldError(f"drags must be a list of at most {fields.MAX_SNAPSHOT_DRAGS} drags")
    result = []
    for item in drags:
        if not isinstance(item, dict):
            raise FieldError("drags must be a list of drags {task, from, over}")
        result.append(
            DragInfo(
                _id(item, "task", "drags.task"),
                _place(item, "from", "drags.from"),
                _place(item, "over", "drags.over"),
                _pointer(item, "drags.pointer"),
            )
        )
    return Snapshot(tuple(result))


_BUILDERS: Final[dict[str, Any]] = {
    "hello": lambda o: Hello(fields.agent(o.get("agent"), "agent")),
    "snapshot": _snapshot,
    "drag-start": lambda o: DragStart(_id(o, "task"), _id(o, "version"), _place(o, "from")),
    "drag-hover": lambda o: DragHover(_id(o, "task"), _place(o, "over"), _pointer(o, "pointer")),
    "drag-drop": lambda o: DragDrop(_id(o, "task"), _place(o, "to"), _id(o, "version")),
    "drag-cancel": lambda o: DragCancel(_id(o, "task")),
    "task-updated": lambda o: TaskUpdated(fields.task(o.get("task"))),
    "bye": lambda o: Bye(),
    "ping": lambda o: Ping(fields.finite_number(o.get("t"), "t")),
    "pong": lambda o: Pong(fields.finite_number(o.get("t"), "t")),
}


# --- ids -------------------------------------------------------------------------------------


class MessageIds:
    """Envelope ids ``"<session>:<seq>"``: a random session per client start, seq from 1."""

    def __init__(self, session: str | None = None) -> None:
        self.session = session or secrets.token_urlsafe(6)
        self._seq = 0

    def next(self) -> str:
        self._seq += 1
        return f"{self.session}:{self._seq}"


class SenderSeenIds:
    """Duplicate detection keyed by (sender, id): each sender has its own :class:`SeenIds`.

    Ids are visible to every peer; with one memory for all, a peer that sends harmless messages
    with someone else's next ids would silence that someone. Per sender, it only fills its own.
    """

    def __init__(self, size: int = SEEN_IDS) -> None:
        self._size = size
        self._senders: dict[str, SeenIds] = {}

    def first_time(self, sender: str, message_id: str) -> bool:
        """Remember ``message_id`` for ``sender``; True if that sender had not used it lately."""
        seen = self._senders.get(sender)
        if seen is None:
            seen = self._senders[sender] = SeenIds(self._size)
        return seen.first_time(message_id)

    def forget(self, sender: str) -> None:
        """The sender left: its memory goes with it."""
        self._senders.pop(sender, None)


def id_sequence(message_id: str) -> tuple[str, int] | None:
    """``(session, seq)`` of an id ``"<session>:<seq>"``; None for any other id."""
    session, sep, digits = message_id.rpartition(":")
    if not sep or not session or not _SEQ.fullmatch(digits):
        return None
    seq = int(digits)
    return (session, seq) if seq <= fields.MAX_SAFE_INTEGER else None


_SEQ: Final = re.compile("[1-9][0-9]{0,15}")


class SenderOrder:
    """The order of each sender's drag messages (:data:`DRAG_STATE_TYPES`).

    A pair's messages go through the relay until its channel opens and over the channel after, so
    around the switch a later message can overtake an earlier one. Each drag message says where
    the sender's drags are now, so one older than a drag message already applied from the same
    sender is stale. Per sender, like :class:`SenderSeenIds`: no peer can make another's messages
    look old. Ids not of the form ``"<session>:<seq>"`` are never stale.
    """

    def __init__(self) -> None:
        self._latest: dict[str, tuple[str, int]] = {}

    def stale(self, sender: str, message_id: str) -> bool:
        """True if ``message_id`` is older than the newest drag message applied from ``sender``
        (otherwise it becomes the newest)."""
        sequence = id_sequence(message_id)
        if sequence is None:
            return False
        latest = self._latest.get(sender)
        if latest is not None and latest[0] == sequence[0] and sequence[1] <= latest[1]:
            return True
        self._latest[sender] = sequence
        return False

    def forget(self, sender: str) -> None:
        """The sender left."""
        self._latest.pop(sender, None)


class SeenIds:
    """The last :data:`SEEN_IDS` ids received; :meth:`first_time` is False for a repeat."""

    def __init__(self, size: int = SEEN_IDS) -> None:
        self._order: deque[str] = deque()
        self._set: set[str] = set()
        self._size = size

    def first_time(self, message_id: str) -> bool:
        """Remember ``message_id``; True if it had not been seen among the last ones."""
        if message_id in self._set:
            return False
        self._order.append(message_id)
        self._set.add(message_id)
        if len(self._order) > self._size:
            self._set.discard(self._order.popleft())
        return True


# --- people ----------------------------------------------------------------------------------


def fnv1a_32(data: bytes) -> int:
    """FNV-1a, 32 bits."""
    value = 0x811C9DC5
    for byte in data:
        value ^= byte
        value = (value * 0x01000193) & 0xFFFFFFFF
    return value


def colour_for(user_id: str) -> str:
    """The colour every client shows for ``user_id``: ``hsl(hue, 65%, 45%)``."""
    return f"hsl({fnv1a_32(user_id.encode()) % 360}, 65%, 45%)"


_WHITE_SPACE: Final = re.compile(
    "[\t\n\v\f\r \u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000\ufeff]+"
)
"""What separates words in a name: the white space of JavaScript's ``\\s``, so the page and the
bot split a name alike (Python's own ``str.split`` also splits at U+0085 and U+001C-U+001F, and
not at U+FEFF)."""


def initials(name: str) -> str:
    """The first characters of the first two words of ``name``, upper-cased (Unicode's default
    mapping, no locale); ``"?"`` for a name without a word (docs/protocol.md 2.5)."""
    words = [word for word in _WHITE_SPACE.split(name) if word][:2]
    letters = "".join(word[0] for word in words)
    return letters.upper() if letters else "?"
