"""The bot against the real board and signaling, next to an aiortc peer (a three-process sprint)."""

from __future__ import annotations

import asyncio
import signal
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from peer_client.board_api import BoardClient
from peer_client.places import Place
from peer_client.session import BoardSession
from tests.peer_client.board_stack import PASSWORD, BoardStack, task_named
from tests.peer_client.conftest import Recorder
from tests.support.bot import Bot
from tests.support.waiting import wait_until

pytestmark = pytest.mark.webrtc

TASK = "Drag and drop on the board"  # seeded in "In progress"


@pytest.fixture
async def viewer(board_stack: BoardStack) -> AsyncIterator[tuple[BoardSession, Recorder]]:
    """Sam, viewing the demo sprint through the library (as a browser tab would)."""
    board = BoardClient(board_stack.url)
    await board.login("sam", PASSWORD)
    session = await BoardSession.from_board(board, board_stack.sprint)
    recorder = Recorder(session)
    await session.join()
    try:
        yield session, recorder
    finally:
        await session.close()
        await board.close()


async def test_bot_move_is_seen_live_and_persisted(
    board_stack: BoardStack, viewer: tuple[BoardSession, Recorder]
) -> None:
    sam, events = viewer
    task = task_named(list(sam.board_state.tasks.values()), TASK)
    task_id, version = task["id"], task["version"]
    bot = await Bot.start(
        board_stack.bot_command(
            "--loopback-only",
            "--json",
            "--wait-peers",
            "1",
            "--drag",
            f"{task_id}:testing,done:1",
            "--move",
            f"{task_id}:testing:0",
            "--step",
            "0.1",
            "--once",
        )
    )
    try:
        assert await bot.wait() == 0, await bot.stderr()
    finally:
        await bot.kill()

    # The bot saw Sam, linked directly, and reports its move.
    assert [line["name"] for line in bot.events("peer-joined")] == ["Sam Second"]
    assert bot.events("link")[0]["state"] == "direct"
    (moved,) = bot.events("moved")
    assert moved["task"]["status"] == "testing"
    assert moved["task"]["version"] == version + 1

    # Sam saw the drag markers (pick up, hover, put back; pick up, hover, drop) and the move.
    drags = [(e.kind, e.place) for e in events.of("drag") if e.task == task_id]
    assert drags == [
        ("start", Place("in_progress", 0)),
        ("hover", Place("testing", 0)),
        ("hover", Place("done", 1)),
        ("cancel", None),
        ("start", Place("in_progress", 0)),
        ("hover", Place("testing", 0)),
        ("drop", Place("testing", 0)),
    ]
    assert {e.person.name for e in events.of("drag")} == {"Dana Demo"}
    update = await events.wait_for("task-updated", lambda e: e.task["id"] == task_id)
    assert update.task["status"] == "testing"
    assert update.task["version"] == version + 1
    assert sam.board_state.place_of(task_id) == Place("testing", 0)
    await events.wait_for("peer-left", lambda person: person.name == "Dana Demo")

    # The board holds the move.
    assert sam.board is not None
    stored = task_named(await sam.board.tasks(board_stack.sprint), TASK)
    assert (stored["status"], stored["position"], stored["version"]) == ("testing", 0, version + 1)


async def test_bot_watches_and_leaves_cleanly_on_ctrl_c(
    board_stack: BoardStack, viewer: tuple[BoardSession, Recorder]
) -> None:
    sam, events = viewer
    bot = await Bot.start(board_stack.bot_command("--loopback-only", "--json"))
    try:
        joined = await bot.wait_line("joined")
        assert [person["name"] for person in joined["here"]] == ["Sam Second"]
        dana = await events.wait_for("peer-joined", lambda person: person.name == "Dana Demo")
        await wait_until(lambda: sam.link_state(dana.peer) == "direct", what="a direct link")
        await bot.wait_line("hello")

        # The bot prints what Sam does.
        task = task_named(list(sam.board_state.tasks.values()), TASK)
        sam.drag_start(task["id"])
        await sam.drag_hover(task["id"], Place("done", 0))
        hover = await bot.wait_line("drag", lambda line: line["kind"] == "hover")
        assert (hover["name"], hover["task"]) == ("Sam Second", task["id"])
        assert hover["place"] == {"column": "done", "index": 0}

        bot.process.send_signal(signal.SIGINT)
        assert await bot.wait(15) == 0
        assert await bot.stderr() == ""
        left = await events.wait_for("peer-left", timeout=5)
        assert left.peer == dana.peer
        assert sam.link_state(dana.peer) is None
        assert bot.lines[-1]["event"] == "left"
    finally:
        await bot.kill()


async def test_a_move_the_board_never_answers_is_withdrawn_before_the_bot_leaves(
    board_stack: BoardStack, viewer: tuple[BoardSession, Recorder], tmp_path: Path
) -> None:
    """The board goes away while the bot drags: its drop cannot be saved, so the bot takes it
    back (drag-cancel) before its bye, and nobody is left showing the card as pending."""
    sam, events = viewer
    task = task_named(list(sam.board_state.tasks.values()), TASK)
    task_id = task["id"]
    script = tmp_path / "moves.txt"
    script.write_text(f"wait-peers 1\nmove {task_id} testing:0 via done:0\n")
    bot = await Bot.start(
        board_stack.bot_command(
            "--loopback-only", "--json", "--script", str(script), "--step", "1.5", "--once"
        )
    )
    try:
        await events.wait_for("drag", lambda e: e.kind == "hover" and e.task == task_id)
        # Gunicorn's quick shutdown (its workers stop too), well before the drop.
        board_stack.board.process.send_signal(signal.SIGQUIT)
        await asyncio.to_thread(board_stack.board.process.wait, 10)
        assert await bot.wait() == 2
        assert "cannot reach the board" in await bot.stderr()
    finally:
        await bot.kill()
    dana = await events.wait_for("peer-left", lambda person: person.name == "Dana Demo")
    kinds = [e.kind for e in events.of("drag") if e.task == task_id]
    assert kinds == ["start", "hover", "hover", "drop", "cancel"], kinds
    assert task_id not in sam.board_state.overlays
    assert sam.board_state.place_of(task_id) == Place("in_progress", 0)
    assert dana.peer not in sam.presence


async def test_ctrl_c_during_a_drag_puts_the_card_back_before_the_bot_leaves(
    board_stack: BoardStack, viewer: tuple[BoardSession, Recorder]
) -> None:
    sam, events = viewer
    task_id = task_named(list(sam.board_state.tasks.values()), TASK)["id"]
    bot = await Bot.start(
        board_stack.bot_command(
            "--loopback-only",
            "--json",
            "--wait-peers",
            "1",
            "--drag",
            f"{task_id}:done",
            "--step",
            "60",
        )
    )
    try:
        await events.wait_for("drag", lambda e: e.kind == "start" and e.task == task_id)
        bot.process.send_signal(signal.SIGINT)
        assert await bot.wait(15) == 0
    finally:
        await bot.kill()
    await events.wait_for("peer-left", lambda person: person.name == "Dana Demo")
    assert [e.kind for e in events.of("drag") if e.task == task_id] == ["start", "cancel"]
    assert not sam.board_state.drags
