"""What peers say to a session: each message, over its channel or through the relay, checked,
handled once, in order, and applied (docs/protocol.md 2.2, 2.4, 2.6).

A frame is read by :mod:`peer_client.protocol`: a malformed one is dropped, logged and told as
``rejected``; one of an unknown type is ignored. A message its sender already sent (it can come
both over the channel and through the relay) is handled once, and a drag message overtaken by a
later one from the same sender is stale (:mod:`peer_client.message_ids`). ``ping`` and ``pong``
that come through the relay are ignored. What is left is applied by :mod:`peer_client.peer_input`'s
rule, and the inbox tells the listeners what changed and does what the rule asks: a hint to the
board source, a pong back. It also ends, and tells, the drags of a peer that left and of one gone
silent. The page's twin is ``onPeerMessage`` in ``web/static/watercooler/live.js``.

Peers are untrusted: no task state a peer sent is kept here (the board source asks the board), and
whether signaling introduced the sender of a relay is the session's check, made before. The inbox
sends nothing but a pong.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any

from peer_client import messages, peer_input, protocol
from peer_client.board_source import BoardSource
from peer_client.events import DragEvent, HelloEvent, Person, RejectedEvent
from peer_client.link_reporter import LinkReporter
from peer_client.message_ids import SenderOrder, SenderSeenIds
from peer_client.outbox import Outbox
from peer_client.places import Place
from peer_client.state import BoardState

log = logging.getLogger("peer_client.session")

Emit = Callable[[str, Any], None]


class Inbox:
    """Every peer's messages to one session, by sender."""

    def __init__(
        self,
        state: BoardState,
        source: BoardSource,
        reporter: LinkReporter,
        outbox: Outbox,
        *,
        person: Callable[[str], Person],
        emit: Emit,
        said_bye: Callable[[str], None],
    ) -> None:
        self.state = state
        self.source = source
        self.reporter = reporter
        self.outbox = outbox
        self._person = person
        self._emit = emit
        self.said_bye = said_bye
        self._seen = SenderSeenIds()
        self._order = SenderOrder()
        self.agents: dict[str, str] = {}
        """Each peer's agent, as its ``hello`` named it."""

    def channel_frame(self, peer: str, raw: str | bytes) -> None:
        """A frame from ``peer``'s data channel."""
        self._take(peer, protocol.parse_message(raw))

    def relayed_frame(self, peer: str, frame: str) -> None:
        """A message ``peer`` relayed, judged on the signaling frame that carried it, as the page
        judges it (docs/protocol.md 2.6)."""
        parsed = protocol.parse_relayed(frame)
        if isinstance(parsed, protocol.Received) and (
            parsed.message.type in protocol.CHANNEL_ONLY_TYPES
        ):
            return  # ping and pong go over the channel only: one relayed is ignored
        self._take(peer, parsed)

    def departed(self, peer: str) -> None:
        """Signaling says ``peer`` left: what it sent is forgotten."""
        self._seen.forget(peer)
        self._order.forget(peer)

    def left(self, peer: str) -> None:
        """``peer`` is no longer present: its agent goes, and its drags end."""
        self.agents.pop(peer, None)
        for drag in self.state.forget_peer(peer):
            self._emit_drag("cancel", peer, drag.task, None)

    def expire(self, now: float) -> None:
        """End the drags of peers silent for too long (their end was lost)."""
        for drag in self.state.expire_drags(now):
            self._emit_drag("cancel", drag.peer, drag.task, None, drag.from_)

    def _take(self, peer: str, parsed: protocol.Received | protocol.MessageRejected | None) -> None:
        if parsed is None:
            return
        person = self._person(peer)
        if isinstance(parsed, protocol.MessageRejected):
            log.warning("dropped a message from %s: %s", person.name, parsed.reason)
            self._emit("rejected", RejectedEvent(person, parsed.reason))
            return
        if not self._seen.first_time(peer, parsed.id):
            return
        message = parsed.message
        if isinstance(message, messages.Bye):
            self.said_bye(peer)  # its channel closing next is no outcome; relay it nothing
        # Around the switch from the relay to the channel a later drag message can overtake an
        # earlier one: the later one says where the drag is now (docs/protocol.md 2.2).
        if message.type in protocol.DRAG_STATE_TYPES and self._order.stale(peer, parsed.id):
            log.debug("stale %s from %s ignored (overtaken by a later one)", message.type, peer)
            return
        effect = peer_input.apply(self.state, peer, message, time.monotonic())
        if effect.agent is not None:
            self.agents[peer] = effect.agent
            self._emit("hello", HelloEvent(person, effect.agent))
        for change in effect.drags:
            self._emit_drag(change.kind, peer, change.task, change.place, change.from_)
        for drag in effect.left_drags:
            self._emit_drag("cancel", peer, drag.task, None, drag.from_)
        if effect.hint is not None:
            self.source.hint(effect.hint, peer)
        if effect.pong is not None:
            self.outbox.send_to(peer, messages.Pong(effect.pong))

    def _emit_drag(
        self,
        kind: peer_input.DragKind,
        peer: str,
        task: int,
        place: Place | None,
        from_: Place | None = None,
    ) -> None:
        name = self.state.name_of(task)
        self._emit("drag", DragEvent(kind, self._person(peer), task, name, place, from_))
