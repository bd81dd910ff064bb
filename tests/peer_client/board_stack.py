"""The real board (gunicorn) next to a real signaling server, for the bot's tests.

The database is migrated and seeded (``manage.py seed_demo``: users demo/demo and sam/demo, one
sprint of tasks) once per session; each stack copies it, so every stack starts from the same board.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tests.peer_client.conftest import SECRET
from tests.support.processes import ROOT, BoardProcess, SignalingProcess, free_port

PASSWORD = "demo"


def board_environment(database: Path, signaling_port: int) -> dict[str, str]:
    return {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "board.settings",
        "DATABASE_URL": f"sqlite:///{database}",
        "DEBUG": "true",
        "SECRET_KEY": "peer-client-test-django-key-" + "k" * 30,
        "WATERCOOLER_SECRET": SECRET,
        "WATERCOOLER_SIGNALING_URL": f"ws://127.0.0.1:{signaling_port}/ws",
        "WATERCOOLER_HOOK_URL": f"http://127.0.0.1:{signaling_port}/hooks/board",
        "WATERCOOLER_HOOK_TIMEOUT": "1",
        "LOG_LEVEL": "WARNING",
    }


def seed_database(directory: Path) -> tuple[Path, int]:
    """Migrate and seed a database in ``directory``; returns it and the demo sprint's id."""
    database = directory / "db.sqlite3"
    env = board_environment(database, 1)
    manage = [sys.executable, "manage.py"]
    subprocess.run(
        [*manage, "migrate", "--noinput"],
        cwd=ROOT,
        env=env,
        check=True,
        timeout=120,
        capture_output=True,
    )
    seeded = subprocess.run(
        [*manage, "seed_demo", "--json"],
        cwd=ROOT,
        env=env,
        check=True,
        timeout=60,
        capture_output=True,
        text=True,
    )
    return database, int(json.loads(seeded.stdout.strip().splitlines()[-1])["sprint"])


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

    def add_user(self, username: str, first: str, last: str) -> None:
        """Another person on the board, with the demo users' password."""
        code = (
            "from django.contrib.auth.models import User; "
            f"User.objects.create_user({username!r}, password={PASSWORD!r}, "
            f"first_name={first!r}, last_name={last!r})"
        )
        subprocess.run(
            [sys.executable, "manage.py", "shell", "-c", code],
            cwd=ROOT,
            env=board_environment(self.database, self.signaling.port),
            check=True,
            timeout=60,
            capture_output=True,
        )

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
