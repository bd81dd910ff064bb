"""The Redis broker's outgoing commands: queued without waiting, never lost without a word. No I/O.

Broadcasts and relays never wait for Redis: their commands queue here and a writer sends them in
pipelined batches. A command that cannot be sent is *given back* to the broker, never dropped
silently: the queue is full, its batch failed, the broker went away, or it waited longer than
``max_age`` (a signal that arrives seconds late is worse than one reported lost: the sender's
peer connection has moved on). :func:`lost` says what that leaves to do: tell the sender of a
peer frame that it was not delivered, re-sync a sprint whose leave notice was lost, and log lost
board events.

A command that was sent may still have reached nobody: PUBLISH answers with the number of
subscribers that got the message. :func:`unheard` reads those answers. A peer frame that no
subscriber got (the instance holding the peer was not subscribed: its connection to Redis dropped
and it is subscribing again) is given back like one that was not sent. A notice on a sprint's
channel that nobody got is only counted: that is what happens whenever no instance holds peers of
that sprint, and an instance that missed joins and leaves while it was not subscribed re-reads the
sprint's directory when it subscribes again.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from typing import Final

PEER: Final = "peer"  # a frame for one peer on another instance (has a sender)
LEAVE: Final = "leave"  # a peer left (its sprint is re-synced if this is lost)
EVENT: Final = "event"  # a board event for a sprint
FORGET: Final = "forget"  # a dead instance's directory entry
NOTICE: Final = "notice"  # a word to another instance (a frame of one of its peers came late)

# A frame queued longer than this is given back as undelivered rather than sent late.
OUTBOX_MAX_AGE: Final = 2.0


@dataclass(frozen=True, slots=True)
class Command:
    """One unit for the pipeline: ``ops`` are (``publish``|``hdel``, key or channel, value)."""

    kind: str
    ops: tuple[tuple[str, str, str], ...]
    queued: float
    sender: str | None = None
    sprint: str | None = None


class Outbox:
    """A bounded first-in first-out queue of commands with an age limit."""

    def __init__(self, limit: int, max_age: float) -> None:
        self.limit = limit
        self.max_age = max_age
        self._queue: deque[Command] = deque()

    def __len__(self) -> int:
        return len(self._queue)

    def put(self, command: Command) -> bool:
        """Queue ``command``; False (nothing queued) if the queue is full."""
        if len(self._queue) >= self.limit:
            return False
        self._queue.append(command)
        return True

    def take(self, now: float, size: int) -> tuple[list[Command], list[Command]]:
        """Up to ``size`` commands to send now, and those that waited too long (to give back)."""
        batch: list[Command] = []
        stale: list[Command] = []
        queue = self._queue
        oldest = now - self.max_age
        while queue and len(batch) < size:
            command = queue.popleft()
            (stale if command.queued < oldest else batch).append(command)
        return batch, stale

    def drain(self) -> list[Command]:
        """Everything queued (the broker went away: it is all given back)."""
        commands = list(self._queue)
        self._queue.clear()
        return commands


@dataclass(slots=True)
class Lost:
    """What commands that were not sent leave to do: tell the ``senders`` of peer frames (in
    order) that theirs were not delivered, sync the ``sprints`` whose leave notice was lost, and
    log the number of board ``events`` lost."""

    senders: list[str] = field(default_factory=list)
    sprints: set[str] = field(default_factory=set)
    events: int = 0


def lost(commands: list[Command]) -> Lost:
    """What ``commands``, given back, leave to do."""
    result = Lost()
    for command in commands:
        if command.kind == PEER and command.sender is not None:
            result.senders.append(command.sender)
        elif command.kind == LEAVE and command.sprint is not None:
            result.sprints.add(command.sprint)
        elif command.kind == EVENT:
            result.events += 1
    return result


@dataclass(slots=True)
class Unheard:
    """What PUBLISH answers said about one batch: the peer ``frames`` no subscriber got (to give
    back), and how many other publishes reached nobody, by command kind (``notices``)."""

    frames: list[Command] = field(default_factory=list)
    notices: dict[str, int] = field(default_factory=dict)


def unheard(commands: list[Command], replies: list[object]) -> Unheard:
    """Of ``commands`` sent in one pipeline, whose ``replies`` come in the order of their ops,
    those whose PUBLISH reached no subscriber."""
    result = Unheard()
    position = 0
    for command in commands:
        nobody = False
        for op, _, _ in command.ops:
            if op == "publish" and replies[position] == 0:
                nobody = True
            position += 1
        if not nobody:
            continue
        if command.kind == PEER:
            result.frames.append(command)
        else:
            result.notices[command.kind] = result.notices.get(command.kind, 0) + 1
    return result
