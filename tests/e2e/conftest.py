"""End-to-end fixtures: the real board (gunicorn) and signaling processes, and Debian's Chromium.

Every test gets a fresh board database (copied from one migrated and seeded once per session), its
own board and signaling processes on free ports, and a new browser context with camera and
microphone granted (without that grant Chromium offers no ICE candidate on loopback; see
docs/webrtc.md). These tests are marked ``webrtc`` and run inside a
loopback-only network namespace (``make test-webrtc``).
"""

from __future__ import annotations

import contextlib
import json
import shutil
import urllib.request
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from playwright.async_api import Browser as AsyncBrowser
from playwright.async_api import async_playwright
from playwright.sync_api import (
    Browser,
    BrowserContext,
    Page,
    Playwright,
    expect,
    sync_playwright,
)

from tests.e2e.board_page import WAIT_MS
from tests.support import board as board_db
from tests.support.processes import BoardProcess, SignalingProcess, free_port
from tools.chromium import CHROMIUM, CHROMIUM_ARGS

if TYPE_CHECKING:
    from tests.e2e.hostile_scene import Scene

SECRET = "e2e-secret-" + "s" * 32
PASSWORD = board_db.PASSWORD

expect.set_options(timeout=WAIT_MS)


def board_environment(database: Path, signaling_port: int) -> dict[str, str]:
    return board_db.board_environment(database, signaling_port, SECRET)


@pytest.fixture(scope="session")
def seeded_database(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Any]]:
    """A migrated database with the demo data, made once; tests copy it."""
    database = tmp_path_factory.mktemp("seed") / "db.sqlite3"
    return database, board_db.seed_database(database, SECRET)


@dataclass
class Stack:
    """The board and signaling of one test, and how to reach them."""

    board_port: int
    signaling: SignalingProcess
    board: BoardProcess
    sprint: int
    tokens: dict[str, str] = field(default_factory=dict)
    signaling_logs: list[str] = field(default_factory=list)

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.board_port}"

    @property
    def origin(self) -> str:
        return self.base

    def start_signaling(self) -> SignalingProcess:
        """Start signaling again on the same port (a new process: no memory of rooms)."""
        self.signaling = start_signaling(self.origin, port=self.signaling.port)
        return self.signaling

    def stop_signaling(self) -> None:
        self.signaling.stop()
        self.signaling_logs.append(self.signaling.output())

    def api(self, method: str, path: str, body: Any = None, user: str = "demo") -> Any:
        """Call the board's API with a token (like a script or another client would)."""
        if user not in self.tokens:
            self.tokens[user] = self._request(
                "POST", "/api/token/", {"username": user, "password": PASSWORD}, None
            )["token"]
        return self._request(method, path, body, self.tokens[user])

    def _request(self, method: str, path: str, body: Any, token: str | None) -> Any:
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(self.base + path, data=data, method=method)
        request.add_header("Content-Type", "application/json")
        request.add_header("Accept", "application/json")
        if token:
            request.add_header("Authorization", f"Token {token}")
        with urllib.request.urlopen(request, timeout=10) as response:
            return json.loads(response.read() or b"null")

    def task_named(self, name: str) -> dict[str, Any]:
        tasks = self.api("GET", f"/api/tasks/?search={urllib.request.quote(name)}")["results"]
        (task,) = [task for task in tasks if task["name"] == name]
        return dict(task)

    def metrics(self) -> str:
        with urllib.request.urlopen(f"{self.signaling.http_url}/metrics", timeout=5) as response:
            return str(response.read().decode())


def start_signaling(origin: str, port: int | None = None) -> SignalingProcess:
    # --debug so that relayed data-channel messages would be logged (at DEBUG) if there were any.
    return SignalingProcess(
        SECRET, "--allowed-origin", origin, "--debug", "--heartbeat", "5", port=port
    ).wait_ready()


def add_user(database: Path, username: str, first: str, last: str) -> None:
    """Another person on a board database, with the demo users' password."""
    board_db.add_user(database, SECRET, username, first, last)


@contextlib.contextmanager
def running_stack(template: Path, sprint: int, directory: Path) -> Iterator[Stack]:
    """A board on a copy of ``template`` and its signaling, on free ports, until the block ends."""
    database = directory / "db.sqlite3"
    shutil.copy(template, database)
    board_port = free_port()
    signaling = start_signaling(f"http://127.0.0.1:{board_port}")
    board = BoardProcess(board_port, board_environment(database, signaling.port), threads=4)
    stack = Stack(board_port=board_port, signaling=signaling, board=board, sprint=sprint)
    try:
        board.wait_ready()
        yield stack
    finally:
        board.stop()
        stack.signaling.stop()


@pytest.fixture
def stack(seeded_database: tuple[Path, dict[str, Any]], tmp_path: Path) -> Iterator[Stack]:
    template, seed = seeded_database
    with running_stack(template, seed["sprint"], tmp_path) as stack:
        yield stack


# Module scope, not session: Playwright's sync API keeps its event loop registered as running in
# this thread while it is open, and pytest-asyncio then refuses every coroutine test that follows
# in the same process. Closing it after each browser module keeps the later async suites working.
@pytest.fixture(scope="module")
def playwright() -> Iterator[Playwright]:
    with sync_playwright() as driver:
        yield driver


@pytest.fixture(scope="module")
def browser(playwright: Playwright) -> Iterator[Browser]:
    browser = playwright.chromium.launch(
        executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
    )
    yield browser
    browser.close()


@pytest.fixture
def open_board(browser: Browser, stack: Stack) -> Iterator[Callable[[str], Page]]:
    """``open_board("demo")``: a logged-in tab (its own context) on the demo sprint's board."""
    contexts: list[BrowserContext] = []

    def open_as(
        username: str,
        *,
        wait_live: bool = True,
        grant_media: bool = True,
        viewport: tuple[int, int] = (1400, 900),
    ) -> Page:
        width, height = viewport
        context = browser.new_context(viewport={"width": width, "height": height})
        if grant_media:  # without it, Chromium gathers no ICE candidate on loopback
            context.grant_permissions(["camera", "microphone"], origin=stack.origin)
        context.set_default_timeout(WAIT_MS)
        contexts.append(context)
        page = context.new_page()
        page.on("console", lambda message: _echo_console(username, message.type, message.text))
        page.on("pageerror", lambda error: print(f"[{username}] page error: {error}"))
        page.goto(f"{stack.base}/login/?next=/sprints/{stack.sprint}/")
        page.fill("input[name=username]", username)
        page.fill("input[name=password]", PASSWORD)
        page.click("button[type=submit]")
        page.wait_for_url(f"**/sprints/{stack.sprint}/")
        page.wait_for_function(
            "() => window.watercooler && window.watercooler.state.tasks.size > 0"
        )
        if wait_live:
            wait_live_status(page, "live")
        return page

    yield open_as
    for context in contexts:
        context.close()


def _echo_console(who: str, kind: str, text: str) -> None:
    if kind in {"error", "warning"}:
        print(f"[{who}] console {kind}: {text}")


def wait_live_status(page: Page, state: str) -> None:
    page.wait_for_selector(f'#live-status[data-state="{state}"]', state="attached")


# --- the hostile-peer scene (tests/e2e/test_hostile_peer*.py) ----------------------------------


@pytest.fixture(scope="module")
def template_with_users(
    seeded_database: tuple[Path, dict[str, Any]], tmp_path_factory: pytest.TempPathFactory
) -> tuple[Path, int]:
    """The seeded board (its people include Robo, the bot) and Mallory."""
    template, seed = seeded_database
    database = tmp_path_factory.mktemp("hostile-seed") / "db.sqlite3"
    shutil.copy(template, database)
    add_user(database, "mallory", "Mallory", "Hostile")
    return database, int(seed["sprint"])


@pytest.fixture
def hostile_stack(template_with_users: tuple[Path, int], tmp_path: Path) -> Iterator[Stack]:
    with running_stack(*template_with_users, tmp_path) as stack:
        yield stack


@pytest.fixture
async def async_browser() -> AsyncIterator[AsyncBrowser]:
    """Chromium through Playwright's async API (the hostile scene runs the bot in-process)."""
    async with async_playwright() as driver:
        browser = await driver.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
        )
        try:
            yield browser
        finally:
            await browser.close()


@pytest.fixture
async def scene(async_browser: AsyncBrowser, hostile_stack: Stack) -> AsyncIterator[Scene]:
    """Two tabs, the bot and Mallory, linked (tests/e2e/hostile_scene.py)."""
    from tests.e2e.hostile_scene import start_scene, stop_scene

    scene = await start_scene(async_browser, hostile_stack)
    try:
        yield scene
    finally:
        await stop_scene(scene)
