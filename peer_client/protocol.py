"""The data-channel protocol (docs/protocol.md section 2): places, messages, ids. No I/O.

Everything here is a pure function or a small immutable value, so it is tested synchronously:

- :class:`Place` and :data:`COLUMNS`: where a card is, and how a place maps to the board's API
  (``backlog`` is ``sprint: null``; the other columns are the sprint's statuses).
- Message classes (:class:`Hello`, :class:`Snapshot`, :class:`DragStart`, ...) and
  :func:`parse_message`, which validates one incoming message (a channel text frame or a relay's
  ``data`` object) and answers with the message, ``None`` for an unknown type (ignored for forward
  compatibility), or a :class:`MessageRejected` saying what was wrong (dropped and logged).
- :class:`MessageIds` numbers outgoing messages ``"<session>:<seq>"``; :class:`SeenIds` remembers
  the last 1,024 incoming ids so a message that arrives twice (channel and relay) is handled once.
- :func:`colour_for` and :func:`initials`: how every client shows a person (section 2.5).

This module must not import aiortc, aiohttp or asyncio.
"""

from __future__ import annotations

import json
import secrets
from collections import deque
from dataclasses import dataclass
from typing import Any, Final, Literal

CHANNEL_LABEL: Final = "watercooler"
MAX_MESSAGE_BYTES: Final = 16 * 1024
SEEN_IDS: Final = 1024
HOVER_INTERVAL: Final = 0.05
"""Seconds: at most one ``drag-hover`` per sender in this interval."""
OVERLAY_SECONDS: Final = 10.0
"""Seconds a dropped card is shown at its new place before a newer version settles it."""
LINK_TIMEOUT: Final = 10.0
"""Seconds after negotiation began without an open channel before a pair goes through relay."""

Column = Literal["backlog", "not_started", "in_progress", "testing", "done"]
COLUMNS: Final[tuple[Column, ...]] = ("backlog", "not_started", "in_progress", "testing", "done")
COLUMN_TITLES: Final[dict[str, str]] = {
    "backlog": "Backlog",
    "not_started": "Not started",
    "in_progress": "In progress",
    "testing": "Testing",
    "done": "Done",
}
STATUSES: Final = COLUMNS[1:]


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

    def to_json(self) -> dict[str, Any]:
        return {"task": self.task, "from": self.from_.to_json(), "over": self.over.to_json()}


@dataclass(frozen=True, slots=True)
class Hello:
    agent: str
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
    type: Literal["drag-hover"] = "drag-hover"

    def fields(self) -> dict[str, Any]:
        return {"task": self.task, "over": self.over.to_json()}


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


class _Invalid(Exception):
    pass


def parse_message(raw: str | bytes | dict[str, Any]) -> Received | MessageRejected | None:
    """Validate one incoming message: a channel frame (text) or a relay's ``data`` (object).

    Returns the message, ``None`` for a well-formed message of an unknown type (ignored), or
    :class:`MessageRejected` for anything malformed (the caller drops and logs it).
    """
    if isinstance(raw, bytes):
        return MessageRejected("binary frame; messages are JSON text")
    if isinstance(raw, str):
        if len(raw.encode()) > MAX_MESSAGE_BYTES:
            return MessageRejected(f"message larger than {MAX_MESSAGE_BYTES} bytes")
        try:
            obj = json.loads(raw)
        except (ValueError, RecursionError):
            return MessageRejected("message is not valid JSON")
    else:
        obj = raw
        try:
            size = len(json.dumps(obj).encode())
        except (TypeError, ValueError, RecursionError):
            return MessageRejected("message is not JSON data")
        if size > MAX_MESSAGE_BYTES:
            return MessageRejected(f"message larger than {MAX_MESSAGE_BYTES} bytes")
    if not isinstance(obj, dict):
        return MessageRejected("message is not a JSON object")
    kind = obj.get("type")
    if not isinstance(kind, str):
        return MessageRejected('message has no string "type"')
    message_id = obj.get("id")
    if not isinstance(message_id, str) or not message_id:
        return MessageRejected('message has no string "id"')
    builder = _BUILDERS.get(kind)
    if builder is None:
        return None
    try:
        return Received(message_id, builder(obj))
    except _Invalid as exc:
        return MessageRejected(f"{kind}: {exc}")


def encode(message: Message, message_id: str) -> dict[str, Any]:
    """The JSON object for ``message`` with its envelope."""
    return {"type": message.type, "id": message_id, **message.fields()}


def _int(obj: dict[str, Any], name: str, minimum: int = 0) -> int:
    value = obj.get(name)
    if isinstance(value, bool) or not isinstance(value, int):
        raise _Invalid(f'"{name}" must be an integer')
    if value < minimum:
        raise _Invalid(f'"{name}" must be at least {minimum}')
    return value


def _number(obj: dict[str, Any], name: str) -> float:
    value = obj.get(name)
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise _Invalid(f'"{name}" must be a number')
    return float(value)


def _place(obj: dict[str, Any], name: str) -> Place:
    value = obj.get(name)
    if not isinstance(value, dict):
        raise _Invalid(f'"{name}" must be a place {{"column", "index"}}')
    column = column_named(value["column"]) if isinstance(value.get("column"), str) else None
    if column is None or column != value["column"]:
        raise _Invalid(f'"{name}.column" must be one of {", ".join(COLUMNS)}')
    return Place(column, _int(value, "index"))


def _hello(obj: dict[str, Any]) -> Hello:
    agent = obj.get("agent")
    if not isinstance(agent, str):
        raise _Invalid('"agent" must be a string')
    return Hello(agent[:40])


def _snapshot(obj: dict[str, Any]) -> Snapshot:
    drags = obj.get("drags")
    if not isinstance(drags, list):
        raise _Invalid('"drags" must be a list')
    result = []
    for item in drags:
        if not isinstance(item, dict):
            raise _Invalid('each of "drags" must be an object')
        result.append(DragInfo(_int(item, "task"), _place(item, "from"), _place(item, "over")))
    return Snapshot(tuple(result))


def _task_object(obj: dict[str, Any]) -> dict[str, Any]:
    task = obj.get("task")
    if not isinstance(task, dict):
        raise _Invalid('"task" must be the task object')
    _int(task, "id")
    _int(task, "version", 1)
    return task


_BUILDERS: Final[dict[str, Any]] = {
    "hello": _hello,
    "snapshot": _snapshot,
    "drag-start": lambda o: DragStart(_int(o, "task"), _int(o, "version", 1), _place(o, "from")),
    "drag-hover": lambda o: DragHover(_int(o, "task"), _place(o, "over")),
    "drag-drop": lambda o: DragDrop(_int(o, "task"), _place(o, "to"), _int(o, "version", 1)),
    "drag-cancel": lambda o: DragCancel(_int(o, "task")),
    "task-updated": lambda o: TaskUpdated(_task_object(o)),
    "bye": lambda o: Bye(),
    "ping": lambda o: Ping(_number(o, "t")),
    "pong": lambda o: Pong(_number(o, "t")),
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


def initials(name: str) -> str:
    """The first letters of the first two words of ``name``."""
    return "".join(word[0] for word in name.split()[:2])
