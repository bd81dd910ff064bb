"""The bot's HTTP client of the board (peer_client.board_api) against the real board.

The board here closes idle kept connections after one second (gunicorn ``--keep-alive 1``, its
threaded worker), and the client waits about that long between moves: a request then meets a
connection the board is closing at that very moment. Without the retry on a fresh connection,
some of these moves fail with "Server disconnected" or "Connection reset by peer".
"""

from __future__ import annotations

import asyncio
import shutil
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from peer_client.board_api import BoardClient, saved_by_us
from peer_client.places import Place
from tests.peer_client.board_stack import PASSWORD, board_environment
from tests.support.processes import BoardProcess, free_port

KEEP_ALIVE = 1.0
MOVES = 36
COLUMNS = ("testing", "done", "in_progress", "not_started")


@pytest.fixture
async def quick_closing_board(
    seeded_board: tuple[Path, int], tmp_path: Path
) -> AsyncIterator[tuple[BoardClient, int]]:
    template, sprint = seeded_board
    database = tmp_path / "db.sqlite3"
    shutil.copy(template, database)
    # No signaling: the board's hooks fail quietly (short timeout), which moves do not wait on.
    board = BoardProcess(
        free_port(), board_environment(database, free_port()), threads=4, keep_alive=KEEP_ALIVE
    )
    client = BoardClient(board.url)
    try:
        await asyncio.to_thread(board.wait_ready)
        await client.login("demo", PASSWORD)
        yield client, sprint
    finally:
        await client.close()
        board.stop()


async def test_moves_survive_a_board_that_closes_idle_connections_quickly(
    quick_closing_board: tuple[BoardClient, int],
) -> None:
    client, sprint = quick_closing_board
    tasks = await client.tasks(sprint)
    task = next(task for task in tasks if task["sprint"] == sprint)
    version = task["version"]
    for move in range(MOVES):
        # Around the board's idle timeout, a little before and after it in turn.
        await asyncio.sleep(KEEP_ALIVE + (move % 12 - 6) * 0.00025)
        place = Place(COLUMNS[move % len(COLUMNS)], 0)
        result = await client.move(task["id"], place, sprint, version)  # raises if unreachable
        assert result.outcome == "moved", result
        assert result.task is not None
        assert (result.task["status"], result.task["version"]) == (place.column, version + 1)
        version = result.task["version"]
    stored = await client.task(task["id"])
    assert stored is not None
    assert stored["version"] == task["version"] + MOVES, "every move saved exactly once"


def current(version: int, sprint: int | None, status: str, position: int = 0) -> dict[str, Any]:
    return {"id": 4, "version": version, "sprint": sprint, "status": status, "position": position}


def test_a_conflict_naming_our_own_next_version_in_our_column_is_our_move_saved() -> None:
    assert saved_by_us(current(8, 3, "testing", position=2), Place("testing", 0), 3, 7)
    assert saved_by_us(current(8, None, "not_started"), Place("backlog", 1), 3, 7)


def test_any_other_conflict_is_someone_elses_change() -> None:
    assert not saved_by_us(current(9, 3, "testing"), Place("testing", 0), 3, 7), "two saves on"
    assert not saved_by_us(current(7, 3, "testing"), Place("testing", 0), 3, 7), "not saved"
    assert not saved_by_us(current(8, 3, "done"), Place("testing", 0), 3, 7), "another column"
    assert not saved_by_us(current(8, 5, "testing"), Place("testing", 0), 3, 7), "another sprint"
    assert not saved_by_us(current(8, 3, "not_started"), Place("backlog", 0), 3, 7), "not backlog"
