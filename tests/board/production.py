"""The board as deployed: gunicorn with ``DEBUG`` off, for the tests of production behaviour.

``production_environment`` is what an operator following docs/operations.md would set, minus the
HTTPS settings that each test adds as it needs; ``migrated_database`` makes a SQLite file the way
``manage.py migrate`` does; ``Http`` is a tiny client that shows cookies and headers as sent
(a cookie jar would hide a ``Secure`` cookie on plain HTTP, which is what these tests look at).
"""

from __future__ import annotations

import http.client
import json
import os
import secrets
import subprocess
import sys
import urllib.parse
from dataclasses import dataclass, field
from http.cookies import SimpleCookie
from pathlib import Path
from typing import Any

from tests.support.processes import ROOT, BoardProcess, free_port

SIGNALING_URL = "wss://live.example.com/ws"
USERNAME, PASSWORD = "ada", "pw-ada-production-123"


def production_environment(database: Path, **extra: str) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("SECURE_", "THROTTLE_", "SESSION_", "CSRF_", "LOG_"))
    }
    return {
        **env,
        "DJANGO_SETTINGS_MODULE": "board.settings",
        "DEBUG": "false",
        "SECRET_KEY": secrets.token_urlsafe(50),
        "WATERCOOLER_SECRET": secrets.token_urlsafe(32),
        "ALLOWED_HOSTS": "127.0.0.1",
        "DATABASE_URL": f"sqlite:///{database}",
        "WATERCOOLER_SIGNALING_URL": SIGNALING_URL,
        "WATERCOOLER_HOOK_URL": "",
        **extra,
    }


def manage(env: dict[str, str], *command: str) -> str:
    result = subprocess.run(
        [sys.executable, "manage.py", *command],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, f"manage.py {' '.join(command)}:\n{result.stderr}"
    return result.stdout


def migrated_database(directory: Path) -> Path:
    """A migrated SQLite database with one user, ``USERNAME``/``PASSWORD``."""
    database = directory / "db.sqlite3"
    env = production_environment(database)
    manage(env, "migrate", "--noinput", "-v", "0")
    create = (
        "from django.contrib.auth.models import User; "
        f"User.objects.create_user({USERNAME!r}, password={PASSWORD!r})"
    )
    manage(env, "shell", "-c", create)
    return database


def start_board(env: dict[str, str]) -> BoardProcess:
    """gunicorn with two workers (``BoardProcess``), answering."""
    return BoardProcess(free_port(), env, threads=1).wait_ready()


@dataclass
class Answer:
    status: int
    headers: http.client.HTTPMessage
    body: bytes
    cookies: dict[str, str] = field(default_factory=dict)  # name -> the whole Set-Cookie line

    def json(self) -> Any:
        return json.loads(self.body)


@dataclass
class Http:
    """Requests to one board; cookies kept by name and sent back whatever their flags."""

    port: int
    cookies: dict[str, str] = field(default_factory=dict)

    def request(
        self,
        method: str,
        path: str,
        *,
        form: dict[str, str] | None = None,
        body: Any = None,
        headers: dict[str, str] | None = None,
    ) -> Answer:
        sent = dict(headers or {})
        data: bytes | None = None
        if form is not None:
            data = urllib.parse.urlencode(form).encode()
            sent["Content-Type"] = "application/x-www-form-urlencoded"
        elif body is not None:
            data = json.dumps(body).encode()
            sent["Content-Type"] = "application/json"
        if self.cookies:
            sent["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
        try:
            connection.request(method, path, body=data, headers=sent)
            response = connection.getresponse()
            answer = Answer(response.status, response.headers, response.read())
        finally:
            connection.close()
        for line in answer.headers.get_all("Set-Cookie") or []:
            cookie = SimpleCookie()
            cookie.load(line)
            for name, morsel in cookie.items():
                self.cookies[name] = morsel.value
                answer.cookies[name] = line
        return answer
