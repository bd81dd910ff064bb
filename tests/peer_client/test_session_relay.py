"""The relay from the first moment (docs/protocol.md 2.6), through real signaling.

Until a pair's channel is open its messages go through signaling's relay, so nothing waits for the
direct link; once the channel is open nothing of that pair goes through the server. The far side
is a bare websocket that never answers an offer (its link can only ever be relayed) or another
session (its link opens).
"""

from __future__ import annotations

import re
import urllib.request
from collections.abc import Callable
from contextlib import AbstractAsyncContextManager

import pytest

from peer_client.places import Place
from tests.peer_client.conftest import SAMPLE_TASKS, PeerFactory, wait_linked
from tests.peer_client.raw_peer import RawPeer, joined_raw
from tests.support.processes import SignalingProcess

pytestmark = pytest.mark.webrtc

RawJoin = Callable[[str], AbstractAsyncContextManager[RawPeer]]


@pytest.fixture
def raw_join(signaling: SignalingProcess) -> RawJoin:
    """``async with raw_join("Quiet") as quiet``: a bare websocket in sprint 1."""
    return lambda name: joined_raw(signaling, name)


def relays_in(signaling: SignalingProcess) -> float:
    """How many ``relay`` messages signaling has received so far (its /metrics)."""
    with urllib.request.urlopen(f"{signaling.http_url}/metrics", timeout=5) as response:
        metrics = response.read().decode()
    found = re.search(
        r'^watercooler_messages_total\{direction="in",type="relay"\} (\S+)$', metrics, re.M
    )
    return float(found.group(1)) if found else 0.0


async def test_messages_go_through_the_relay_before_any_channel_opens(
    make_peer: PeerFactory, raw_join: RawJoin
) -> None:
    async with raw_join("Quiet") as quiet:
        # The default link timeout (10 s): the relay must not wait for it.
        ann, ann_events = await make_peer("Ann", tasks=SAMPLE_TASKS)
        quiet_peer = (await ann_events.wait_for("peer-joined")).peer
        ann.drag_start(1)
        start = await quiet.next_relayed(ann.peer)
        assert (start["type"], start["task"]) == ("drag-start", 1)
        assert ann.link_state(quiet_peer) == "connecting", "relayed before the link gave up"

        # The other way too: what the quiet peer relays reaches Ann while she is connecting.
        theirs = {"type": "drag-start", "id": "q:1", "task": 2, "version": 1}
        await quiet.relay(ann.peer, {**theirs, "from": {"column": "in_progress", "index": 0}})
        seen = await ann_events.wait_for("drag", lambda e: e.kind == "start" and e.task == 2)
        assert seen.person.name == "Quiet"
        assert ann.link_state(quiet_peer) == "connecting"

        # Someone who arrives while Ann holds a card gets it at once, through the relay.
        async with raw_join("Late") as late:
            snapshot = await late.next_relayed(ann.peer)
            assert snapshot["type"] == "snapshot"
            assert [drag["task"] for drag in snapshot["drags"]] == [1]


async def test_nothing_of_a_pair_with_an_open_channel_goes_through_the_server(
    make_peer: PeerFactory, signaling: SignalingProcess
) -> None:
    ann, _ = await make_peer("Ann", tasks=SAMPLE_TASKS)
    bob, bob_events = await make_peer("Bob", tasks=SAMPLE_TASKS)
    await wait_linked(ann, bob)
    before = relays_in(signaling)
    ann.drag_start(1)
    await ann.drag_hover(1, Place("done", 0))
    ann.drag_cancel(1)
    await bob_events.wait_for("drag", lambda e: e.kind == "cancel" and e.task == 1)
    kinds = [e.kind for e in bob_events.of("drag") if e.task == 1]
    assert kinds == ["start", "hover", "cancel"]
    assert relays_in(signaling) == before
