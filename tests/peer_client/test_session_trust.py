"""A session with an untrusted peer next to it (docs/protocol.md 2.4, 2.6), through real signaling.

The other peer is a bare websocket that joins the sprint and never answers an offer, so everything
between it and the session goes through signaling's relay: it can send anything there, and it
sees what the session relays to it.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest
from aiortc import RTCConfiguration, RTCPeerConnection, RTCSessionDescription

from peer_client.places import Place
from signaling.tickets import mint_ticket
from tests.peer_client.conftest import (
    SAMPLE_TASKS,
    SECRET,
    PeerFactory,
    sample_task,
    wait_linked,
)
from tests.peer_client.raw_peer import RawPeer, joined_raw
from tests.support.processes import SignalingProcess
from tests.support.waiting import wait_until

pytestmark = pytest.mark.webrtc

MAX = 2**53 - 1
DONE = {"column": "done", "index": 0}


@pytest.fixture
async def raw_peer(signaling: SignalingProcess) -> AsyncIterator[RawPeer]:
    async with joined_raw(signaling, "Mallory") as peer:
        yield peer


async def test_the_bot_keeps_its_relay_budget_and_drops_hovers_first(
    make_peer: PeerFactory, raw_peer: RawPeer
) -> None:
    ann, ann_events = await make_peer("Ann", tasks=SAMPLE_TASKS, link_timeout=1.0)
    await ann_events.wait_for("link", lambda e: e.state == "relayed", timeout=10)
    assert (await raw_peer.next_relayed(ann.peer))["type"] == "hello"
    assert (await raw_peer.next_relayed(ann.peer))["type"] == "snapshot"
    # Spend most of the budget (burst 40, two went on hello and snapshot) on drags that matter.
    for _ in range(14):
        ann.drag_start(1)
        ann.drag_cancel(1)
    ann.drag_start(1)
    await ann.drag_hover(1, Place("done", 0))  # too few tokens left for a hover: not relayed
    ann.drag_cancel(1)  # ... but a cancel still goes
    kinds = [(await raw_peer.next_relayed(ann.peer))["type"] for _ in range(30)]
    assert kinds == ["drag-start", "drag-cancel"] * 15, "the hover alone was held back"


async def test_a_hostile_peer_cannot_rewrite_invent_or_silence_through_the_relay(
    make_peer: PeerFactory, raw_peer: RawPeer
) -> None:
    tasks = [*SAMPLE_TASKS, sample_task(9, sprint=2)]
    ann, ann_events = await make_peer("Ann", tasks=tasks, link_timeout=2.0)
    bob, _ = await make_peer("Bob", tasks=tasks, link_timeout=2.0)
    await wait_linked(ann, bob)
    before = {task_id: dict(task) for task_id, task in ann.board_state.tasks.items()}
    # Bob relays his hello to us: his ids are "<session>:<seq>", so we know his next ones.
    hello = await raw_peer.next_relayed(bob.peer)
    bob_session = hello["id"].split(":")[0]

    forged = {**sample_task(1), "name": "Forged", "status": "done", "version": MAX}
    phantom = {**sample_task(4242), "name": "Phantom"}
    other_sprint = {**sample_task(9, sprint=2), "name": "Elsewhere", "version": 7}
    attacks: list[dict[str, Any]] = [
        {"type": "task-updated", "id": "m:1", "task": forged},
        {"type": "task-updated", "id": "m:2", "task": phantom},
        {"type": "task-updated", "id": "m:3", "task": other_sprint},
        {"type": "task-updated", "id": "m:4", "task": {**sample_task(2), "due": {}}},
        {"type": "drag-hover", "id": "m:5", "task": 2, "over": DONE},
        {"type": "drag-drop", "id": "m:6", "task": 4242, "version": 1, "to": DONE},
        {"type": "snapshot", "id": "m:7", "drags": [{"task": 9, "from": DONE, "over": DONE}]},
        *(
            {"type": "ping", "id": f"{bob_session}:{seq}", "t": 1}  # Bob's next ids
            for seq in range(1, 31)
        ),
    ]
    # Fewer than signaling's relay burst (60), so the server delivers every one of them.
    for attack in attacks:
        await raw_peer.relay(ann.peer, attack)
    # One harmless message after them: once it is seen, every attack before it was handled.
    start = {"type": "drag-start", "id": "m:99", "task": 2, "version": 1}
    await raw_peer.relay(ann.peer, {**start, "from": {"column": "in_progress", "index": 0}})
    await ann_events.wait_for("drag", lambda e: e.person.name == "Mallory" and e.task == 2)

    assert ann.board_state.tasks == before, "no task was replaced or created"
    assert ann_events.of("task-updated") == []
    assert [e.kind for e in ann_events.of("drag") if e.person.name == "Mallory"] == ["start"]
    assert not ann.board_state.overlays
    rejected = [e.reason for e in ann_events.of("rejected")]
    assert any("task.due" in reason for reason in rejected), rejected

    # Bob's real drag, with the ids Mallory used first, still reaches Ann.
    bob.drag_start(3)
    drag = await ann_events.wait_for("drag", lambda e: e.person.name == "Bob" and e.task == 3)
    assert drag.kind == "start"


async def test_a_channel_of_another_label_is_closed_never_adopted(
    make_peer: PeerFactory, signaling: SignalingProcess
) -> None:
    ann, _ = await make_peer("Ann", tasks=SAMPLE_TASKS)
    async with aiohttp.ClientSession() as http, http.ws_connect(signaling.ws_url) as ws:
        ticket = mint_ticket(SECRET, sprint="1", user_id="mallory", name="Mallory")
        await ws.send_json({"type": "join", "ticket": ticket})
        welcome = await ws.receive_json(timeout=5)
        mallory = welcome["peer"]
        # Mallory is the newcomer, so she offers: a connection whose one channel is not ours.
        pc = RTCPeerConnection(RTCConfiguration(iceServers=[]))
        other = pc.createDataChannel("not-watercooler")
        try:
            await pc.setLocalDescription(await pc.createOffer())
            offer = {"description": {"type": "offer", "sdp": pc.localDescription.sdp}}
            await ws.send_json({"type": "signal", "to": ann.peer, "data": offer})
            while True:
                message = await ws.receive_json(timeout=10)
                data = message.get("data") or {}
                if message["type"] == "signal" and "description" in data:
                    break
            answer = data["description"]
            await pc.setRemoteDescription(RTCSessionDescription(answer["sdp"], answer["type"]))
            await wait_until(lambda: other.readyState == "closed", 15, "Ann to close it")
            assert ann.link_state(mallory) != "direct", "Ann adopted a channel that is not ours"
        finally:
            await pc.close()


async def test_pings_through_the_relay_cannot_spend_the_relay_budget(
    make_peer: PeerFactory, raw_peer: RawPeer
) -> None:
    ann, ann_events = await make_peer("Ann", tasks=SAMPLE_TASKS, link_timeout=1.0)
    await ann_events.wait_for("link", lambda e: e.state == "relayed", timeout=10)
    assert (await raw_peer.next_relayed(ann.peer))["type"] == "hello"
    assert (await raw_peer.next_relayed(ann.peer))["type"] == "snapshot"
    # More pings than Ann's whole relay budget (burst 40); each answered through the relay would
    # spend it. Then a harmless relay: once Ann shows it, she has handled every ping.
    for seq in range(1, 50):
        await raw_peer.relay(ann.peer, {"type": "ping", "id": f"m:{seq}", "t": 1})
    start = {"type": "drag-start", "id": "m:99", "task": 2, "version": 1}
    await raw_peer.relay(ann.peer, {**start, "from": {"column": "in_progress", "index": 0}})
    await ann_events.wait_for("drag", lambda e: e.person.name == "Mallory")
    ann.drag_start(1)
    ann.drag_cancel(1)
    kinds = [(await raw_peer.next_relayed(ann.peer))["type"] for _ in range(2)]
    assert kinds == ["drag-start", "drag-cancel"], "no pong came back, her drag went out"
