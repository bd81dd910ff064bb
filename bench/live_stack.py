"""The real app for the live benchmark (bench/live.py): the board under gunicorn and our signaling
server on free loopback ports, a seeded database, and logged-in Chromium tabs; it measures nothing.

Only inside a loopback-only network namespace (tools/in_netns.sh): a tab opened without the
camera/microphone permission gathers no ICE candidate there (Chromium lists no network interface
without it, and there is no default route), so its direct link never comes up: that is how the
benchmark blocks one tab's direct link.
"""

from __future__ import annotations

import contextlib
import json
import tempfile
import urllib.request
from pathlib import Path
from typing import Any, Final

from playwright.sync_api import Browser, Page

from tests.support.board import PASSWORD, board_environment, seed_database
from tests.support.processes import BoardProcess, SignalingProcess, free_port

SECRET: Final = "bench-live-secret-" + "l" * 32
WAIT_MS: Final = 30_000
# What the benchmark adds to each tab (times of pointer events, of going live, waits for the DOM).
INSTRUMENT: Final = Path(__file__).with_name("live_page.js").read_text()


class LiveApp:
    """The board and signaling of one run, the demo sprint seeded, the database in a temporary
    directory; :meth:`stop` stops the processes, then removes the directory."""

    def __init__(self) -> None:
        self.owned = contextlib.ExitStack()
        try:
            directory = Path(self.owned.enter_context(tempfile.TemporaryDirectory()))
            self.board_port = free_port()
            self.base = f"http://127.0.0.1:{self.board_port}"
            self.signaling = SignalingProcess(SECRET, "--allowed-origin", self.base)
            self.owned.callback(self.signaling.stop)
            self.signaling.wait_ready()
            database = directory / "db.sqlite3"
            self.sprint = int(seed_database(database, SECRET)["sprint"])
            env = board_environment(database, self.signaling.port, SECRET)
            board = BoardProcess(self.board_port, env, threads=4)
            self.owned.callback(board.stop)
            board.wait_ready()
        except BaseException:
            self.stop()
            raise

    def stop(self) -> None:
        self.owned.close()

    def metrics(self) -> dict[str, float]:
        """Signaling's messages received so far, by type (``watercooler_messages_total``)."""
        with urllib.request.urlopen(f"{self.signaling.http_url}/metrics", timeout=5) as answer:
            text = answer.read().decode()
        prefix = 'watercooler_messages_total{direction="in",type="'
        lines = (line[len(prefix) :].partition('"} ') for line in text.splitlines()
                 if line.startswith(prefix))  # fmt: skip
        return {kind: float(value) for kind, _, value in lines}

    def api(self, path: str, user: str = "demo") -> Any:
        """A GET on the board's API (for task ids)."""

        def call(url: str, **request: Any) -> Any:
            with urllib.request.urlopen(urllib.request.Request(url, **request), timeout=10) as r:
                return json.loads(r.read())

        body = json.dumps({"username": user, "password": PASSWORD}).encode()
        json_type = {"Content-Type": "application/json"}
        token = call(f"{self.base}/api/token/", data=body, headers=json_type, method="POST")
        return call(f"{self.base}{path}", headers={"Authorization": f"Token {token['token']}"})


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
    context = browser.new_context(viewport={"width": viewport[0], "height": viewport[1]})
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
    script = "n => window.watercooler.stats().links.filter(l => l.path === 'direct').length >= n"
    page.wait_for_function(script, arg=count, timeout=WAIT_MS)
