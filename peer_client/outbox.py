"""What a session sends its peers: each message numbered, checked and handed to the mesh.

Every message gets the next envelope id (:class:`~peer_client.message_ids.MessageIds`) and is
checked by the same rules as what we receive (:func:`peer_client.protocol.encode`: a message that
breaks them is a bug here and raises ValueError). One larger than
:data:`~peer_client.protocol.MAX_MESSAGE_BYTES` is not sent and logged: the board's event carries
the same state.

It decides neither what to send nor when (the session and :mod:`peer_client.own_drag` do), nor the
path a message takes (the mesh's links do).
"""

from __future__ import annotations

import logging
from typing import Any

from peer_client import protocol
from peer_client.mesh import PeerMesh
from peer_client.message_ids import MessageIds
from peer_client.messages import Message

log = logging.getLogger("peer_client.session")


class Outbox:
    """Sends messages through ``mesh``, one envelope id each."""

    def __init__(self, mesh: PeerMesh) -> None:
        self._mesh = mesh
        self._ids = MessageIds()

    def envelope(self, message: Message) -> dict[str, Any] | None:
        """The message with its id, checked by the protocol's rules (a ValueError is our bug);
        None if it is too large to send (the board's event carries the same state)."""
        obj = protocol.encode(message, self._ids.next())
        if protocol.frame_size(obj) > protocol.MAX_MESSAGE_BYTES:
            log.warning(
                "%s not sent: larger than %d bytes", message.type, protocol.MAX_MESSAGE_BYTES
            )
            return None
        return obj

    def send_to(self, peer: str, message: Message) -> bool:
        obj = self.envelope(message)
        return obj is not None and self._mesh.send(peer, obj)

    def broadcast(self, message: Message) -> list[str]:
        """Send one message (one id) to every peer we can reach; returns their peer ids."""
        obj = self.envelope(message)
        return self._mesh.broadcast(obj) if obj is not None else []
