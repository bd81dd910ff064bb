"""The real board (gunicorn) next to a real signaling server, for the bot's tests.

The database is migrated and seeded (``manage.py seed_demo``: users demo, sam and robo, one
sprint of tasks) once per session; each stack copies it, so every stack starts from the same board.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tests.peer_client.conftest import SECRET
from tests.support import board as board_db
from tests.support.processes import ROOT, BoardProcess, SignalingProcess, free_port

PASSWORD = board_db.PASSWORD


def board_environment(database: Path, signaling_port: int) -> dict[str, str]:
    return board_db.board_environment(database, signaling_port, SECRET)


def seed_database(directory: Path) -> tuple[Path, int]:
    """Migrate and seed a database in ``directory``; returns it and the demo sprint's id."""
    database = directory / "db.sqlite3"
    return database, int(board_db.seed_database(database, SECRET)["sprint"])


@dataclass
class BoardStack:
    """A board and its signaling server on free ports."""

    signaling: SignalingProcess
    board: BoardProcess
    port: int
    sprint: int
    database: Path

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @classmethod
    def start(cls, template: Path, sprint: int, directory: Path) -> BoardStack:
        database = directory / "db.sqlite3"
        shutil.copy(template, database)
        port = free_port()
        # Browsers send the board's origin; signaling lets only that one in.
        signaling = SignalingProcess(
            SECRET, "--allowed-origin", f"http://127.0.0.1:{port}"
        ).wait_ready()
        board = BoardProcess(port, board_environment(database, signaling.port))
        stack = cls(signaling, board, port, sprint, database)
        try:
            board.wait_ready()
        except BaseException:
            stack.stop()
            raise
        return stack

    def stop(self) -> None:
        self.board.stop()
        self.signaling.stop()

    def bot_command(self, *args: str, user: str = "demo") -> list[str]:
        """``python -m peer_client`` against this board, logged in as ``user``."""
        return [
            sys.executable,
            "-m",
            "peer_client",
            "--board",
            self.url,
            "--sprint",
            str(self.sprint),
            "--user",
            user,
            "--password",
            PASSWORD,
            *args,
        ]


def run_bot(*args: str, timeout: float = 30.0) -> subprocess.CompletedProcess[str]:
    """Run the bot to the end; returns its exit code and output."""
    return subprocess.run(
        [sys.executable, "-m", "peer_client", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def task_named(tasks: list[dict[str, Any]], name: str) -> dict[str, Any]:
    (task,) = [task for task in tasks if task["name"] == name]
    return task
