"""Room bookkeeping, without sockets: ids, isolation, limits, resume; refusals change nothing."""

from __future__ import annotations

import itertools

import pytest

from signaling.errors import CapacityExceeded, RoutingError
from signaling.rooms import Rooms


def counter_ids() -> Rooms:
    numbers = itertools.count(1)
    return Rooms(new_peer_id=lambda: f"p{next(numbers)}")


def test_join_tells_who_is_already_there() -> None:
    rooms = counter_ids()
    first = rooms.join(sprint="s", user_id="1", name="A", connection=1)
    second = rooms.join(sprint="s", user_id="2", name="B", connection=2)
    assert first.others == ()
    assert [m.peer for m in second.others] == [first.member.peer]
    assert second.replaced is None
    assert (rooms.peer_count, rooms.room_count) == (2, 1)


def test_route_only_within_a_sprint() -> None:
    rooms = counter_ids()
    a = rooms.join(sprint="s", user_id="1", name="A", connection=1).member
    b = rooms.join(sprint="s", user_id="2", name="B", connection=2).member
    c = rooms.join(sprint="t", user_id="3", name="C", connection=3).member
    assert rooms.route(a.peer, b.peer) == b
    with pytest.raises(RoutingError) as raised:
        rooms.route(c.peer, a.peer)
    assert raised.value.code == "unknown-peer"
    with pytest.raises(RoutingError):
        rooms.route(a.peer, "nobody")
    with pytest.raises(RoutingError) as self_addressed:
        rooms.route(a.peer, a.peer)
    assert self_addressed.value.code == "self-addressed"


def test_leave_reports_the_remaining_peers_and_drops_empty_rooms() -> None:
    rooms = counter_ids()
    a = rooms.join(sprint="s", user_id="1", name="A", connection=1).member
    b = rooms.join(sprint="s", user_id="2", name="B", connection=2).member
    assert rooms.leave(a.peer, 1) == (b,)
    assert rooms.leave(b.peer, 2) == ()
    assert rooms.room_count == 0
    assert rooms.leave(b.peer, 2) == ()  # twice is harmless


def test_full_room_refusal_changes_nothing() -> None:
    rooms = Rooms(max_peers_per_sprint=1)
    rooms.join(sprint="s", user_id="1", name="A", connection=1)
    before = list(rooms)
    with pytest.raises(CapacityExceeded) as raised:
        rooms.join(sprint="s", user_id="2", name="B", connection=2)
    assert raised.value.close_code == 4409
    assert list(rooms) == before


def test_room_limit() -> None:
    rooms = Rooms(max_rooms=1)
    rooms.join(sprint="s", user_id="1", name="A", connection=1)
    with pytest.raises(CapacityExceeded):
        rooms.join(sprint="t", user_id="2", name="B", connection=2)
    rooms.join(sprint="s", user_id="2", name="B", connection=2)


def test_resume_over_a_live_connection_replaces_it_silently() -> None:
    rooms = counter_ids()
    a = rooms.join(sprint="s", user_id="1", name="A", connection=1).member
    rooms.join(sprint="s", user_id="2", name="B", connection=2)
    again = rooms.join(sprint="s", user_id="1", name="A", connection=3, resume_peer=a.peer)
    assert again.member.peer == a.peer
    assert again.replaced == a
    assert rooms.peer_count == 2
    # The old connection's late leave does not remove the resumed peer.
    assert rooms.leave(a.peer, 1) == ()
    assert rooms.member(a.peer) == again.member


def test_resume_cannot_take_an_id_in_another_sprint() -> None:
    rooms = counter_ids()
    a = rooms.join(sprint="s", user_id="1", name="A", connection=1).member
    other = rooms.join(sprint="t", user_id="1", name="A", connection=2, resume_peer=a.peer)
    assert other.member.peer != a.peer
    assert other.replaced is None
    assert rooms.member(a.peer) == a


def test_resume_after_restart_reuses_a_free_id() -> None:
    rooms = counter_ids()
    admitted = rooms.join(sprint="s", user_id="1", name="A", connection=1, resume_peer="old")
    assert admitted.member.peer == "old"
    assert admitted.replaced is None
