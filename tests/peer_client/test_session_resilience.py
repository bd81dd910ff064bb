"""Signaling drops do not tear down data channels; peers rejoin with their ids; relay fallback."""

from __future__ import annotations

import asyncio
import json

import aiohttp
import pytest

from peer_client.session import BoardSession
from signaling.tickets import mint_ticket
from tests.peer_client.conftest import (
    SAMPLE_TASKS,
    SECRET,
    PeerFactory,
    wait_linked,
    wait_until,
)
from tests.support.processes import SignalingProcess

pytestmark = pytest.mark.webrtc


async def test_signaling_restart_keeps_channels_and_peer_ids(
    make_peer: PeerFactory, signaling: SignalingProcess
) -> None:
    ann, ann_events = await make_peer("Ann", tasks=SAMPLE_TASKS)
    bob, bob_events = await make_peer("Bob", tasks=SAMPLE_TASKS)
    cyd, _ = await make_peer("Cyd", tasks=SAMPLE_TASKS)
    await wait_linked(ann, bob, cyd)
    ids = {session.peer for session in (ann, bob, cyd)}
    channels = {
        (session.peer, peer): link.channel
        for session in (ann, bob, cyd)
        for peer, link in session.mesh.links.items()
    }

    await asyncio.to_thread(signaling.stop)
    await ann_events.wait_for("signaling", lambda state: state == "reconnecting")
    # With signaling down, the channels still carry drags.
    ann.drag_start(1)
    await bob_events.wait_for("drag", lambda e: e.kind == "start" and e.person.name == "Ann")

    restarted = await asyncio.to_thread(
        lambda: SignalingProcess(SECRET, port=signaling.port).wait_ready()
    )
    try:
        for session in (ann, bob, cyd):
            await wait_until(
                lambda s=session: s.signaling.state == "joined" and s.signaling.reconnects == 1,
                what="every peer to rejoin",
            )
        assert {session.peer for session in (ann, bob, cyd)} == ids
        await wait_linked(ann, bob, cyd)
        for (owner, peer), channel in channels.items():
            session = next(s for s in (ann, bob, cyd) if s.peer == owner)
            assert session.mesh.links[peer].channel is channel, "a channel was replaced"
            assert channel is not None
            assert channel.readyState == "open"
        # Nobody saw anybody leave, and everyone is still here.
        assert not ann_events.of("peer-left")
        assert not bob_events.of("peer-left")
        assert {p.name for p in ann.presence.values()} == {"Bob", "Cyd"}

        # The rejoined room works: a newcomer meets all three, and a later drag reaches it.
        dan, dan_events = await make_peer("Dan", tasks=SAMPLE_TASKS)
        await wait_linked(ann, bob, cyd, dan)
        await dan_events.wait_for("drag", lambda e: e.kind == "snapshot" and e.task == 1)
        cyd.drag_start(2)
        await dan_events.wait_for("drag", lambda e: e.kind == "start" and e.task == 2)
    finally:
        await asyncio.to_thread(restarted.stop)


async def test_pair_without_a_direct_link_goes_through_relay(
    make_peer: PeerFactory, signaling: SignalingProcess
) -> None:
    """A peer that never answers our offer gets our messages through signaling's relay."""
    async with aiohttp.ClientSession() as http, http.ws_connect(signaling.ws_url) as silent:
        ticket = mint_ticket(SECRET, sprint="1", user_id="quiet", name="Quiet")
        await silent.send_json({"type": "join", "ticket": ticket})
        welcome = await silent.receive_json(timeout=5)
        assert welcome["type"] == "welcome"

        ann, ann_events = await make_peer("Ann", tasks=SAMPLE_TASKS, link_timeout=1.0)
        joined = await silent.receive_json(timeout=5)
        assert joined["type"] == "peer-joined"
        offer = await silent.receive_json(timeout=5)
        assert offer["type"] == "signal"
        assert offer["data"]["description"]["type"] == "offer"
        link = await ann_events.wait_for("link", lambda e: e.state == "relayed", timeout=10)
        assert link.person.name == "Quiet"

        relayed = [await silent.receive_json(timeout=5) for _ in range(2)]
        assert [m["type"] for m in relayed] == ["relay", "relay"]
        assert [m["data"]["type"] for m in relayed] == ["hello", "snapshot"]
        assert relayed[0]["from"] == ann.peer

        # Relayed messages from the other side are handled like channel messages, once each.
        drag = {
            "type": "drag-start",
            "id": "q:1",
            "task": 2,
            "version": 1,
            "from": {"column": "in_progress", "index": 0},
        }
        over = {"column": "done", "index": 0}
        hover = {"type": "drag-hover", "id": "q:2", "task": 2, "over": over}
        for message in (drag, drag, hover):
            await silent.send_json({"type": "relay", "to": ann.peer, "data": message})
        # The hover was sent after the duplicate: once it is in, so is anything before it.
        await ann_events.wait_for("drag", lambda e: e.kind == "hover" and e.task == 2)
        assert [e.kind for e in ann_events.of("drag")] == ["start", "hover"]
        ann.drag_start(1)
        message = await silent.receive_json(timeout=5)
        assert message["data"]["type"] == "drag-start"
        assert json.dumps(message["data"]["from"]) == '{"column": "not_started", "index": 0}'


def drop_signaling_socket(session: BoardSession) -> None:
    """Cut ``session``'s signaling TCP connection under it (a network blip): no close frame."""
    ws = session.signaling._ws
    assert ws is not None, "the session has no live signaling socket"
    transport = ws._writer.transport
    assert transport is not None
    transport.abort()


@pytest.mark.parametrize("slow_close", [False, True], ids=["prompt-close", "slow-close"])
async def test_one_peer_rejoining_after_a_blip_gets_its_link_back(
    make_peer: PeerFactory, slow_close: bool
) -> None:
    """Bob's websocket drops; Ann closes her connection to him (peer-left) and waits for his offer;
    Bob rejoins with the same id. Bob learned of Ann from ``welcome``, so he is the pair's offerer.

    With ``slow_close`` Ann's close reaches Bob only after his ``welcome`` (as when the close is
    slower than the rejoin): Bob still holds an open channel then, keeps it, and must offer again
    once it closes. Otherwise the close usually wins and Bob offers from his ``welcome``.
    """
    ann, ann_events = await make_peer("Ann", tasks=SAMPLE_TASKS)
    bob, bob_events = await make_peer("Bob", tasks=SAMPLE_TASKS)
    await wait_linked(ann, bob)
    bob_peer = bob.peer
    old_channels = {ann.mesh.links[bob_peer].channel, bob.mesh.links[ann.peer].channel}

    def bob_rejoined() -> bool:
        return bob.signaling.state == "joined" and bob.signaling.reconnects == 1

    if slow_close:
        drop = ann.mesh.drop

        async def drop_after_bob_rejoined(peer: str) -> None:
            await wait_until(bob_rejoined, what="Bob to rejoin")
            assert bob.link_state(ann.peer) == "direct", "Bob saw the close before his welcome"
            await drop(peer)

        ann.mesh.drop = drop_after_bob_rejoined  # type: ignore[method-assign]

    drop_signaling_socket(bob)
    await ann_events.wait_for("peer-left", lambda p: p.peer == bob_peer)
    await wait_until(bob_rejoined, what="Bob to rejoin")
    assert bob.peer == bob_peer, "Bob resumed with the same peer id"
    # Ann closed her connection to Bob on peer-left: the pair needs new channels on both sides.
    await wait_until(
        lambda: all(
            session.mesh.links.get(other.peer) is not None
            and session.mesh.links[other.peer].channel not in old_channels
            and session.link_state(other.peer) == "direct"
            for session, other in ((ann, bob), (bob, ann))
        ),
        what="a new open channel on both sides",
    )

    ann.drag_start(1)
    await bob_events.wait_for("drag", lambda e: e.kind == "start" and e.task == 1)
    bob.drag_start(2)
    await ann_events.wait_for("drag", lambda e: e.kind == "start" and e.task == 2)
    assert ann.link_state(bob.peer) == bob.link_state(ann.peer) == "direct"
