"""The peer mesh: one :class:`~peer_client.peer_link.PeerLink` per other peer in the sprint,
created the moment signaling introduces the peer, and the relay budget they share
(docs/protocol.md 1.4, 2.1, 2.6; docs/webrtc.md).

Rules:

- Each pair has one *offerer*: the peer that learned of the other from ``welcome.peers``
  (:meth:`PeerMesh.welcome`); the one that learned of it from ``peer-joined`` is the *answerer*
  (:meth:`PeerMesh.joined`). The offerer offers whenever it has no usable connection to a present
  peer: from ``welcome`` to each listed peer without an open channel, and again (after a short,
  growing delay) when its channel closes or its connection fails. The answerer never initiates; a
  fresh offer replaces whatever connection it had. So aiortc never has to roll back.
- Relay from the first moment (docs/protocol.md 2.6): a link exists from the moment signaling
  introduces the peer (``welcome`` or ``peer-joined``), and until its channel is open its messages
  go through signaling (``relay``), within one budget shared by every peer
  (:mod:`peer_client.relay_budget`), since signaling limits relays per connection, not per pair.

A new link reports ``"new" -> "connecting"`` once, when it is introduced. The mesh tells its owner
about every change of a link's state through ``on_state`` and hands each received frame to
``on_message``; it never interprets messages. For the link reports (docs/protocol.md 1.8) it also
tells ``on_outcome`` what happened to a link (:mod:`peer_client.peer_link` says what), also when
no channel comes up in time after a loss, so a lost pair is reported as relayed once retries do not
bring it back. Never for a peer that left.

How one connection is negotiated, and which path a message takes, is the link's job, not the
mesh's.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Iterable
from typing import Any, Literal

from aiortc import RTCIceServer

from peer_client.link_report import LinkFacts
from peer_client.peer_link import LinkState, PeerLink
from peer_client.protocol import LINK_TIMEOUT
from peer_client.relay_budget import TokenBucket

log = logging.getLogger("peer_client.mesh")

Role = Literal["offerer", "answerer"]
SendFunction = Callable[[str, dict[str, Any]], bool]
StateCallback = Callable[[str, str, str], None]
OutcomeCallback = Callable[[str, LinkFacts], None]
MessageCallback = Callable[[str, str | bytes], None]

RETRY_BASE = 1.0
"""The offerer's first re-offer after a lost link comes this many seconds later, then 2x, 4x, ..."""
RETRY_CAP = 30.0
"""... up to this many seconds between re-offers to one peer."""
STABLE_LINK = 30.0
"""A link open at least this long counts as good: its next loss starts the delays over."""


class PeerMesh:
    """All :class:`PeerLink` s of one client in one sprint."""

    def __init__(
        self,
        *,
        send_signal: SendFunction,
        send_relay: SendFunction,
        on_message: MessageCallback,
        on_state: StateCallback,
        on_outcome: OutcomeCallback | None = None,
        ice_servers: list[RTCIceServer] | None = None,
        link_timeout: float = LINK_TIMEOUT,
        can_offer: Callable[[], bool] = lambda: True,
        retry_base: float = RETRY_BASE,
        retry_cap: float = RETRY_CAP,
    ) -> None:
        self.send_signal = send_signal
        self.send_relay = send_relay
        self._on_message = on_message
        self._on_state = on_state
        self._on_outcome = on_outcome
        self.ice_servers: list[RTCIceServer] = list(ice_servers or [])
        self.link_timeout = link_timeout
        self.links: dict[str, PeerLink] = {}
        self.roles: dict[str, Role] = {}
        """Our role in the pair with each present peer (from ``welcome`` / ``peer-joined``)."""
        self._can_offer = can_offer
        self.can_relay = can_offer
        """Whether signaling can carry a relay now (it is the same condition as offering)."""
        self._retry_base = retry_base
        self._retry_cap = retry_cap
        self._retry_timers: dict[str, asyncio.TimerHandle] = {}
        self._attempts: dict[str, int] = {}
        self._opened_at: dict[str, float] = {}
        self._closing: set[asyncio.Task[None]] = set()
        self.relay_budget = TokenBucket()
        """Shared by every peer: signaling limits relays per connection, not per pair."""
        self.dropped_relay: dict[str, int] = {}
        """Messages not relayed because the budget was spent, by type."""

    def state_of(self, peer: str) -> LinkState | None:
        link = self.links.get(peer)
        return link.state if link is not None else None

    def welcome(self, peers: Iterable[str]) -> None:
        """Signaling's ``welcome`` listed ``peers``: we are the offerer of each of these pairs.

        We offer to each listed peer we have no open channel with (a connection that is not open
        is replaced). An open channel is kept: if the other side closed it meanwhile, its close
        brings a re-offer. Peers not listed lose their role (they may not have rejoined yet), but
        an open channel to them is never closed for that.
        """
        self.roles = {peer: "offerer" for peer in peers}
        for peer in sorted(self.roles):
            if peer in self.links:
                self.links[peer].leaving = False  # listed again: it came back
            if self.state_of(peer) != "open":
                self.offer(peer)

    def joined(self, peer: str) -> None:
        """Signaling's ``peer-joined``: we are the answerer of this pair and wait for its offer;
        the relay reaches it meanwhile."""
        self.roles[peer] = "answerer"
        self._cancel_retry(peer)
        self._link(peer).leaving = False

    def offer(self, peer: str) -> None:
        """Negotiate with ``peer`` as the offerer, with a fresh connection."""
        self._cancel_retry(peer)
        self._link(peer).start_offer()

    def _link(self, peer: str) -> PeerLink:
        """The link to ``peer``, created (and announced as introduced) if there is none."""
        link = self.links.get(peer)
        if link is None or link.state == "closed":
            link = self.links[peer] = PeerLink(self, peer)
            self._on_state(peer, "new", "connecting")
        return link

    def signal(self, peer: str, data: dict[str, Any]) -> None:
        """Hand ``peer``'s negotiation message to its link (created on a first offer from a peer
        signaling introduced)."""
        link = self.links.get(peer)
        if link is None or link.state == "closed":
            description = data.get("description")
            if not (isinstance(description, dict) and description.get("type") == "offer"):
                log.info("signal from %s without a connection to it; ignored", peer)
                return
            if peer not in self.roles:
                log.info("offer from %s, whom signaling never introduced; ignored", peer)
                return
            link = self._link(peer)
        link.receive_signal(data)

    def said_bye(self, peer: str) -> None:
        """``peer`` said ``bye``: it is leaving on purpose, so nothing more is relayed to it
        (docs/protocol.md 2.3); it is reached again if signaling introduces it again."""
        link = self.links.get(peer)
        if link is not None:
            link.leaving = True

    def send(self, peer: str, message: dict[str, Any]) -> bool:
        link = self.links.get(peer)
        return link.send(message) if link is not None else False

    def broadcast(self, message: dict[str, Any]) -> list[str]:
        """Send to every peer we can reach; returns who got it."""
        return [peer for peer, link in list(self.links.items()) if link.send(message)]

    async def drop(self, peer: str) -> None:
        """Close the connection to ``peer`` at once (it left)."""
        self.roles.pop(peer, None)
        self._cancel_retry(peer)
        self._attempts.pop(peer, None)
        self._opened_at.pop(peer, None)
        link = self.links.pop(peer, None)
        if link is not None:
            await link.close()

    # --- offering again ----------------------------------------------------------------------

    def _lost(self, peer: str) -> None:
        """The link to ``peer`` closed or failed: if we are its offerer, offer again later."""
        if self.roles.get(peer) != "offerer" or peer in self._retry_timers:
            return
        loop = asyncio.get_running_loop()
        opened = self._opened_at.pop(peer, None)
        if opened is not None and loop.time() - opened >= STABLE_LINK:
            self._attempts.pop(peer, None)
        attempt = self._attempts.get(peer, 0)
        self._attempts[peer] = attempt + 1
        delay = min(self._retry_cap, self._retry_base * 2 ** min(attempt, 16))
        log.info("link %s: lost; offering again in %g s", peer, delay)
        self._retry_timers[peer] = loop.call_later(delay, self._retry, peer)

    def _retry(self, peer: str) -> None:
        self._retry_timers.pop(peer, None)
        if self.roles.get(peer) != "offerer" or self.state_of(peer) == "open":
            return
        if not self._can_offer():
            return  # signaling is away: the next welcome offers
        self.offer(peer)

    def _cancel_retry(self, peer: str) -> None:
        timer = self._retry_timers.pop(peer, None)
        if timer is not None:
            timer.cancel()

    def _outcome(self, link: PeerLink, facts: LinkFacts) -> None:
        if self._on_outcome is not None and self.links.get(link.peer) is link:
            self._on_outcome(link.peer, facts)

    def _state_changed(self, peer: str, old: str, new: str) -> None:
        if new == "open":
            self._opened_at[peer] = asyncio.get_running_loop().time()
        if new == "closed":
            link = self.links.get(peer)
            if link is not None and link.state == "closed":
                del self.links[peer]
                task = asyncio.get_running_loop().create_task(link.close())
                self._closing.add(task)
                task.add_done_callback(self._closing.discard)
                self._lost(peer)
        self._on_state(peer, old, new)

    async def drain(self, timeout: float) -> None:
        """Give queued channel messages (a ``bye``) up to ``timeout`` seconds to leave, before
        closing."""
        deadline = time.monotonic() + timeout
        await asyncio.sleep(0.02)
        while time.monotonic() < deadline:
            channels = [link.channel for link in self.links.values() if link.channel]
            if all(c.bufferedAmount == 0 or c.readyState != "open" for c in channels):
                break
            await asyncio.sleep(0.02)

    async def close(self) -> None:
        """Close every connection and forget every role (a later ``welcome`` starts over).
        Idempotent."""
        self.roles.clear()
        for peer in list(self._retry_timers):
            self._cancel_retry(peer)
        links = list(self.links.values())
        self.links.clear()
        await asyncio.gather(*(link.close() for link in links), return_exceptions=True)
        if self._closing:
            await asyncio.gather(*self._closing, return_exceptions=True)
