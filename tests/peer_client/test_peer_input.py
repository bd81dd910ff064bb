"""What another peer's message may change in a session (peer_client.peer_input; no sockets)."""

from __future__ import annotations

import json
from typing import Any

from peer_client import messages, peer_input, protocol
from peer_client.places import Place, Pointer
from peer_client.protocol import Received
from peer_client.state import BoardState
from tests.peer_client.conftest import sample_task

MAX = 2**53 - 1


def board() -> BoardState:
    return BoardState(
        1,
        [
            {**sample_task(1), "version": 5},
            sample_task(2, position=1),
            sample_task(5, sprint=None),
            sample_task(6, sprint=99),
        ],
    )


def arrive(**message: Any) -> messages.Message:
    """A message as it would arrive: encoded, parsed and checked."""
    parsed = protocol.parse_message(json.dumps({"id": "m:1", **message}))
    assert isinstance(parsed, Received), parsed
    return parsed.message


def test_a_forged_task_updated_never_replaces_the_boards_state() -> None:
    state = board()
    forged = {**sample_task(1), "name": "Forged", "status": "done", "version": MAX}
    effect = peer_input.apply(state, "mallory", arrive(type="task-updated", task=forged), 0.0)
    assert effect.hint == 1, "only a hint to ask the board"
    assert state.tasks[1]["name"] == "Task 1"
    assert state.tasks[1]["version"] == 5
    # A real board state after it is still kept: the forged version did not raise the bar.
    assert state.apply_task({**sample_task(1, "testing"), "version": 6}) is not None
    assert state.place_of(1) == Place("testing", 0)


def test_a_task_updated_for_a_task_nobody_has_creates_nothing() -> None:
    state = board()
    phantom = {**sample_task(4242), "name": "Phantom"}
    effect = peer_input.apply(state, "mallory", arrive(type="task-updated", task=phantom), 0.0)
    assert effect.hint == 4242
    assert 4242 not in state.tasks


def test_a_task_updated_no_newer_than_ours_asks_nothing() -> None:
    state = board()
    same = {**sample_task(1), "version": 5}
    assert peer_input.apply(state, "sam", arrive(type="task-updated", task=same), 0.0).hint is None


def test_drags_name_only_tasks_on_this_board() -> None:
    state = board()
    place = {"column": "done", "index": 0}
    for task in (6, 4242):
        start = arrive(type="drag-start", task=task, version=1, **{"from": place})
        assert not peer_input.apply(state, "p", start, 0.0).drags
        drop = arrive(type="drag-drop", task=task, version=1, to=place)
        assert not peer_input.apply(state, "p", drop, 0.0).drags
    drags = [{"task": 6, "from": place, "over": place}, {"task": 2, "from": place, "over": place}]
    effect = peer_input.apply(state, "p", arrive(type="snapshot", drags=drags), 0.0)
    assert [change.task for change in effect.drags] == [2]
    assert [(peer, drag.task) for peer, drag in state.drags.items()] == [("p", 2)]
    assert not state.overlays


def test_a_hover_without_a_drag_start_shows_nothing() -> None:
    state = board()
    hover = arrive(type="drag-hover", task=2, over={"column": "done", "index": 0})
    assert not peer_input.apply(state, "p", hover, 0.0).drags
    assert not state.drags


def test_a_drop_is_its_senders_overlay_and_goes_with_its_bye() -> None:
    state = board()
    start = arrive(type="drag-start", task=2, version=1, **{"from": {"column": "done", "index": 0}})
    peer_input.apply(state, "p", start, 0.0)
    drop = arrive(type="drag-drop", task=2, version=1, to={"column": "done", "index": 0})
    assert peer_input.apply(state, "p", drop, 0.0).drags[0].kind == "drop"
    assert state.overlays[2].peer == "p"
    peer_input.apply(state, "q", arrive(type="drag-cancel", task=2), 0.0)
    assert 2 in state.overlays, "another peer cannot cancel it"
    start = arrive(type="drag-start", task=1, version=5, **{"from": {"column": "done", "index": 0}})
    peer_input.apply(state, "p", start, 0.0)
    bye = peer_input.apply(state, "p", arrive(type="bye"), 0.0)
    assert [drag.task for drag in bye.left_drags] == [1]
    assert not state.overlays
    assert not state.drags


def test_hello_names_the_agent_and_ping_asks_for_a_pong() -> None:
    state = board()
    hello = peer_input.apply(state, "p", arrive(type="hello", agent="kanban-cli/1.2"), 0.0)
    assert hello.agent == "kanban-cli/1.2"
    assert peer_input.apply(state, "p", arrive(type="ping", t=12.5), 0.0).pong == 12.5


def test_a_hover_that_only_moves_the_pointer_is_kept_not_announced() -> None:
    state = board()
    start = arrive(type="drag-start", task=2, version=1, **{"from": {"column": "done", "index": 0}})
    peer_input.apply(state, "ann", start, 0.0)
    pointer = {"column": "done", "x": 0.4, "y": 0.2}
    same_place = arrive(
        type="drag-hover", task=2, over={"column": "done", "index": 0}, pointer=pointer
    )
    assert not peer_input.apply(state, "ann", same_place, 0.0).drags, "30 a second: not announced"
    assert state.drags["ann"].pointer == Pointer("done", 0.4, 0.2)
    new_place = arrive(
        type="drag-hover", task=2, over={"column": "testing", "index": 1}, pointer=pointer
    )
    (change,) = peer_input.apply(state, "ann", new_place, 0.0).drags
    assert (change.kind, change.place) == ("hover", Place("testing", 1))


def test_a_cancel_after_a_drop_withdraws_the_drop_and_says_so() -> None:
    state = board()
    place = {"column": "testing", "index": 0}
    peer_input.apply(
        state, "ann", arrive(type="drag-start", task=2, version=1, **{"from": place}), 0.0
    )
    peer_input.apply(state, "ann", arrive(type="drag-drop", task=2, version=1, to=place), 0.0)
    assert 2 in state.overlays
    assert not peer_input.apply(state, "bob", arrive(type="drag-cancel", task=2), 0.0).drags
    assert 2 in state.overlays, "only its sender withdraws a drop"
    (change,) = peer_input.apply(state, "ann", arrive(type="drag-cancel", task=2), 0.0).drags
    assert (change.kind, change.task) == ("cancel", 2)
    assert 2 not in state.overlays


def start_and_drop(state: BoardState, peer: str, task: int, now: float) -> peer_input.PeerEffect:
    """``peer`` picks ``task`` up and drops it on Done."""
    start = arrive(
        type="drag-start", task=task, version=1, **{"from": {"column": "done", "index": 0}}
    )
    peer_input.apply(state, peer, start, now)
    drop = arrive(type="drag-drop", task=task, version=9, to={"column": "done", "index": 0})
    return peer_input.apply(state, peer, drop, now)


def test_a_drop_of_a_card_its_sender_does_not_hold_is_ignored() -> None:
    state = board()
    for task in (1, 2, 5):
        drop = arrive(type="drag-drop", task=task, version=MAX, to={"column": "done", "index": 0})
        assert not peer_input.apply(state, "mallory", drop, 0.0).drags
    assert not state.overlays, "no card pending"


def test_a_peer_shows_at_most_one_drop_and_a_repeat_never_extends_it() -> None:
    state = board()
    start_and_drop(state, "mallory", 1, 0.0)
    start_and_drop(state, "mallory", 2, 1.0)
    assert list(state.overlays) == [2], "her new drop replaced the old one"
    start_and_drop(state, "mallory", 1, 5.0)
    assert list(state.overlays) == [1]
    assert state.overlays[1].expires == protocol.OVERLAY_SECONDS, "her first drop's deadline"
    assert [o.task for o in state.expire_overlays(protocol.OVERLAY_SECONDS)] == [1]
    assert start_and_drop(state, "mallory", 1, 10.5).drags, "her drag ended"
    assert not state.overlays, "the same card at the same version: no more time"
    # Once the board says something newer of it, a drop of it is shown afresh.
    state.apply_task({**sample_task(1), "version": 6})
    start_and_drop(state, "sam", 1, 11.0)
    assert state.overlays[1].expires == 11.0 + protocol.OVERLAY_SECONDS


def test_a_peers_drop_never_covers_our_own_drop_while_it_is_saved() -> None:
    state = board()
    state.add_overlay(2, Place("testing", 0), 1, None, 0.0)
    start_and_drop(state, "mallory", 2, 0.01)
    assert (state.overlays[2].peer, state.overlays[2].place) == (None, Place("testing", 0))


def test_a_peer_drags_one_card_at_a_time_and_its_start_is_announced_once() -> None:
    state = board()
    here = {"column": "done", "index": 0}
    kinds = []
    for n in range(30):
        for task in (1, 2):
            start = arrive(type="drag-start", task=task, version=MAX, **{"from": here})
            kinds += [change.kind for change in peer_input.apply(state, "m", start, n).drags]
        repeat = arrive(type="drag-start", task=2, version=MAX, **{"from": here})
        kinds += [change.kind for change in peer_input.apply(state, "m", repeat, n).drags]
    assert [drag.task for drag in state.drags_of("m")] == [2], "her latest"
    assert kinds == ["start"] * 60, "a repeat of the card she holds is not announced"
    drags = [{"task": task, "from": here, "over": here} for task in (1, 2, 5)]
    effect = peer_input.apply(state, "m", arrive(type="snapshot", drags=drags), 0.0)
    assert [drag.task for drag in state.drags_of("m")] == [5], "the last of a snapshot"
    assert [(c.kind, c.task) for c in effect.drags] == [("snapshot", 5)]
    effect = peer_input.apply(state, "m", arrive(type="snapshot", drags=[]), 0.0)
    assert [(c.kind, c.task) for c in effect.drags] == [("cancel", 5)]
    assert not state.drags


def test_a_drag_whose_end_was_lost_goes_after_30_s_and_any_word_keeps_it() -> None:
    state = board()
    start = arrive(type="drag-start", task=2, version=1, **{"from": {"column": "done", "index": 0}})
    peer_input.apply(state, "ann", start, 0.0)
    peer_input.apply(state, "ann", arrive(type="ping", t=1), 25.0)
    assert state.expire_drags(30.0) == [], "Ann spoke 5 s ago"
    peer_input.apply(state, "bob", arrive(type="ping", t=1), 50.0)
    assert [drag.peer for drag in state.expire_drags(55.0)] == ["ann"], "Bob's words do not count"
