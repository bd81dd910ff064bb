"""A peer that said ``bye`` is relayed nothing more (docs/protocol.md 2.3): an answerer's link
makes no connection before an offer comes, so these run without WebRTC."""

from __future__ import annotations

from typing import Any

from peer_client.mesh import PeerMesh

HELLO = {"type": "hello", "id": "s:1", "agent": "bot"}


async def test_a_peer_that_said_bye_is_relayed_nothing_until_introduced_again() -> None:
    relayed: list[tuple[str, Any]] = []

    def send_relay(peer: str, message: dict[str, Any]) -> bool:
        relayed.append((peer, message["type"]))
        return True

    mesh = PeerMesh(
        send_signal=lambda peer, data: True,
        send_relay=send_relay,
        on_message=lambda peer, text: None,
        on_state=lambda peer, old, new: None,
    )
    try:
        mesh.joined("sam")  # we answer Sam: the relay reaches him until a channel opens
        assert mesh.send("sam", HELLO)
        mesh.said_bye("sam")
        assert not mesh.send("sam", HELLO)
        assert mesh.broadcast({"type": "drag-cancel", "id": "s:2", "task": 1}) == []
        assert relayed == [("sam", "hello")]
        mesh.joined("sam")  # introduced again: he came back
        assert mesh.send("sam", HELLO)
        assert relayed == [("sam", "hello"), ("sam", "hello")]
    finally:
        await mesh.close()
