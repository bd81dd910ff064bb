"""The real app for the live benchmark (bench/live.py): the board under gunicorn and our signaling
server as child processes on free loopback ports, a seeded database, and logged-in Chromium tabs.

Run only inside a loopback-only network namespace (``make -C bench live`` uses tools/in_netns.sh):
the tabs, the bot and both servers can then reach nothing but 127.0.0.1. A tab opened without the
camera/microphone permission gathers no ICE candidate there (Chromium lists no network interface
without it, and there is no default route), so its direct link never comes up: that is how the
benchmark blocks one tab's direct link.

This module starts and stops things; it measures nothing.
"""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
import tempfile
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

from playwright.sync_api import Browser, BrowserContext, Page

from bench.servers import answers_http, free_port, stop_process, wait_ready

ROOT: Final = Path(__file__).resolve().parents[1]
SECRET: Final = "bench-live-secret-" + "l" * 32
PASSWORD: Final = "demo"
WAIT_MS: Final = 30_000
# What the benchmark adds to each tab (times of pointer events, of going live, waits for the DOM).
INSTRUMENT: Final = (Path(__file__).with_name("live_page.js")).read_text()


def board_environment(database: Path, signaling_port: int) -> dict[str, str]:
    return {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "board.settings",
        "DATABASE_URL": f"sqlite:///{database}",
        "DEBUG": "true",
        "SECRET_KEY": "bench-live-django-key-" + "k" * 30,
        "WATERCOOLER_SECRET": SECRET,
        "WATERCOOLER_SIGNALING_URL": f"ws://127.0.0.1:{signaling_port}/ws",
        "WATERCOOLER_HOOK_URL": f"http://127.0.0.1:{signaling_port}/hooks/board",
        "WATERCOOLER_HOOK_TIMEOUT": "1",
        "LOG_LEVEL": "WARNING",
    }


@dataclass
class LiveApp:
    """The board and signaling of one benchmark run, with the demo sprint seeded; the database and
    the processes' logs in a temporary directory. :meth:`stop` stops the processes, then removes
    the directory."""

    board_port: int = field(default_factory=free_port)
    signaling_port: int = field(default_factory=free_port)
    sprint: int = 0
    owned: contextlib.ExitStack = field(default_factory=contextlib.ExitStack)

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.board_port}"

    @classmethod
    def start(cls) -> LiveApp:
        app = cls()
        try:
            directory = app.owned.enter_context(tempfile.TemporaryDirectory(prefix="bench-live-"))
            app._start(Path(directory))
        except BaseException:
            app.stop()
            raise
        return app

    def stop(self) -> None:
        self.owned.close()

    def _start(self, directory: Path) -> None:
        env = board_environment(directory / "db.sqlite3", self.signaling_port)
        manage = [sys.executable, "manage.py"]
        quiet = {"cwd": ROOT, "env": env, "check": True, "capture_output": True, "timeout": 120}
        subprocess.run([*manage, "migrate", "--noinput"], **quiet)  # type: ignore[call-overload]
        seeded = subprocess.run([*manage, "seed_demo", "--json"], text=True, **quiet)  # type: ignore[call-overload]
        self.sprint = int(json.loads(seeded.stdout.strip().splitlines()[-1])["sprint"])
        signaling = [sys.executable, "-m", "signaling", "--host", "127.0.0.1"]
        signaling += ["--port", str(self.signaling_port), "--allowed-origin", self.base]
        signaling_env = {**os.environ, "WATERCOOLER_SECRET": SECRET}
        ready = f"http://127.0.0.1:{self.signaling_port}/healthz"
        self._spawn(signaling, signaling_env, ready, directory / "signaling.log")
        board = [sys.executable, "-m", "gunicorn", "board.wsgi"]
        board += ["--bind", f"127.0.0.1:{self.board_port}", "--workers", "2", "--threads", "4"]
        board += ["--log-level", "warning"]
        self._spawn(board, env, f"{self.base}/login/", directory / "board.log")

    def _spawn(self, command: list[str], env: dict[str, str], ready: str, log_path: Path) -> None:
        """Start ``command`` (its output to ``log_path``) and wait until ``ready`` answers."""
        log = self.owned.enter_context(log_path.open("wb"))
        process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
        self.owned.callback(stop_process, process)
        wait_ready(process, lambda: answers_http(ready), 30.0, f"{command[2]} (log: {log_path})")

    def metrics(self) -> dict[str, float]:
        """Signaling's messages received so far, by type (``watercooler_messages_total``)."""
        url = f"http://127.0.0.1:{self.signaling_port}/metrics"
        with urllib.request.urlopen(url, timeout=5) as response:
            text = response.read().decode()
        counts: dict[str, float] = {}
        prefix = 'watercooler_messages_total{direction="in",type="'
        for line in text.splitlines():
            if line.startswith(prefix):
                kind, _, value = line[len(prefix) :].partition('"} ')
                counts[kind] = float(value)
        return counts

    def bot_command(self, *args: str, user: str = "sam") -> list[str]:
        return [
            sys.executable, "-m", "peer_client", "--board", self.base, "--sprint",
            str(self.sprint), "--user", user, "--password", PASSWORD, *args,
        ]  # fmt: skip

    def api(self, path: str, user: str = "demo") -> Any:
        """A GET on the board's API (for task ids)."""
        token_request = urllib.request.Request(
            f"{self.base}/api/token/",
            data=json.dumps({"username": user, "password": PASSWORD}).encode(),
            headers={"Content-Type": "application/json"},
            method="POST",
        )
        with urllib.request.urlopen(token_request, timeout=10) as response:
            token = json.loads(response.read())["token"]
        request = urllib.request.Request(
            f"{self.base}{path}", headers={"Authorization": f"Token {token}"}
        )
        with urllib.request.urlopen(request, timeout=10) as response:
            return json.loads(response.read())


def open_tab(
    browser: Browser,
    app: LiveApp,
    username: str,
    *,
    grant_media: bool = True,
    viewport: tuple[int, int] = (1400, 900),
    go: bool = True,
) -> Page:
    """A logged-in tab in its own context; on the sprint's board unless ``go`` is False."""
    width, height = viewport
    context: BrowserContext = browser.new_context(viewport={"width": width, "height": height})
    if grant_media:  # without it, Chromium gathers no ICE candidate on loopback
        context.grant_permissions(["camera", "microphone"], origin=app.base)
    context.set_default_timeout(WAIT_MS)
    context.add_init_script(INSTRUMENT)
    page = context.new_page()
    # Log in first, so that opening the board is a navigation of its own (timed from its start).
    page.goto(f"{app.base}/login/?next=/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{app.base}/")
    if go:
        go_to_board(page, app)
    return page


def go_to_board(page: Page, app: LiveApp) -> None:
    """Open the sprint's board and wait until its tasks are shown."""
    page.goto(f"{app.base}/sprints/{app.sprint}/")
    page.wait_for_function("() => window.watercooler && window.watercooler.state.tasks.size > 0")


def wait_direct(page: Page, count: int) -> None:
    page.wait_for_function(
        "n => window.watercooler.stats().links.filter(l => l.path === 'direct').length >= n",
        arg=count,
        timeout=WAIT_MS,
    )
