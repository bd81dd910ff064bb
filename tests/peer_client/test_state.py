"""Board state: the version rule, drags by others, pending drops (no sockets)."""

from __future__ import annotations

from peer_client.places import Place
from peer_client.protocol import DRAG_SILENCE_SECONDS, OVERLAY_SECONDS
from peer_client.state import BoardState, Drag
from tests.peer_client.conftest import sample_task


def versioned(task_id: int, version: int, **fields: object) -> dict[str, object]:
    return {**sample_task(task_id), "version": version, **fields}


def test_only_newer_versions_are_kept() -> None:
    state = BoardState(1, [versioned(1, 2, status="testing")])
    assert state.apply_task(versioned(1, 2, status="done")) is None
    assert state.apply_task(versioned(1, 1, status="done")) is None
    assert state.tasks[1]["status"] == "testing"
    previous = state.apply_task(versioned(1, 3, status="done"))
    assert previous is not None
    assert previous["status"] == "testing"
    assert state.place_of(1) == Place("done", 0)
    assert state.apply_task(versioned(9, 1)) == {}  # new task: nothing replaced


def test_columns_are_in_board_order_and_other_sprints_are_not_shown() -> None:
    state = BoardState(
        1,
        [
            versioned(1, 1, position=1),
            versioned(2, 1, position=0),
            versioned(3, 1, sprint=None),
            versioned(4, 1, sprint=2),
        ],
    )
    assert [task["id"] for task in state.column("not_started")] == [2, 1]
    assert [task["id"] for task in state.column("backlog")] == [3]
    assert state.place_of(4) is None


def test_a_drop_shows_until_a_newer_version_settles_it() -> None:
    state = BoardState(1, [versioned(1, 4)])
    assert state.add_overlay(1, Place("done", 0), 4, "p", now=100.0) is not None
    assert state.place_of(1) == Place("done", 0)
    state.apply_task(versioned(1, 5, status="testing"))  # saved elsewhere: settles it
    assert state.place_of(1) == Place("testing", 0)
    assert not state.overlays


def test_an_unsettled_drop_expires() -> None:
    state = BoardState(1, [versioned(1, 4)])
    state.add_overlay(1, Place("done", 0), 4, None, now=100.0)
    assert state.expire_overlays(100.0 + OVERLAY_SECONDS - 0.1) == []
    expired = state.expire_overlays(100.0 + OVERLAY_SECONDS)
    assert [overlay.task for overlay in expired] == [1]
    assert state.place_of(1) == Place("not_started", 0)


def test_a_drop_older_than_the_kept_state_is_not_shown() -> None:
    state = BoardState(1, [versioned(1, 6)])
    assert state.add_overlay(1, Place("done", 0), 5, "p", now=0.0) is None
    assert state.place_of(1) == Place("not_started", 0)


def test_drags_follow_start_hover_end_and_snapshots() -> None:
    state = BoardState(1, [versioned(1, 1), versioned(2, 1)])
    state.drag_start("p", 1, Place("not_started", 0), 1)
    state.drag_hover("p", 1, Place("done", 0))
    assert state.drags["p"] == Drag("p", 1, Place("not_started", 0), Place("done", 0), 1)
    # A hover of a drag its sender never started shows nothing (docs/protocol.md 2.3).
    assert state.drag_hover("q", 2, Place("testing", 1)) is None
    assert state.drag_hover("p", 2, Place("testing", 1)) is None, "p drags another card"
    assert "q" not in state.drags
    assert state.drag_end("p", 2) is None
    assert state.drag_end("p", 1) is not None
    assert state.drag_end("p", 1) is None
    # One drag per peer: a new start replaces it, a snapshot keeps its last.
    state.drag_start("p", 1, Place("not_started", 0))
    state.drag_start("p", 2, Place("not_started", 1))
    assert [drag.task for drag in state.drags_of("p")] == [2]
    state.forget_peer("p")
    state.replace_drags(
        "q",
        [
            Drag("q", 2, Place("backlog", 0), Place("done", 1)),
            Drag("q", 1, Place("backlog", 0), Place("done", 1)),
        ],
    )
    assert {peer: drag.task for peer, drag in state.drags.items()} == {"q": 1}
    assert [drag.task for drag in state.forget_peer("q")] == [1]
    assert not state.drags


def test_deleted_tasks_disappear_unless_we_hold_a_newer_state() -> None:
    state = BoardState(1, [versioned(1, 3), versioned(2, 1)])
    assert not state.remove_task(versioned(1, 2))
    assert state.remove_task(versioned(1, 3))
    assert 1 not in state.tasks
    assert not state.remove_task(versioned(7, 1))


def test_drops_name_only_tasks_on_this_board() -> None:
    other_sprint = {**versioned(9, 1), "sprint": 2}
    state = BoardState(1, [versioned(1, 1), other_sprint])
    assert not state.is_on_board(9)
    assert not state.is_on_board(4242)
    assert state.add_overlay(9, Place("done", 0), 1, "p", now=0.0) is None
    assert state.add_overlay(4242, Place("done", 0), 1, "p", now=0.0) is None
    assert not state.overlays


def test_a_drop_naming_a_huge_version_is_settled_by_the_next_board_state() -> None:
    state = BoardState(1, [versioned(1, 3)])
    assert state.add_overlay(1, Place("done", 0), 2**53 - 1, "mallory", now=0.0) is not None
    assert state.place_of(1) == Place("done", 0)
    state.apply_task(versioned(1, 4))
    assert state.place_of(1) == Place("not_started", 0)


def test_a_senders_overlays_go_with_its_bye() -> None:
    state = BoardState(1, [versioned(1, 1), versioned(2, 1)])
    state.add_overlay(1, Place("done", 0), 1, "p", now=0.0)
    state.add_overlay(2, Place("done", 0), 1, "q", now=0.0)
    assert [overlay.task for overlay in state.drop_overlays_by("p")] == [1]
    assert list(state.overlays) == [2]


def test_a_peers_drag_ends_after_30_s_without_a_word_from_that_peer() -> None:
    state = BoardState(1, [versioned(1, 1), versioned(2, 1)])
    state.drag_start("p", 1, Place("not_started", 0), 1, now=100.0)
    state.drag_start("q", 2, Place("not_started", 1), 1, now=100.0)
    state.heard_from("p", 120.0)  # a ping, a hover: anything from p
    gone = state.expire_drags(100.0 + DRAG_SILENCE_SECONDS)
    assert [drag.peer for drag in gone] == ["q"]
    assert state.expire_drags(120.0 + DRAG_SILENCE_SECONDS - 0.1) == []
    assert [drag.peer for drag in state.expire_drags(120.0 + DRAG_SILENCE_SECONDS)] == ["p"]
    assert not state.drags
