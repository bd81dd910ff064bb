"""A board database for the suites that run the real board under gunicorn (e2e, peer_client).

Every such suite needs the same three things: the environment the board runs with, a migrated
database with the demo seeded (made once, then copied per test), and more people on it. They live
here so that the suites cannot drift apart.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from tests.support.processes import ROOT

PASSWORD = "demo"  # the demo users' password, and the one given to everyone added here


def board_environment(database: Path, signaling_port: int, secret: str) -> dict[str, str]:
    """The board's environment for a SQLite ``database`` and signaling on ``signaling_port``
    (development settings; hook events after at most 1 s)."""
    return {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "board.settings",
        "DATABASE_URL": f"sqlite:///{database}",
        "DEBUG": "true",
        "SECRET_KEY": "test-django-secret-key-" + "k" * 30,
        "WATERCOOLER_SECRET": secret,
        "WATERCOOLER_SIGNALING_URL": f"ws://127.0.0.1:{signaling_port}/ws",
        "WATERCOOLER_HOOK_URL": f"http://127.0.0.1:{signaling_port}/hooks/board",
        "WATERCOOLER_HOOK_TIMEOUT": "1",
        "LOG_LEVEL": "WARNING",
    }


def manage(database: Path, secret: str, *args: str) -> str:
    """``python manage.py ARGS`` on ``database``; returns what it printed (fails loudly)."""
    done = subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=board_environment(database, 1, secret),
        check=True,
        timeout=120,
        capture_output=True,
        text=True,
    )
    return done.stdout


def seed_database(database: Path, secret: str) -> dict[str, Any]:
    """Migrate ``database`` and seed the demo (users demo, sam and robo, one sprint); returns
    what ``seed_demo --json`` says of it (the sprint's id under ``"sprint"``)."""
    manage(database, secret, "migrate", "--noinput")
    seeded = manage(database, secret, "seed_demo", "--json")
    return dict(json.loads(seeded.strip().splitlines()[-1]))


def add_user(database: Path, secret: str, username: str, first: str, last: str) -> None:
    """Another person on the board, with the demo users' password (once: a second call for the
    same username changes nothing)."""
    code = (
        "from django.contrib.auth.models import User; "
        f"User.objects.filter(username={username!r}).exists() or User.objects.create_user("
        f"{username!r}, password={PASSWORD!r}, first_name={first!r}, last_name={last!r})"
    )
    manage(database, secret, "shell", "-c", code)
