"""The data-channel protocol's rules (docs/protocol.md section 2): its numbers, and the check
every message passes on its way in and out. No I/O.

- The numbers: the channel's label, sizes, rates and timeouts every client keeps
  (:data:`HOVERS_PER_SECOND`, :data:`OVERLAY_SECONDS`, :data:`LINK_TIMEOUT`, ...), and which
  messages go over the channel only or say where a sender's drags are.
- :func:`parse_message` validates one incoming message (a channel text frame;
  :func:`parse_relayed` for the signaling frame that relayed one) and answers with the message
  (:class:`Received`), ``None`` for an unknown type (ignored for forward compatibility), or a
  :class:`MessageRejected` saying what was wrong (dropped and logged). The frame's text is checked
  first (:mod:`peer_client.frames`), then every field (:mod:`peer_client.fields`).
- :func:`encode` checks what we send by the same rules as what we receive.

The messages themselves are :mod:`peer_client.messages`, places :mod:`peer_client.places`, ids
:mod:`peer_client.message_ids`; ``web/static/watercooler/protocol.js`` is the page's twin. This
module decides what a message is, never what it changes (:mod:`peer_client.peer_input`), and must
not import aiortc, aiohttp or asyncio.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Final

from peer_client import fields, frames
from peer_client.fields import FieldError
from peer_client.messages import (
    Bye,
    DragCancel,
    DragDrop,
    DragHover,
    DragInfo,
    DragStart,
    Hello,
    Message,
    Ping,
    Pong,
    Snapshot,
    TaskUpdated,
)
from peer_client.places import Place, Pointer

CHANNEL_LABEL: Final = "watercooler"
MAX_MESSAGE_BYTES: Final = frames.MAX_MESSAGE_BYTES
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
