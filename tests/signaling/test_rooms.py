"""Room bookkeeping, without sockets: ids, isolation, limits, resume; refusals change nothing."""

from __future__ import annotations

import itertools

import pytest

from signaling.errors import CapacityExceeded, RoutingError
from signaling.rooms import Member, Rooms


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
    assert rooms.leave(b.peer, 2) is None  # twice is harmless: nothing was removed


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
    assert rooms.leave(a.peer, 1) is None
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


# --- remote members (several instances) ------------------------------------------------------


def remote(peer: str, sprint: str = "s", instance: str = "other", connection: int = 1) -> Member:
    return Member(peer, sprint, f"user-{peer}", peer.upper(), connection, instance)


def local_rooms(**kwargs: object) -> Rooms:
    numbers = itertools.count(1)
    return Rooms(instance="here", new_peer_id=lambda: f"p{next(numbers)}", **kwargs)  # type: ignore[arg-type]


def test_join_lists_remote_members_and_counts_them_towards_the_limit() -> None:
    rooms = local_rooms(max_peers_per_sprint=2)
    admitted = rooms.join(
        sprint="s", user_id="1", name="A", connection=1, known_remote=[remote("r1")]
    )
    assert [m.peer for m in admitted.others] == ["r1"]
    with pytest.raises(CapacityExceeded):
        rooms.join(sprint="s", user_id="2", name="B", connection=2, known_remote=[remote("r1")])
    assert rooms.peer_count == 1  # local peers only
    assert rooms.route(admitted.member.peer, "r1").instance == "other"


def test_remote_join_and_leave_tell_local_members_once() -> None:
    rooms = local_rooms()
    a = rooms.join(sprint="s", user_id="1", name="A", connection=1).member
    assert rooms.add_remote(remote("r1")) == (a,)
    assert rooms.add_remote(remote("r1")) == ()  # announced twice
    assert rooms.add_remote(remote("x", sprint="t")) == ()  # no room here for that sprint
    assert rooms.remove_remote(remote("r1", connection=9)) is None  # another socket of r1
    assert rooms.remove_remote(remote("r1")) == (a,)
    assert rooms.member("r1") is None


def test_resume_moving_a_peer_to_another_instance_is_not_a_leave() -> None:
    rooms = local_rooms()
    a = rooms.join(sprint="s", user_id="1", name="A", connection=1).member
    rooms.add_remote(remote("r1", instance="old"))
    assert rooms.add_remote(remote("r1", instance="new")) == ()
    assert rooms.remove_remote(remote("r1", instance="old")) is None  # the old socket's leave
    assert rooms.member("r1") == remote("r1", instance="new")
    assert rooms.route(a.peer, "r1").instance == "new"


def test_a_room_whose_last_local_peer_resumed_elsewhere_is_forgotten_on_vacate() -> None:
    rooms = local_rooms()
    a = rooms.join(sprint="s", user_id="1", name="A", connection=1).member
    b = rooms.join(sprint="s", user_id="2", name="B", connection=2).member
    rooms.add_remote(remote("r1"))
    assert rooms.add_remote(remote(b.peer, instance="new")) == ()  # b resumed elsewhere
    assert not rooms.vacate("s")  # a is still here
    assert rooms.add_remote(remote(a.peer, instance="new")) == ()
    assert rooms.leave(a.peer, 1) is None  # the old socket owns nothing
    assert rooms.vacate("s")
    assert (rooms.room_count, rooms.peer_count, rooms.members("s")) == (0, 0, ())
    assert [rooms.member(p) for p in ("r1", a.peer, b.peer)] == [None, None, None]
    assert not rooms.vacate("s")


def test_sync_replaces_an_instances_members() -> None:
    rooms = local_rooms()
    a = rooms.join(sprint="s", user_id="1", name="A", connection=1).member
    rooms.add_remote(remote("r1"))
    rooms.add_remote(remote("r2"))
    joined, left = rooms.sync_instance("s", "other", [remote("r2"), remote("r3")])
    assert [m.peer for m in joined] == ["r3"]
    assert [(m.peer, tell) for m, tell in left] == [("r1", (a,))]


def test_a_dead_instances_members_are_all_removed() -> None:
    rooms = local_rooms()
    a = rooms.join(sprint="s", user_id="1", name="A", connection=1).member
    rooms.join(sprint="t", user_id="2", name="B", connection=2)
    rooms.add_remote(remote("r1"))
    rooms.add_remote(remote("r2", sprint="t"))
    rooms.add_remote(remote("q1", instance="third"))
    assert rooms.remote_instances() == {"other", "third"}
    removed = rooms.remove_instance("other")
    assert sorted(m.peer for m, _ in removed) == ["r1", "r2"]
    assert rooms.remote_instances() == {"third"}
    assert rooms.member(a.peer) == a


def test_last_local_leave_forgets_the_remote_members_of_the_room() -> None:
    rooms = local_rooms()
    a = rooms.join(sprint="s", user_id="1", name="A", connection=1).member
    rooms.add_remote(remote("r1"))
    assert rooms.leave(a.peer, 1) == ()
    assert rooms.room_count == 0
    assert rooms.member("r1") is None


# --- a remote member announced while a local join is still asking the broker -------------------


def test_a_remote_member_announced_while_entering_is_in_the_join() -> None:
    rooms = local_rooms()
    rooms.begin_entering("s")
    assert rooms.add_remote(remote("r1")) == ()  # no room yet: kept for the join, nobody to tell
    assert rooms.member("r1") is None
    admitted = rooms.join(sprint="s", user_id="1", name="A", connection=1)
    rooms.end_entering("s")
    assert [m.peer for m in admitted.others] == ["r1"]
    assert rooms.route(admitted.member.peer, "r1").instance == "other"


def test_announcements_without_a_join_in_progress_are_not_kept() -> None:
    rooms = local_rooms()
    assert rooms.add_remote(remote("r1")) == ()
    admitted = rooms.join(sprint="s", user_id="1", name="A", connection=1)
    assert admitted.others == ()


def test_a_failed_join_drops_what_it_kept() -> None:
    rooms = local_rooms()
    rooms.begin_entering("s")
    rooms.add_remote(remote("r1"))
    rooms.end_entering("s")  # the join failed (broker, capacity): nothing is kept
    assert rooms.join(sprint="s", user_id="1", name="A", connection=1).others == ()


def test_leaves_syncs_and_dead_instances_while_entering_are_applied() -> None:
    rooms = local_rooms()
    rooms.begin_entering("s")
    rooms.begin_entering("s")  # two local joins into the same new sprint
    rooms.add_remote(remote("r1"))
    rooms.add_remote(remote("r2"))
    rooms.add_remote(remote("r3", instance="third"))
    assert rooms.remove_remote(remote("r1", connection=9)) is None  # another socket: kept
    assert rooms.remove_remote(remote("r2")) is None  # left before we were in
    rooms.sync_instance("s", "other", [remote("r1"), remote("r4")])
    rooms.remove_instance("third")
    first = rooms.join(sprint="s", user_id="1", name="A", connection=1)
    rooms.end_entering("s")
    assert sorted(m.peer for m in first.others) == ["r1", "r4"]
    second = rooms.join(sprint="s", user_id="2", name="B", connection=2)
    rooms.end_entering("s")
    assert sorted(m.peer for m in second.others) == sorted(["r1", "r4", first.member.peer])
