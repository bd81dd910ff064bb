"""The bot's link reports (docs/protocol.md 1.8) as the real signaling server logs them: aiortc
peers through ``python -m signaling``, whose log is read back."""

from __future__ import annotations

import pytest

from peer_client.session import BoardSession
from tests.peer_client.conftest import PeerFactory, wait_linked
from tests.support.processes import SignalingProcess
from tests.support.signaling_log import events
from tests.support.waiting import wait_until

pytestmark = pytest.mark.webrtc


def reports_by(signaling: SignalingProcess, reporter: BoardSession) -> list[dict[str, str]]:
    """The ``link`` lines of ``reporter``'s reports, in order."""
    lines = events(signaling.log_text(), "link")
    return [line for line in lines if line[str(line["by"])] == reporter.peer]


async def test_each_bot_reports_its_open_channel_with_its_path_and_time_to_open(
    signaling: SignalingProcess, make_peer: PeerFactory
) -> None:
    ann, _ = await make_peer("Ann")
    bob, _ = await make_peer("Bob")
    await wait_linked(ann, bob)
    await wait_until(
        lambda: reports_by(signaling, ann) and reports_by(signaling, bob),
        what="a link line from each side",
    )
    for reporter in (ann, bob):
        (line,) = reports_by(signaling, reporter)
        assert {line["a"], line["b"]} == {ann.peer, bob.peer}
        assert line["sprint"] == "1"
        assert (line["outcome"], line["path"]) == ("open", "host/host"), line
        assert line["took_ms"].isdigit(), line
        assert int(line["took_ms"]) < 60_000, line
        assert line.get("reason") is None, line


async def test_a_pair_relayed_before_its_channel_opens_reports_relayed_then_open(
    signaling: SignalingProcess, make_peer: PeerFactory
) -> None:
    # With no time at all for a direct link, Ann's pair counts as relayed from the start; its
    # channel still comes up, and then the pair is open.
    ann, _ = await make_peer("Ann")
    bob, _ = await make_peer("Bob", link_timeout=0.0)
    await wait_linked(ann, bob)
    await wait_until(lambda: len(reports_by(signaling, bob)) >= 2, what="two reports from Bob")
    relayed, opened = reports_by(signaling, bob)
    assert (relayed["outcome"], relayed["path"]) == ("relayed", "signaling"), relayed
    assert relayed["reason"] == "no direct link within 0 s"
    assert (opened["outcome"], opened["path"]) == ("open", "host/host"), opened
    # Ann, given the usual time, saw the channel open: one report.
    await wait_until(lambda: reports_by(signaling, ann), what="Ann's report")
    assert [line["outcome"] for line in reports_by(signaling, ann)] == ["open"]
