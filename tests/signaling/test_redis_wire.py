"""What instances write to Redis and read back, without Redis: names, notices, stamped frames,
which frame came too late, and why anything else is malformed. (tests/signaling/test_cluster.py,
test_cluster_clocks.py and test_cluster_malformed.py run the same through real instances and a
real Redis.)"""

from __future__ import annotations

import json

import pytest

from signaling.outbox import OUTBOX_MAX_AGE
from signaling.redis_wire import (
    CAUSES,
    Joined,
    Left,
    Malformed,
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
    read_member,
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
    assert read_direct(peer_frame("p1", 1_700_000_000.12345, text).encode()) == PeerFrame(
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
    assert read_direct(data.encode()) == PeerFrame("p1", text, None)


def test_an_undelivered_notice_names_the_sender() -> None:
    assert read_direct(undelivered_notice("p9").encode()) == Undelivered("p9")


def test_a_frame_is_late_only_past_the_bound_on_redis_clock() -> None:
    frame = PeerFrame("p1", "{}", 1000.0)
    assert late_by(frame, 1000.0 + OUTBOX_MAX_AGE) is None
    assert late_by(frame, 999.0) is None  # stamped ahead of us: not late
    assert late_by(frame, 1003.5) == pytest.approx(3.5)
    assert late_by(PeerFrame("p1", "{}", None), 1e12) is None  # unstamped: never late


def test_notices_from_another_instance_are_read_back() -> None:
    m = member("p1", instance="far")
    for notice, read in [
        (member_notice("join", "far", m), Joined(m)),
        (member_notice("leave", "far", m), Left(m)),
        (event_notice("far", "evt"), SprintEvent("evt")),
        (sync_notice("far", [m]), Synced("far", [m])),
        (sync_notice("far", []), Synced("far", [])),
    ]:
        assert read_sprint_notice(notice.encode(), "7", "near") == read


def test_our_own_notices_echoed_by_redis_are_ignored_not_counted() -> None:
    own = member_notice("join", "near", member("p1", instance="near"))
    assert read_sprint_notice(own.encode(), "7", "near") is None


def test_a_sync_keeps_only_the_members_it_can_read_and_counts_the_others() -> None:
    m = member("p1")
    listed = [
        {"peer": "x"},
        json.loads(member_json(m)),
        json.loads(member_json(member("p2", sprint="8"))),  # of another sprint
        json.loads(member_json(member("p3", instance="other"))),  # of another instance
    ]
    data = json.dumps({"op": "sync", "from": "far", "members": listed}).encode()
    assert read_sprint_notice(data, "7", "near") == Synced("far", [m], malformed=3)


JOIN = json.loads(member_notice("join", "far", member("p1")))
MEMBER = JOIN["member"]


def notice(**fields: object) -> bytes:
    return json.dumps({**JOIN, **fields}).encode()


@pytest.mark.parametrize(
    ("data", "cause"),
    [
        (b"\xff\xfe{}", "not-utf8"),
        (b'{"op":"join","from":"far\xc3"}', "not-utf8"),
        (b"not json", "not-json"),
        (b"[" * 5000 + b"]" * 5000, "not-json"),  # deeper than any reader goes
        (b'{"op":"event","from":"far","text":"x","n":1e400}', "not-json"),  # beyond a float
        (b"[]", "not-an-object"),
        (b'"join"', "not-an-object"),
        (b"null", "not-an-object"),
        (json.dumps({"op": "sync", "members": []}).encode(), "bad-from"),
        (notice(**{"from": None}), "bad-from"),
        (notice(**{"from": ["far"]}), "bad-from"),
        (notice(**{"from": ""}), "bad-from"),
        (notice(op=["join"]), "bad-op"),
        (notice(op={"join": 1}), "bad-op"),
        (notice(op=None), "bad-op"),
        (notice(op="shout"), "unknown-op"),
        (notice(member={"peer": "p1"}), "bad-member"),
        (notice(member=None), "bad-member"),
        (notice(member={**MEMBER, "connection": 1e300}), "bad-member"),
        (notice(member={**MEMBER, "connection": 10**30}), "bad-member"),
        (notice(member={**MEMBER, "connection": -1}), "bad-member"),
        (notice(member={**MEMBER, "connection": True}), "bad-member"),
        (notice(member={**MEMBER, "user_id": 12}), "bad-member"),
        (notice(member={**MEMBER, "peer": ["p1"]}), "bad-member"),
        (notice(member={**MEMBER, "sprint": "8"}), "bad-member"),  # of another sprint
        (notice(member={**MEMBER, "instance": "near"}), "bad-member"),  # not the sender's
        (notice(op="leave", member={**MEMBER, "name": None}), "bad-member"),
        (notice(op="sync", members={}), "bad-member"),
        (notice(op="event", text=7), "bad-text"),
        (notice(op="event", text=""), "bad-text"),
    ],
)
def test_anything_else_on_a_sprint_channel_is_malformed_with_its_cause(
    data: bytes, cause: str
) -> None:
    assert cause in CAUSES
    assert read_sprint_notice(data, "7", "near") == Malformed(cause)


@pytest.mark.parametrize(
    ("data", "cause"),
    [
        (b"p1\n1700000000.123\n\xff{}", "not-utf8"),
        (b"\xc3", "not-utf8"),
        (b"p9", "unknown-kind"),
        (b"", "unknown-kind"),
        (b"!undelivered ", "unknown-kind"),  # names no sender
        (b"\n1700000000.123\n{}", "no-peer"),
        (b"p1\n", "no-text"),
        (b"p1\n1700000000.123\n", "no-text"),
        ("p1\n17²\n{}".encode(), "bad-stamp"),  # a digit to str.isdigit(), not to float()
        ("p1\n1700000000\u0663\n{}".encode(), "bad-stamp"),  # a digit, not ASCII
        (b"p1\n" + b"9" * 400 + b"\n{}", "bad-stamp"),  # beyond any float: infinity
        (b"p1\n" + b"1" * 21 + b"\n{}", "bad-stamp"),
    ],
)
def test_anything_else_on_an_instance_channel_is_malformed_with_its_cause(
    data: bytes, cause: str
) -> None:
    assert cause in CAUSES
    assert read_direct(data) == Malformed(cause)


def test_the_longest_stamp_taken_is_still_a_finite_time() -> None:
    assert read_direct(b"p1\n" + b"9" * 20 + b"\n{}") == PeerFrame("p1", "{}", 1e20)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (member_json(member("p1")), member("p1")),
        (member_json(member("p1")).encode(), member("p1")),
        ("not json", Malformed("not-json")),
        ("[1]", Malformed("not-an-object")),
        ('{"peer":"p1"}', Malformed("bad-member")),
        (b"\xff", Malformed("not-utf8")),
        ("\ud800", Malformed("not-utf8")),  # a lone surrogate: no UTF-8 for it
    ],
    ids=["member", "member-bytes", "not-json", "not-an-object", "bad-member", "bytes", "surrogate"],
)
def test_a_directory_entry_is_a_member_or_says_why_not(
    raw: str | bytes, expected: Member | Malformed
) -> None:
    assert read_member(raw) == expected
