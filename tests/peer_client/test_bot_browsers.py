"""The bot next to two Chromium tabs on one sprint: a three-way mesh of browsers and aiortc.

Uses the browser suite's fixtures (``tests/e2e/conftest.py``: the board under gunicorn, signaling
with the board's origin allowed, Debian's Chromium with camera/microphone granted). Runs inside the
loopback-only namespace (``make test-webrtc``); the bot gets ``--loopback-only``.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.board_page import (
    hover_column,
    pick_up,
    wait_direct_links,
    wait_in_column,
    wait_settled,
)
from tests.e2e.conftest import (  # noqa: F401  (fixtures used by name)
    PASSWORD,
    Stack,
    board_environment,
    browser,
    open_board,
    playwright,
    seeded_database,
    stack,
)
from tests.support.processes import ROOT

pytestmark = pytest.mark.webrtc

OpenBoard = Callable[..., Page]
BOT_USER = "robo"


class BotProcess:
    """``python -m peer_client --json`` as a child; a thread collects its JSON lines."""

    def __init__(self, stack: Stack, *args: str) -> None:  # noqa: F811
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "peer_client",
                "--board",
                stack.base,
                "--sprint",
                str(stack.sprint),
                "--user",
                BOT_USER,
                "--password",
                PASSWORD,
                "--loopback-only",
                "--json",
                *args,
            ],
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        self.lines: list[dict[str, Any]] = []
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for text in self.process.stdout:
            try:
                self.lines.append(json.loads(text))
            except ValueError:
                continue

    def wait_line(self, event: str, match: Callable[[dict[str, Any]], bool]) -> dict[str, Any]:
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            for line in list(self.lines):
                if line.get("event") == event and match(line):
                    return line
            if self.process.poll() is not None and not self._reader.is_alive():
                break
            time.sleep(0.05)
        raise AssertionError(f"the bot printed no matching {event!r}: {self.lines}")

    def wait(self, timeout: float = 30) -> int:
        code = self.process.wait(timeout)
        self._reader.join(5)
        return code

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait(5)
        for stream in (self.process.stdout, self.process.stderr):
            if stream:
                stream.close()


def watch_marker(page: Page, task_id: int, name: str) -> None:
    """Record in the page where a ghost of ``task_id`` by ``name`` appears, and if its card was
    marked as being moved by ``name`` (``window.__botMarker``)."""
    page.evaluate(
        """([id, name]) => {
            const seen = window.__botMarker = {ghostIn: [], cardMarked: false};
            const look = () => {
                const ghosts = document.querySelectorAll(`#board .ghost[data-task-id="${id}"]`);
                for (const ghost of ghosts) {
                    const where = ghost.closest(".column")?.dataset.column;
                    const fresh = where && seen.ghostIn.at(-1) !== where;
                    if (ghost.textContent.includes(name) && fresh) seen.ghostIn.push(where);
                }
                const card = document.querySelector(`#board .task[data-task-id="${id}"]`);
                const text = card ? card.textContent : "";
                if (text.includes(`${name} is moving this`)) seen.cardMarked = true;
            };
            new MutationObserver(look).observe(document.body, {
                subtree: true, childList: true, characterData: true, attributes: true,
            });
        }""",
        [task_id, name],
    )


def add_bot_user(database: Path, stack: Stack) -> None:  # noqa: F811
    """A third person for the bot: ``robo`` (Robo Bot), password as the demo users'."""
    code = (
        "from django.contrib.auth.models import User; "
        f"User.objects.create_user({BOT_USER!r}, password={PASSWORD!r}, "
        "first_name='Robo', last_name='Bot')"
    )
    subprocess.run(
        [sys.executable, "manage.py", "shell", "-c", code],
        cwd=ROOT,
        env={**os.environ, **board_environment(database, stack.signaling.port)},
        check=True,
        timeout=60,
        capture_output=True,
    )


def test_two_tabs_and_the_bot_share_drags_and_moves(
    stack: Stack,  # noqa: F811
    open_board: OpenBoard,  # noqa: F811
    tmp_path: Path,
) -> None:
    add_bot_user(tmp_path / "db.sqlite3", stack)
    task = stack.task_named("Sprint burndown chart")  # In Progress
    dana = open_board("demo")
    sam = open_board("sam")

    # 1. A watching bot: a three-way mesh; it sees a tab's drag.
    watcher = BotProcess(stack)
    try:
        for page in (dana, sam):
            wait_direct_links(page, 2)
            expect(page.locator("#presence .avatar")).to_have_count(3)
        watcher.wait_line(
            "link", lambda line: line["state"] == "direct" and line["name"] == "Sam Second"
        )
        pick_up(dana, task["id"])
        hover_column(dana, "done")
        hover = watcher.wait_line(
            "drag", lambda line: line["kind"] == "hover" and line["place"]["column"] == "done"
        )
        assert (hover["name"], hover["task"]) == ("Dana Demo", task["id"])
        hover_column(dana, "in_progress")  # and back: dropped where it was
        dana.mouse.up()
        watcher.wait_line("drag", lambda line: line["kind"] in ("drop", "cancel"))
        watcher.process.send_signal(signal.SIGINT)
        assert watcher.wait(15) == 0
    finally:
        watcher.stop()
    for page in (dana, sam):
        expect(page.locator("#presence .avatar")).to_have_count(2)
    wait_in_column(dana, task["id"], "in_progress")
    wait_settled(dana, task["id"])
    task = stack.api("GET", f"/api/tasks/{task['id']}/")

    # 2. An acting bot: both tabs see its drag marker follow it, then its move; the board has it.
    #    Each tab records what it shows while the bot drags (the marker lasts only a step).
    for page in (dana, sam):
        watch_marker(page, task["id"], "Robo Bot")
    actor = BotProcess(
        stack,
        "--wait-peers",
        "2",
        "--drag",
        f"{task['id']}:testing,in_progress",
        "--move",
        f"{task['id']}:done:0",
        "--step",
        "1",
        "--once",
    )
    try:
        for page in (dana, sam):
            wait_in_column(page, task["id"], "done", 0)
            wait_settled(page, task["id"])
        assert actor.wait() == 0
    finally:
        actor.stop()
    for page in (dana, sam):
        seen = page.evaluate("() => window.__botMarker")
        # Picked up in In progress, over Testing, back over In progress, put back; picked up
        # again, over Done, dropped.
        assert seen["ghostIn"] == ["in_progress", "testing", "in_progress", "done"], seen
        assert seen["cardMarked"], seen
    (moved,) = [line for line in actor.lines if line["event"] == "moved"]
    assert moved["task"]["status"] == "done"
    saved = stack.api("GET", f"/api/tasks/{task['id']}/")
    assert (saved["status"], saved["position"]) == ("done", 0)
    assert saved["version"] == task["version"] + 1
