"""The peer mesh: one aiortc ``RTCPeerConnection`` with one data channel per other peer.

Rules (docs/protocol.md 1.4, 2.1, 2.6; docs/webrtc.md):

- Every connection is built with ``RTCConfiguration(iceServers=...)`` from ``welcome`` — never a
  bare ``RTCPeerConnection()``, which would reach for Google's STUN server.
- Each pair has one *offerer*: the peer that learned of the other from ``welcome.peers``
  (:meth:`PeerMesh.welcome`); the one that learned of it from ``peer-joined`` is the *answerer*
  (:meth:`PeerMesh.joined`). The offerer offers whenever it has no usable connection to a present
  peer: from ``welcome`` to each listed peer without an open channel, and again (after a short,
  growing delay) when its channel closes or its connection fails. The answerer never initiates; a
  fresh offer replaces whatever connection it had. So aiortc never has to roll back. The offerer
  creates the ``"watercooler"`` channel before its offer.
- aiortc does not trickle: we send one full description with the candidates inline. Browsers
  trickle: their candidates are parsed with ``aiortc.sdp.candidate_from_sdp``; ``null`` is
  end-of-candidates.
- Each peer's incoming signaling is handled strictly in order by that link's own worker task (a
  browser's candidates arrive while we are still applying its offer), from a bounded queue that
  keeps only the newest offer waiting and answers at most one offer a second
  (:mod:`peer_client.signal_queue`), so an offer flood cannot make us exceed signaling's rate
  limit.
- The answerer's channel arrives already open (aiortc #1228), so ``readyState`` is checked in the
  ``datachannel`` handler, and the message handler is attached right there (aiortc #1194).
- Relay from the first moment (docs/protocol.md 2.6): a link exists from the moment signaling
  introduces the peer (``welcome`` or ``peer-joined``), and until its channel is open its messages
  go through signaling (``relay``), within one budget shared by every peer
  (:mod:`peer_client.relay_budget`: hovers are dropped first). Once the channel is open nothing for
  that peer goes through the server. A link not open :data:`~peer_client.protocol.LINK_TIMEOUT`
  after negotiation began, or whose connection failed, is shown as *relayed*.

A link's ``state`` is ``"connecting"``, ``"open"`` (direct channel), ``"relayed"`` or ``"closed"``;
a new link reports ``"new" -> "connecting"`` once, when it is introduced. The mesh tells its owner
about every change through ``on_state`` and hands each received frame to ``on_message``; it never
interprets messages. For the link reports (docs/protocol.md 1.8) it also tells ``on_outcome`` what
happened to a link, with the facts a report needs (:class:`~peer_client.link_report.LinkFacts`):
its channel opened (over which candidate pair, how long after the first offer), no channel came
up in time (also after a loss, so a lost pair is reported as relayed once retries do not bring it
back), its connection failed, or its channel closed. Never for a peer that left.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from collections.abc import Callable, Iterable
from typing import Any, Literal

from aiortc import (
    RTCConfiguration,
    RTCDataChannel,
    RTCIceServer,
    RTCPeerConnection,
    RTCSessionDescription,
)

from peer_client.ice import candidate_from_browser, round_trip_ms, selected_path
from peer_client.link_report import LinkFacts
from peer_client.protocol import CHANNEL_LABEL, CHANNEL_ONLY_TYPES, LINK_TIMEOUT
from peer_client.relay_budget import TokenBucket, reserve_for
from peer_client.signal_queue import Ready, SignalQueue

log = logging.getLogger("peer_client.mesh")

LinkState = Literal["connecting", "open", "relayed", "closed"]
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


class PeerLink:
    """The connection to one other peer; see the module docstring for ``state``."""

    def __init__(self, mesh: PeerMesh, peer: str) -> None:
        self.mesh = mesh
        self.peer = peer
        self.pc: RTCPeerConnection | None = None
        self.channel: RTCDataChannel | None = None
        self._state: LinkState = "connecting"
        self._inbox = SignalQueue()
        self._wake = asyncio.Event()
        self._timer: asyncio.TimerHandle | None = None
        self._offered_at: float | None = None
        """The first offer (sent or received) since the link was last open (loop time)."""
        self._worker = asyncio.create_task(self._work(), name=f"link-{peer[:8]}")
        self._start_timer()  # negotiation begins now (an answerer waits for the offer)

    @property
    def state(self) -> LinkState:
        return self._state

    def _set_state(self, new: LinkState) -> None:
        old, self._state = self._state, new
        if old != new:
            log.debug("link %s: %s -> %s", self.peer, old, new)
            self.mesh._state_changed(self.peer, old, new)

    # --- commands, handled in order by the worker --------------------------------------------

    def start_offer(self) -> None:
        self._inbox.push(None)
        self._wake.set()

    def receive_signal(self, data: dict[str, Any]) -> None:
        self._inbox.push(data)
        self._wake.set()

    async def _work(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            step = self._inbox.take(loop.time())
            if step is None:
                self._wake.clear()
                await self._wake.wait()
                continue
            if not isinstance(step, Ready):
                await asyncio.sleep(step)  # an offer waits for the answer budget
                continue
            item = step.item
            try:
                if item is None:
                    await self._offer()
                else:
                    await self._handle(item)
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                log.warning("link %s: signaling message failed: %s", self.peer, exc)

    def _new_connection(self) -> RTCPeerConnection:
        pc = RTCPeerConnection(RTCConfiguration(iceServers=list(self.mesh.ice_servers)))
        self.pc = pc

        @pc.on("datachannel")
        def on_datachannel(channel: RTCDataChannel) -> None:
            if channel.label != CHANNEL_LABEL:
                # Only "watercooler" is ours (docs/protocol.md 2.1); any other label is closed.
                log.info("link %s: channel %r is not ours; closed", self.peer, channel.label)
                channel.close()
            elif pc is self.pc:
                self._attach(channel)

        @pc.on("connectionstatechange")
        async def on_connection_state() -> None:
            if pc is not self.pc:
                return
            log.debug("link %s: connection %s", self.peer, pc.connectionState)
            if pc.connectionState == "failed":
                await self._fail("connection failed")
            elif pc.connectionState == "closed" and self._state == "open":
                self.mesh._outcome(self, LinkFacts("closed", reason="connection closed"))
                self._set_state("closed")

        self._start_timer()
        return pc

    def _attach(self, channel: RTCDataChannel) -> None:
        """Take ``channel`` as this link's channel; handlers attached at once (aiortc #1194)."""
        self.channel = channel
        peer = self.peer

        @channel.on("message")
        def on_message(message: str | bytes) -> None:
            if channel is self.channel:
                self.mesh._on_message(peer, message)

        @channel.on("open")
        def on_open() -> None:
            if channel is self.channel:
                self._opened()

        @channel.on("close")
        def on_close() -> None:
            if channel is self.channel and self._state == "open":
                log.debug("link %s: channel closed by the other side", peer)
                self.mesh._outcome(self, LinkFacts("closed", reason="channel closed"))
                self._set_state("closed")

        if channel.readyState == "open":  # the answerer's channel arrives open (aiortc #1228)
            self._opened()

    def _opened(self) -> None:
        if self._state in ("connecting", "relayed"):
            self._cancel_timer()
            now = asyncio.get_running_loop().time()
            offered, self._offered_at = self._offered_at, None
            took = None if offered is None else (now - offered) * 1000
            pc = self.pc
            path = selected_path(pc) if pc is not None else None
            rtt = round_trip_ms(pc) if pc is not None else None
            self._set_state("open")
            self.mesh._outcome(self, LinkFacts("open", path=path, took_ms=took, rtt_ms=rtt))

    def _note_offer(self) -> None:
        if self._offered_at is None:
            self._offered_at = asyncio.get_running_loop().time()

    async def _offer(self) -> None:
        self._note_offer()
        await self._drop_connection()
        pc = self._new_connection()
        self._attach(pc.createDataChannel(CHANNEL_LABEL))
        await pc.setLocalDescription(await pc.createOffer())
        self._send_description(pc)

    async def _handle(self, data: dict[str, Any]) -> None:
        description = data.get("description")
        if isinstance(description, dict):
            kind, sdp = description.get("type"), description.get("sdp")
            if not isinstance(sdp, str):
                raise ValueError("description without an sdp string")
            if kind == "offer":
                await self._answer(sdp)
            elif kind == "answer":
                if self.pc is None or self.pc.signalingState != "have-local-offer":
                    log.info("link %s: answer without an offer of ours; ignored", self.peer)
                    return
                await self.pc.setRemoteDescription(RTCSessionDescription(sdp=sdp, type="answer"))
            else:
                raise ValueError(f"description of type {kind!r}")
        elif "candidate" in data:
            if self.pc is None or self.pc.remoteDescription is None:
                log.info("link %s: candidate before any description; ignored", self.peer)
                return
            candidate = data["candidate"]
            parsed = candidate_from_browser(candidate) if isinstance(candidate, dict) else None
            await self.pc.addIceCandidate(parsed)
        else:
            raise ValueError("signal data is neither a description nor a candidate")

    async def _answer(self, sdp: str) -> None:
        # A new offer always starts over: the pair's offerer offers only when it has no usable
        # connection, so whatever we still hold for this peer is dead or never came up.
        self._note_offer()
        await self._drop_connection()
        if self._state == "open":
            self._set_state("connecting")
        pc = self._new_connection()
        await pc.setRemoteDescription(RTCSessionDescription(sdp=sdp, type="offer"))
        await pc.setLocalDescription(await pc.createAnswer())
        self._send_description(pc)

    def _send_description(self, pc: RTCPeerConnection) -> None:
        local = pc.localDescription
        self.mesh.send_signal(self.peer, {"description": {"type": local.type, "sdp": local.sdp}})

    # --- relay fallback ----------------------------------------------------------------------

    def _start_timer(self) -> None:
        self._cancel_timer()
        loop = asyncio.get_running_loop()
        self._timer = loop.call_later(self.mesh.link_timeout, self._timed_out)

    def _cancel_timer(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None

    def _timed_out(self) -> None:
        self._timer = None
        if self._state in ("open", "closed"):
            return
        if self._state == "connecting":
            log.info("link %s: no channel after %g s; relaying", self.peer, self.mesh.link_timeout)
            self._set_state("relayed")
        why = f"no direct link within {self.mesh.link_timeout:g} s"
        self.mesh._outcome(self, LinkFacts("timeout", reason=why))

    async def _fail(self, why: str) -> None:
        log.info("link %s: %s; relaying", self.peer, why)
        await self._drop_connection()
        if self._state != "closed":
            self._set_state("relayed")
            self.mesh._outcome(self, LinkFacts("failed", reason=why))
            self._start_timer()  # a retry that brings no channel in time: reported as relayed
            self.mesh._lost(self.peer)

    # --- sending and closing -----------------------------------------------------------------

    def send(self, message: dict[str, Any]) -> bool:
        """Send over the channel if it is open, else through signaling (from the first moment:
        nothing waits for the channel); False if neither can take it now."""
        channel = self.channel
        if self._state == "open" and channel is not None and channel.readyState == "open":
            channel.send(json.dumps(message, separators=(",", ":")))
            return True
        kind = message.get("type")
        if kind in CHANNEL_ONLY_TYPES:
            return False  # ping and pong go over the channel only (docs/protocol.md 2.6)
        if self._state != "closed" and self.mesh.can_relay():
            if not self.mesh.relay_budget.take(time.monotonic(), reserve_for(kind)):
                self.mesh.dropped_relay[str(kind)] = self.mesh.dropped_relay.get(str(kind), 0) + 1
                log.debug("link %s: %s not relayed (over our relay budget)", self.peer, kind)
                return False
            return self.mesh.send_relay(self.peer, message)
        return False

    async def _drop_connection(self) -> None:
        self._cancel_timer()
        pc, self.pc = self.pc, None
        channel, self.channel = self.channel, None
        if channel is not None:
            with contextlib.suppress(Exception):
                channel.close()
        if pc is not None:
            with contextlib.suppress(Exception):
                await pc.close()

    async def close(self) -> None:
        """Close the peer connection and stop the worker. Idempotent."""
        self._worker.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._worker
        await self._drop_connection()
        self._set_state("closed")


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
            if self.state_of(peer) != "open":
                self.offer(peer)

    def joined(self, peer: str) -> None:
        """Signaling's ``peer-joined``: we are the answerer of this pair and wait for its offer;
        the relay reaches it meanwhile."""
        self.roles[peer] = "answerer"
        self._cancel_retry(peer)
        self._link(peer)

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
