"""Several aiortc peers in one sprint, through the real signaling server (docs/protocol.md 2)."""

from __future__ import annotations

import pytest

from peer_client.places import Place
from tests.peer_client.conftest import SAMPLE_TASKS, PeerFactory, wait_linked
from tests.support.waiting import wait_until

pytestmark = pytest.mark.webrtc


async def test_peers_share_presence_and_open_direct_channels(make_peer: PeerFactory) -> None:
    ann, ann_events = await make_peer("Ann")
    bob, bob_events = await make_peer("Bob")
    cyd, _ = await make_peer("Cyd Third")
    await wait_linked(ann, bob, cyd)

    assert {p.name for p in ann.presence.values()} == {"Bob", "Cyd Third"}
    assert {p.name for p in cyd.presence.values()} == {"Ann", "Bob"}
    assert cyd.presence[ann.peer].user_id == "ann"
    # Each side introduced itself on the channel.
    hello = await bob_events.wait_for("hello", lambda e: e.person.name == "Cyd Third")
    assert hello.agent == "bot"
    joined = await ann_events.wait_for("peer-joined", lambda p: p.name == "Cyd Third")
    assert joined.initials == "CT"
    assert joined.colour.startswith("hsl(")


async def test_drags_reach_every_other_peer(make_peer: PeerFactory) -> None:
    ann, _ = await make_peer("Ann", tasks=SAMPLE_TASKS)
    bob, bob_events = await make_peer("Bob", tasks=SAMPLE_TASKS)
    cyd, cyd_events = await make_peer("Cyd", tasks=SAMPLE_TASKS)
    await wait_linked(ann, bob, cyd)

    origin = ann.drag_start(2)
    assert origin == Place("in_progress", 0)
    await ann.drag_hover(2, Place("testing", 0))
    for events in (bob_events, cyd_events):
        start = await events.wait_for("drag", lambda e: e.kind == "start")
        assert (start.person.name, start.task, start.place) == ("Ann", 2, origin)
        hover = await events.wait_for("drag", lambda e: e.kind == "hover")
        assert hover.place == Place("testing", 0)
    drag = bob.board_state.drags[ann.peer]
    assert (drag.from_, drag.over) == (origin, Place("testing", 0))

    ann.drag_cancel(2)
    await cyd_events.wait_for("drag", lambda e: e.kind == "cancel")
    await wait_until(lambda: not bob.board_state.drags, what="Bob to see the drag end")


async def test_late_joiner_receives_current_drags(make_peer: PeerFactory) -> None:
    ann, _ = await make_peer("Ann", tasks=SAMPLE_TASKS)
    bob, _ = await make_peer("Bob", tasks=SAMPLE_TASKS)
    await wait_linked(ann, bob)
    ann.drag_start(1)
    await ann.drag_hover(1, Place("done", 0))
    bob.drag_start(3)

    late, late_events = await make_peer("Late", tasks=SAMPLE_TASKS)
    await wait_linked(ann, bob, late)
    snapshot = await late_events.wait_for(
        "drag", lambda e: e.kind == "snapshot" and e.person.name == "Ann"
    )
    assert (snapshot.task, snapshot.place, snapshot.from_) == (
        1,
        Place("done", 0),
        Place("not_started", 0),
    )
    await late_events.wait_for("drag", lambda e: e.kind == "snapshot" and e.person.name == "Bob")
    assert {peer: drag.task for peer, drag in late.board_state.drags.items()} == {
        ann.peer: 1,
        bob.peer: 3,
    }


async def test_a_peer_leaving_is_seen_at_once(make_peer: PeerFactory) -> None:
    ann, ann_events = await make_peer("Ann", tasks=SAMPLE_TASKS)
    bob, _ = await make_peer("Bob", tasks=SAMPLE_TASKS)
    await wait_linked(ann, bob)
    bob_peer = bob.peer
    bob.drag_start(1)
    await ann_events.wait_for("drag", lambda e: e.kind == "start")

    await bob.close()
    left = await ann_events.wait_for("peer-left", timeout=5.0)
    assert left.peer == bob_peer
    assert bob_peer not in ann.presence
    assert ann.link_state(bob_peer) is None  # the connection is closed and gone
    assert not ann.board_state.drags  # its drag went with it
    await bob.close()  # idempotent
