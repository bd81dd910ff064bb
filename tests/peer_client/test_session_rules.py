"""Rules of section 2 the session keeps whatever its peers do (docs/protocol.md 2.4, 2.6).

A relay from a peer signaling never introduced needs a server that sends one (ours never does):
a stand-in on a real socket. The save against the picked-up version runs against the real board
and signaling; the session is alone in the sprint, so no channel is opened.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator

import pytest

from peer_client.board_api import BoardClient
from peer_client.places import Place
from peer_client.session import BoardSession
from tests.peer_client.board_stack import PASSWORD, BoardStack, task_named
from tests.peer_client.conftest import SAMPLE_TASKS, Recorder
from tests.peer_client.standin_signaling import StandInSignaling
from tests.support.waiting import wait_until

FROM = {"column": "not_started", "index": 0}


def relay(sender: str, data: dict[str, object]) -> str:
    return json.dumps({"type": "relay", "from": sender, "data": data})


async def test_a_relay_from_a_peer_signaling_never_introduced_is_ignored() -> None:
    frames = [
        json.dumps({"type": "peer-joined", "peer": "friend", "user": {"id": "f", "name": "Fay"}}),
        relay("ghost", {"type": "drag-start", "id": "g:1", "task": 1, "version": 1, "from": FROM}),
        relay("ghost", {"type": "hello", "id": "g:2", "agent": "ghost"}),
        relay("friend", {"type": "hello", "id": "f:1", "agent": "web"}),
    ]
    async with StandInSignaling(frames) as server:
        session = BoardSession(1, server.ticket, tasks=SAMPLE_TASKS)
        events = Recorder(session)
        await asyncio.wait_for(session.join(), 5.0)
        try:
            # Frames are handled in order: once Fay's hello is seen, the ghost's came before it.
            await events.wait_for("hello", lambda e: e.person.peer == "friend", timeout=5.0)
            assert [e.person.peer for e in events.of("hello")] == ["friend"]
            assert events.of("drag") == []
            assert not session.board_state.drags
        finally:
            await session.close()


@pytest.fixture
async def sam(board_stack: BoardStack) -> AsyncIterator[BoardSession]:
    board = BoardClient(board_stack.url)
    await board.login("sam", PASSWORD)
    session = await BoardSession.from_board(board, board_stack.sprint)
    await session.join()
    try:
        yield session
    finally:
        await session.close()
        await board.close()


async def test_a_drop_is_saved_against_the_version_it_was_picked_up_at(
    board_stack: BoardStack, sam: BoardSession
) -> None:
    session = sam
    task = task_named(list(session.board_state.tasks.values()), "Task search")
    session.drag_start(task["id"])
    # Dana moves the card while Sam holds it; Sam's session keeps the board's event.
    dana = BoardClient(board_stack.url)
    await dana.login("demo", PASSWORD)
    try:
        moved = await dana.move(
            task["id"], Place("testing", 0), board_stack.sprint, task["version"]
        )
    finally:
        await dana.close()
    assert moved.outcome == "moved"
    await wait_until(
        lambda: session.board_state.tasks[task["id"]]["version"] == task["version"] + 1,
        what="Sam's session to keep Dana's move",
    )
    # Sam drops it: saved against the version he picked up, the board refuses it (409) rather
    # than let him overwrite a move he never saw.
    result = await session.drop(task["id"], Place("done", 0))
    assert result.outcome == "conflict", result
    assert result.task is not None
    assert (result.task["status"], result.task["version"]) == ("testing", task["version"] + 1)
    assert session.board_state.place_of(task["id"]) == Place("testing", 0)
