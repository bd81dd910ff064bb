"""What instances write to Redis and read back, without Redis: names, notices, stamped frames, and
which frame came too late. (tests/signaling/test_cluster.py and test_cluster_clocks.py run the same
through real instances and a real Redis.)"""

from __future__ import annotations

import json

import pytest

from signaling.outbox import OUTBOX_MAX_AGE
from signaling.redis_wire import (
    Joined,
    Left,
    Names,
    PeerFrame,
    SprintEvent,
    Synced,
    Undelivered,
    event_notice,
    late_by,
    member_from,
    member_json,
    member_notice,
    peer_frame,
    read_direct,
    read_sprint_notice,
    sync_notice,
    undelivered_notice,
)
from signaling.rooms import Member


def member(peer: str, instance: str = "far", sprint: str = "7") -> Member:
    return Member(
        peer=peer, sprint=sprint, user_id=f"u-{peer}", name=peer, connection=3, instance=instance
    )


def test_the_keys_and_channels_other_instances_rely_on() -> None:
    names = Names("wc")
    assert names.instance_key("a1") == "wc:instance:a1"
    assert names.members_key("7") == "wc:members:7"
    assert names.sprint_channel("7") == "wc:sprint:7"
    assert names.instance_channel("a1") == "wc:to:a1"
    assert names.sprint_of(names.sprint_channel("sprint 7")) == "sprint 7"


def test_a_member_goes_to_the_directory_as_compact_json_and_comes_back() -> None:
    m = member("p1")
    raw = member_json(m)
    assert " " not in raw
    assert member_from(json.loads(raw)) == m


@pytest.mark.parametrize(
    "raw",
    [None, [], "p1", {"peer": "p1"}, {**json.loads(member_json(member("p1"))), "connection": "x"}],
    ids=["null", "list", "string", "fields-missing", "connection-not-a-number"],
)
def test_anything_else_in_the_directory_is_no_member(raw: object) -> None:
    assert member_from(raw) is None


def test_a_peer_frame_carries_its_stamp_to_the_millisecond_and_any_text() -> None:
    text = '{"type":"signal",\n"from":"p2"}'
    assert peer_frame("p1", 1_700_000_000.12345, text) == f"p1\n1700000000.123\n{text}"
    assert read_direct(peer_frame("p1", 1_700_000_000.12345, text)) == PeerFrame(
        "p1", text, 1_700_000_000.123
    )


@pytest.mark.parametrize(
    ("data", "text"),
    [("p1\n{}", "{}"), ("p1\n{}\nmore", "{}\nmore"), ("p1\n1.2.3\n{}", "1.2.3\n{}")],
    ids=["one-line", "no-stamp-first", "not-a-number"],
)
def test_a_frame_from_an_instance_that_does_not_stamp_is_delivered_whole(
    data: str, text: str
) -> None:
    assert read_direct(data) == PeerFrame("p1", text, None)


def test_an_undelivered_notice_names_the_sender() -> None:
    assert read_direct(undelivered_notice("p9")) == Undelivered("p9")
    assert read_direct("p9") is None  # one line and not a notice: nothing


def test_a_frame_is_late_only_past_the_bound_on_redis_clock() -> None:
    frame = PeerFrame("p1", "{}", 1000.0)
    assert late_by(frame, 1000.0 + OUTBOX_MAX_AGE) is None
    assert late_by(frame, 999.0) is None  # stamped ahead of us: not late
    assert late_by(frame, 1003.5) == pytest.approx(3.5)
    assert late_by(PeerFrame("p1", "{}", None), 1e12) is None  # unstamped: never late


def test_notices_from_another_instance_are_read_back() -> None:
    m = member("p1", instance="far")
    assert read_sprint_notice(member_notice("join", "far", m), "7", "near") == Joined(m)
    assert read_sprint_notice(member_notice("leave", "far", m), "7", "near") == Left(m)
    assert read_sprint_notice(event_notice("far", "evt"), "7", "near") == SprintEvent("evt")
    assert read_sprint_notice(sync_notice("far", [m]), "7", "near") == Synced("far", [m])


def test_a_sync_keeps_only_the_members_it_can_read() -> None:
    m = member("p1")
    data = json.dumps(
        {"op": "sync", "from": "far", "members": [{"peer": "x"}, json.loads(member_json(m))]}
    )
    assert read_sprint_notice(data, "7", "near") == Synced("far", [m])


@pytest.mark.parametrize(
    "data",
    [
        member_notice("join", "near", member("p1")),  # our own, echoed by Redis
        member_notice("join", "far", member("p1", sprint="8")),  # a member of another sprint
        json.dumps({"op": "join", "from": "far", "member": {"peer": "p1"}}),
        json.dumps({"op": "event", "from": "far", "text": 7}),
        json.dumps({"op": "sync", "from": "far", "members": {}}),
        json.dumps({"op": "shout", "from": "far"}),
        "[]",
        "not json",
    ],
    ids=[
        "own",
        "other-sprint",
        "bad-member",
        "event-not-text",
        "sync-not-a-list",
        "unknown-op",
        "not-an-object",
        "not-json",
    ],
)
def test_anything_else_on_a_sprint_channel_is_ignored(data: str) -> None:
    assert read_sprint_notice(data, "7", "near") is None
