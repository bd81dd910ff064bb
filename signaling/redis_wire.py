"""What the Redis broker writes to Redis, and reads back: key and channel names, members and notices
as JSON, frames for one peer with the time they were sent. No I/O: it talks to no Redis and reads
no clock; the broker passes the times in.

Keys and channels (prefix ``wc`` by default):

- ``wc:instance:<id>`` — this instance is alive; set with a TTL (``presence_ttl``) and renewed
  every fifth of it. An instance that dies stops renewing; the others notice the key is gone and
  drop its peers, sending ``peer-left`` to theirs.
- ``wc:members:<sprint>`` — hash peer id → member (JSON): the sprint's directory, read by an
  instance when its first peer of that sprint joins.
- ``wc:sprint:<sprint>`` — pub/sub channel of the sprint: join, leave, sync and board-event notices.
  Only instances with peers in the sprint listen.
- ``wc:to:<instance>`` — pub/sub channel of one instance: frames for one of its peers
  (``<peer>\\n<sent at>\\n<frame>``) and notices that a frame of one of its peers was not
  delivered (``!undelivered <peer>``).

What it reads back it parses and checks, as the bytes Redis delivered: anything on Redis may have
been written by another version of this server, a broken deployment or anyone with access to
Redis. A message that is none of what instances write comes back as :class:`Malformed`, naming
its cause (one of ``CAUSES``), for the reader to drop and count; a member that is not one is None.
Whether a frame came too late is decided here too (``late_by``); what to do about either is the
reader's and its listener's job.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from typing import Any, Final

import orjson

from signaling.outbox import OUTBOX_MAX_AGE
from signaling.rooms import Member

UNDELIVERED: Final = "!undelivered "  # + peer: a frame of that peer was dropped (no newline)
MAX_STAMP_CHARS: Final = 20  # digits and a point: any time instances write, and always finite
MAX_CONNECTION: Final = 2**63  # a member's ``connection`` is a count below this


@dataclass(frozen=True, slots=True)
class Names:
    """The keys and channels of the instances sharing one ``prefix``."""

    prefix: str

    def instance_key(self, instance: str) -> str:
        return f"{self.prefix}:instance:{instance}"

    def members_key(self, sprint: str) -> str:
        return f"{self.prefix}:members:{sprint}"

    def sprint_channel(self, sprint: str) -> str:
        return f"{self.prefix}:sprint:{sprint}"

    def instance_channel(self, instance: str) -> str:
        return f"{self.prefix}:to:{instance}"

    def sprint_of(self, channel: str) -> str:
        """The sprint whose channel this is."""
        return channel.removeprefix(f"{self.prefix}:sprint:")


def member_json(member: Member) -> str:
    return json.dumps(asdict(member), separators=(",", ":"))


def member_from(raw: Any) -> Member | None:
    """A member from a JSON object, or None if it is not one (never trust the wire): every
    field present and of its type, as ``member_json`` writes it; no field is converted."""
    if type(raw) is not dict:
        return None
    peer, sprint, user_id = raw.get("peer"), raw.get("sprint"), raw.get("user_id")
    name, connection, instance = raw.get("name"), raw.get("connection"), raw.get("instance")
    if (
        type(peer) is not str
        or not peer
        or type(sprint) is not str
        or type(user_id) is not str
        or type(name) is not str
        or type(instance) is not str
        or not instance
        or type(connection) is not int
        or not 0 <= connection < MAX_CONNECTION
    ):
        return None
    return Member(peer, sprint, user_id, name, connection, instance)


def read_member(raw: str | bytes) -> Member | Malformed:
    """A member from a sprint's directory, or why it is not one."""
    value = json_object(raw)
    if isinstance(value, Malformed):
        return value
    member = member_from(value)
    return BAD_MEMBER if member is None else member


def member_notice(op: str, instance: str, member: Member) -> str:
    """A ``join`` or ``leave`` notice for a sprint's channel."""
    return json.dumps({"op": op, "from": instance, "member": asdict(member)})


def sync_notice(instance: str, members: list[Member]) -> str:
    """The members ``instance`` has in a sprint, all of them (after it reconnected)."""
    return json.dumps({"op": "sync", "from": instance, "members": [asdict(m) for m in members]})


def event_notice(instance: str, text: str) -> str:
    """A board event for a sprint's channel."""
    return json.dumps({"op": "event", "from": instance, "text": text})


def peer_frame(peer: str, sent_at: float, text: str) -> str:
    """A frame for ``peer`` on its instance's channel, sent at ``sent_at`` on Redis's clock."""
    return f"{peer}\n{sent_at:.3f}\n{text}"


def undelivered_notice(sender: str) -> str:
    """Word to ``sender``'s instance that a frame of ``sender`` was dropped."""
    return f"{UNDELIVERED}{sender}"


@dataclass(frozen=True, slots=True)
class Malformed:
    """A message that is none of what instances write, and why (one of ``CAUSES``, the label it
    is counted under)."""

    cause: str


NOT_UTF8: Final = Malformed("not-utf8")  # bytes that are not UTF-8 text
NOT_JSON: Final = Malformed("not-json")  # a notice that is not JSON orjson reads
NOT_AN_OBJECT: Final = Malformed("not-an-object")  # JSON, but not an object
BAD_FROM: Final = Malformed("bad-from")  # a notice without its sending instance, as a string
BAD_OP: Final = Malformed("bad-op")  # a notice without its ``op``, as a string
UNKNOWN_OP: Final = Malformed("unknown-op")  # an ``op`` this version does not know
BAD_MEMBER: Final = Malformed("bad-member")  # not a member, or not the sender's in the sprint
BAD_TEXT: Final = Malformed("bad-text")  # a board event without its text
UNKNOWN_KIND: Final = Malformed("unknown-kind")  # on an instance's channel: neither kind
NO_PEER: Final = Malformed("no-peer")  # a frame for no peer
BAD_STAMP: Final = Malformed("bad-stamp")  # a frame whose time is not a time
NO_TEXT: Final = Malformed("no-text")  # an empty frame
CAUSES: Final = tuple(
    m.cause
    for m in (
        NOT_UTF8,
        NOT_JSON,
        NOT_AN_OBJECT,
        BAD_FROM,
        BAD_OP,
        UNKNOWN_OP,
        BAD_MEMBER,
        BAD_TEXT,
        UNKNOWN_KIND,
        NO_PEER,
        BAD_STAMP,
        NO_TEXT,
    )
)


@dataclass(frozen=True, slots=True)
class PeerFrame:
    """A frame for ``peer``, sent at ``sent_at`` on Redis's clock (None: the sending instance
    does not stamp its frames)."""

    peer: str
    text: str
    sent_at: float | None


@dataclass(frozen=True, slots=True)
class Undelivered:
    """A frame of ``sender``, one of this instance's peers, was dropped on another instance."""

    sender: str


def read_direct(data: bytes) -> PeerFrame | Undelivered | Malformed:
    """A message on an instance's own channel, or why it is neither kind."""
    try:
        message = data.decode()
    except UnicodeDecodeError:
        return NOT_UTF8
    peer, newline, rest = message.partition("\n")
    if not newline:
        if peer.startswith(UNDELIVERED) and len(peer) > len(UNDELIVERED):
            return Undelivered(peer[len(UNDELIVERED) :])
        return UNKNOWN_KIND
    if not peer:
        return NO_PEER
    stamp, newline, text = rest.partition("\n")
    if not newline or not stamp.replace(".", "", 1).isdigit():
        # An instance that does not stamp its frames: all of it is the frame.
        return PeerFrame(peer, rest, None) if rest else NO_TEXT
    # A stamp, then: of ASCII digits (isdigit() also takes "²", which float() refuses), and
    # short enough to be a time (a long one is beyond any float).
    if len(stamp) > MAX_STAMP_CHARS or not stamp.isascii():
        return BAD_STAMP
    return PeerFrame(peer, text, float(stamp)) if text else NO_TEXT


def late_by(frame: PeerFrame, now: float) -> float | None:
    """How old ``frame`` is at ``now`` (Redis's clock) if that is past ``OUTBOX_MAX_AGE``:
    held up that long, it is dropped rather than delivered. None if it may be delivered."""
    if frame.sent_at is None:
        return None
    age = now - frame.sent_at
    return age if age > OUTBOX_MAX_AGE else None


@dataclass(frozen=True, slots=True)
class SprintEvent:
    """A board event for the sprint's peers."""

    text: str


@dataclass(frozen=True, slots=True)
class Joined:
    member: Member


@dataclass(frozen=True, slots=True)
class Left:
    member: Member


@dataclass(frozen=True, slots=True)
class Synced:
    """All of ``instance``'s members of the sprint; ``malformed`` entries of the list were left
    out (not members, or not that instance's members of that sprint)."""

    instance: str
    members: list[Member]
    malformed: int = 0


def read_sprint_notice(
    data: bytes, sprint: str, instance: str
) -> SprintEvent | Joined | Left | Synced | Malformed | None:
    """A notice on ``sprint``'s channel from another instance than ``instance``; None for one of
    ours, or why it is not a notice. A join or leave must name a member of ``sprint`` held by
    the instance that sent it; a sync keeps those of its members, and counts the others."""
    notice = json_object(data)
    if isinstance(notice, Malformed):
        return notice
    sender = notice.get("from")
    if type(sender) is not str or not sender:
        return BAD_FROM
    if sender == instance:
        return None
    op = notice.get("op")
    if type(op) is not str:
        return BAD_OP
    if op == "event":
        text = notice.get("text")
        return SprintEvent(text) if type(text) is str and text else BAD_TEXT
    if op == "join" or op == "leave":
        member = member_from(notice.get("member"))
        if member is None or member.sprint != sprint or member.instance != sender:
            return BAD_MEMBER
        return Joined(member) if op == "join" else Left(member)
    if op == "sync":
        listed = notice.get("members")
        if type(listed) is not list:
            return BAD_MEMBER
        members: list[Member] = []
        for raw in listed:
            member = member_from(raw)
            if member is not None and member.sprint == sprint and member.instance == sender:
                members.append(member)
        return Synced(sender, members, len(listed) - len(members))
    return UNKNOWN_OP


def json_object(data: bytes | str) -> dict[str, Any] | Malformed:
    """A JSON object from Redis, or why it is not one (not JSON also: nested deeper than, or
    holding a number larger than, orjson reads)."""
    try:
        value = orjson.loads(data)
    except orjson.JSONDecodeError:
        try:
            data.decode() if isinstance(data, bytes) else data.encode()
        except UnicodeError:
            return NOT_UTF8
        return NOT_JSON
    return value if type(value) is dict else NOT_AN_OBJECT
