"""Envelope ids (docs/protocol.md 2.2): numbering what we send, and remembering what each sender
sent. No I/O.

- :class:`MessageIds` numbers outgoing messages ``"<session>:<seq>"``.
- :class:`SenderSeenIds` remembers each sender's last :data:`SEEN_IDS` ids (a :class:`SeenIds`
  per sender), so a message that arrives twice (channel and relay) is handled once, and no peer
  can use up another's ids.
- :class:`SenderOrder` tells a drag message overtaken by a later one from the same sender
  (:func:`id_sequence` reads the ``seq`` it compares).

Ids are opaque here: what a message says, and which messages are drag messages, is
:mod:`peer_client.protocol`'s. This module must not import aiortc, aiohttp or asyncio.
"""

from __future__ import annotations

import re
import secrets
from collections import deque
from typing import Final

from peer_client import fields

SEEN_IDS: Final = 1024


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
    """The order of each sender's drag messages (:data:`~peer_client.protocol.DRAG_STATE_TYPES`).

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
