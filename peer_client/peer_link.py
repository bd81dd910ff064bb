"""One other peer: its aiortc ``RTCPeerConnection``, its data channel, and the path its messages
take (docs/protocol.md 1.4, 2.1, 2.6; docs/webrtc.md).

- Every connection is built with ``RTCConfiguration(iceServers=...)`` from ``welcome`` — never a
  bare ``RTCPeerConnection()``, which would reach for Google's STUN server.
- The offerer creates the ``"watercooler"`` channel before its offer; a channel of any other label
  is closed. An offer received replaces whatever connection the link had.
- aiortc does not trickle: we send one full description with the candidates inline. Browsers
  trickle: their candidates are parsed with ``aiortc.sdp.candidate_from_sdp``; ``null`` is
  end-of-candidates.
- The peer's incoming signaling is handled strictly in order by the link's own worker task (a
  browser's candidates arrive while we are still applying its offer), from a bounded queue that
  keeps only the newest offer waiting and answers at most one offer a second
  (:mod:`peer_client.signal_queue`), so an offer flood cannot make us exceed signaling's rate
  limit.
- The answerer's channel arrives already open (aiortc #1228), so ``readyState`` is checked in the
  ``datachannel`` handler, and the message handler is attached right there (aiortc #1194).
- Relay from the first moment (docs/protocol.md 2.6): until the channel is open, messages go
  through signaling (``relay``), within the budget the mesh shares among all peers
  (:mod:`peer_client.relay_budget`: hovers are dropped first); ``ping`` and ``pong`` never do. Once
  the channel is open nothing for the peer goes through the server. A link not open
  :data:`~peer_client.protocol.LINK_TIMEOUT` after negotiation began, or whose connection failed,
  is *relayed*.

A link's ``state`` is ``"connecting"``, ``"open"`` (direct channel), ``"relayed"`` or
``"closed"``. The link tells its mesh every change of state, hands it every received frame, and
tells it what happened to the link with the facts a link report needs
(:class:`~peer_client.link_report.LinkFacts`): its channel opened (over which candidate pair, how
long after the first offer), no channel came up in time, its connection failed, or its channel
closed.

Whom to offer to and when to offer again is the mesh's decision (:mod:`peer_client.mesh`), never
the link's; the link reads a message's type only to choose its path, never what it says.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from typing import TYPE_CHECKING, Any, Literal

from aiortc import (
    RTCConfiguration,
    RTCDataChannel,
    RTCPeerConnection,
    RTCSessionDescription,
)

from peer_client.ice import candidate_from_browser, round_trip_ms, selected_path
from peer_client.link_report import LinkFacts
from peer_client.protocol import CHANNEL_LABEL, CHANNEL_ONLY_TYPES
from peer_client.relay_budget import reserve_for
from peer_client.signal_queue import Ready, SignalQueue

if TYPE_CHECKING:
    from peer_client.mesh import PeerMesh

log = logging.getLogger("peer_client.mesh")  # a link's lines are the mesh's

LinkState = Literal["connecting", "open", "relayed", "closed"]


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
        self.leaving = False
        """The peer said ``bye``: nothing more goes to it through the relay."""
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
        if kind in CHANNEL_ONLY_TYPES or self.leaving:
            # Ping and pong go over the channel only (docs/protocol.md 2.6); a peer on its way
            # out would be gone from signaling before a relayed message got there.
            return False
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
