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

This module must not decide what to do with what it reads: that is the broker's and its
listener's job.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from typing import Any, Final

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
