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

What it reads back it only parses: whether a frame came too late is decided here (``late_by``),
what to do about it is the reader's and its listener's job.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from typing import Any, Final

from signaling.outbox import OUTBOX_MAX_AGE
from signaling.rooms import Member

UNDELIVERED: Final = "!undelivered "  # + peer: a frame of that peer was dropped (no newline)


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
    """A member from a JSON object, or None if it is not one (never trust the wire)."""
    if not isinstance(raw, dict):
        return None
    try:
        return Member(
            peer=str(raw["peer"]),
            sprint=str(raw["sprint"]),
            user_id=str(raw["user_id"]),
            name=str(raw["name"]),
            connection=int(raw["connection"]),
            instance=str(raw["instance"]),
        )
    except (KeyError, TypeError, ValueError):
        return None


def loads(raw: str | bytes) -> Any:
    """JSON from Redis, or None if it is not JSON."""
    try:
        return json.loads(raw)
    except (ValueError, TypeError):
        return None


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


def read_direct(data: str) -> PeerFrame | Undelivered | None:
    """A message on an instance's own channel, or None if it is neither kind."""
    peer, newline, rest = data.partition("\n")
    if not newline:
        if peer.startswith(UNDELIVERED):
            return Undelivered(peer[len(UNDELIVERED) :])
        return None
    stamp, newline, text = rest.partition("\n")
    if not newline or not stamp.replace(".", "", 1).isdigit():
        return PeerFrame(peer, rest, None)  # an instance that does not stamp its frames
    return PeerFrame(peer, text, float(stamp))


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
    """All of ``instance``'s members of the sprint."""

    instance: str
    members: list[Member]


def read_sprint_notice(
    data: str, sprint: str, instance: str
) -> SprintEvent | Joined | Left | Synced | None:
    """A notice on ``sprint``'s channel from another instance than ``instance``, or None (ours,
    or not a notice)."""
    notice = loads(data)
    if not isinstance(notice, dict) or notice.get("from") == instance:
        return None
    op = notice.get("op")
    if op == "event" and isinstance(notice.get("text"), str):
        return SprintEvent(notice["text"])
    if op in {"join", "leave"}:
        member = member_from(notice.get("member"))
        if member is None or member.sprint != sprint:
            return None
        return Joined(member) if op == "join" else Left(member)
    if op == "sync" and isinstance(notice.get("members"), list):
        members = [m for raw in notice["members"] if (m := member_from(raw)) is not None]
        return Synced(str(notice["from"]), members)
    return None
