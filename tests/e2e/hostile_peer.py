"""A hostile peer for the end-to-end tests: it joins a sprint like any client, then sends anything.

It is built from the Python peer's own signaling client and mesh (real aiortc data channels, the
real signaling server), without the session that would check what it sends. It speaks signaling by
the book (a ticket of its own user, negotiation, relays), so every other peer takes it for an
ordinary client, and on top of that it can send any object through its data channel to a peer or
through signaling's relay. It records every data-channel message it receives, so it knows the other
peers' message ids.
"""

from __future__ import annotations

import json
from typing import Any, Literal

from peer_client.board_api import BoardClient
from peer_client.ice import ice_servers_from
from peer_client.mesh import PeerMesh
from peer_client.signaling import SignalingClient

Path = Literal["channel", "relay"]


class HostilePeer:
    """One hostile client in a sprint; :meth:`send` bypasses every check of ours."""

    def __init__(self, board: BoardClient, sprint: int) -> None:
        self.board = board
        self.sprint = sprint
        self.peer = ""
        self.received: dict[str, list[dict[str, Any]]] = {}
        self.signaling: SignalingClient | None = None
        self.mesh = PeerMesh(
            send_signal=lambda peer, data: self._signal(
                {"type": "signal", "to": peer, "data": data}
            ),
            send_relay=lambda peer, data: self._signal({"type": "relay", "to": peer, "data": data}),
            on_message=self._on_message,
            on_state=lambda peer, old, new: None,
        )

    def _signal(self, message: dict[str, Any]) -> bool:
        return self.signaling is not None and self.signaling.send(message)

    async def join(self) -> None:
        ticket = await self.board.ticket(self.sprint)
        self.signaling = SignalingClient(
            ticket, lambda: self.board.ticket(self.sprint), self._on_signaling
        )
        await self.signaling.connect()

    async def _on_signaling(self, message: dict[str, Any], frame: str = "") -> None:
        kind = message.get("type")
        if kind == "welcome":
            self.peer = str(message["peer"])
            self.mesh.ice_servers = ice_servers_from(message.get("iceServers"))
            self.mesh.welcome(entry["peer"] for entry in message.get("peers", []))
        elif kind == "peer-joined":
            self.mesh.joined(str(message["peer"]))
        elif kind == "peer-left":
            await self.mesh.drop(str(message["peer"]))
        elif kind == "signal":
            self.mesh.signal(str(message["from"]), message["data"])
        elif kind == "relay" and isinstance(message.get("data"), dict):
            self.received.setdefault(str(message["from"]), []).append(message["data"])

    def _on_message(self, peer: str, raw: str | bytes) -> None:
        if isinstance(raw, str):
            self.received.setdefault(peer, []).append(json.loads(raw))

    def linked(self, peers: list[str]) -> bool:
        """Is there an open data channel to each of ``peers``?"""
        return all(self.mesh.state_of(peer) == "open" for peer in peers)

    def last_id(self, peer: str) -> str:
        """The last message id ``peer`` sent us (its ids are ``"<session>:<seq>"``)."""
        return str(self.received[peer][-1]["id"])

    def signal(self, peer: str, data: dict[str, Any]) -> None:
        """Send ``data`` to ``peer`` as negotiation (``signal``), whatever it is."""
        assert self._signal({"type": "signal", "to": peer, "data": data}), "not joined"

    def send(self, peer: str, message: dict[str, Any], via: Path) -> None:
        """Send ``message`` to ``peer`` unchecked, over the channel or through the relay."""
        if via == "relay":
            assert self._signal({"type": "relay", "to": peer, "data": message}), "not joined"
            return
        link = self.mesh.links[peer]
        channel = link.channel
        assert channel is not None, "no channel"
        assert channel.readyState == "open", "the channel is not open"
        channel.send(json.dumps(message))

    async def close(self) -> None:
        if self.signaling is not None:
            await self.signaling.close()
        await self.mesh.close()
